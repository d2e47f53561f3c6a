"""Python's logical lines at C speed: where each statement starts, without tokenizing in Python.

The Python front end parses only the statements that can matter (see ``reduce.py``); to blank the
others it must know exactly where every logical line starts — a row inside a triple-quoted string,
an open bracket or after a backslash continuation is not a statement. One compiled regex matches a
whole logical line at a time (strings, comments, brackets nested up to ``_FAST_DEPTH``, backslash
continuations); a line it cannot take whole (deeper nesting, f-strings with quotes inside their
replacement fields, errors) is scanned token by token in Python, with PEP 701 f-strings. Anything
the scanner cannot close (an unterminated string, an unbalanced bracket) raises ``ScanError``; the
caller then parses the full text and lets Python report the error.
"""

from __future__ import annotations

import re
import sys
from itertools import count

_FAST_DEPTH = 4  # bracket nesting the one-regex path handles; deeper lines take the slow path
_counter = count()


def _atomic(pattern: str) -> str:
    """An atomic group (no backtracking into it): ``(?>...)`` from 3.11, emulated before."""
    if sys.version_info >= (3, 11):
        return f"(?>{pattern})"
    name = f"a{next(_counter)}"
    return f"(?=(?P<{name}>{pattern}))(?P={name})"


def _fast_line() -> re.Pattern[str]:
    # Strings without an f prefix; f-strings only when their fields hold no quotes, braces,
    # backslashes or comments (3.11 and PEP 701 read those alike). Others take the slow path.
    plain = (
        r'"""(?:[^"\\]|\\[\s\S]|"(?!""))*"""'
        r"|'''(?:[^'\\]|\\[\s\S]|'(?!''))*'''"
        r'|"(?:[^"\\\r\n]|\\(?:\r\n|[\s\S]))*"'
        r"|'(?:[^'\\\r\n]|\\(?:\r\n|[\s\S]))*'"
    )
    field = r"\{[^'\"{}\\\r\n#]*\}"
    fstr = (
        rf'"(?:[^"\\{{}}\r\n]|\\[^\r\n{{}}]|\{{\{{|\}}\}}|{field})*"'
        rf"|'(?:[^'\\{{}}\r\n]|\\[^\r\n{{}}]|\{{\{{|\}}\}}|{field})*'"
    )
    string = (
        rf"(?<![fF])(?<![fF][rRbB])(?:{plain})"
        rf"|(?<=[fF])(?:{fstr})|(?<=[fF][rR])(?:{fstr})"
    )
    comment = r"\#[^\r\n]*"
    newline = r"(?:\r\n?|\n)"
    bracketed = r"(?!)"
    for _ in range(_FAST_DEPTH):
        body = _atomic(rf"(?:[^'\"#\\()\[\]{{}}]+|{string}|{comment}|\\{newline}|{bracketed})*")
        bracketed = rf"[(\[{{]{body}[)\]}}]"
    code = _atomic(rf"(?:[^\r\n'\"#\\()\[\]{{}}]+|{string}|{bracketed}|\\{newline})*")
    return re.compile(rf"([ \t\f]*){code}(?:{comment})?(?:{newline}|\Z)")  # 1: indentation


_FAST = _fast_line()
_TOKEN = re.compile(
    r"""(?P<str>(?:(?<![\w])[rRbBuUfF]{1,2})?(?:'''|\"\"\"|'|"))"""
    r"|(?P<com>\#[^\r\n]*)"
    r"|(?P<open>[(\[{])"
    r"|(?P<close>[)\]}])"
    r"|(?P<nl>\r\n?|\n)"
    r"|(?P<cont>\\(?:\r\n?|\n))"
    r"|(?P<bad>\\)"
)
_PREFIXES = {"", "r", "u", "b", "br", "rb", "f", "fr", "rf"}
_STRING_END = {
    '"""': re.compile(r'(?:[^"\\]|\\[\s\S]|"(?!""))*"""'),
    "'''": re.compile(r"(?:[^'\\]|\\[\s\S]|'(?!''))*'''"),
    '"': re.compile(r'(?:[^"\\\r\n]|\\(?:\r\n|[\s\S]))*"'),
    "'": re.compile(r"(?:[^'\\\r\n]|\\(?:\r\n|[\s\S]))*'"),
}
_PAIRS = {")": "(", "]": "[", "}": "{"}


