"""The reduced text: only the statements a site can involve, each at its own rows and columns.

Parsing a whole module costs ~0.6 s/MB even with Python's own parser, and visiting all of it costs
more; a training script's PEFT config depends on a few dozen statements. Starting from the
statements that name a site (``LoraConfig``, ``get_peft_model``, trainers, ``add_argument``,
dataclass fields) and every import, the reducer keeps, by compiled-regex searches over the text:

- every statement that can *bind* a name those statements read through a call or attribute (the
  import or rebinding that gives ``os`` or ``AutoModelForCausalLM`` its qualified name), and
- every statement that *mentions* a name they read as a value (``TARGETS``, ``model``): its
  bindings, and all its uses, which decide whether a fix may edit a shared binding;

and repeats with the names the newly kept assignments read, until nothing new is kept. Kept lines
bring their enclosing headers (``def``, ``class``, ``if``, ``try`` with its clauses, decorators); a
header whose whole body was dropped gets ``pass`` on its first body row. Every other logical line
is replaced by its line breaks only, so what remains sits at exactly the rows and columns it has in
the file. The analysis checks afterwards that every name it resolved was covered (``Reduction.
covers``) and widens the reduction if not; a reduced text that does not parse falls back to the
whole text.
"""

from __future__ import annotations

import keyword
import re
import sys
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field

from lorlint.frontends.names import PEFT_CONFIGS, TRAINERS
from lorlint.frontends.pyscan import Lines
from lorlint.frontends.setup import ROOT_WORDS

# Words whose statements are sites or feed one wholesale (argparse defaults, dataclass fields).
ROOT_NAMES = frozenset(
    PEFT_CONFIGS
    | TRAINERS
    | {"get_peft_model", "inject_adapter_in_model", "PeftModel", "add_argument", "dataclass"}
    | ROOT_WORDS
)
_CLAUSES = ("elif", "else", "except", "finally")
_KEYWORDS = frozenset(keyword.kwlist) | {"match", "case", "type", "_"}
_IMPORTS = ("import", "from")
_AFTER_NAME = re.compile(r"\s*([.(\[]?)")
_DEF = re.compile(r"\b(?:def|class)[ \t]+$")
_ALIAS = re.compile(r"([^\W\d][\w]*)\s+as\s+([^\W\d]\w*)")
_WORD = re.compile(r"(?<![.\w])([^\W\d]\w*)(\s*[.(]?)")
_STRING = re.compile(
    r"(?<![fF])(?<![fF][rRbB])(?:[rRbBuU]{0,2})"
    r"""(?:\"\"\"[\s\S]*?\"\"\"|'''[\s\S]*?'''|"(?:[^"\\\r\n]|\\[\s\S])*"|'(?:[^'\\\r\n]|\\[\s\S])*')"""
)
_INNERMOST = re.compile(r"\([^()\[\]{}]*\)|\[[^()\[\]{}]*\]|\{[^()\[\]{}]*\}")
_ASSIGN = re.compile(r"(?<![=!<>:+\-*/%&|^@~])=(?!=)")
_FIRST_WORD = re.compile(r"@|[^\W\d]\w*")
_NAME_READ = re.compile(r"(?<![.\w])[^\W\d]\w*")
_NOT_BREAK = re.compile(r"[^\r\n]+")
_ROW = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


@dataclass
class Reduction:
    """What a reduced text holds: the kept logical lines and the names they were kept for."""

    text: str
    values: set[str] = field(default_factory=set)  # every mention kept
    bindings: set[str] = field(default_factory=set)  # every possible binding kept
    full: bool = False  # the whole text (no reduction)
    extra_reads: dict[str, int] = field(default_factory=dict)  # reads in neutralized f-strings

    def covers(self, value_names: set[str], bound_names: set[str]) -> bool:
        if self.full:
            return True
        return value_names <= self.values and bound_names <= self.values | self.bindings


