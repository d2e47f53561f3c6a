"""Fixes: edits at exact source spans, so every byte outside them stays as it was.

A rule proposes a fix in terms of the values it read (this string, that list); ``bind`` checks the
proposal against the source text — the span must hold exactly the literal the rule saw (a plain
string, or a list/tuple/set display of plain strings), so values computed in code
(``"a,b".split(",")``, ``list(...)``, ``+``, f-strings, implicit concatenation) are never edited —
and turns it into a ``Fix`` (ruff's JSON shape: ``applicability``, ``message``, ``edits``).

Renaming a string or turning it into a list is a plain text edit. Removing, renaming or adding
list entries is a structural edit made with libcst on the list's own text (``listedit``), imported
only when such a fix's edits are needed; it keeps every comment in the list, except the trailing
comment of an entry that a removal drops (the survivor of a duplicate keeps its own).
"""

from __future__ import annotations

import io
import re
import tokenize

from lorlint.site import Record, Span, Value
from lorlint.textpos import advance, line_starts, offset, split_lines


class Edit(Record):
    """Replace the text of ``span`` with ``content``.

    This module's classes are plain, not ``@dataclass`` (which compiles each class's methods at
    every start, ~0.5 ms a class before the first file is linted). ``Edit``, ``ListPlan`` and
    ``Fix`` compare by value (``Record``), as findings do; nothing compares proposals or moves."""

    __slots__ = ("content", "span")
    FIELDS = ("span", "content")

    def __init__(self, span: Span, content: str):
        self.span, self.content = span, content

    def __hash__(self) -> int:
        return hash(self._key())

    def to_json(self) -> dict:
        return {
            "content": self.content,
            "location": {"row": self.span.row, "column": self.span.col},
            "end_location": {"row": self.span.end_row, "column": self.span.end_col},
        }


class ListPlan(Record):
    """A structural edit of one list/tuple/set display, materialised by ``listedit``.

    ``entries`` has one item per element of the display: None removes it, "" keeps it, other text
    replaces it (a string literal). ``appended`` are string literals added at the end.
    ``keep_comments``: a removed entry's trailing comment stays as a line of its own."""

    __slots__ = ("appended", "entries", "keep_comments", "span", "text")
    FIELDS = ("span", "text", "entries", "appended", "keep_comments")

    def __init__(
        self,
        span: Span,
        text: str,
        entries: tuple[str | None, ...],
        appended: tuple[str, ...],
        keep_comments: bool,
    ):
        self.span, self.text, self.entries = span, text, entries
        self.appended, self.keep_comments = appended, keep_comments

    def __hash__(self) -> int:
        return hash(self._key())

    def edits(self) -> tuple[Edit, ...]:
        from lorlint.listedit import edit_display

        new = edit_display(self.text, self.entries, self.appended, self.keep_comments)
        if new is None or new == self.text:
            return ()
        return (minimal_edit(self.span, self.text, new),)

    def shifted(self, rows: int) -> ListPlan:
        s = self.span
        return ListPlan(
            Span(s.row + rows, s.col, s.end_row + rows, s.end_col),
            self.text,
            self.entries,
            self.appended,
            self.keep_comments,
        )


class Fix(Record):
    """A bound fix. Structural edits (``plan``) are computed on first use of ``edits``."""

    __slots__ = ("applicability", "known_edits", "message", "plan")
    # compared as the dataclass compared: every field, the edits known so far; unhashable
    # (``edits`` fills ``known_edits``)
    FIELDS = ("applicability", "message", "plan", "known_edits")

    def __init__(
        self,
        applicability: str,  # "safe" | "unsafe"
        message: str,
        plan: ListPlan | None = None,
        known_edits: tuple[Edit, ...] | None = None,
    ):
        self.applicability, self.message = applicability, message
        self.plan, self.known_edits = plan, known_edits

    @property
    def edits(self) -> tuple[Edit, ...]:
        if self.known_edits is None:
            self.known_edits = self.plan.edits() if self.plan is not None else ()
        return self.known_edits

    def to_json(self) -> dict:
        return {
            "applicability": self.applicability,
            "message": self.message,
            "edits": [e.to_json() for e in self.edits],
        }

    def shifted(self, rows: int) -> Fix:
        """The same fix with every row moved by ``rows`` (a notebook cell's rows)."""
        if self.known_edits is None and self.plan is not None:
            return Fix(self.applicability, self.message, plan=self.plan.shifted(rows))
        edits = tuple(
            Edit(
                Span(e.span.row + rows, e.span.col, e.span.end_row + rows, e.span.end_col),
                e.content,
            )
            for e in self.edits
        )
        return Fix(self.applicability, self.message, known_edits=edits)


