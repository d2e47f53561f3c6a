"""lorlint at an earlier revision and now, side by side with ruff and ``ast.parse``, in one run.

    python benchmarks/bench_before_after.py --before REV [--tree DIR] [--runs 5] [--jobs N]

The earlier revision's ``lorlint/`` is taken with ``git archive`` and put first on PYTHONPATH
(same interpreter, same installed packages); the tree (default: the real-world regression set)
is copied as in bench_dense.py. Each round runs every tool once, in turn, in a fresh process, so
that a change in the machine's load weighs on all of them alike: this machine is shared. Also
times ``lorlint check`` on one script (fixtures/transformers_peft_llama.py, ``--no-cache``), the
figure of the cold-start goal. Both lorlint runs start through ``env``, so that neither pays an
exec the other does not. Prints Markdown tables (medians; CPU is user + system time of the process
and its workers), each with the median of the rounds' differences, before − now, in ms.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_dense import REALWORLD, describe
from common import BIN, Timing, load_average, timed

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "fixtures" / "transformers_peft_llama.py"


def checkout(rev: str, into: Path) -> Path:
    """``lorlint/`` as it was at ``rev``, under ``into``."""
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", rev, "lorlint"], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def rounds(tools: dict[str, list[str]], cwd: Path, runs: int) -> dict[str, list[Timing]]:
    """Every tool once per round, ``runs`` rounds: each tool's timings, round by round."""
    seen: dict[str, list[Timing]] = {name: [] for name in tools}
    for cmd in tools.values():  # bytecode written once, as an install does
        timed(cmd, cwd, 1)
    for _ in range(runs):
        for name, cmd in tools.items():
            seen[name].append(timed(cmd, cwd, 1))
    return seen


def medians(seen: dict[str, list[Timing]]) -> dict[str, Timing]:
    return {
        name: Timing(
            statistics.median(t.wall for t in found),
            statistics.median(t.cpu for t in found),
            max(t.rss_mb for t in found),
            found[-1].returncode,
        )
        for name, found in seen.items()
    }


def paired(before: list[Timing], now: list[Timing]) -> str:
    """The median of the rounds' differences, before − now, in ms: finer than the tables' medians
    (rounded to 10 ms), and steadier than a difference of medians while the machine's speed
    drifts, since both runs of a round meet about the same load."""
    wall = statistics.median((b.wall - n.wall) * 1e3 for b, n in zip(before, now, strict=True))
    cpu = statistics.median((b.cpu - n.cpu) * 1e3 for b, n in zip(before, now, strict=True))
    return f"paired, before − now (median of the rounds): wall {wall:+.1f} ms, CPU {cpu:+.1f} ms"


def table(rows: dict[str, Timing], ratio_to: str | None) -> str:
    out = ["| tool | wall (s) | ÷ ruff | CPU (s) | peak RSS (MB) |", "|---|---|---|---|---|"]
    base = rows[ratio_to].wall if ratio_to else None
    for name, t in rows.items():
        ratio = f"{t.wall / base:.2f}" if base else "-"
        out.append(f"| {name} | {t.wall:.2f} | {ratio} | {t.cpu:.2f} | {t.rss_mb:.0f} |")
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", required=True, help="git revision to compare with")
    parser.add_argument("--tree", type=Path, default=REALWORLD)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--jobs", type=int, help="lorlint --jobs (default: all cores)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        before = checkout(args.before, Path(tmp))
        tree = Path(tmp) / "tree"
        shutil.copytree(args.tree, tree, ignore=shutil.ignore_patterns("case.toml"))
        old = ["env", f"PYTHONPATH={before}"]  # env execs the tool: its own process is timed
        lorlint = ["env", str(BIN / "lorlint"), "check", ".", "--no-cache", "-q", "--exit-zero"]
        lorlint += ["--output-format", "concise"]
        if args.jobs:
            lorlint += ["--jobs", str(args.jobs)]
        ruff = [str(BIN / "ruff"), "check", "--no-cache", "--select", "ALL", "--isolated",
                "--exit-zero", "-q", "."]  # fmt: skip
        floor = [sys.executable, str(REPO / "benchmarks" / "bench_dense.py"), "--floor", "."]
        dense = rounds(
            {
                f"lorlint at {args.before}": [*old, *lorlint[1:]],  # both through env
                "lorlint now": lorlint,
                "ruff `check --no-cache --select ALL`": ruff,
                "floor: `ast.parse` of the .py files and notebooks": floor,
            },
            tree,
            args.runs,
        )
        work = Path(tmp) / "script"
        work.mkdir()
        shutil.copyfile(SCRIPT, work / "train.py")
        one = ["env", str(BIN / "lorlint"), "check", "train.py", "-q", "--no-cache"]
        script = rounds(
            {f"lorlint at {args.before}": [*old, *one[1:]], "lorlint now": one},
            work,
            args.runs,
        )
        print(f"{describe(tree)}; median of {args.runs} rounds; {load_average()}\n")
        was = f"lorlint at {args.before}"
        print(table(medians(dense), "ruff `check --no-cache --select ALL`"))
        print(f"\n{paired(dense[was], dense['lorlint now'])}")
        print(f"\none script ({SCRIPT.name}), `lorlint check train.py --no-cache`:\n")
        print(table(medians(script), None))
        print(f"\n{paired(script[was], script['lorlint now'])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
