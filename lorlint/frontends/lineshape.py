"""What one logical line does with names, read from its text with a few compiled regexes.

The reducer (``reduce.py``) asks three questions of the lines it considers, and each answer may
over-approximate (keeping a line too many only costs parse time; the analysis afterwards checks
that nothing it needed was left out):

- which names can this line *bind*: assignment targets (left of the last ``=`` or ``+=`` at
  bracket depth 0), anything on a line that binds by keyword (``for``, ``with``, ``except``,
  ``def``, ``class``, ``global``, ``del``, ``case``, imports), a walrus, an annotation;
- which names does it *read* (every word outside non-f strings and comments);
- does it assign a literal-looking value (anything but a call's result, or a call whose value the
  evaluator reads from its arguments: ``os.environ.get("X", "default")``, ``list(...)``), which
  the evaluator may follow and a fix could edit.
"""

from __future__ import annotations

import keyword
import re

KEYWORDS = frozenset(keyword.kwlist) | {"match", "case", "type", "_"}
_BINDING_KEYWORDS = frozenset(
    {"for", "async", "with", "except", "def", "class", "global", "nonlocal", "del", "case"}
    | {"import", "from"}
)
WORD = re.compile(r"(?<![.\w])[^\W\d]\w*")
_READ = re.compile(r"(?<![.\w])[^\W\d]\w*(?!\w|\s*=(?!=))")
FIRST_WORD = re.compile(r"@|[^\W\d]\w*")
# Non-f string literals (an f-string's fields are code that reads names).
_PLAIN_STRING = re.compile(
    r"(?<![fF])(?<![fF][rRbB])(?:[rRbBuU]{0,2})"
    r"""(?:\"\"\"[\s\S]*?\"\"\"|'''[\s\S]*?'''|"(?:[^"\\\r\n]|\\[\s\S])*"|'(?:[^'\\\r\n]|\\[\s\S])*')"""
)
_ANY_STRING = re.compile(
    r"(?:[rRbBuUfF]{0,2})"
    r"""(?:\"\"\"[\s\S]*?\"\"\"|'''[\s\S]*?'''|"(?:[^"\\\r\n]|\\[\s\S])*"|'(?:[^'\\\r\n]|\\[\s\S])*')"""
)
_COMMENT = re.compile(r"#[^\r\n]*")
_BRACKET = re.compile(r"[()\[\]{}]")
_CLOSING = {"(": ")", "[": "]", "{": "}"}
_INNERMOST = re.compile(r"\([^()\[\]{}]*\)|\[[^()\[\]{}]*\]|\{[^()\[\]{}]*\}")
_ASSIGN = re.compile(r"(?<![=!<>:])=(?!=)")  # also the = of +=, -=, ... (an other binding)
_ANNOTATION = re.compile(r"\s*[^\W\d][\w.]*\s*:(?!=)")
_INTO = re.compile(r"\s*[.\x00]")  # an attribute or subscript follows the name
# The value is a call's result: ``f(...)``, ``a.b(...)[...]``, ``await f(...)``.
_CALL = re.compile(r"\s*(?:await\s+)?[^\W\d][\w.\s]*\x00(?:\x00|\s*\.\s*\w+)*\s*$")
# Calls whose value the evaluator knows from their arguments (lorlint/frontends/values.py).
_READ_CALL = re.compile(
    r"\s*(?:(?:[^\W\d][\w.\s]*\.\s*)?(?:getenv|environ\s*\.\s*get)|[^\W\d][\w.\s]*\.\s*split"
    r"|list|tuple|sorted|range)\s*\x00+\s*$"
)


def _blank_strings(strings: re.Pattern[str], blank, text: str) -> str:
    """``strings.sub(blank, text)``, searched from where the first literal can start: two prefix
    letters before the first quote (look-behinds still see the text before)."""
    single, double = text.find("'"), text.find('"')
    first = single if double < 0 or 0 <= single < double else double
    if first < 0:
        return text
    pieces, at = [], 0
    for m in strings.finditer(text, max(first - 2, 0)):
        pieces += (text[at : m.start()], blank(m))
        at = m.end()
    pieces.append(text[at:])
    return "".join(pieces)


def _spaces(m: re.Match[str]) -> str:
    return " " * len(m.group())


def _marks(m: re.Match[str]) -> str:
    return "\x00" * len(m.group())


