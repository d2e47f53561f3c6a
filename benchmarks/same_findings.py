"""Speed changed no finding: lorlint at an earlier revision and now give the same JSON report.

    python benchmarks/same_findings.py --before REV [PATH ...]

Lints PATHs (default: ``fixtures`` and the real-world set) with ``--no-cache --output-format json``
once with one process and once with workers, at ``REV`` (its ``lorlint/``, catalog included, first
on PYTHONPATH, as bench_before_after.py takes it) and now, each with an empty model cache, and
compares the reports byte for byte. Exits 1 and prints the first differing lines when they differ.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import subprocess
import tempfile
from pathlib import Path

from bench_before_after import REPO, checkout
from common import BIN

DEFAULT_PATHS = ["fixtures", "tests/realworld/cases"]


def report(paths: list[str], jobs: str, cache: Path, before: Path | None) -> str:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "LORLINT_CACHE_DIR": str(cache)}
    if before is not None:
        env["PYTHONPATH"] = str(before)
    command = [str(BIN / "lorlint"), "check", *paths, "--no-cache", "--exit-zero", "--jobs", jobs]
    command += ["--output-format", "json"]
    return subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, check=True
    ).stdout


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", required=True, help="git revision to compare with")
    parser.add_argument("paths", nargs="*", default=DEFAULT_PATHS)
    args = parser.parse_args()
    differ = False
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "before").mkdir()
        before = checkout(args.before, Path(tmp) / "before")
        for jobs in ("1", str(os.cpu_count() or 2)):
            old = report(args.paths, jobs, Path(tmp) / f"cache-before-{jobs}", before)
            new = report(args.paths, jobs, Path(tmp) / f"cache-now-{jobs}", None)
            findings = len(json.loads(new))
            if old == new:
                print(f"--jobs {jobs}: identical ({len(new):,} bytes, {findings} findings)")
                continue
            differ = True
            print(f"--jobs {jobs}: DIFFERENT")
            old_rows = json.dumps(json.loads(old), indent=1).splitlines()
            new_rows = json.dumps(json.loads(new), indent=1).splitlines()
            print("\n".join(list(difflib.unified_diff(old_rows, new_rows, lineterm=""))[:40]))
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
