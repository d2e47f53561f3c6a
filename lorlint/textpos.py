"""Rows and columns as Python's tokenizer (and libcst, and ``ast``) count them.

A row ends at ``\\r\\n``, ``\\r`` or ``\\n`` only. ``str.splitlines()`` also breaks at ``\\f``,
``\\v``, ``\\x1c``–``\\x1e``, ``\\x85``, ``\\u2028`` and ``\\u2029``: a form feed before a config
shifted every fix edit below it by a row. Every span, edit and reported line goes through here.
Columns are 1-based code points; a span's end is exclusive (ruff's convention).
"""

from __future__ import annotations

import re

_LINE_END = re.compile(r"\r\n|\r|\n")


def split_lines(text: str, keepends: bool = False) -> list[str]:
    """The rows of ``text`` (no empty last row after a final line break, like splitlines)."""
    lines: list[str] = []
    start = 0
    for m in _LINE_END.finditer(text):
        lines.append(text[start : m.end() if keepends else m.start()])
        start = m.end()
    if start < len(text):
        lines.append(text[start:])
    return lines


def line_starts(text: str) -> list[int]:
    """Offset of the first character of each row, plus one past the end of the text."""
    starts = [0]
    starts.extend(m.end() for m in _LINE_END.finditer(text))
    if starts[-1] != len(text):
        starts.append(len(text))
    return starts


def offset(starts: list[int], row: int, col: int) -> int:
    """The text offset of a 1-based (row, column) position."""
    return starts[row - 1] + col - 1