class Reducer:
    """Grows a set of kept logical lines from the roots; ``text()`` renders it."""

    def __init__(self, lines: Lines):
        self.lines = lines
        self.text = lines.text
        self.kept: set[int] = set()
        self.values: set[str] = set()
        self.bindings: set[str] = set()
        self._widths: dict[int, int] = {}
        self._parents: dict[int, int | None] = {}
        self._roots_set: set[int] = set()
        self._root_names = set(ROOT_NAMES)

    # --- positions ------------------------------------------------------------------------------
    def _line_at(self, offset: int) -> int:
        return bisect_right(self.lines.starts, offset) - 1

    def _segment(self, i: int) -> str:
        return self.text[self.lines.code[i] : self.lines.ends[i]]

    def _width(self, i: int) -> int:
        w = self._widths.get(i)
        if w is None:
            w = self._widths[i] = self.lines.width(i)
        return w

    def _word(self, i: int) -> str:
        m = _FIRST_WORD.match(self.text, self.lines.code[i])
        return m.group() if m else ""

    def _next_code(self, i: int) -> int | None:
        n = len(self.lines.starts)
        i += 1
        while i < n and not self.lines.is_code(i):
            i += 1
        return i if i < n else None

    def _prev_code(self, i: int) -> int | None:
        i -= 1
        while i >= 0 and not self.lines.is_code(i):
            i -= 1
        return i if i >= 0 else None

    def _body(self, i: int) -> int | None:
        """The first line of the indented block that line ``i`` opens, if it opens one."""
        j = self._next_code(i)
        return j if j is not None and self._width(j) > self._width(i) else None

    # --- growing ----------------------------------------------------------------------------
    def _occurrences(self, name: str, kind: str) -> Iterator[int]:
        """Offsets of ``name`` as a whole word: anywhere (``root``), not as an attribute
        (``value``), or where it can be bound (``binding``: not followed by ``.``, ``(`` or
        ``[`` unless after ``def`` / ``class``). ``str.find`` runs at memchr speed; a regex
        starting with a look-behind would try every position."""
        text = self.text
        size = len(name)
        i = text.find(name)
        while i >= 0:
            before = text[i - 1] if i else " "
            after = text[i + size : i + size + 1]
            if not (before.isalnum() or before == "_" or after.isalnum() or after == "_") and (
                kind == "root"
                or (before != "." and (kind == "value" or self._may_bind(i, i + size)))
            ):
                yield i
            i = text.find(name, i + size)

    def _may_bind(self, start: int, end: int) -> bool:
        text = self.text
        return _AFTER_NAME.match(text, end).group(1) == "" or bool(
            _DEF.search(text, max(0, start - 12), start)
        )

    def _lines_of(self, names, kind: str) -> list[int]:
        """The code lines holding an occurrence of any of ``names``."""
        found = set()
        for name in names:
            for offset in self._occurrences(name, kind):
                found.add(self._line_at(offset))
        return sorted(i for i in found if self.lines.is_code(i))

    def grow(self, values: set[str] = frozenset(), bindings: set[str] = frozenset()) -> None:
        """Keep the roots (first call) and everything the given names need, to a fixed point."""
        new: list[int] = []
        if not self.kept and not self.values:
            new = self._roots()
        values, bindings = set(values) - self.values, set(bindings) - self.values - self.bindings
        while new or values or bindings:
            self.values |= values
            self.bindings |= bindings
            new.extend(self._lines_of(values, "value"))
            new.extend(self._lines_of(bindings, "binding"))
            values, bindings = set(), set()
            for i in new:
                if i in self.kept:
                    continue
                self.kept.add(i)
                feeds, reads, calls = self._analyse(i)
                if feeds:
                    values |= reads - self.values
                    bindings |= calls - self.values - self.bindings
            new = []

    def _roots(self) -> list[int]:
        """Statements naming a site, imports (and their aliases of root names), dataclass bodies."""
        imports = [i for i in self._lines_of(["import"], "root") if self._word(i) in _IMPORTS]
        for i in imports:
            for name, alias in _ALIAS.findall(self._segment(i)):
                if name in ROOT_NAMES:
                    self._root_names.add(alias)
        self.kept.update(imports)
        roots = self._lines_of(self._root_names, "root")
        for i in list(roots):
            if self._word(i) == "@" and "dataclass" in self._segment(i):
                roots.extend(self._dataclass_fields(i))
        self._roots_set = set(roots)
        return roots

    def _dataclass_fields(self, decorator: int) -> list[int]:
        i = decorator
        while i is not None and self._word(i) == "@":
            i = self._next_code(i)
        if i is None or self._word(i) != "class":
            return []
        body = self._body(i)
        if body is None:
            return []
        width, fields = self._width(body), []
        j: int | None = body
        while j is not None and self._width(j) >= width:
            if self._width(j) == width and self._word(j) != "@" and self._body(j) is None:
                fields.append(j)
            j = self._next_code(j)
        return fields

    def _analyse(self, i: int) -> tuple[bool, set[str], set[str]]:
        """(does this line feed a value, names it reads as values, names it reads as callees).

        A line feeds a value when it is a root or assigns one of the names being followed."""
        code = _STRING.sub('""', self._segment(i))
        reads: set[str] = set()
        calls: set[str] = set()
        for word, after in _WORD.findall(code):
            if word in _KEYWORDS:
                continue
            (calls if after.strip() else reads).add(word)
        if i in self._roots_set:
            return True, reads, calls
        flat = code
        while True:
            inner = _INNERMOST.sub("", flat)
            if inner == flat:
                break
            flat = inner
        pieces = _ASSIGN.split(flat)
        if len(pieces) < 2:
            return False, reads, calls
        targets = {w for w, _ in _WORD.findall(" ".join(pieces[:-1]))}
        return bool(targets & self.values), reads, calls

    # --- rendering --------------------------------------------------------------------------
    def _close(self) -> tuple[list[int], set[int]]:
        """The kept lines with their headers, clauses and decorators; headers needing ``pass``."""
        keep = set(self.kept)
        work = list(keep)
        while work:
            i = work.pop()
            for j in self._context(i):
                if j not in keep:
                    keep.add(j)
                    work.append(j)
        ordered = sorted(keep)
        empty = set()
        for i in ordered:
            body = self._body(i)
            if body is not None and body not in keep:
                # kept headers whose every body line was dropped
                k = bisect_right(ordered, i)
                nxt = ordered[k] if k < len(ordered) else None
                if nxt is None or self._width(nxt) <= self._width(i):
                    empty.add(i)
        return ordered, empty

    def _parent(self, i: int) -> int | None:
        """The header of the block line ``i`` sits in (None at the top level)."""
        width = self._width(i)
        if width == 0:
            return None
        j = self._prev_code(i)
        while j is not None and self._width(j) >= width:
            # a line as deep or deeper shares or is inside our block: jump to its header
            j = self._parents[j] if j in self._parents else self._prev_code(j)
        self._parents[i] = j
        return j

    def _context(self, i: int) -> list[int]:
        """Lines that must stay for line ``i`` to parse as it does in the file."""
        out = []
        parent = self._parent(i)
        if parent is not None:
            out.append(parent)
        width, word = self._width(i), self._word(i)
        if word in _CLAUSES:  # back to the statement's first clause
            j = self._prev_code(i)
            while j is not None and self._width(j) >= width:
                if self._width(j) == width:
                    out.append(j)
                    if self._word(j) not in _CLAUSES:
                        break
                j = self._prev_code(j)
        if word == "try":  # a try needs its except/finally clauses
            j = self._next_code(i)
            while j is not None and self._width(j) >= width:
                if self._width(j) == width:
                    if self._word(j) not in _CLAUSES:
                        break
                    out.append(j)
                j = self._next_code(j)
        if word in ("def", "class", "async"):
            j = self._prev_code(i)
            while j is not None and self._width(j) == width and self._word(j) == "@":
                out.append(j)
                j = self._prev_code(j)
        if word == "@":  # a decorator needs what it decorates
            j = self._next_code(i)
            while j is not None and self._word(j) == "@":
                out.append(j)
                j = self._next_code(j)
            if j is not None:
                out.append(j)
        return out

    def render(self, full: bool = False) -> Reduction:
        """The reduced text (``full``: every line, only f-strings neutralized)."""
        if full:
            ordered, empty = list(range(len(self.lines.starts))), set()
        else:
            ordered, empty = self._close()
        text, lines = self.text, self.lines
        newer = _newer_fstrings(lines)
        extra: dict[str, int] = {}
        chunks: list[str] = []
        pos = 0
        for i in ordered:
            start, end = lines.starts[i], lines.ends[i]
            chunks.append(_breaks(text[pos:start]))
            segment = text[start:end]
            if newer:
                segment = _neutralize(segment, start, newer, extra)
            chunks.append(segment)
            pos = end
            if i in empty:
                body = self._body(i)
                assert body is not None
                chunks.append(_breaks(text[pos : lines.starts[body]]))
                indent = text[lines.starts[body] : lines.code[body]]
                chunks.append(indent + "pass" + _breaks(text[lines.code[body] : lines.ends[body]]))
                pos = lines.ends[body]
        return Reduction("".join(chunks), set(self.values), set(self.bindings), full, extra)


