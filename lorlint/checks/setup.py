"""Text edits on setup calls (issue #14 rules): an argument removed, replaced, text inserted.

The front end records each argument's span and whether a comment sits before it
(``lorlint.site.Argument``); edits are made only where no comment would be lost.
"""

from __future__ import annotations

from lorlint.fixes import Edit
from lorlint.site import Site, Span


def _index(site: Site, keyword: str) -> int | None:
    return next((i for i, a in enumerate(site.arguments) if a.keyword == keyword), None)


def delete_argument(site: Site, keyword: str) -> Edit | None:
    """Remove ``keyword=value`` with the comma that separates it from its neighbour."""
    i = _index(site, keyword)
    if i is None:
        return None
    args = site.arguments
    this = args[i]
    if i > 0 and this.clean:
        before = args[i - 1].span
        return Edit(Span(before.end_row, before.end_col, this.span.end_row, this.span.end_col), "")
    if i + 1 < len(args) and args[i + 1].clean:
        after = args[i + 1].span
        return Edit(Span(this.span.row, this.span.col, after.row, after.col), "")
    return None


def replace_argument(site: Site, keyword: str, text: str) -> Edit | None:
    i = _index(site, keyword)
    return Edit(site.arguments[i].span, text) if i is not None else None


def insert_text(row: int, col: int, text: str) -> Edit:
    return Edit(Span(row, col, row, col), text)


def keyword_span(site: Site, keyword: str) -> Span:
    """Where ``keyword=value`` is written in the call (its value's span when it came from a
    ``**mapping``; the call's when neither is known)."""
    i = _index(site, keyword)
    if i is not None:
        return site.arguments[i].span
    value = site.keywords.get(keyword)
    return value.span if value is not None and value.span is not None else site.span
