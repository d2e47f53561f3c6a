"""Where one process's CPU goes: ``lorlint check --no-cache --jobs 1`` over a tree, each stage of
the data flow timed by wrapping its function (CPU seconds, no profiler, whose overhead would
distort the shares). Stages nest: the rules, model views and matching run inside "check sites".

    python benchmarks/bench_phases.py [--tree tests/realworld/cases] [--runs 3]

Each run is a fresh process (``--child``), with bytecode as installed and caches off.
"""

from __future__ import annotations

import argparse
import collections
import functools
import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ENV

REPO = Path(__file__).resolve().parents[1]
# (label, module, attribute): the attribute is replaced where it is looked up at call time
STAGES = [
    ("Python front end (scripts, notebooks' code)", "lorlint.engine", "_python_sites"),
    ("YAML, shell and adapter front ends", "lorlint.engine", "_config_sites"),
    ("check sites (views + matching + rules)", "lorlint.engine", "_check_sites"),
    ("  model views", "lorlint.engine", "load_view"),
    ("  PEFT's matching", "lorlint.engine", "match"),
    ("  rules", "lorlint.engine", "_run_rules"),
    ("    block parts (per table)", "lorlint.models.layerkinds", "block_parts"),
]


def child(tree: str) -> None:
    spent: collections.Counter = collections.Counter()
    start = time.process_time()
    import lorlint.cli

    for label, module_name, attr in STAGES:
        module = importlib.import_module(module_name)
        function = getattr(module, attr)

        @functools.wraps(function)
        def timed(*args, _function=function, _label=label, **kwargs):
            begun = time.process_time()
            try:
                return _function(*args, **kwargs)
            finally:
                spent[_label] += time.process_time() - begun

        setattr(module, attr, timed)
    sys.argv = ["lorlint", "check", tree, "--no-cache", "--jobs", "1", "--exit-zero", "-q"]
    stdout = sys.stdout
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115
    try:
        lorlint.cli.main(sys.argv[1:])  # with argv: a check called, not run as the program, returns
    except SystemExit:
        pass
    finally:
        sys.stdout = stdout
    spent["total (lorlint's imports included)"] = time.process_time() - start
    print(json.dumps(spent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", default=str(REPO / "tests" / "realworld" / "cases"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child)
    env = {**ENV, "LORLINT_CACHE_DIR": tempfile.mkdtemp(prefix="lorlint-phases-")}
    runs = []
    for _ in range(args.runs + 1):  # the first run writes bytecode, as an install would have
        out = subprocess.run(
            [sys.executable, __file__, "--child", args.tree],
            env=env, cwd=REPO, capture_output=True, text=True, check=True,
        )  # fmt: skip
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    runs = runs[1:]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{args.tree}; median of {args.runs} runs (CPU seconds); load average {load}\n")
    print("| stage | CPU (s) |\n|---|---|")
    for label in ["total (lorlint's imports included)", *(label for label, _, _ in STAGES)]:
        values = [run.get(label, 0.0) for run in runs]
        print(f"| {label} | {statistics.median(values):.3f} |")


if __name__ == "__main__":
    main()
