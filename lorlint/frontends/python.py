"""Python front end: the stdlib ``ast`` of the statements that matter turns a module into sites.

Finds PEFT config calls (``LoraConfig`` and its siblings, however imported), Unsloth's
``get_peft_model``, and links each to the base model through ``get_peft_model`` / TRL trainer calls
back to the ``from_pretrained`` that produced the model.

Speed: ``pyscan`` finds the logical lines at C speed, ``reduce`` keeps the statements a site can
involve, and only that reduced text is parsed (rows and columns are the file's). The analysis
records every name it resolved; if the reduction did not keep all the statements such a name
depends on, it is widened and the analysis runs again, so the result is the one a parse of the
whole file gives. A small module, or a big one dense in what the reduction starts from
(``handoff.analysed_whole``), is parsed and analysed whole: there that costs less than the
reduction's searches (a notebook's tree may come from its cells' check). libcst is not imported
here: it stays the fixer's tool (``lorlint.fixes``).
"""

from __future__ import annotations

import ast
import gc
import re
from bisect import bisect_right
from collections.abc import Callable

from lorlint.frontends import handoff
from lorlint.frontends.flow import model_flow
from lorlint.frontends.follow import Follower
from lorlint.frontends.names import PEFT_CONFIGS, TRAINERS, UNSLOTH_CLASSES
from lorlint.frontends.needs import Needs
from lorlint.frontends.reaching import dominates, kills, path_to
from lorlint.frontends.scopes import Binding, Scopes
from lorlint.frontends.setup import arguments, is_adapter_load, load_facts, setup_sites
from lorlint.frontends.siblings import Siblings
from lorlint.frontends.values import Evaluator
from lorlint.site import UNKNOWN, Site, Span, Step, Value
from lorlint.textpos import line_starts

APPLIERS = {
    "peft.get_peft_model": ("get_peft_model", 0, 1, "model", "peft_config"),
    "peft.inject_adapter_in_model": ("inject_adapter_in_model", 1, 0, "model", "peft_config"),
    "peft.PeftModel": ("PeftModel", 0, 1, "model", "peft_config"),
}
# Auto class (or concrete class suffix) → lorlint task.
LOADER_TASKS = [
    ("ForCausalLM", "causal-lm"),
    ("LMHeadModel", "causal-lm"),
    ("ForSeq2SeqLM", "seq2seq-lm"),
    ("ForConditionalGeneration", None),  # T5/BART → seq2seq, VLMs → image-text-to-text: by model
    ("ForSequenceClassification", "seq-cls"),
    ("ForTokenClassification", "token-cls"),
    ("ForQuestionAnswering", "question-answering"),
    ("ForMaskedLM", "masked-lm"),
    ("ForImageTextToText", "image-text-to-text"),
    ("ForVision2Seq", "image-text-to-text"),
    ("AutoModel", "base"),
]
CONCRETE_CLASS = re.compile(r"[A-Z]\w*(Model|LMHeadModel|For\w+)")
MODEL_COMMENT = re.compile(r"#[^\S\r\n]*lorlint:[^\S\r\n]*model[^\S\r\n]*=[^\S\r\n]*(\S+)")
# The modules whose calls make sites: every name test of ``PythonFile.sites`` (configs, appliers,
# trainers, loads, quantization configs, training arguments, adapters) starts with one of them.
SITE_MODULES = frozenset({"peft", "unsloth", "trl", "transformers"})
MAX_ROUNDS = 4  # widenings of a reduction before parsing the whole text instead


class PythonSyntaxError(ValueError):
    """The file does not parse; ``row``/``col`` are 1-based (col in code points)."""

    def __init__(self, message: str, row: int, col: int):
        super().__init__(message)
        self.message, self.row, self.col = message, row, col


class TooComplex(ValueError):
    """Python's own parser gave up (nesting or expression chains too deep)."""


def _last(name: str) -> str:
    return name.rpartition(".")[2]


def _first(name: str) -> str:
    return name.partition(".")[0]


def task_for_loader(loader: str) -> str | None:
    if loader in UNSLOTH_CLASSES:
        return None
    for suffix, task in LOADER_TASKS:
        if loader.endswith(suffix):
            return task
    return None