class ScanError(ValueError):
    """The text does not close (a string, a bracket): let Python's parser say where."""


_FSTRING_LITERAL = {
    quote: re.compile(
        r"\{\{|\}\}|[{}\\]|" + re.escape(quote) + ("" if len(quote) == 3 else r"|[\r\n]")
    )
    for quote in ('"""', "'''", '"', "'")
}
_FIELD = re.compile(
    r"""(?P<str>(?:(?<![\w])[rRbBuUfF]{1,2})?(?:'''|\"\"\"|'|"))"""
    r"|(?P<com>\#[^\r\n]*)"
    r"|(?P<open>[(\[{])"
    r"|(?P<close>[)\]}])"
    r"|(?P<colon>:)"
    r"|(?P<nl>\r\n?|\n)"
    r"|(?P<bad>\\)"
)
_SPEC = re.compile(r"[{}\r\n]")


_NAMED_ESCAPE = re.compile(r"N\{[^}\r\n]*\}")


class _Scan:
    """State of one slow-path scan: f-strings that only Python 3.12's grammar (PEP 701) reads."""

    def __init__(self) -> None:
        self.newer = False  # the f-string being scanned needs PEP 701
        self.depth = 0  # f-strings open around the current position
        self.newer_spans: list[tuple[int, int]] = []


def _scan_fstring(text: str, pos: int, quote: str, raw: bool, scan: _Scan) -> int:
    """End of a PEP 701 f-string whose opening quote ends at ``pos``."""
    literal = _FSTRING_LITERAL[quote]
    while True:
        m = literal.search(text, pos)
        if m is None:
            raise ScanError("unterminated f-string")
        token = m.group()
        pos = m.end()
        if token == quote:
            return pos
        if token in ("\r", "\n", "}"):
            raise ScanError("unterminated f-string")
        if token == "\\":  # escapes the next character, but never a brace (\N{...} aside)
            named = None if raw else _NAMED_ESCAPE.match(text, pos)
            if named is not None:
                pos = named.end()
            elif text.startswith("\r\n", pos):
                pos += 2
            elif pos < len(text) and text[pos] not in "{}":
                pos += 1
        elif token == "{":
            pos = _scan_field(text, pos, len(quote) == 3, scan)


def _scan_field(text: str, pos: int, triple: bool, scan: _Scan) -> int:
    """End of an f-string replacement field opened just before ``pos`` (past its ``}``)."""
    depth = 0
    while True:
        m = _FIELD.search(text, pos)
        if m is None:
            raise ScanError("unterminated f-string")
        kind = m.lastgroup
        pos = m.end()
        if kind == "str":
            start = m.start()
            pos = _scan_string(text, m, scan)
            if "\\" in text[start:pos]:
                scan.newer = True  # 3.11: no backslash in an f-string's expression part
        elif kind == "open":
            depth += 1
        elif kind == "close":
            if depth == 0:
                if m.group() != "}":
                    raise ScanError("unbalanced bracket in f-string")
                return pos
            depth -= 1
        elif kind == "colon" and depth == 0:
            return _scan_spec(text, pos, triple, scan)
        elif kind == "bad":
            raise ScanError("backslash in f-string field")
        elif kind == "com" or (kind == "nl" and not triple):
            scan.newer = True


def _scan_spec(text: str, pos: int, triple: bool, scan: _Scan) -> int:
    """A format spec after ``:`` in a field: literal text with nested fields, up to ``}``."""
    while True:
        m = _SPEC.search(text, pos)
        if m is None or m.group() in "\r\n":
            raise ScanError("unterminated format spec")
        pos = m.end()
        if m.group() == "}":
            return pos
        pos = _scan_field(text, pos, triple, scan)