class Proposal:
    """What a rule wants changed, before it is checked against the source (see ``bind``)."""

    __slots__ = ("applicability", "entries", "keep_comments", "kind", "message", "names", "target")

    def __init__(
        self,
        applicability: str,
        message: str,
        kind: str,  # "string": rename a string; "to-list": a string becomes a list; "list"
        target: Value,  # the string, or the list display
        names: tuple[str, ...] = (),  # "string": (new,), "to-list": the list, "list": appended
        entries: tuple[str | None, ...] = (),  # "list": per element, None (remove) or new name
        keep_comments: bool = True,
    ):
        self.applicability, self.message = applicability, message
        self.kind, self.target = kind, target
        self.names, self.entries, self.keep_comments = names, entries, keep_comments


class Move:
    """Move whole lines (``cut``) to the start of row ``row``, above them (LL401's fix).

    The analysis may have parsed a reduced text, which blanks statements it dropped; ``seen`` is
    the text from the start of ``row`` to the end of ``cut`` as it parsed it. The move binds only
    where the source holds that text there, but for lines it saw blank that hold only a comment,
    so no statement it did not see is jumped over. The moved text is taken from the source; the
    file's last line, without a line break of its own, gets row ``row``'s."""

    __slots__ = ("applicability", "cut", "message", "row", "seen")

    def __init__(self, applicability: str, message: str, row: int, cut: Span, seen: str):
        self.applicability, self.message, self.row, self.cut = applicability, message, row, cut
        self.seen = seen

    def bind(self, source: str, starts: list[int]) -> Fix | None:
        try:
            start = offset(starts, self.row, 1)
            cut_start = offset(starts, self.cut.row, self.cut.col)
            cut_end = offset(starts, self.cut.end_row, self.cut.end_col)
        except IndexError:
            return None
        if not start <= cut_start < cut_end <= len(source):
            return None
        if not _same_but_comments(source[start:cut_end], self.seen):
            return None
        moved = source[cut_start:cut_end]
        if not moved.endswith(("\n", "\r")):  # the last line: it takes row ``row``'s break
            moved += _LINE_BREAK.search(source, start).group()
        edits = (Edit(Span(self.row, 1, self.row, 1), moved), Edit(self.cut, ""))
        return Fix(self.applicability, self.message, known_edits=edits)


_COMMENT_ONLY = re.compile(r"[ \t\f]*(?:#[^\r\n]*)?(?:\r\n|\r|\n)?$")


def _same_but_comments(text: str, seen: str) -> bool:
    rows, seen_rows = split_lines(text, keepends=True), split_lines(seen, keepends=True)
    if len(rows) != len(seen_rows):
        return False
    for row, seen_row in zip(rows, seen_rows, strict=True):
        if row == seen_row:
            continue
        if seen_row.strip(" \t\f\r\n") or not _COMMENT_ONLY.match(row):
            return False
        if row[len(row.rstrip("\r\n")) :] != seen_row[len(seen_row.rstrip("\r\n")) :]:
            return False
    return True


def fixable(value: Value | None) -> bool:
    """A value may be edited: it has a span and is not a binding shared with other uses."""
    return value is not None and value.editable and value.span is not None and value.bound_uses <= 1


def string(text: str, quote: str) -> str:
    q = quote if quote in ('"', "'") else '"'
    return f"{q}{text}{q}"


def list_literal(names: list[str], quote: str) -> str:
    return "[" + ", ".join(string(n, quote) for n in names) + "]"


def replace_string(element: Value, new: str, message: str, applicability: str) -> Proposal | None:
    """Rename one string literal (a list entry or a whole value)."""
    if not fixable(element) or not isinstance(element.value, str):
        return None
    return Proposal(applicability, message, "string", element, (new,))


def string_to_list(value: Value, names: list[str], message: str, applicability: str):
    """A string literal becomes a list literal of ``names``."""
    if not fixable(value) or not isinstance(value.value, str) or not names:
        return None
    return Proposal(applicability, message, "to-list", value, tuple(names))


def drop_element(container: Value, index: int, message: str, applicability: str):
    """Remove one entry of a list display; its own trailing comment goes with it."""
    elements = _string_elements(container)
    if elements is None or len(elements) < 2 or not 0 <= index < len(elements):
        return None
    entries = tuple(None if i == index else e.value for i, e in enumerate(elements))
    return Proposal(applicability, message, "list", container, (), entries, keep_comments=False)