class PythonFile:
    """Sites of one parsed module. ``text`` is what ``tree`` was parsed from: the file's text
    or its reduction (same rows and columns); ``bom`` shifts row 1 past a byte order mark;
    ``extra_reads`` counts reads the parsed text no longer shows (neutralized f-strings)."""

    def __init__(
        self,
        path: str,
        text: str,
        tree: ast.Module,
        bom: int = 0,
        extra_reads: dict[str, int] | None = None,
        siblings: Siblings | None = None,
    ):
        self.path = path
        self.siblings = siblings if siblings is not None else Siblings(path)
        self.text = text
        self.bom = bom
        self.extra_reads = extra_reads or {}  # reads hidden in neutralized f-strings
        self.scopes = Scopes(tree)
        self.references: dict[ast.Name, int] = {}  # use → reads of the binding it sees
        self.evaluator = Evaluator(self)
        self.needs = Needs()  # what the analysis consulted: a reduction must have kept it
        self.follower = Follower(self)
        self._starts = line_starts(text)
        self._rows: dict[int, tuple[str, bytes | None]] = {}
        self._statements: list[tuple[int, int]] | None = None
        self.statement_starts: dict[int, list] = {}  # reaching.path_to's, for this tree
        self._paths: dict[tuple[ast.AST, tuple[int, int]], list] = {}
        self._reaching: dict[tuple[ast.Name, bool], tuple[list[Binding] | None, int]] = {}
        self.flow_calls: dict = {}  # scope → its calls as flows read them (flow._scope_calls)

    def release(self) -> None:
        """Break the reference cycles through this file (its evaluator and follower point back
        at it), so that its tree is freed by reference counting as soon as it is dropped: left
        to the cyclic GC, the whole tree would be walked to find it is garbage."""
        self.evaluator = self.follower = None  # type: ignore[assignment]

    # --- positions --------------------------------------------------------------------------
    def _column(self, row: int, byte_col: int) -> int:
        """ast's UTF-8 byte offset → 0-based code point column."""
        cached = self._rows.get(row) or self._row(row)
        if cached[1] is None:
            col = byte_col
        else:
            col = len(cached[1][:byte_col].decode("utf-8", "replace"))
        return col + self.bom if row == 1 else col

    def _row(self, row: int) -> tuple[str, bytes | None]:
        """A row's text and, unless it is ASCII (columns are then byte offsets), its UTF-8."""
        # a row past the text: ``module_value``'s use of a name once the module has run
        line = (
            self.text[self._starts[row - 1] : self._starts[row]] if row < len(self._starts) else ""
        )
        cached = self._rows[row] = (line, None if line.isascii() else line.encode())
        return cached

    def written(self, span: Span) -> str | None:
        """The text of a one-row span as written (None for a span across rows)."""
        if span.row != span.end_row or span.row >= len(self._starts):
            return None
        shift = self.bom if span.row == 1 else 0
        line = self.text[self._starts[span.row - 1] : self._starts[span.row]]
        return line[span.col - 1 - shift : span.end_col - 1 - shift]

    def span(self, node: ast.AST) -> Span:
        row, end_row = node.lineno, node.end_lineno
        if isinstance(node, ast.Tuple) and self._char(row, node.col_offset) == "(":
            start, end = self._tuple_inside(
                node, (row, node.col_offset), (end_row, node.end_col_offset)
            )
            return Span(start[0], self._column(*start) + 1, end[0], self._column(*end) + 1)
        # ``_column`` inlined (a span is made for every value, step and site): on an ASCII row,
        # as most are, a column is the byte offset
        rows = self._rows
        first = rows.get(row) or self._row(row)
        last = first if end_row == row else rows.get(end_row) or self._row(end_row)
        col, end_col = node.col_offset, node.end_col_offset
        if first[1] is not None:
            col = len(first[1][:col].decode("utf-8", "replace"))
        if last[1] is not None:
            end_col = len(last[1][:end_col].decode("utf-8", "replace"))
        if row == 1:
            col += self.bom
        if end_row == 1:
            end_col += self.bom
        return Span(row, col + 1, end_row, end_col + 1)

    def _char(self, row: int, byte_col: int) -> str:
        line = self.text[self._starts[row - 1] : self._starts[row]]
        return line.encode()[byte_col : byte_col + 1].decode("latin-1")

    def _tuple_inside(self, node: ast.Tuple, start, end):
        """A parenthesized tuple's span without its parentheses, trailing comma kept (as libcst
        reports it, so spans do not move)."""
        if not node.elts:
            return (start[0], start[1] + 1), (start[0], start[1] + 1)
        first, last = node.elts[0], node.elts[-1]
        end = (last.end_lineno, last.end_col_offset)
        after = self.text[self._offset(*end) : self._offset(node.end_lineno, node.end_col_offset)]
        comma = re.match(r"(?:\s|\\\r?\n|#[^\r\n]*)*,", after)
        if comma is not None:
            end = self._advance(end, comma.end())
        return (first.lineno, first.col_offset), end

    def _offset(self, row: int, byte_col: int) -> int:
        encoded = (self._rows.get(row) or self._row(row))[1]
        col = byte_col if encoded is None else len(encoded[:byte_col].decode("utf-8", "replace"))
        return self._starts[row - 1] + col

    def row_start(self, row: int) -> int:
        """The text offset where a (1-based) row starts."""
        return self._starts[row - 1]

    def offset_of(self, row: int, byte_col: int) -> int:
        """The text offset of an ``ast`` position (1-based row, UTF-8 byte column)."""
        return self._offset(row, byte_col)

    def position_of(self, offset: int) -> tuple[int, int]:
        """(row, column) of a text offset, as ``Span`` counts them (row 1 after a BOM)."""
        row = bisect_right(self._starts, offset) - 1
        col = offset - self._starts[row] + 1
        return row + 1, col + self.bom if row == 0 else col

    def _advance(self, pos: tuple[int, int], chars: int) -> tuple[int, int]:
        offset = self._offset(*pos) + chars
        row = bisect_right(self._starts, offset) - 1
        prefix = self.text[self._starts[row] : offset]
        return row + 1, len(prefix.encode())

    def quote(self, node: ast.Constant) -> str:
        """Quote style of a string literal as written (``"``, ``'``, ``\"\"\"``, ``'''``)."""
        line, encoded = self._rows.get(node.lineno) or self._row(node.lineno)
        at = node.col_offset  # on an ASCII row, the column
        head = (
            line[at : at + 6] if encoded is None else encoded[at : at + 6].decode("utf-8", "ignore")
        )
        head = head.lstrip("rRbBuUfF")
        for quote in ('"""', "'''", '"', "'"):
            if head.startswith(quote):
                return quote
        return '"'

    # --- names ------------------------------------------------------------------------------
    def qualified(self, node: ast.expr, record: bool = True) -> str | None:
        if record:
            root = node
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name):
                self.needs.bindings.add(root.id)
        return self.scopes.qualified(node)

    def reaching(self, name: ast.Name, params: bool = False) -> list[Binding] | None:
        """The plain assignments of ``name`` that can reach this use, in source order: the
        last one before it, or several when branches assign it (``if``/``else``, ``try``).
        With ``params``, a parameter of the enclosing function counts as assigned on entry.

        None when the name is also bound otherwise (import, loop variable, ``+=``, ...), or is
        only assigned later in the same scope. A read from an inner scope sees the last
        assignment of the outer one, whenever it runs.

        Worked out once per use and ``params`` (half the calls ask again); ``references`` is
        set as each call would set it."""
        self.needs.bindings.add(name.id)
        known = self._reaching.get((name, params))
        if known is None:
            found = self._reaching_uncached(name, params)
            known = self._reaching[(name, params)] = (found, self.references[name])
        self.references[name] = known[1]
        return known[0]

    def _reaching_uncached(self, name: ast.Name, params: bool) -> list[Binding] | None:
        owner, found = self.scopes.bindings_of(name)
        allowed = ("assign", "param") if params else ("assign",)
        if owner is None or not found or any(b.kind not in allowed for b in found):
            self.references[name] = 0
            return None
        use = (name.lineno, name.col_offset)
        same_scope = owner is self.scopes.scope_of.get(name)
        before = [b for b in found if not same_scope or _effect(b) <= use]
        if not before:
            self.references[name] = 0
            return None
        before.sort(key=_effect)
        if not same_scope or len(before) == 1 or owner.node is None:
            reaching = before[-1:]
        else:
            use_path = self.path_to(owner.node, use)
            paths = [
                self.path_to(owner.node, _start(b.statement)) if b.kind == "assign" else []
                for b in before
            ]
            reaching = [
                b
                for i, b in enumerate(before)
                if not any(
                    dominates(paths[j], use_path) or kills(paths[i], paths[j], use_path)
                    for j in range(i + 1, len(before))
                )
                and not self._never_runs(paths[i])
            ] or before[-1:]
        reads = self.scopes.read_count(owner, name.id, reaching[-1])
        self.references[name] = reads + self.extra_reads.get(name.id, 0)
        return reaching

    def path_to(self, root: ast.AST, position: tuple[int, int]) -> list:
        """``reaching.path_to`` in this tree, worked out once per root and position (the flows
        of one scope ask for the same calls' paths; read only)."""
        key = (root, position)
        found = self._paths.get(key)
        if found is None:
            found = self._paths[key] = path_to(root, position, self.statement_starts)
        return found

    def _never_runs(self, path: list) -> bool:
        """Is a statement inside an ``if`` arm its condition rules out, the condition being a
        name bound once, to a literal (``use_flash_attention = False`` ... ``if
        use_flash_attention:``)? Not an argparse default or anything else a run may change."""
        for owner, field, _ in path:
            if not isinstance(owner, ast.If) or field not in ("body", "orelse"):
                continue
            test, negated = owner.test, False
            if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
                test, negated = test.operand, True
            if not isinstance(test, ast.Name):
                continue
            bound = self.binding(test)
            if bound is None or bound[1] is not None or not isinstance(bound[0], ast.Constant):
                continue
            holds = bool(bound[0].value) != negated
            if holds != (field == "body"):
                return True
        return False

    def module_value(self, name: str) -> Value:
        """The value the module gives ``name`` once it has run (what ``from it import name``
        gets): the module-level assignments that reach its end."""
        after = len(self._starts) + 1  # a row past every statement
        end = ast.Name(name, ast.Load(), lineno=after, col_offset=0)
        end.end_lineno, end.end_col_offset = after, 0
        self.scopes.scope_of[end] = self.scopes.module
        return self.evaluator.name_value(end)

    def enclosing_function(self, node: ast.expr) -> ast.AST | None:
        scope = self.scopes.scope_of.get(node)
        while scope is not None and scope.kind == "comprehension":
            scope = scope.parent
        return scope.node if scope is not None and scope.kind == "function" else None

    def method_class(self, function: ast.AST) -> ast.ClassDef | None:
        """The class a function is a method of."""
        scope = self.scopes.scope_for.get(function)
        parent = scope.parent if scope is not None else None
        return parent.node if parent is not None and parent.kind == "class" else None

    def enclosing_class(self, node: ast.expr) -> ast.ClassDef | None:
        function = self.enclosing_function(node)
        return self.method_class(function) if function is not None else None

    def binding(self, name: ast.Name) -> tuple[ast.expr, int | None] | None:
        """The value assigned to ``name``, when exactly one assignment reaches this use."""
        reaching = self.reaching(name)
        if reaching is None or len(reaching) != 1:
            return None
        return reaching[0].value, reaching[0].index

    def statement_rows(self, span: Span) -> tuple[int, int]:
        """First and last row of the simple statement line (``a; b`` is one) holding ``span``."""
        if self._statements is None:
            rows: list[tuple[int, int]] = []
            for stmt in self.scopes.statements:
                if rows and stmt.lineno == rows[-1][1]:
                    rows[-1] = (rows[-1][0], max(rows[-1][1], stmt.end_lineno or stmt.lineno))
                else:
                    rows.append((stmt.lineno, stmt.end_lineno or stmt.lineno))
            rows.sort()
            self._statements = rows
        k = bisect_right(self._statements, (span.row, float("inf"))) - 1
        if k >= 0:
            start, end = self._statements[k]
            if start <= span.row and span.end_row <= end:
                return start, end
        return span.row, span.end_row

    # --- sites ------------------------------------------------------------------------------
    def sites(self) -> list[Site]:
        sites: dict[ast.Call, Site] = {}
        named = self.named_calls()
        for call, name in named:
            parts = name.split(".")
            if parts[0] == "peft" and parts[-1] in PEFT_CONFIGS:
                sites[call] = self.config_site(call, name, "peft-config")
            elif parts[0] == "unsloth" and len(parts) >= 3 and parts[-1] == "get_peft_model":
                site = self.config_site(call, name, "unsloth")
                self._link_model(site, call, self._arg(call, 0, "model"))
                site.applied_with = "get_peft_model"
                sites[call] = site
        for call, name in named:
            self._link_applier(call, name, sites)
        found = list(sites.values()) + setup_sites(self, named)
        found += [self._adapter_site(call, name) for call, name in named if is_adapter_load(name)]
        found += [
            self._load_adapter_site(call)
            for call in self.scopes.calls
            if type(call.func) is ast.Attribute
            and call.func.attr == "load_adapter"
            and type(call.func.value) is ast.Name  # ``<model>.load_adapter(...)``
        ]
        return sorted(found, key=lambda s: (s.span.row, s.span.col))

    def named_calls(self) -> list[tuple[ast.Call, str]]:
        """The module's calls (in source order) whose qualified name starts with one of
        ``SITE_MODULES``, with that name: the only ones a site's name test can pick. A call's name
        is not worked out unless the name at its root can give one: a module's own name (or a
        local so named) or a name imported from one, in any scope; with a star import, every
        call's is."""
        roots = SITE_MODULES | {
            name for name, dotted in self.scopes.imports if _first(dotted) in SITE_MODULES
        }
        every = bool(self.scopes.star_imports)
        out = []
        for call in self.scopes.calls:
            root = call.func
            while type(root) is ast.Attribute:
                root = root.value
            if type(root) is not ast.Name or not (every or root.id in roots):
                continue
            name = self.qualified(call.func, record=False)
            if name is not None and _first(name) in SITE_MODULES:
                out.append((call, name))
        return out

    def _load_adapter_site(self, call: ast.Call) -> Site:
        """``model.load_adapter(path, ...)`` (issue #14's LL305): transformers' PeftAdapterMixin
        or PEFT's ``PeftModel.load_adapter``, as the model's flow tells (checks/ll305)."""
        site = self.config_site(call, "load_adapter", "adapter-load")
        site.arguments = arguments(self, call)
        model_expr = call.func.value
        load = self.follower.load_behind(model_expr)
        site.flow = model_flow(self, call, model_expr, load)
        return site

    def _adapter_site(self, call: ast.Call, name: str) -> Site:
        """A saved adapter loaded onto a model (issue #14's LL305): its keywords, arguments and
        the flow of the model it returns. ``AutoPeftModelFor*`` loads the base itself: that load
        heads the flow."""
        site = self.config_site(call, name, "adapter-load")
        site.arguments = arguments(self, call)
        auto = name.split(".")[1].startswith("AutoPeftModel")
        model_expr = None if auto else self._arg(call, 0, "model")
        load = self.follower.load_behind(model_expr) if model_expr is not None else None
        site.flow = model_flow(self, call, model_expr, load)
        if load is not None:  # the base model the adapter goes onto (``lorlint verify`` builds it)
            _take_load(site, load)
        path = None if auto else self.evaluator.value(self._arg(call, 1, "model_id"))
        if path is not None and isinstance(path.value, str):
            site.facts["adapter_path"] = path.value  # ``lorlint verify`` reads its config
        if auto:
            facts = {"loader": name.split(".")[1], "quantized": None, **load_facts(self, call)}
            span = site.span
            here = (span.row, span.col)
            site.flow = [s for s in site.flow if (s.call, s.row, s.col) != ("load", *here)]
            site.flow.insert(0, Step("load", *here, span.end_row, span.end_col, facts))
        return site

    def source_between(self, start: tuple[int, int], end: tuple[int, int]) -> str:
        """The text between two ast positions (1-based rows, UTF-8 byte columns)."""
        return self.text[self._offset(*start) : self._offset(*end)]

    def line_text(self, row: int) -> str:
        return self.text[self._starts[row - 1] : self._starts[row]]

    def config_site(self, call: ast.Call, name: str, kind: str) -> Site:
        keywords: dict[str, Value] = {}
        for keyword in call.keywords:
            if keyword.arg is not None:
                keywords[keyword.arg] = self.evaluator.value(keyword.value)
            else:
                expanded = self.evaluator.mapping(keyword.value)
                if expanded is None:
                    keywords["**"] = Value(UNKNOWN, self.span(keyword.value))
                else:
                    keywords.update(expanded)
        span = self.span(call)
        return Site(self.path, kind, name, span, keywords, statement_rows=self.statement_rows(span))

    @staticmethod
    def _arg(call: ast.Call, index: int, keyword: str) -> ast.expr | None:
        for kw in call.keywords:
            if kw.arg == keyword:
                return kw.value
        positional = [a for a in call.args if not isinstance(a, ast.Starred)]
        return positional[index] if index < len(positional) else None

    def _link_applier(self, call: ast.Call, name: str, sites: dict[ast.Call, Site]) -> None:
        if name in APPLIERS:
            applied, model_pos, cfg_pos, model_kw, cfg_kw = APPLIERS[name]
        elif name.startswith("trl.") and _last(name) in TRAINERS:
            applied, model_pos, cfg_pos, model_kw, cfg_kw = (
                _last(name),
                0,
                99,
                "model",
                "peft_config",
            )
        else:
            return
        config_expr = self._arg(call, cfg_pos, cfg_kw)
        for config_call in self.evaluator.calls_behind(config_expr):
            site = sites.get(config_call)
            if site is not None and site.kind == "peft-config":
                site.applied_with = applied
                self._link_model(site, call, self._arg(call, model_pos, model_kw))

    def _link_model(self, site: Site, applier: ast.Call, model_expr: ast.expr | None) -> None:
        if model_expr is None:
            return
        value = self.evaluator.value(model_expr)
        if isinstance(value.value, str) and value.value:  # SFTTrainer(model="org/name")
            site.model, site.model_span, site.model_origin = value.value, value.span, "code"
            return
        load = self.follower.load_behind(model_expr)
        site.flow = model_flow(self, applier, model_expr, load)
        if load is not None:
            _take_load(site, load)


