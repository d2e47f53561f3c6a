"""The catalog's cost: size on disk, wheel size, and time to answer `lorlint models` from it.

Usage: ``python benchmarks/bench_catalog.py [--runs 15] [--wheel]``. Each answer is a fresh
process (as a user runs it), bytecode compiled beforehand as any install does; the process
asserts that neither torch nor transformers was imported.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CATALOG = REPO / "lorlint" / "models" / "catalog"
ATTENTION = "q_proj,k_proj,v_proj,o_proj"
QUERIES = [
    ("bundled index (exact)", ["meta-llama/Llama-3.1-8B", "--targets", "all-linear"]),
    # attention names: PEFT refuses "all-linear" on a Mamba-based model (out_proj, conv1d), and
    # ``lorlint models`` then exits 1
    ("model type from the name", ["tiiuae/Falcon-H1-1B-Deep-Instruct", "--targets", ATTENTION]),
    ("largest pack (deepseek_v4)", ["deepseek_v4", "--targets", "all-linear"]),
]
PROBE = (
    "import sys; from lorlint.cli import main; rc = main(['models', *sys.argv[1:]]); "
    "assert 'torch' not in sys.modules and 'transformers' not in sys.modules; sys.exit(rc)"
)


def catalog_size() -> tuple[int, int, int]:
    files = [p for p in CATALOG.rglob("*") if p.is_file()]
    packs = [p for p in files if p.parent.name == "types"]
    return sum(p.stat().st_size for p in files), len(files), max(p.stat().st_size for p in packs)


def wheel_size() -> int:
    with tempfile.TemporaryDirectory() as out:
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "-q", "-w", out],
            cwd=REPO,
            check=True,
        )
        (wheel,) = Path(out).glob("*.whl")
        return wheel.stat().st_size


def answer_times(args: list[str], runs: int, tree: Path = REPO) -> list[float]:
    env = {**os.environ, "PYTHONPATH": str(tree), "HF_HUB_OFFLINE": "1"}
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", PROBE, *args], cwd=tree, check=True, capture_output=True, env=env
        )
        times.append(time.perf_counter() - started)
    return times


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--wheel", action="store_true", help="also build the wheel and size it")
    parser.add_argument(
        "--baseline", type=Path, help="another checkout: time its answer for the bundled id too"
    )
    args = parser.parse_args()
    for tree in [REPO, *([args.baseline] if args.baseline else [])]:
        subprocess.run([sys.executable, "-m", "compileall", "-q", "lorlint"], cwd=tree, check=True)
    total, count, largest = catalog_size()
    print(f"catalog on disk: {total / 2**20:.2f} MiB in {count} files (largest pack {largest:,} B)")
    if args.wheel:
        print(f"wheel (pip wheel . --no-deps): {wheel_size() / 2**20:.2f} MiB")
    print("| query | median (s) | max (s) |")
    print("|---|---|---|")
    for label, query in QUERIES:
        times = answer_times(query, args.runs)
        print(f"| {label} | {statistics.median(times):.3f} | {max(times):.3f} |")
    if args.baseline:
        times = answer_times(QUERIES[0][1], args.runs, args.baseline)
        label = f"{QUERIES[0][0]}, baseline {args.baseline}"
        print(f"| {label} | {statistics.median(times):.3f} | {max(times):.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