def _scan_string(text: str, m: re.Match[str], scan: _Scan) -> int:
    """End of the string literal whose prefix and opening quote ``m`` matched."""
    token = m.group()
    quote = token.lstrip("rRbBuUfF")
    prefix = token[: len(token) - len(quote)].lower()
    if prefix not in _PREFIXES:
        raise ScanError("bad string prefix")
    if "f" not in prefix:
        end = _STRING_END[quote].match(text, m.end())
        if end is None:
            raise ScanError("unterminated string")
        return end.end()
    scan.depth += 1
    pos = _scan_fstring(text, m.end(), quote, "r" in prefix, scan)
    scan.depth -= 1
    old = _STRING_END[quote].match(text, m.end())  # where a 3.11 tokenizer ends it
    if old is None or old.end() != pos:
        scan.newer = True
    if scan.depth == 0:
        if scan.newer:
            scan.newer_spans.append((m.start(), pos))
        scan.newer = False
    return pos


def _slow_line(text: str, pos: int, scan: _Scan) -> int:
    """End of the logical line starting at ``pos``, token by token."""
    stack: list[str] = []
    while True:
        m = _TOKEN.search(text, pos)
        if m is None:
            if stack:
                raise ScanError("unclosed bracket")
            return len(text)
        kind = m.lastgroup
        pos = m.end()
        if kind == "nl":
            if not stack:
                return pos
        elif kind == "str":
            pos = _scan_string(text, m, scan)
        elif kind == "open":
            stack.append(m.group())
        elif kind == "close":
            if not stack or stack.pop() != _PAIRS[m.group()]:
                raise ScanError("unbalanced bracket")
        elif kind == "bad":
            raise ScanError("stray backslash")


class Lines:
    """The logical lines of a text: ``starts[i]`` its first offset, ``ends[i]`` one past its
    line break; ``code[i]`` the offset of its first character after indentation (a blank or
    comment-only line has a line break, ``#`` or the end of the text there). (A plain class:
    ``@dataclass`` compiles its methods at every start and imports ``dataclasses``; nothing
    compares or prints one.)"""

    __slots__ = ("code", "ends", "newer_fstrings", "starts", "text")

    def __init__(
        self,
        text: str,
        starts: list[int],
        ends: list[int],
        code: list[int],
        newer_fstrings: list[tuple[int, int]],  # offsets of f-strings only Python 3.12+ parses
    ):
        self.text, self.starts, self.ends, self.code = text, starts, ends, code
        self.newer_fstrings = newer_fstrings

    def is_code(self, i: int) -> bool:
        c = self.code[i]
        return c < len(self.text) and self.text[c] not in "#\r\n"

    def width(self, i: int) -> int:
        """Indentation as Python's tokenizer measures it (tabs to multiples of 8, form feed
        resets)."""
        col = 0
        for ch in self.text[self.starts[i] : self.code[i]]:
            if ch == " ":
                col += 1
            elif ch == "\t":
                col = (col // 8 + 1) * 8
            else:  # form feed
                col = 0
        return col


_INDENT = re.compile(r"[ \t\f]*")


def logical_lines(text: str) -> Lines:
    """Split ``text`` into logical lines; raises ScanError where Python would not tokenize."""
    starts: list[int] = []
    ends: list[int] = []
    code: list[int] = []
    n = len(text)
    pos = 0
    fast, indent = _FAST.match, _INDENT.match
    scan = _Scan()
    while pos < n:
        m = fast(text, pos)
        end = m.end() if m is not None else pos
        if end == pos:
            end = _slow_line(text, pos, scan)
            code.append(indent(text, pos).end())
        else:
            code.append(m.end(1))  # the same greedy indentation
        starts.append(pos)
        ends.append(end)
        pos = end
    return Lines(text, starts, ends, code, scan.newer_spans)