def _take_load(site: Site, load) -> None:
    """The model a site is applied to, as its load says."""
    site.loader, site.task, site.quantized = load.loader, load.task, load.quantized
    site.quant_skip_modules = load.skip_modules
    if isinstance(load.ref.value, str) and load.ref.value:  # "": a required CLI argument
        site.model, site.model_span, site.model_origin = load.ref.value, load.ref.span, "code"
    elif _names_architecture(load):
        site.model, site.model_origin = load.loader, "class"


def _names_architecture(load) -> bool:
    """Whether the loading call's class is a concrete transformers model class
    (``LlamaForCausalLM.from_pretrained(base_model)``): with the checkpoint id unknown, the class
    still fixes the architecture, so the model is resolved from its default config (names exact,
    counts labelled as the default config's) instead of being unknown."""
    if load.call is None or not load.loader or load.loader.startswith("Auto"):
        return False
    name = load.file.qualified(load.call.func, record=False) or ""
    return name.startswith("transformers.") and bool(CONCRETE_CLASS.fullmatch(load.loader))


def _effect(binding: Binding) -> tuple[int, int]:
    """Where an assignment takes effect: once its value is computed (a parameter: on entry)."""
    node = binding.value if binding.value is not None else binding.node
    return (getattr(node, "end_lineno", 0) or 0, getattr(node, "end_col_offset", 0) or 0)


