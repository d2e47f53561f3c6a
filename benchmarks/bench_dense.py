"""lorlint, ruff and Python's own parser side by side on a PEFT-dense tree of real files.

    python benchmarks/bench_dense.py [--tree DIR] [--runs 5] [--jobs N] [--copies K]

The tree defaults to the real-world regression set (tests/realworld/cases): fine-tuning scripts,
notebooks, tool YAML and saved adapters from public repositories, where every file holds a PEFT
config. It is copied to a temporary directory, then each tool runs in a fresh process with caches
off: ``lorlint check --no-cache``, ``ruff check --no-cache --select ALL --isolated`` (ruff lints
the .py files and notebooks), and the floor: a Python process that reads every .py file and
notebook and runs ``ast.parse`` on it (notebooks: their code cells). Prints a Markdown table with
wall time (median), CPU time (user + system, median) and peak memory; the figures in
benchmarks/RESULTS.md come from it.

``--copies K`` lints K copies of the tree side by side (``copy1/`` … ``copyK/``): what a bigger
tree costs each tool, so the fixed start-up and the cost per file can be told apart. No tool
caches across files, so a copy is as much work as the original.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import sys
import tempfile
from pathlib import Path

from common import BIN, load_average, timed

REPO = Path(__file__).resolve().parents[1]
REALWORLD = REPO / "tests" / "realworld" / "cases"


def floor(tree: Path) -> int:
    """ast.parse every Python file and notebook of ``tree`` (run in its own process)."""
    import ast

    count = 0
    for path in sorted(tree.rglob("*")):
        if path.suffix == ".py":
            text = path.read_text(encoding="utf-8", errors="replace")
        elif path.suffix == ".ipynb":
            cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
            lines = []
            for cell in cells:
                if cell.get("cell_type") == "code":
                    source = cell.get("source", "")
                    source = "".join(source) if isinstance(source, list) else source
                    lines += [
                        "" if line.lstrip().startswith(("%", "!")) else line
                        for line in source.split("\n")
                    ]
            text = "\n".join(lines)
        else:
            continue
        with contextlib.suppress(SyntaxError):
            ast.parse(text)
        count += 1
    return count


def describe(tree: Path) -> str:
    kinds: dict[str, list[int]] = {}
    for path in tree.rglob("*"):
        if path.is_file() and path.name != "case.toml":
            kind = "adapter" if path.name == "adapter_config.json" else path.suffix or path.name
            kinds.setdefault(kind, []).append(path.stat().st_size)
    parts = [f"{len(sizes)} {kind}" for kind, sizes in sorted(kinds.items())]
    total = sum(sum(sizes) for sizes in kinds.values())
    return f"{', '.join(parts)}; {total / 1e6:.2f} MB"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tree", type=Path, default=REALWORLD)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--jobs", type=int, help="lorlint --jobs (default: all cores)")
    parser.add_argument("--copies", type=int, default=1, help="lint K copies of the tree")
    parser.add_argument("--floor", type=Path, help=argparse.SUPPRESS)  # internal: the floor run
    args = parser.parse_args()
    if args.floor:
        print(floor(args.floor))
        return 0
    if not args.tree.is_dir():
        sys.exit(f"no tree at {args.tree}: pass --tree DIR")
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "tree"
        for copy in range(1, args.copies + 1):
            into = tree / f"copy{copy}" if args.copies > 1 else tree
            shutil.copytree(args.tree, into, ignore=shutil.ignore_patterns("case.toml"))
        lorlint = [str(BIN / "lorlint"), "check", ".", "--no-cache", "-q", "--exit-zero"]
        lorlint += ["--output-format", "concise"]
        if args.jobs:
            lorlint += ["--jobs", str(args.jobs)]
        tools = {
            "lorlint `check --no-cache`": lorlint,
            "ruff `check --no-cache --select ALL`": [
                str(BIN / "ruff"), "check", "--no-cache", "--select", "ALL", "--isolated",
                "--exit-zero", "-q", ".",
            ],
            "floor: `ast.parse` of the .py files and notebooks": [
                sys.executable, __file__, "--floor", ".",
            ],
        }  # fmt: skip
        timed(tools["lorlint `check --no-cache`"], tree, 1)  # bytecode compiled once, as installed
        rows = [(name, timed(cmd, tree, args.runs)) for name, cmd in tools.items()]
        print(f"{describe(tree)}; median of {args.runs} runs; {load_average()}\n")
        ruff = rows[1][1].wall
        print("| tool | wall (s) | ÷ ruff | CPU (s) | peak RSS (MB) |\n|---|---|---|---|---|")
        for name, t in rows:
            print(f"| {name} | {t.wall:.2f} | {t.wall / ruff:.2f} | {t.cpu:.2f} | {t.rss_mb:.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
