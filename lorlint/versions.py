"""Versions of the packages a training script runs with, read without importing them.

Importing peft or transformers costs seconds; a rule that only needs to know whether PEFT has an
option reads the installed distribution's ``*.dist-info`` directory name instead. Later, pins read
from a project's requirements files can answer the same question for the environment the script
really runs in (issue #14).
"""

from __future__ import annotations

import re
import sys
from functools import cache
from pathlib import Path


@cache
def installed(name: str) -> str | None:
    """The installed version of distribution ``name`` (``"peft"``, ``"PyYAML"``), or None.

    Reads it from the ``NAME-VERSION.dist-info`` directory on ``sys.path``, as importlib.metadata
    does, without its cost (~20 ms) or importing the package; the first entry on the path wins."""
    wanted = _normal(name)
    for entry in sys.path:
        directory = Path(entry or ".")
        if not directory.is_dir():
            continue
        for info in directory.glob("*.dist-info"):
            project, _, version = info.name.removesuffix(".dist-info").rpartition("-")
            if _normal(project) == wanted:
                return version
    return None


def _normal(name: str) -> str:
    """PEP 503 normalisation: ``Foo_Bar`` and ``foo-bar`` are one project."""
    return re.sub(r"[-_.]+", "-", name).lower()


def release(version: str) -> tuple[int, ...]:
    """The release segment as numbers: ``"0.18.0rc1"`` → ``(0, 18, 0)``."""
    match = re.match(r"\d+(?:\.\d+)*", version.strip().lstrip("vV"))
    return tuple(int(part) for part in match.group(0).split(".")) if match else ()


def older_than(version: str | None, minimum: str) -> bool:
    """Whether ``version`` is known and predates ``minimum`` (unknown: False, nothing is claimed).

    Compares release segments only: a pre-release of ``minimum`` counts as ``minimum``."""
    if version is None or not release(version):
        return False
    return release(version) < release(minimum)