def _start(node: ast.AST | None) -> tuple[int, int]:
    assert node is not None
    return (node.lineno, node.col_offset)


def _parse(text: str, bom: int) -> ast.Module:
    """``ast.parse`` with Python's own errors turned into ours (rows 1-based, columns in code
    points, past a byte order mark on row 1)."""
    try:
        return ast.parse(text)
    except SyntaxError as err:
        row = err.lineno or 1
        col = (err.offset or 1) + (bom if row == 1 else 0)
        raise PythonSyntaxError(err.msg, row, max(col, 1)) from None
    except (RecursionError, MemoryError):
        raise TooComplex("expressions or brackets nested too deeply") from None
    except ValueError as err:  # e.g. source code cannot contain null bytes
        raise PythonSyntaxError(str(err), 1, 1) from None


_PARSE_ERRORS = (SyntaxError, ValueError, RecursionError, MemoryError)


def _reduced(lines, make: Callable[[str, ast.Module, dict], PythonFile], query):
    """``query`` answered on the reduced text, widened until it covers everything the analysis
    consulted; None when it does not parse or does not settle (parse the whole text then).

    The first reduction anticipates what the analysis predictably asks for; when it does not
    parse or settle (a syntax error in a line anticipated but not needed), the reduction
    starts again from the roots alone."""
    from lorlint.frontends.reduce import Reducer

    for anticipate in (True, False):
        reducer = Reducer(lines, anticipate)
        reducer.grow()
        for _ in range(MAX_ROUNDS):
            reduction = reducer.render()
            try:
                tree = ast.parse(reduction.text)
            except _PARSE_ERRORS:
                break
            parsed = make(reduction.text, tree, reduction.extra_reads)
            answer = query(parsed)
            if parsed.needs <= reduction.covered:
                return parsed, answer
            parsed.release()
            reducer.grow(parsed.needs)
    return None


