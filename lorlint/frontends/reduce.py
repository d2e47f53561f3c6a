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
whole text. The first reduction also keeps what the analysis predictably asks for (``Reducer.
_anticipated_lines``), so that most files are parsed once.
"""

from __future__ import annotations

import re
import sys
from bisect import bisect_right
from collections.abc import Iterator

from lorlint.frontends.handoff import FLOW_WORDS, ROOT_ANCHORS
from lorlint.frontends.lineshape import FIRST_WORD, KEYWORDS, WORD, Shape, reads
from lorlint.frontends.names import PEFT_CONFIGS, TRAINERS
from lorlint.frontends.needs import ALL, Needs
from lorlint.frontends.pyscan import Lines
from lorlint.frontends.setup import ROOT_WORDS as SETUP_WORDS
from lorlint.textpos import line_starts, split_lines

# Words whose statements are sites or apply one.
ROOT_NAMES = frozenset(
    PEFT_CONFIGS
    | TRAINERS
    | {"get_peft_model", "inject_adapter_in_model", "PeftModel"}
    | SETUP_WORDS
)
_CLAUSES = ("elif", "else", "except", "finally")
_IMPORTS = ("import", "from")
_USE = re.compile(r"[ \t]*[.(\[]")
_FLOW_LINE = re.compile("|".join(FLOW_WORDS))
_ANCHORED_ROOTS = frozenset(n for n in ROOT_NAMES if any(a in n for a in ROOT_ANCHORS))
_ATTRIBUTE = re.compile(r"\.\s*([^\W\d]\w*)")
_STAR = re.compile(r"\bimport\s*\*")
_NOT_NAMES = KEYWORDS | {""}  # what the regexes below find that is no name (or no group)
_MEMBER = re.compile(r"(?<![\w.])self\s*\.\s*([^\W\d]\w*)")
# The names whose calls make a model's flow: receivers of its methods, the model a wrapper or a
# trainer is given (``lorlint/frontends/flow.py``).
_FLOW_NAMES = re.compile(
    r"(?<!\w)([^\W\d]\w*)\s*\.\s*(?:gradient_checkpointing_enable|enable_input_require_grads"
    r"|merge_and_unload|parameters|named_parameters|load_adapter|set_adapter|enable_adapters"
    r"|to|cuda)\b"
    r"|(?:prepare_model_for_kbit_training|prepare_model_for_int8_training|Trainer)\s*\(\s*"
    r"(?:model\s*=\s*)?([^\W\d]\w*)\s*[,)]"
    r"|(?<![\w.])model\s*=\s*([^\W\d]\w*)\s*[,)]"
)
_RETURN = re.compile(r"(?<![\w.])return(?!\w)")
_RETURNED = re.compile(r"(?<![\w.])return\s*\(?\s*([^\W\d]\w*)")
_DEF = re.compile(r"(?:async\s+)?def\s+([^\W\d]\w*)")
# A trainer's arguments: ``args=training_args`` or second positional (``Trainer(model, args,``).
_TRAINER_ARGS = re.compile(
    r"(?<![\w.])args\s*=\s*([^\W\d]\w*)\s*[,)]"
    r"|Trainer\s*\(\s*[^\W\d][\w.]*\s*,\s*([^\W\d]\w*)\s*[,)]"
)
_AS = re.compile(r"\sas\s")
_ALIAS = re.compile(r"(?<!\w)([^\W\d]\w*)\s+as\s+([^\W\d]\w*)")
_NOT_BREAK = re.compile(r"[^\r\n]+")


class Reduction:
    """A reduced text and what it covers (``full``: the whole text, it covers everything).
    (A plain class: ``@dataclass`` compiles its methods at every start and imports
    ``dataclasses``; nothing compares or prints one.)"""

    __slots__ = ("covered", "extra_reads", "text")

    def __init__(self, text: str, covered: Needs, extra_reads: dict[str, int] | None = None):
        self.text, self.covered = text, covered
        self.extra_reads = {} if extra_reads is None else extra_reads  # in neutralized f-strings


class Reducer:
    """Grows a set of kept logical lines from the roots; ``text()`` renders it."""

    def __init__(self, lines: Lines, anticipate: bool = True):
        self.lines = lines
        self.anticipate = anticipate  # keep what the first analysis predictably asks for
        self.text = lines.text
        self.kept: set[int] = set()
        self._fed: set[int] = set()  # kept lines whose reads are followed
        self.covered = Needs()
        self._widths: dict[int, int] = {}
        self._parents: dict[int, int | None] = {}
        self._shapes: dict[int, Shape] = {}
        self._roots_set: set[int] = set()
        self._root_names = set(ROOT_NAMES)
        self._anticipated = Needs()  # what the first analysis predictably asks for
        self._row_starts: list[int] | None = None  # physical rows' offsets, when asked for

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
        m = FIRST_WORD.match(self.text, self.lines.code[i])
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
        """Offsets of ``name`` as a whole word, anywhere (``root``) or not as an attribute.
        ``str.find`` runs at memchr speed; a regex starting with a look-behind would try every
        position."""
        text = self.text
        size = len(name)
        i = text.find(name)
        while i >= 0:
            before = text[i - 1] if i else " "
            after = text[i + size : i + size + 1]
            if not (before.isalnum() or before == "_" or after.isalnum() or after == "_") and (
                kind == "root" or before != "."
            ):
                yield i
            i = text.find(name, i + size)

    def _anchored_roots(self) -> Iterator[int]:
        """Offsets of the names of ``_ANCHORED_ROOTS`` as whole words: the word around each
        anchor found is looked up."""
        text = self.text
        n = len(text)
        for anchor in ROOT_ANCHORS:
            i = text.find(anchor)
            while i >= 0:
                start, end = i, i + len(anchor)
                while start and (text[start - 1].isalnum() or text[start - 1] == "_"):
                    start -= 1
                while end < n and (text[end].isalnum() or text[end] == "_"):
                    end += 1
                if text[start:end] in _ANCHORED_ROOTS:
                    yield start
                i = text.find(anchor, end)

    def _code_lines(self, offsets) -> list[int]:
        """The code lines holding these offsets, in order."""
        return sorted(i for i in set(map(self._line_at, offsets)) if self.lines.is_code(i))

    def _lines_of(self, names, kind: str) -> list[int]:
        """The code lines holding an occurrence of any of ``names`` (``binding``: only where
        the line can bind it)."""
        text, starts, code = self.text, self.lines.starts, self.lines.code
        n = len(text)
        found = set()
        for name in names:  # ``_occurrences`` inlined: this is the reducer's hottest loop
            size = len(name)
            offset = text.find(name)
            while offset >= 0:
                end = offset + size
                before = text[offset - 1] if offset else " "
                after = text[end : end + 1]
                if not (before.isalnum() or before == "_" or after.isalnum() or after == "_") and (
                    kind == "root" or before != "."
                ):
                    i = bisect_right(starts, offset) - 1
                    if (
                        i not in found
                        and code[i] < n
                        and text[code[i]] not in "#\r\n"  # ``Lines.is_code``
                        and (kind != "binding" or self._binds_at(i, offset, size))
                    ):
                        found.add(i)
                offset = text.find(name, end)
        return sorted(found)

    def _binds_at(self, i: int, offset: int, size: int) -> bool:
        # ``name.x``, ``name(...)``, ``name[...]`` never bind ``name`` (``def name(`` does):
        # decided without shaping the line, which most uses are
        if _USE.match(self.text, offset + size) and self._word(i) not in ("def", "class"):
            return False
        return self._shape(i).binds_at(offset)

    def _shape(self, i: int) -> Shape:
        shape = self._shapes.get(i)
        if shape is None:
            shape = self._shapes[i] = Shape.of(self.text, self.lines.code[i], self.lines.ends[i])
        return shape

    def grow(self, needs: Needs | None = None) -> None:
        """Keep the roots (first call) and everything ``needs`` asks for, to a fixed point."""
        covered = self.covered
        needs = needs or Needs()
        new: list[int] = []
        values, bindings = needs.values, needs.bindings
        if not self.kept:
            new = self._roots()
            values = values | self._anticipated.values
            bindings = bindings | self._anticipated.bindings
        for kind, lines_of in (
            ("attributes", self._option_lines),  # ``args.x``: argparse / dataclass defaults
            ("functions", self._function_bodies),
            ("returns", self._return_lines),
            ("members", self._member_assignments),  # ``self.x = ...`` in the class's methods
            ("flows", self._flow_calls),  # calls on a name holding the model
            ("rows", self._row_lines),  # the statements between two calls
        ):
            done = getattr(covered, kind)
            for name in getattr(needs, kind) - done:
                done.add(name)
                new.extend(lines_of(name))
        values = values - covered.values
        bindings = bindings - covered.values - covered.bindings
        while new or values or bindings:
            covered.values |= values
            covered.bindings |= bindings
            new.extend(self._lines_of(values, "value"))
            new.extend(self._lines_of(bindings, "binding"))
            values, bindings = set(), set()
            more: list[int] = []
            for i in new:
                self.kept.add(i)
                names_read, literal_targets = self._analyse(i)
                values |= literal_targets - covered.values
                bindings |= names_read - covered.values - covered.bindings
                if self.anticipate and literal_targets and names_read:  # ``x = args.x``: its option
                    for attribute in _ATTRIBUTE.findall(self._segment(i)):
                        if attribute not in covered.attributes:
                            covered.attributes.add(attribute)
                            more.extend(self._option_lines(attribute))
            new = more

    def _function_bodies(self, name: str) -> list[int]:
        """Every line of the functions named ``name`` (a call's result is what they return)."""
        out = []
        for i in self._lines_of([name], "binding"):
            if self._word(i) not in ("def", "async"):
                continue
            out.append(i)
            width = self._width(i)
            j = self._next_code(i)
            while j is not None and self._width(j) > width:
                out.append(j)
                j = self._next_code(j)
        return out

    def _row_lines(self, row: int) -> list[int]:
        """The logical line holding physical row ``row`` (1-based), when it is code."""
        if self._row_starts is None:
            self._row_starts = line_starts(self.text)
        if not 0 < row < len(self._row_starts):
            return []
        i = self._line_at(self._row_starts[row - 1])
        return [i] if self.lines.is_code(i) else []

    def _return_lines(self, name: str) -> list[int]:
        """The lines of the functions named ``name`` that may hold a ``return`` (``if x: return
        y`` too)."""
        return [
            i
            for i in self._function_bodies(name)
            if "return" in self._segment(i) and _RETURN.search(self._segment(i))
        ]

    def _flow_calls(self, name: str) -> list[int]:
        """Lines that may call something on a model held by ``name`` (``model.merge_and_unload()``,
        ``SFTTrainer(model=model)``, ``AdamW(model.parameters())``); what they read is not
        followed."""
        found = {self._line_at(offset) for offset in self._occurrences(name, "value")}
        return [
            i
            for i in sorted(found)
            if self.lines.is_code(i) and _FLOW_LINE.search(self._segment(i)) is not None
        ]

    def _member_assignments(self, name: str) -> list[int]:
        """Lines assigning ``<something>.name = ...`` (``self.model = ...``); what they assign
        is followed."""
        out = []
        for offset in self._occurrences(name, "root"):
            if offset == 0 or self.text[offset - 1] != ".":
                continue
            i = self._line_at(offset)
            if self.lines.is_code(i) and offset - self.lines.code[i] < self._shape(i).last_assign:
                out.append(i)
                self._roots_set.add(i)
        return out

    def _roots(self) -> list[int]:
        """Statements naming a site or applying one (also as an import alias: ``LoraConfig as
        LC``), and star imports; with what the first analysis predictably asks of them, so that
        most files are parsed once (``_anticipated_lines``)."""
        imports = [i for i in self._lines_of(["import"], "root") if self._word(i) in _IMPORTS]
        for i in imports:
            segment = self._segment(i)
            for name, alias in _ALIAS.findall(segment) if _AS.search(segment) else ():
                if name in ROOT_NAMES:
                    self._root_names.add(alias)
            if "*" in segment and _STAR.search(segment):
                self.kept.add(i)
        roots = self._code_lines(self._anchored_roots())
        aliases = self._root_names - _ANCHORED_ROOTS
        if aliases:
            roots = sorted(set(roots).union(self._lines_of(aliases, "root")))
        # the loads: ``from_pretrained`` lines feed the model a site is linked to
        roots += self._lines_of(("from_pretrained", "from_config"), "root")
        return self._anticipated_lines(roots)

    def _anticipated_lines(self, roots: list[int]) -> list[int]:
        """The roots and the lines the analysis of their sites predictably reads, each kind
        covered from the start (``self._anticipated``: the names it asks for):

        - every line a model's flow can be made of (so any name's flow is covered);
        - the argparse options / dataclass fields of the ``args.x`` that the roots read;

        and with ``anticipate`` (so that most files are parsed once):

        - the names whose calls make a flow (``model.merge_and_unload()``, ``get_peft_model(
          model, ...``) and a trainer's arguments (its step reads their checkpointing: every use);
        - of a function holding a root: every use of its name (its calls) and of the parameters
          the root reads (what the calls pass), its ``def`` line (the defaults), its ``return``
          lines (its result may be the model, and the flow then goes on in its caller) and the
          first name each gives;
        - the assignments to the ``self.x`` that the roots read."""
        self._roots_set.update(roots)
        functions = self._functions_around(roots) if self.anticipate else {}
        roots += sorted(functions)
        self._roots_set.update(functions)
        flows = self._code_lines(  # substrings: ``Seq2SeqTrainer`` holds ``Trainer``
            offset for word in FLOW_WORDS for offset in _finds(self.text, word)
        )
        self.covered.flows.add(ALL)
        read = list(roots)
        for i in read:
            for attribute in _ATTRIBUTE.findall(self._segment(i)):
                if attribute not in self.covered.attributes:
                    self.covered.attributes.add(attribute)
                    roots.extend(self._option_lines(attribute))
        if not self.anticipate:
            return roots + flows
        for i in flows:
            segment = self._segment(i)
            for found in _FLOW_NAMES.findall(segment):
                self._anticipated.bindings.update(found)
            if "Trainer" in segment:
                for found in _TRAINER_ARGS.findall(segment):
                    self._anticipated.values.update(found)
        returns = []
        for name in sorted(set(functions.values())):
            self.covered.returns.add(name)
            returns += self._return_lines(name)
        for i in returns:
            self._anticipated.bindings.update(_RETURNED.findall(self._segment(i)))
        for i in read:
            segment = self._segment(i)
            for member in _MEMBER.findall(segment) if "self" in segment else ():
                if member not in self.covered.members:
                    self.covered.members.add(member)
                    roots.extend(self._member_assignments(member))
        self._anticipated.values -= _NOT_NAMES
        self._anticipated.bindings -= _NOT_NAMES
        return roots + flows + returns

    def _function_of(self, i: int) -> tuple[int, str] | None:
        """The ``def`` line of the innermost function holding line ``i``, and its name."""
        j = self._parent(i)
        while j is not None:
            header = _DEF.match(self.text, self.lines.code[j])
            if header is not None:
                return j, header.group(1)
            j = self._parent(j)
        return None

    def _functions_around(self, roots: list[int]) -> dict[int, str]:
        """The ``def`` lines of the functions holding a root, with their names; the names and
        the parameters the roots read go into ``self._anticipated.values``."""
        headers: dict[int, set[str]] = {}
        names: dict[int, str] = {}
        for i in roots:
            function = self._function_of(i)
            names_read = None
            while function is not None:
                j, names[j] = function
                header = headers.get(j)
                if header is None:
                    header = headers[j] = set(WORD.findall(self._segment(j)))
                    self._anticipated.values.add(names[j])
                if names_read is None:
                    names_read = reads(self._segment(i))
                self._anticipated.values.update(names_read & header)
                function = self._function_of(j)
        return names

    def _option_lines(self, attribute: str) -> list[int]:
        """Lines that can define ``args.<attribute>``: argparse options (``--lora-r``,
        ``dest="lora_r"``) and dataclass fields (``lora_r: int = 8``), with their classes."""
        found = set(self._lines_of([attribute], "value"))
        dashed = attribute.replace("_", "-")
        if dashed != attribute:
            found.update(self._lines_of([dashed], "root"))
        options = []
        for i in found:
            shape = self._shape(i)
            if "add_argument" in self._segment(i) or shape.annotated or shape.last_assign >= 0:
                options.append(i)
                self._roots_set.add(i)
        return sorted(found)

    def _analyse(self, i: int) -> tuple[set[str], set[str]]:
        """What a kept line brings: (the names it reads, if it feeds a value and was not
        analysed so before; the names it assigns a literal-looking value to, whose every use
        must be kept too, of those being followed).

        A line feeds a value when it is a root or assigns one of the names being followed. A line
        is analysed again each time a search finds it: a name it assigns may be followed since."""
        shape = self._shape(i)
        values, bindings = self.covered.values, self.covered.bindings  # large: not unioned
        followed = {name for name in shape.targets() if name in values or name in bindings}
        if i not in self._roots_set and not followed:
            return set(), set()
        literal = followed if shape.literal_value() else set()
        if i in self._fed:
            return set(), literal
        self._fed.add(i)
        return reads(self._segment(i)), literal

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
        newer = newer_fstrings(lines)
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
        return Reduction("".join(chunks), self.covered.copy(), extra)


def newer_fstrings(lines: Lines) -> list[tuple[int, int]]:
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
        for name in WORD.findall(original):
            extra[name] = extra.get(name, 0) + 1
        filler = _unknown_filler(original)
        if filler is None:
            continue  # no room: Python reports the f-string
        segment = segment[:start] + filler + segment[stop:]
    return segment


def _unknown_filler(original: str) -> str | None:
    """An f-string of unknown value (``f"{...}"``) laid over ``original``'s rows and columns,
    line breaks kept; it still concatenates with the strings beside it."""
    texts = split_lines(original, keepends=True)
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


def _finds(text: str, word: str) -> Iterator[int]:
    """Offsets of ``word`` in ``text``, as a substring (``str.find``: at memchr speed)."""
    i = text.find(word)
    while i >= 0:
        yield i
        i = text.find(word, i + len(word))


def _breaks(text: str) -> str:
    """Only the line breaks of ``text``, as they are (a ``\\r`` next to a ``\\n`` must not
    pair up into one break where the file had two)."""
    if "\r" not in text:
        return "\n" * text.count("\n")
    return _NOT_BREAK.sub("", text)