def _newer_fstrings(lines: Lines) -> list[tuple[int, int]]:
    """The f-strings this Python cannot parse (PEP 701 came with 3.12)."""
    return lines.newer_fstrings if sys.version_info < (3, 12) else []


def _neutralize(segment: str, offset: int, spans, extra: dict[str, int]) -> str:
    """Each f-string of ``spans`` inside ``segment`` becomes one of unknown value, padded to its
    rows and columns; the names it reads count as reads (``extra``), so a binding used there is
    never taken as used once."""
    end = offset + len(segment)
    inside = [(s - offset, e - offset) for s, e in spans if offset <= s and e <= end]
    for start, stop in reversed(inside):
        original = segment[start:stop]
        for name in _NAME_READ.findall(original):
            extra[name] = extra.get(name, 0) + 1
        filler = _unknown_filler(original)
        if filler is None:
            continue  # no room: Python reports the f-string
        segment = segment[:start] + filler + segment[stop:]
    return segment


def _unknown_filler(original: str) -> str | None:
    """An f-string of unknown value (``f"{...}"``) laid over ``original``'s rows and columns,
    line breaks kept; it still concatenates with the strings beside it."""
    texts = _ROW.findall(original)
    if len(texts) == 1:
        return 'f"{...}' + " " * (len(original) - 8) + '"' if len(original) >= 8 else None
    rows = [list(re.sub(r"[^\r\n]", " ", row)) for row in texts]
    widths = [len(row.rstrip("\r\n")) for row in texts]
    if widths[0] < 4 or widths[-1] < 3:
        return None
    rows[0][:4] = 'f"""'
    rows[-1][widths[-1] - 3 : widths[-1]] = '"""'
    for k, row in enumerate(rows):
        free_from = 4 if k == 0 else 0
        free_to = widths[k] - (3 if k == len(rows) - 1 else 0)
        if free_to - free_from >= 5:
            row[free_from : free_from + 5] = "{...}"
            return "".join("".join(r) for r in rows)
    return None


def _breaks(text: str) -> str:
    """Only the line breaks of ``text``, as they are (a ``\\r`` next to a ``\\n`` must not
    pair up into one break where the file had two)."""
    return _NOT_BREAK.sub("", text)