def analyse(
    path: str, text: str, bom: int, query, reduce: bool | None = None, siblings=None, tree=None
):
    """Parse (the statements that matter of) one module and answer ``query(PythonFile)``.
    ``tree``: ``ast.parse(text)``, when a caller has it already.

    ``reduce`` None: a module that parses is analysed whole when it is below ``handoff.
    WHOLE_BELOW`` characters or dense in what the reduction starts from (``handoff.
    analysed_whole``: the sites a reduction gives, by construction, at less cost there); one
    that does not parse, or a big one of mostly other code, is reduced first. True: reduced
    first whatever its size; False: whole. Raises PythonSyntaxError / TooComplex when Python
    cannot parse what matters."""
    siblings = siblings if siblings is not None else Siblings(path)

    def make(parsed_text: str, tree: ast.Module, extra_reads: dict) -> PythonFile:
        return PythonFile(path, parsed_text, tree, bom, extra_reads, siblings)

    if reduce is None and handoff.analysed_whole(text):
        if tree is None:
            try:
                tree = ast.parse(text)
            except _PARSE_ERRORS:
                tree = None  # maybe outside what matters: the reduction says
        # A text this Python parses has no f-string only a newer grammar reads (those the
        # reduction would neutralize: tests/test_pyscan.py), so its logical lines are not needed.
        if tree is not None:
            whole = make(text, tree, {})
            return whole, query(whole)
    # the reduction's modules are loaded only for a module reduced (or that does not parse)
    from lorlint.frontends.pyscan import ScanError, logical_lines
    from lorlint.frontends.reduce import Reducer

    try:
        lines = logical_lines(text)
    except ScanError:
        lines = None
    if lines is not None:
        found = _reduced(lines, make, query) if reduce is not False else None
        if found is not None:
            return found
        whole = Reducer(lines).render(full=True)  # f-strings this Python cannot parse neutralized
        if whole.text != text:
            try:
                tree = ast.parse(whole.text)
            except _PARSE_ERRORS:
                pass
            else:
                parsed = make(whole.text, tree, whole.extra_reads)
                return parsed, query(parsed)
    parsed = make(text, _parse(text, bom), {})
    return parsed, query(parsed)