def rewrite_list(
    container: Value,
    names: list[str],
    message: str,
    applicability: str,
    renames: dict[str, str] | None = None,
) -> Proposal | None:
    """The display holds ``names`` afterwards: entries already there stay in place (with their
    comments), ``renames`` turns an entry into its new name in place, others are removed (their
    comments kept), missing names are appended. ``message`` gets the resulting list appended."""
    elements = _string_elements(container)
    if elements is None or not elements or not names:
        return None
    wanted, renames = list(dict.fromkeys(names)), renames or {}
    placed: set[str] = set()
    entries: list[str | None] = []
    for element in elements:
        for name in (element.value, renames.get(element.value)):
            if name in wanted and name not in placed:
                placed.add(name)
                entries.append(name)
                break
        else:
            entries.append(None)
    appended = [n for n in wanted if n not in placed]
    if all(e is None for e in entries):  # keep the first slot: a list is never emptied
        entries[0] = appended.pop(0)
    result = [e for e in entries if e is not None] + appended
    if result == [e.value for e in elements]:
        return None
    quote = elements[0].quote
    return Proposal(
        applicability,
        message + list_literal(result, quote),
        "list",
        container,
        tuple(appended),
        tuple(entries),
        keep_comments=True,
    )


def _string_elements(container: Value) -> list[Value] | None:
    if not fixable(container) or container.elements is None:
        return None
    if not all(isinstance(e.value, str) for e in container.elements):
        return None
    return container.elements


# --- binding a proposal to the source ---------------------------------------------------------
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_PREFIX = re.compile(r"(?i)[ru]?")
_SKIP = {tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.ENDMARKER}
_CLOSE = {"[": "]", "(": ")", "{": "}"}


def _tokens(text: str) -> list[tokenize.TokenInfo] | None:
    """The significant tokens of a fragment, or None when it does not tokenize on its own."""
    try:
        toks = tokenize.generate_tokens(io.StringIO(text, newline=None).readline)
        return [t for t in toks if t.type not in _SKIP]
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return None


def _plain_string(token: tokenize.TokenInfo) -> tuple[str, str] | None:
    """(value, quote) of a string token with no prefix but r/u; None for f-, b- and others."""
    import ast

    if token.type != tokenize.STRING:
        return None
    text = token.string
    prefix = text[: len(text) - len(text.lstrip("rRuUbBfF"))]
    if not _PREFIX.fullmatch(prefix):
        return None
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return None
    return (value, text[-1]) if isinstance(value, str) else None


# The common shapes, read without the tokenizer: a plain string with no backslash and no line
# break, alone or in a flat display with only blanks and commas between the entries. What these
# accept, the tokenizer reads the same way (tests/test_fixes.py compares them); anything else
# (comments, escapes, implicit concatenation, parentheses) goes to the tokenizer, whose first use
# in a process compiles its big pattern (1.6 ms) and whose generator costs ~10 us a fragment.
_QUOTED_FAST = r""""[^"\\\r\n]*"|'[^'\\\r\n]*'"""  # no backslash, no line break
_BLANKS = r"[ \t\f\r\n]*"
_FAST_STRING = re.compile(f"[rRuU]?({_QUOTED_FAST})")  # the prefixes ``_PREFIX`` allows
_ENTRY_FAST = f"[rRuU]?(?:{_QUOTED_FAST}){_BLANKS}"
_FAST_DISPLAY = re.compile(
    rf"([\[({{]){_BLANKS}((?:{_ENTRY_FAST},{_BLANKS})*(?:{_ENTRY_FAST})?)([\])}}])"
)


def _fast_string(text: str) -> tuple[str, str] | None:
    """(value, quote) of a one-line plain string without escapes; None: ask ``_plain_string``."""
    found = _FAST_STRING.fullmatch(text)
    return None if found is None else (found[1][1:-1], text[-1])


def _fast_display(text: str) -> list[tuple[str, str]] | None:
    """(value, quote) of each entry of a flat display of such strings; None: ask the tokenizer."""
    found = _FAST_DISPLAY.fullmatch(text)
    if found is None or _CLOSE[found[1]] != found[3]:
        return None
    return [(m[1][1:-1], m[1][-1]) for m in _FAST_STRING.finditer(found[2])]


def _tokenized_string(text: str) -> tuple[str, str] | None:
    toks = _tokens(text)
    return _plain_string(toks[0]) if toks and len(toks) == 1 else None


def _display(text: str, values: list[str]) -> list[str] | None:
    """Quotes of the entries when ``text`` is a flat display of exactly these plain strings."""
    fast = _fast_display(text)
    if fast is None:
        return _tokenized_display(text, values)
    return [quote for _, quote in fast] if [value for value, _ in fast] == values else None


