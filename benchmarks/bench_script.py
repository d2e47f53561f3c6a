"""Wall and CPU time of ``lorlint check`` on one training script, each run a fresh process.

    python benchmarks/bench_script.py [--runs 10] [SCRIPT]

Times a cold site cache (``--no-cache``) and a warm one; the model comes from the bundled catalog
(no torch import either way). The figures in benchmarks/RESULTS.md come from it.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from common import BIN, load_average, timed

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "transformers_peft_llama.py"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("script", nargs="?", default=str(FIXTURE))
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    lorlint = str(BIN / "lorlint")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        shutil.copyfile(args.script, work / "train.py")
        base = [lorlint, "check", "train.py", "-q"]
        timed([*base, "--no-cache"], work, 1)  # compile bytecode once, as any install does
        cold = timed([*base, "--no-cache"], work, args.runs)
        timed(base, work, 1)  # fill the cache
        warm = timed(base, work, args.runs)
    print(f"one script ({Path(args.script).name}), fresh process each run, median of {args.runs}")
    print(f"runs; {load_average()}\n")
    print("| site cache | wall (s) | CPU (s) | peak RSS (MB) |\n|---|---|---|---|")
    for name, t in (("cold (--no-cache)", cold), ("warm", warm)):
        print(f"| {name} | {t.wall:.3f} | {t.cpu:.3f} | {t.rss_mb:.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
