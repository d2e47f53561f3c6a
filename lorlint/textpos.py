"""Rows and columns as Python's tokenizer (and libcst, and ``ast``) count them.

A row ends at ``\\r\\n``, ``\\r`` or ``\\n`` only. ``str.splitlines()`` also breaks at ``\\f``,
``\\v``, ``\\x1c``–``\\x1e``, ``\\x85``, ``\\u2028`` and ``\\u2029``: a form feed before a config
shifted every fix edit below it by a row. Every span, edit and reported line goes through here.
Columns are 1-based code points (a tab is one column); a span's end is exclusive (ruff's
convention). A UTF-8 byte order mark is not part of the source as Python reads it, so row 1's
columns start after it.
"""

from __future__ import annotations

import re
from itertools import accumulate, repeat
from operator import add

BOM = "\ufeff"
_LINE_END = re.compile(r"\r\n|\r|\n")


def split_lines(text: str, keepends: bool = False) -> list[str]:
    """The rows of ``text`` (no empty last row after a final line break, like splitlines)."""
    if "\r" not in text:  # "\n" alone ends lines: str.split does it without a regex
        if not text:
            return []
        lines = text.split("\n")
        if text[-1] == "\n":
            lines.pop()  # the empty piece after the final line break
        if keepends:
            lines = [line + "\n" for line in lines]
            if text[-1] != "\n":
                lines[-1] = lines[-1][:-1]
        return lines
    lines = []
    start = 0
    for m in _LINE_END.finditer(text):
        lines.append(text[start : m.end() if keepends else m.start()])
        start = m.end()
    if start < len(text):
        lines.append(text[start:])
    return lines


def line_starts(text: str) -> list[int]:
    """Offset of the first column of each row, plus one past the end of the text."""
    starts = [1 if text.startswith(BOM) else 0]
    if "\r" in text:
        starts.extend(m.end() for m in _LINE_END.finditer(text))
    else:  # "\n" alone ends rows: each row's start is the last one's plus its length and "\n"
        rows = text.split("\n")
        starts.extend(accumulate(map(add, map(len, rows[:-1]), repeat(1))))
    if starts[-1] != len(text):
        starts.append(len(text))
    return starts


def offset(starts: list[int], row: int, col: int) -> int:
    """The text offset of a 1-based (row, column) position."""
    return starts[row - 1] + col - 1


def advance(row: int, col: int, text: str) -> tuple[int, int]:
    """The position just after ``text`` when it starts at (row, col)."""
    ends = list(_LINE_END.finditer(text))
    if not ends:
        return row, col + len(text)
    return row + len(ends), len(text) - ends[-1].end() + 1


def line_ending(text: str) -> str:
    """The text's first line break (``\\n`` when it has none): what new lines are written with."""
    m = _LINE_END.search(text)
    return m.group() if m else "\n"