def extract_sites(
    path: str, source: str, reduce: bool | None = None, offer_tree: bool = False
) -> list[Site]:
    """All PEFT sites of one Python file (``reduce``: as ``analyse`` takes it; False: parse and
    analyse all of it, True: reduce it first whatever its size). ``offer_tree``: a tree of the
    whole ``source``, when that is what was analysed, is offered (``handoff``) to the next
    front end that parses it (mmengine's).

    Raises PythonSyntaxError where Python would not compile the statements that matter (or the
    file, when it cannot be reduced), TooComplex where Python's parser gives up."""
    bom = 1 if source.startswith("\ufeff") else 0
    text = source[bom:]
    enabled = gc.isenabled()
    gc.disable()  # the cyclic GC costs ~2x on big trees and finds nothing to free here
    try:
        tree = handoff.take(source) if not bom else None  # a notebook's, parsed as its cells
        found, sites = analyse(path, text, bom, PythonFile.sites, reduce, tree=tree)
        found.release()
        if offer_tree and found.text is source:  # the whole text, parsed as it is
            handoff.offer(source, found.scopes.module.node)
    finally:
        if enabled:
            gc.enable()
    if found.siblings.used:  # values from another file: the site cache must not keep them
        for site in sites:
            site.depends_on = sorted(found.siblings.used)
    comment = MODEL_COMMENT.search(text)
    if comment:
        for site in sites:
            site.model, site.model_origin, site.model_span = comment.group(1), "comment", None
    return sites
