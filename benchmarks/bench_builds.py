"""How long a meta-device build of each catalogued model type takes (its natural task, default
config), once its modules are imported: the best of ``--repeat`` builds.

Usage: ``python benchmarks/bench_builds.py [--repeat 2] [--over 1.0]``; prints the slowest types
and how many take longer than ``--over`` seconds.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

from lorlint.models import catalog
from lorlint.models.introspect import build_model


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--over", type=float, default=1.0)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    times = []
    for model_type in sorted(catalog.raw_index()["types"]):
        task = catalog.natural_task(model_type)
        config = {"model_type": model_type}
        build_model(config, task)  # imports the model's modules
        best = float("inf")
        for _ in range(args.repeat):
            started = time.perf_counter()
            build_model(config, task)
            best = min(best, time.perf_counter() - started)
        times.append((best, model_type))
    times.sort(reverse=True)
    slow = [(round(t, 2), m) for t, m in times if t > args.over]
    print(f"{len(times)} types; load average {os.getloadavg()[0]:.1f}")
    print(f"slowest: {[(round(t, 2), m) for t, m in times[:8]]}")
    print(f"over {args.over} s: {len(slow)} {slow}")
    print(f"median: {times[len(times) // 2][0]:.3f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
