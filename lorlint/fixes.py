"""Fixes: text edits at exact libcst source spans, so everything else stays byte-identical.

A fix belongs to its diagnostic (ruff's JSON shape: ``applicability``, ``message``, ``edits``).
Edits replace only the target expression, keep the quote style of the string they replace, and are
refused where a value is bound to a name that is used more than once.
"""

from __future__ import annotations

from dataclasses import dataclass

from lorlint.site import Span, Value
from lorlint.textpos import line_starts
from lorlint.textpos import offset as position


@dataclass(frozen=True)
class Edit:
    span: Span
    content: str

    def to_json(self) -> dict:
        return {
            "content": self.content,
            "location": {"row": self.span.row, "column": self.span.col},
            "end_location": {"row": self.span.end_row, "column": self.span.end_col},
        }


@dataclass(frozen=True)
class Fix:
    applicability: str  # "safe" | "unsafe"
    message: str
    edits: tuple[Edit, ...]

    def to_json(self) -> dict:
        return {
            "applicability": self.applicability,
            "message": self.message,
            "edits": [e.to_json() for e in self.edits],
        }

    @classmethod
    def from_json(cls, data: dict) -> Fix:
        edits = tuple(
            Edit(
                Span(
                    e["location"]["row"],
                    e["location"]["column"],
                    e["end_location"]["row"],
                    e["end_location"]["column"],
                ),
                e["content"],
            )
            for e in data["edits"]
        )
        return cls(data["applicability"], data["message"], edits)


def fixable(value: Value | None) -> bool:
    """A value may be edited: it has a span and is not a binding shared with other uses."""
    return value is not None and value.editable and value.span is not None and value.bound_uses <= 1


def string(text: str, quote: str) -> str:
    q = quote if quote in ('"', "'") else '"'
    return f"{q}{text}{q}"


def list_literal(names: list[str], quote: str) -> str:
    return "[" + ", ".join(string(n, quote) for n in names) + "]"


def replace(value: Value, content: str, message: str, applicability: str) -> Fix | None:
    if not fixable(value):
        return None
    return Fix(applicability, message, (Edit(value.span, content),))


def drop_element(container: Value, index: int, message: str, applicability: str) -> Fix | None:
    """Delete one element of a list literal with its separator: ``, "x"`` (or ``"x", `` first)."""
    elements = container.elements or []
    if len(elements) < 2 or not 0 <= index < len(elements) or not fixable(container):
        return None
    if index == 0:
        this, nxt = elements[0], elements[1]
        if this.span is None or nxt.span is None or not fixable(this):
            return None
        start, end = (this.span.row, this.span.col), (nxt.span.row, nxt.span.col)
    else:
        prev, this = elements[index - 1], elements[index]
        if prev.span is None or this.span is None or not fixable(this):
            return None
        start, end = (prev.span.end_row, prev.span.end_col), (this.span.end_row, this.span.end_col)
    if start > end or this.bound_to != elements[index - 1 if index else 1].bound_to:
        return None  # elements from different literals (list concatenation)
    return Fix(applicability, message, (Edit(Span(*start, *end), ""),))


def apply(source: str, fixes: list[Fix]) -> tuple[str, int]:
    """Apply non-overlapping edits (identical duplicates once); returns (text, fixes applied)."""
    starts = line_starts(source)

    def offset(row: int, col: int) -> int:
        return position(starts, row, col)

    chosen: list[tuple[int, int, str]] = []
    applied = 0
    for fix in fixes:
        ranges = [
            (offset(e.span.row, e.span.col), offset(e.span.end_row, e.span.end_col), e.content)
            for e in fix.edits
        ]
        if all(r in chosen for r in ranges):
            applied += 1  # the same edit already queued by a sibling diagnostic
            continue
        if any(
            (s < ce and cs < e) or (s == cs and e == ce)
            for s, e, _ in ranges
            for cs, ce, _ in chosen
        ):
            continue
        chosen.extend(ranges)
        applied += 1
    text = source
    for start, end, content in sorted(chosen, reverse=True):
        text = text[:start] + content + text[end:]
    return text, applied
