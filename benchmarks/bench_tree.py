"""lorlint, ruff and fixit side by side on a real tree: the first N .py files of transformers.

    python benchmarks/bench_tree.py [--files 600] [--runs 3] [--fixit]

Copies the files (sorted by path) into a temporary tree, then times each tool in a fresh process
with caches off: ``lorlint check --no-cache``, ``ruff check --no-cache --select ALL`` and, with
``--fixit``, ``fixit lint``. Prints a Markdown table; the figures in benchmarks/RESULTS.md come
from it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def transformers_tree(n: int, dest: Path) -> int:
    import transformers

    root = Path(transformers.__file__).parent
    files = sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)[:n]
    for path in files:
        target = dest / path.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    return len(files)


def timed(cmd: list[str], cwd: Path, runs: int) -> tuple[float, int]:
    times, rc = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        rc = proc.returncode
        if rc not in (0, 1):
            sys.exit(f"{cmd[0]} failed ({rc}): {proc.stderr[-500:]}")
    return statistics.median(times), rc


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=600)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--fixit", action="store_true", help="also time fixit (slow)")
    args = parser.parse_args()
    bindir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "tree"
        count = transformers_tree(args.files, tree)
        tools = {
            "lorlint": [str(bindir / "lorlint"), "check", ".", "--no-cache", "-q", "--exit-zero",
                        "--output-format", "concise"],
            "ruff": [str(bindir / "ruff"), "check", "--no-cache", "--select", "ALL", "--exit-zero",
                     "-q", "."],
        }  # fmt: skip
        if args.fixit:
            tools["fixit"] = [str(bindir / "fixit"), "lint", "."]
        rows = []
        for name, cmd in tools.items():
            seconds, _ = timed(cmd, tree, 1 if name == "fixit" else args.runs)
            rows.append((name, seconds))
        ruff = dict(rows)["ruff"]
        print(f"{count} files of transformers, {os.cpu_count()} cores, median of {args.runs}\n")
        print("| tool | wall (s) | ÷ ruff |\n|---|---|---|")
        for name, seconds in rows:
            print(f"| {name} | {seconds:.2f} | {seconds / ruff:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