def flatten(masked: str) -> str:
    """Every bracketed group turned into ``\\x00`` marks. With matched brackets, each outermost
    group's span at once (one pass over the brackets); otherwise as ``_flatten_innermost``."""
    if not ("(" in masked or "[" in masked or "{" in masked):
        return masked
    open_at: list[tuple[int, str]] = []
    groups = []
    for m in _BRACKET.finditer(masked):
        bracket = m.group()
        if bracket in "([{":
            open_at.append((m.start(), _CLOSING[bracket]))
        elif open_at and open_at[-1][1] == bracket:
            start = open_at.pop()[0]
            if not open_at:
                groups.append((start, m.end()))
        else:
            return _flatten_innermost(masked)
    if open_at:
        return _flatten_innermost(masked)
    pieces, at = [], 0
    for start, end in groups:
        pieces += (masked[at:start], "\x00" * (end - start))
        at = end
    pieces.append(masked[at:])
    return "".join(pieces)


def _flatten_innermost(flat: str) -> str:
    """Innermost groups marked, again and again, while any is left (unmatched brackets stay)."""
    while "(" in flat or "[" in flat or "{" in flat:
        inner = _INNERMOST.sub(_marks, flat)
        if inner == flat:
            break
        flat = inner
    return flat


class Shape:
    """A logical line with strings and comments blanked and every bracketed group turned into
    ``\\x00`` marks: the same length, so offsets stay those of the text (``start`` + index).
    (A plain class: ``@dataclass`` compiles its methods at every start and imports
    ``dataclasses``; nothing compares or prints one.)"""

    __slots__ = ("_literal", "_targets", "annotated", "binds_by_keyword", "flat", "last_assign",
                 "start")  # fmt: skip

    def __init__(
        self,
        start: int,
        flat: str,
        binds_by_keyword: bool,
        last_assign: int,  # index in ``flat`` of the last ``=`` at depth 0, or -1
        annotated: bool,
    ):
        self.start, self.flat, self.binds_by_keyword = start, flat, binds_by_keyword
        self.last_assign, self.annotated = last_assign, annotated
        self._targets: set[str] | None = None
        self._literal: bool | None = None

    @classmethod
    def of(cls, text: str, start: int, end: int) -> Shape:
        masked = text[start:end]
        masked = _blank_strings(_ANY_STRING, _spaces, masked)  # only where it can find one
        if "#" in masked:
            masked = _COMMENT.sub(_spaces, masked)
        flat = flatten(masked)
        word = FIRST_WORD.match(flat)
        by_keyword = word is not None and word.group() in _BINDING_KEYWORDS
        assigns = [m.start() for m in _ASSIGN.finditer(flat)]
        last = assigns[-1] if assigns else -1
        annotated = last < 0 and _ANNOTATION.match(flat) is not None
        return cls(start, flat, by_keyword or ":=" in masked, last, annotated)

    def binds_at(self, offset: int) -> bool:
        """Can the name at text ``offset`` be bound here? (Not ``name.attr = ...`` nor
        ``name[i] = ...``: those assign into the object.)"""
        if self.binds_by_keyword:
            return True
        at = offset - self.start
        if not (self.annotated or at < self.last_assign):
            return False
        name = WORD.match(self.flat, at)
        return name is None or _INTO.match(self.flat, name.end()) is None

    def targets(self) -> set[str]:
        """The names left of the last ``=`` at depth 0 (not those assigned into)."""
        if self._targets is None:
            self._targets = {
                m.group()
                for m in WORD.finditer(self.flat, 0, max(self.last_assign, 0))
                if _INTO.match(self.flat, m.end()) is None
            }
        return self._targets

    def literal_value(self) -> bool:
        """It assigns something other than a call's result, or the result of a call whose value
        the evaluator reads from its arguments (``os.environ.get("X", "default")``)."""
        if self._literal is None:
            at = self.last_assign + 1
            self._literal = at > 0 and (
                _CALL.match(self.flat, at) is None or _READ_CALL.match(self.flat, at) is not None
            )
        return self._literal


def reads(segment: str) -> set[str]:
    """The names a line's text reads (f-string fields included; not ``kw`` of ``kw=...``)."""
    code = _blank_strings(_PLAIN_STRING, lambda _: '""', segment)
    if "#" in code:
        code = _COMMENT.sub("", code)
    return {word for word in _READ.findall(code) if word not in KEYWORDS}