def _tokenized_display(text: str, values: list[str]) -> list[str] | None:
    toks = _tokens(text)
    if not toks or toks[0].string not in _CLOSE or toks[-1].string != _CLOSE[toks[0].string]:
        return None
    inner, quotes = toks[1:-1], []
    for i, tok in enumerate(inner):
        if i % 2 == 0:
            plain = _plain_string(tok)
            if plain is None or len(quotes) >= len(values) or plain[0] != values[len(quotes)]:
                return None
            quotes.append(plain[1])
        elif tok.string != ",":
            return None
    return quotes if len(quotes) == len(values) else None


def _text(source: str, starts: list[int], span: Span) -> str:
    return source[offset(starts, span.row, span.col) : offset(starts, span.end_row, span.end_col)]


def bind(
    proposal: Proposal | Move | Fix | None, source: str, starts: list[int] | None = None
) -> Fix | None:
    """The fix for ``source``, or None when the text at the spans is not what the rule saw."""
    if proposal is None or isinstance(proposal, Fix):
        return proposal
    starts = starts if starts is not None else line_starts(source)
    if isinstance(proposal, Move):
        return proposal.bind(source, starts)
    target = proposal.target
    try:
        text = _text(source, starts, target.span)
    except IndexError:
        return None
    if proposal.kind in ("string", "to-list"):
        plain = _fast_string(text) or _tokenized_string(text)
        if plain is None or plain[0] != target.value:
            return None
        if proposal.kind == "string":
            content = string(proposal.names[0], plain[1])
        else:
            content = list_literal(list(proposal.names), plain[1])
        return Fix(
            proposal.applicability, proposal.message, known_edits=(Edit(target.span, content),)
        )
    quotes = _display(text, [e.value for e in target.elements])
    if quotes is None:
        return None
    entries = tuple(
        None if new is None else ("" if new == old.value else string(new, quote))
        for new, old, quote in zip(proposal.entries, target.elements, quotes, strict=True)
    )
    appended = tuple(string(n, quotes[-1]) for n in proposal.names)
    plan = ListPlan(target.span, text, entries, appended, proposal.keep_comments)
    return Fix(proposal.applicability, proposal.message, plan=plan)


def minimal_edit(span: Span, old: str, new: str) -> Edit:
    """One edit turning ``old`` (the text at ``span``) into ``new``: what differs, widened to
    whole lines when it spans lines. In repetitive text the shortest difference can sit anywhere
    along a run of equal characters (cutting through a comment); whole lines keep every edit where
    a reader — and a neighbouring fix — expects it, and never split a ``\\r\\n``."""
    start, limit = 0, min(len(old), len(new))
    while start < limit and old[start] == new[start]:
        start += 1
    end = 0
    while end < limit - start and old[len(old) - 1 - end] == new[len(new) - 1 - end]:
        end += 1
    old_end = len(old) - end
    if _LINE_BREAK.search(old, start, old_end) or _LINE_BREAK.search(new, start, len(new) - end):
        start = max(old.rfind("\n", 0, start), old.rfind("\r", 0, start)) + 1
        found = _LINE_BREAK.search(old, old_end)
        old_end = found.end() if found else len(old)
    elif start and old[start - 1 : start + 1] == "\r\n":
        start -= 1
    elif old[old_end - 1 : old_end + 1] == "\r\n":
        old_end += 1
    new_end = len(new) - (len(old) - old_end)
    row, col = advance(span.row, span.col, old[:start])
    end_row, end_col = advance(span.row, span.col, old[:old_end])
    return Edit(Span(row, col, end_row, end_col), new[start:new_end])


def choose(source: str, fixes: list[Fix]) -> tuple[list[tuple[int, int, str]], list[Fix]]:
    """Non-overlapping edits as (start, end, content) offsets, identical duplicates once, and
    the fixes they apply. Touching edits both apply; two at one point would be ambiguous."""
    starts = line_starts(source)
    chosen: list[tuple[int, int, str]] = []
    applied: list[Fix] = []
    for fix in fixes:
        if not fix.edits:
            continue
        ranges = [
            (
                offset(starts, e.span.row, e.span.col),
                offset(starts, e.span.end_row, e.span.end_col),
                e.content,
            )
            for e in fix.edits
        ]
        if all(r in chosen for r in ranges):
            applied.append(fix)  # the same edit already queued by a sibling diagnostic
            continue
        if any((s < ce and cs < e) or s == cs for s, e, _ in ranges for cs, ce, _ in chosen):
            continue
        chosen.extend(ranges)
        applied.append(fix)
    return sorted(chosen), applied


def splice(source: str, edits: list[tuple[int, int, str]]) -> str:
    for start, end, content in sorted(edits, reverse=True):
        source = source[:start] + content + source[end:]
    return source


def apply(source: str, fixes: list[Fix]) -> tuple[str, int]:
    """Apply non-overlapping fixes; returns (text, fixes applied)."""
    edits, applied = choose(source, fixes)
    return splice(source, edits), len(applied)
