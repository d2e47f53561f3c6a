"""Constants imported from a sibling module of the same project: ``from config import TARGETS``.

Python finds ``config`` next to the script it runs (``sys.path[0]``), so lorlint looks there: in
the importing file's own directory (``config.py``, ``config/__init__.py``, ``utils/config.py`` for
``utils.config``), and for a relative import (``from .config import``) in its package, up to two
levels up. Nothing else is read: not site-packages, not the current directory. Each module is read
with the same bounds as any file (``source.read_bytes``), at most ``MAX_FILES`` per linted file
and ``MAX_DEPTH`` imports deep, and analysed like the file itself (only the statements that bind
the name). A value found there points at the importing name (its literal is in another file, so no
fix edits it), and the sites that use one are not kept in the site cache.
"""

from __future__ import annotations

import copy
from pathlib import Path

from lorlint.site import UNKNOWN, Value

MAX_FILES = 8
MAX_DEPTH = 3


class Siblings:
    """The sibling modules one linted file has read, shared by the modules it reads in turn."""

    def __init__(self, path: str, depth: int = 0, shared: dict | None = None):
        self.base = Path(path).resolve().parent if path else None
        self.depth = depth
        self.shared = shared if shared is not None else {"values": {}, "used": set()}

    @property
    def used(self) -> set[str]:
        """The files whose values went into a site."""
        return self.shared["used"]

    def module_path(self, module: str, level: int) -> Path | None:
        if self.base is None or level > 2 or not module:
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
        values: dict[tuple[Path, str], Value | None] = self.shared["values"]
        key = (path, name)
        if key not in values:
            values[key] = None  # while it loads: an import cycle finds nothing
            values[key] = self._read(path, name)
        value = values[key]
        if value is None or not (value.known or value.elements):
            return Value(UNKNOWN)
        self.used.add(str(path))
        return copy.deepcopy(value)

    def _read(self, path: Path, name: str) -> Value | None:
        if len({p for p, _ in self.shared["values"]}) > MAX_FILES:
            return None
        from lorlint.frontends.python import PythonSyntaxError, TooComplex, analyse
        from lorlint.frontends.source import SourceError, decode_python, read_bytes

        try:
            text = decode_python(read_bytes(path))
            inner = Siblings(str(path), self.depth + 1, self.shared)
            _, value = analyse(
                str(path), text, 0, lambda file: file.module_value(name), siblings=inner
            )
        except (SourceError, PythonSyntaxError, TooComplex):
            return None
        return value


def from_elsewhere(value: Value, use_span, name: str) -> Value:
    """A value read in another file, as seen from the importing name: every span is the
    name's, nothing is editable."""
    for part in [value, *(value.elements or [])]:
        part.span = use_span
        part.editable = False
        part.bound_to = name
        part.bound_uses = 2
    return value
