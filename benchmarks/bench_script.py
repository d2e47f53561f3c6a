"""Wall time of ``lorlint check`` on one training script, each run a fresh process.

    python benchmarks/bench_script.py [--runs 10] [SCRIPT]

Times a cold site cache (``--no-cache``) and a warm one; the model comes from the bundled catalog
(no torch import either way). The figures in benchmarks/RESULTS.md come from it.
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

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "transformers_peft_llama.py"


# As on a user's machine, Python may write bytecode (this sandbox sets PYTHONDONTWRITEBYTECODE,
# which makes every run recompile lorlint's own modules).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run(cmd: list[str], cwd: Path, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, capture_output=True, check=False, env=ENV)
        times.append(time.perf_counter() - start)
    return times


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("script", nargs="?", default=str(FIXTURE))
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    lorlint = str(Path(sys.executable).parent / "lorlint")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        shutil.copyfile(args.script, work / "train.py")
        base = [lorlint, "check", "train.py", "-q"]
        run([*base, "--no-cache"], work, 1)  # compile bytecode once, as any install does
        cold = run([*base, "--no-cache"], work, args.runs)
        run(base, work, 1)  # fill the cache
        warm = run(base, work, args.runs)
    print(f"one script ({Path(args.script).name}), fresh process each run, {args.runs} runs\n")
    print("| site cache | median (s) | max (s) |\n|---|---|---|")
    for name, times in (("cold (--no-cache)", cold), ("warm", warm)):
        print(f"| {name} | {statistics.median(times):.3f} | {max(times):.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
