"""Constants imported from a sibling module of the same project: ``from config import TARGETS``.

Python finds ``config`` next to the script it runs (``sys.path[0]``), so lorlint looks there: in
the importing file's own directory (``config.py``, ``config/__init__.py``, ``utils/config.py`` for
``utils.config``), and for a relative import (``from .config import``) in its package, up to two
levels up. Nothing else is read: not site-packages, not the current directory.

Bounds: a sibling is read like any file (``source.read_bytes``) and only up to ``MAX_BYTES``; at
most ``MAX_FILES`` siblings per importing file and ``MAX_DEPTH`` imports deep. Each sibling is
parsed at most once per process (per import depth, while its size and mtime stay the same) and
kept for the run (at most ``MAX_CACHED`` of them): the linted files of a tree that all import
``config`` share one parse, and each name is evaluated once. Its values are what its module-level
assignments leave once it has run (every assignment that reaches the end; where branches disagree,
unknown). A value found there points at the importing name (its literal is in another file, so no
fix edits it), and the sites that use one are not kept in the site cache.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import TYPE_CHECKING

from lorlint.site import UNKNOWN, Value

if TYPE_CHECKING:
    from lorlint.frontends.python import PythonFile

MAX_FILES = 8
MAX_DEPTH = 3
MAX_BYTES = 512 * 1024
MAX_CACHED = 64


class _Module:
    """One sibling module parsed whole, and the names already evaluated in it."""

    def __init__(self, stamp: tuple[int, int], file: PythonFile | None):
        self.stamp = stamp  # (mtime_ns, size) when read
        self.file = file  # None: it could not be read or parsed
        self.values: dict[str, tuple[Value | None, frozenset[str]]] = {}

    def value(self, name: str) -> tuple[Value | None, frozenset[str]]:
        """The value ``name`` has at the end of the module, and the files it came from."""
        if self.file is None:
            return None, frozenset()
        if name not in self.values:
            self.values[name] = (None, frozenset())  # while it is evaluated: a cycle finds nothing
            file = self.file
            file.siblings.used = set()
            file.evaluator.steps = 0  # every name gets the whole budget, whatever came before
            value = file.module_value(name)
            self.values[name] = (value, frozenset(file.siblings.used))
        return self.values[name]


# (resolved path, import depth) → the module, for this process (a run, or the language server)
_PARSED: dict[tuple[Path, int], _Module] = {}


def _module(path: Path, depth: int) -> _Module | None:
    try:
        info = path.stat()
    except OSError:
        return None
    stamp = (info.st_mtime_ns, info.st_size)
    key = (path, depth)
    found = _PARSED.get(key)
    if found is not None and found.stamp == stamp:
        return found
    if len(_PARSED) >= MAX_CACHED:
        del _PARSED[next(iter(_PARSED))]  # the oldest
    _PARSED[key] = _Module(stamp, None)  # while it is parsed: an import cycle finds nothing
    _PARSED[key] = _Module(stamp, _parse(path, depth))
    return _PARSED[key]


def _parse(path: Path, depth: int) -> PythonFile | None:
    from lorlint.frontends.python import PythonSyntaxError, TooComplex, analyse
    from lorlint.frontends.source import SourceError, decode_python, read_bytes

    try:
        text = decode_python(read_bytes(path, MAX_BYTES))
        parsed, _ = analyse(
            str(path), text, 0, lambda file: None, reduce=False, siblings=Siblings(path, depth)
        )
    except (SourceError, PythonSyntaxError, TooComplex, RecursionError, MemoryError):
        return None
    return parsed


class Siblings:
    """The sibling modules one file reads (the linted file, or a sibling reading its own)."""

    def __init__(self, path: str | Path, depth: int = 0):
        self.path = path  # resolved on the first import looked up (most files have none)
        self.depth = depth
        self.used: set[str] = set()  # the files whose values went into a site
        self.read: set[Path] = set()

    @functools.cached_property
    def base(self) -> Path | None:
        """The importing file's directory."""
        return Path(self.path).resolve().parent if self.path else None

    def module_path(self, module: str, level: int) -> Path | None:
        if level > 2 or not module or self.base is None:
            return None
        base = self.base
        for _ in range(max(level - 1, 0)):
            base = base.parent
        stem = base.joinpath(*module.split("."))
        for candidate in (stem.with_suffix(".py"), stem / "__init__.py"):
            if candidate.is_file():
                return candidate
        return None

    def value(self, module: str, level: int, name: str) -> Value:
        """The value ``name`` has at the end of the sibling module (UNKNOWN if not found)."""
        path = self.module_path(module, level)
        if path is None or self.depth >= MAX_DEPTH:
            return Value(UNKNOWN)
        if path not in self.read and len(self.read) >= MAX_FILES:
            return Value(UNKNOWN)
        self.read.add(path)
        found = _module(path, self.depth + 1)
        value, used = found.value(name) if found is not None else (None, frozenset())
        if value is None or not (value.known or value.elements):
            return Value(UNKNOWN)
        self.used |= used | {str(path)}
        return copy.deepcopy(value)


def from_elsewhere(value: Value, use_span, name: str) -> Value:
    """A value read in another file, as seen from the importing name: every span is the
    name's, nothing is editable."""
    for part in [value, *(value.elements or [])]:
        part.span = use_span
        part.editable = False
        part.bound_to = name
        part.bound_uses = 2
    return value
