"""Helpers shared by the benchmarks: timing a command in a fresh process, with its CPU time and
peak memory, and the environment every run uses."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

BIN = Path(sys.executable).parent
# As on a user's machine, Python may write bytecode (this sandbox sets PYTHONDONTWRITEBYTECODE,
# which would make every run recompile lorlint's own modules); no network.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
ENV["HF_HUB_OFFLINE"] = "1"


@dataclass
class Timing:
    wall: float  # seconds, median of the runs
    cpu: float  # user + system seconds of the process, median
    rss_mb: float  # peak resident memory, largest of the runs
    returncode: int


def timed(cmd: list[str], cwd: Path, runs: int) -> Timing:
    """Run ``cmd`` ``runs`` times in fresh processes; output is discarded."""
    walls, cpus, peak, rc = [], [], 0.0, 0
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.Popen(
            cmd, cwd=cwd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        _, status, usage = os.wait4(proc.pid, 0)
        walls.append(time.perf_counter() - start)
        cpus.append(usage.ru_utime + usage.ru_stime)
        peak = max(peak, usage.ru_maxrss / 1024)  # KiB on Linux
        rc = os.waitstatus_to_exitcode(status)
        stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        if proc.stderr:
            proc.stderr.close()
        if rc not in (0, 1):
            sys.exit(f"{cmd[0]} failed ({rc}): {stderr[-800:]}")
    return Timing(statistics.median(walls), statistics.median(cpus), peak, rc)


def load_average() -> str:
    try:
        return "load average " + ", ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "load average unknown"
