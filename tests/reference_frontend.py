"""The Python front end as it was before issue #12 (libcst metadata), kept as a test oracle.

tests/test_frontend_equivalence.py checks that the stdlib-ast front end (``lorlint/frontends``)
finds the same sites, values, spans and models as this one did on the fixtures, the real-world
set and generated scripts. Verbatim from commit 3d1778d (``lorlint/frontends/values.py`` and
``python.py``, joined); lorlint itself never imports it.
"""

# ruff: noqa
from __future__ import annotations

import ast
import re
from dataclasses import dataclass

import libcst as cst
from libcst.metadata import (
    MetadataWrapper,
    PositionProvider,
    QualifiedNameProvider,
    ScopeProvider,
)

from lorlint.frontends.names import PEFT_CONFIGS, UNSLOTH_CLASSES
from lorlint.site import UNKNOWN, Site, Span, Value
from lorlint.textpos import split_lines


MAX_DEPTH = 12


class Evaluator:
    def __init__(self, file: PythonFile):
        self.file = file
        self._argparse: dict[str, cst.BaseExpression] | None = None
        self._fields: dict[str, cst.BaseExpression] | None = None

    # --- public -----------------------------------------------------------------------------
    def value(self, expr: cst.BaseExpression, depth: int = 0) -> Value:
        span = self.file.span(expr)
        if depth > MAX_DEPTH:
            return Value(UNKNOWN, span)
        result = self._eval(expr, depth)
        if result.span is None or isinstance(expr, cst.Name):
            result.span = span if result.span is None else result.span
        return result

    def call_behind(self, expr: cst.BaseExpression | None, depth: int = 0) -> cst.Call | None:
        """The call an expression evaluates to, following plain name bindings."""
        while expr is not None and depth < MAX_DEPTH:
            if isinstance(expr, cst.Call):
                return expr
            if isinstance(expr, cst.Name):
                bound = self.file.binding(expr)
                if bound is None:
                    return None
                expr, index = bound
                if index is not None and isinstance(expr, (cst.Tuple, cst.List)):
                    expr = expr.elements[index].value
                depth += 1
                continue
            return None
        return None

    def mapping(self, expr: cst.BaseExpression, depth: int = 0) -> dict[str, Value] | None:
        """``**{...}`` / ``**dict(...)`` / ``**NAME`` expanded into keyword values."""
        if depth > MAX_DEPTH:
            return None
        if isinstance(expr, cst.Name):
            bound = self.file.binding(expr)
            return self.mapping(bound[0], depth + 1) if bound and bound[1] is None else None
        if isinstance(expr, cst.Dict):
            out = {}
            for element in expr.elements:
                if not isinstance(element, cst.DictElement):
                    return None
                key = self._eval(element.key, depth + 1).value
                if not isinstance(key, str):
                    return None
                out[key] = self.value(element.value, depth + 1)
            return out
        if isinstance(expr, cst.Call) and self.file.qualified(expr.func) == "builtins.dict":
            out = {}
            for arg in expr.args:
                if arg.keyword is None:
                    return None
                out[arg.keyword.value] = self.value(arg.value, depth + 1)
            return out
        return None

    # --- evaluation -------------------------------------------------------------------------
    def _eval(self, expr: cst.BaseExpression, depth: int) -> Value:
        if isinstance(expr, (cst.SimpleString, cst.Integer, cst.Float)):
            quote = expr.quote if isinstance(expr, cst.SimpleString) else '"'
            try:
                return Value(ast.literal_eval(expr.value), quote=quote)
            except (ValueError, SyntaxError):
                return Value(UNKNOWN)
        if isinstance(expr, cst.ConcatenatedString):
            left, right = self.value(expr.left, depth + 1), self.value(expr.right, depth + 1)
            if isinstance(left.value, str) and isinstance(right.value, str):
                return Value(left.value + right.value, quote=left.quote)
            return Value(UNKNOWN)
        if isinstance(expr, cst.FormattedString):
            return self._fstring(expr, depth)
        if isinstance(expr, cst.Name):
            return self._name(expr, depth)
        if isinstance(expr, (cst.List, cst.Tuple, cst.Set)):
            return self._sequence(expr, depth)
        if isinstance(expr, cst.Dict):
            mapping = self.mapping(expr, depth + 1)
            if mapping is None or any(not v.known for v in mapping.values()):
                return Value(UNKNOWN)
            return Value({k: v.value for k, v in mapping.items()})
        if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Minus):
            inner = self.value(expr.expression, depth + 1).value
            return Value(-inner) if isinstance(inner, (int, float)) else Value(UNKNOWN)
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Add):
            return self._add(expr, depth)
        if isinstance(expr, cst.Call):
            return self._call(expr, depth)
        if isinstance(expr, cst.Attribute):
            return self._attribute(expr, depth)
        return Value(UNKNOWN)

    def _name(self, expr: cst.Name, depth: int) -> Value:
        if expr.value in ("True", "False", "None"):
            return Value({"True": True, "False": False, "None": None}[expr.value])
        bound = self.file.binding(expr)
        if bound is None:
            return Value(UNKNOWN)
        node, index = bound
        if index is not None:
            if not isinstance(node, (cst.Tuple, cst.List)) or index >= len(node.elements):
                return Value(UNKNOWN)
            node = node.elements[index].value
        inner = self.value(node, depth + 1)
        # Keep the binding's spans: a fix or finding on ``TARGETS`` points at the literal; record
        # how often the name is used, since a fix there changes every use.
        uses = self.file.references.get(expr, 0)
        for part in [inner, *(inner.elements or [])]:
            if part.bound_to is None:
                part.bound_to, part.bound_uses = expr.value, uses
        return inner

    def _sequence(self, expr, depth: int) -> Value:
        elements = []
        for element in expr.elements:
            if isinstance(element, cst.StarredElement):
                inner = self.value(element.value, depth + 1)
                if inner.elements is None:
                    return Value(UNKNOWN)
                elements.extend(inner.elements)
            else:
                elements.append(self.value(element.value, depth + 1))
        values = [e.value for e in elements]
        if any(v is UNKNOWN for v in values):
            return Value(UNKNOWN, elements=elements)
        if isinstance(expr, cst.Tuple):
            values = tuple(values)
        return Value(list(values) if isinstance(expr, cst.List) else values, elements=elements)

    def _add(self, expr: cst.BinaryOperation, depth: int) -> Value:
        left, right = self.value(expr.left, depth + 1), self.value(expr.right, depth + 1)
        if isinstance(left.value, str) and isinstance(right.value, str):
            return Value(left.value + right.value, quote=left.quote)
        if isinstance(left.value, (list, tuple)) and isinstance(right.value, (list, tuple)):
            return Value(
                list(left.value) + list(right.value),
                elements=(left.elements or []) + (right.elements or []),
            )
        return Value(UNKNOWN)

    def _fstring(self, expr: cst.FormattedString, depth: int) -> Value:
        parts = []
        for part in expr.parts:
            if isinstance(part, cst.FormattedStringText):
                parts.append(part.value)
            elif isinstance(part, cst.FormattedStringExpression) and part.format_spec is None:
                inner = self.value(part.expression, depth + 1).value
                if not isinstance(inner, (str, int)):
                    return Value(UNKNOWN)
                parts.append(str(inner))
            else:
                return Value(UNKNOWN)
        return Value("".join(parts))

    def _call(self, expr: cst.Call, depth: int) -> Value:
        name = self.file.qualified(expr.func) or ""
        args = [a for a in expr.args if a.keyword is None and not a.star]
        if name in ("os.environ.get", "os.getenv") and len(args) == 2:
            return self.value(args[1].value, depth + 1)
        if name in ("builtins.list", "builtins.tuple", "builtins.sorted") and len(args) == 1:
            inner = self.value(args[0].value, depth + 1)
            if isinstance(inner.value, (list, tuple, set)):
                return Value(list(inner.value), elements=inner.elements)
            return Value(UNKNOWN)
        if name == "builtins.range" and 1 <= len(args) <= 3:
            bounds = [self.value(a.value, depth + 1).value for a in args]
            if all(isinstance(b, int) for b in bounds):
                return Value(list(range(*bounds)))
            return Value(UNKNOWN)
        if isinstance(expr.func, cst.Attribute) and expr.func.attr.value == "split":
            base = self.value(expr.func.value, depth + 1).value
            seps = [self.value(a.value, depth + 1).value for a in args]
            if isinstance(base, str) and all(isinstance(s, str) for s in seps) and len(seps) <= 1:
                return Value(base.split(*seps))
        return Value(UNKNOWN)

    def _attribute(self, expr: cst.Attribute, depth: int) -> Value:
        """``args.x`` → the ``default=`` of ``add_argument("--x")`` or of a dataclass field ``x``.

        Dataclass fields cover HfArgumentParser / TRL ``ModelConfig``-style argument classes.
        """
        name = expr.attr.value
        owner = expr.value
        owner_name = (
            owner.attr.value if isinstance(owner, cst.Attribute) else getattr(owner, "value", "")
        )
        if owner_name == "TaskType":  # peft.TaskType.SEQ_CLS is the string "SEQ_CLS"
            return Value(name)
        default = self._argparse_defaults().get(name)
        if default is None:
            default = self._dataclass_defaults().get(name)
        if default is None:
            return Value(UNKNOWN)
        return self.value(default, depth + 1)

    def _argparse_defaults(self) -> dict[str, cst.BaseExpression]:
        if self._argparse is None:
            self._argparse = {}
            for call, _ in self.file.collector.calls:
                if not (
                    isinstance(call.func, cst.Attribute) and call.func.attr.value == "add_argument"
                ):
                    continue
                flags = [self._eval(a.value, 0).value for a in call.args if a.keyword is None]
                kwargs = {a.keyword.value: a.value for a in call.args if a.keyword is not None}
                long = [f for f in flags if isinstance(f, str) and f.startswith("--")]
                dest_expr = kwargs.get("dest")
                dest = self._eval(dest_expr, 0).value if dest_expr is not None else None
                if not isinstance(dest, str) and long:
                    dest = long[0][2:].replace("-", "_")
                if isinstance(dest, str) and "default" in kwargs:
                    self._argparse[dest] = kwargs["default"]
        return self._argparse

    def _dataclass_defaults(self) -> dict[str, cst.BaseExpression]:
        if self._fields is None:
            self._fields = {}
            for cls in self.file.collector.classes:
                if not any(_decorator_name(d).endswith("dataclass") for d in cls.decorators):
                    continue
                for statement in cls.body.body:
                    if not isinstance(statement, cst.SimpleStatementLine):
                        continue
                    for small in statement.body:
                        if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                            default = _field_default(small.value)
                            if default is not None:
                                self._fields[small.target.value] = default
        return self._fields


def _decorator_name(decorator: cst.Decorator) -> str:
    node = decorator.decorator
    if isinstance(node, cst.Call):
        node = node.func
    if isinstance(node, cst.Attribute):
        return node.attr.value
    return node.value if isinstance(node, cst.Name) else ""


def _field_default(value: cst.BaseExpression | None) -> cst.BaseExpression | None:
    """``x: T = 3`` → 3; ``field(default=3)`` → 3; ``field(default_factory=lambda: [..])`` → [..]."""
    if value is None:
        return None
    if not (isinstance(value, cst.Call) and _callee(value) == "field"):
        return value
    for arg in value.args:
        key = arg.keyword.value if arg.keyword else None
        if key == "default":
            return arg.value
        if key == "default_factory":
            if isinstance(arg.value, cst.Lambda):
                return arg.value.body
            if isinstance(arg.value, cst.Name) and arg.value.value in ("list", "dict"):
                return cst.List([]) if arg.value.value == "list" else cst.Dict([])
    return None


def _callee(call: cst.Call) -> str:
    func = call.func
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return func.value if isinstance(func, cst.Name) else ""


APPLIERS = {
    "peft.get_peft_model": ("get_peft_model", 0, 1, "model", "peft_config"),
    "peft.inject_adapter_in_model": ("inject_adapter_in_model", 1, 0, "model", "peft_config"),
    "peft.PeftModel": ("PeftModel", 0, 1, "model", "peft_config"),
}
TRAINERS = {"SFTTrainer", "DPOTrainer", "ORPOTrainer", "KTOTrainer", "GRPOTrainer", "RewardTrainer"}
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
MODEL_COMMENT = re.compile(r"#\s*lorlint:\s*model\s*=\s*(\S+)")


@dataclass
class _Load:
    """A ``from_pretrained`` / ``from_config`` call that produces a model."""

    ref: Value
    loader: str
    task: str | None
    quantized: str | None
    skip_modules: list[str] | None = None


def _last(name: str) -> str:
    return name.rpartition(".")[2]


def task_for_loader(loader: str) -> str | None:
    if loader in UNSLOTH_CLASSES:
        return None
    for suffix, task in LOADER_TASKS:
        if loader.endswith(suffix):
            return task
    return None


class _Collector(cst.CSTVisitor):
    METADATA_DEPENDENCIES = (PositionProvider, QualifiedNameProvider, ScopeProvider)

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[cst.Call, str]] = []
        self.assigned: dict[cst.CSTNode, tuple[cst.BaseExpression, int | None]] = {}
        self.statements: list[tuple[int, int]] = []
        self.qualnames: dict[cst.CSTNode, str] = {}  # call.func → shortest qualified name
        self.classes: list[cst.ClassDef] = []

    def _qualified(self, node: cst.CSTNode) -> str:
        names = self.get_metadata(QualifiedNameProvider, node, set())
        return min((q.name for q in names), key=len, default="")

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.classes.append(node)

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._record(target.target, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._record(node.target, node.value)

    def _record(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        if isinstance(target, cst.Name):
            self.assigned[target] = (value, None)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for i, element in enumerate(target.elements):
                if isinstance(element.value, cst.Name):
                    self.assigned[element.value] = (value, i)

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        pos = self.get_metadata(PositionProvider, node)
        self.statements.append((pos.start.line, pos.end.line))

    def visit_Call(self, node: cst.Call) -> None:
        name = self.qualnames[node.func] = self._qualified(node.func)
        self.calls.append((node, name))


class PythonFile:
    """Sites of one parsed Python module."""

    def __init__(self, path: str, source: str):
        self.path = path
        self.source = source
        module = cst.parse_module(source)
        self.wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        self.collector = _Collector()
        self.wrapper.visit(self.collector)
        self.positions = self.wrapper.resolve(PositionProvider)
        self.scopes = self.wrapper.resolve(ScopeProvider)
        self.references: dict[cst.Name, int] = {}  # use → references of the binding it reads
        self.evaluator = Evaluator(self)
        self.comment_model = self._comment_model()

    # --- helpers used by the evaluator -------------------------------------------------------
    def span(self, node: cst.CSTNode) -> Span:
        pos = self.positions[node]
        return Span(pos.start.line, pos.start.column + 1, pos.end.line, pos.end.column + 1)

    def qualified(self, node: cst.CSTNode) -> str | None:
        return self.collector.qualnames.get(node) or None

    def binding(self, name: cst.Name) -> tuple[cst.BaseExpression, int | None] | None:
        """The value assigned to ``name`` by the last plain assignment before this use.

        None when the name is a parameter, import or loop variable, or is only assigned later.
        """
        scope = self.scopes.get(name)
        if scope is None:
            return None
        use = self.positions[name].start
        best, best_pos, best_refs = None, None, 0
        for assignment in scope[name.value]:
            node = getattr(assignment, "node", None)
            if node not in self.collector.assigned:
                return None
            value = self.collector.assigned[node][0]
            pos = self.positions[value].end  # the binding takes effect once its value is computed
            same_scope = assignment.scope is scope
            if same_scope and (pos.line, pos.column) > (use.line, use.column):
                continue
            if best_pos is None or (pos.line, pos.column) > best_pos:
                best, best_pos = self.collector.assigned[node], (pos.line, pos.column)
                best_refs = len(assignment.references)
        self.references[name] = best_refs
        return best

    def _comment_model(self) -> str | None:
        for line in split_lines(self.source):
            m = MODEL_COMMENT.search(line)
            if m:
                return m.group(1)
        return None

    def statement_rows(self, span: Span) -> tuple[int, int]:
        best = (span.row, span.end_row)
        for start, end in self.collector.statements:
            if start <= span.row and span.end_row <= end:
                best = (start, end)
        return best

    # --- sites ------------------------------------------------------------------------------
    def sites(self) -> list[Site]:
        sites: dict[cst.Call, Site] = {}
        for call, name in self.collector.calls:
            parts = name.split(".")
            if parts[0] == "peft" and parts[-1] in PEFT_CONFIGS:
                sites[call] = self._site(call, name, "peft-config")
            elif parts[0] == "unsloth" and len(parts) >= 3 and parts[-1] == "get_peft_model":
                site = self._site(call, name, "unsloth")
                self._link_model(site, self._arg(call, 0, "model"))
                site.applied_with = "get_peft_model"
                sites[call] = site
        for call, name in self.collector.calls:
            self._link_applier(call, name, sites)
        return sorted(sites.values(), key=lambda s: (s.span.row, s.span.col))

    def _site(self, call: cst.Call, name: str, kind: str) -> Site:
        keywords: dict[str, Value] = {}
        for arg in call.args:
            if arg.keyword is not None:
                keywords[arg.keyword.value] = self.evaluator.value(arg.value)
            elif arg.star == "**":
                expanded = self.evaluator.mapping(arg.value)
                if expanded is None:
                    keywords["**"] = Value(UNKNOWN, self.span(arg.value))
                else:
                    keywords.update(expanded)
        span = self.span(call)
        return Site(self.path, kind, name, span, keywords, statement_rows=self.statement_rows(span))

    def _arg(self, call: cst.Call, index: int, keyword: str) -> cst.BaseExpression | None:
        for arg in call.args:
            if arg.keyword is not None and arg.keyword.value == keyword:
                return arg.value
        positional = [a for a in call.args if a.keyword is None and not a.star]
        return positional[index].value if index < len(positional) else None

    def _link_applier(self, call: cst.Call, name: str, sites: dict[cst.Call, Site]) -> None:
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
        config_call = self.evaluator.call_behind(config_expr) if config_expr is not None else None
        site = sites.get(config_call)
        if site is None or site.kind != "peft-config":
            return
        site.applied_with = applied
        self._link_model(site, self._arg(call, model_pos, model_kw))

    def _link_model(self, site: Site, model_expr: cst.BaseExpression | None) -> None:
        if model_expr is None:
            return
        value = self.evaluator.value(model_expr)
        if isinstance(value.value, str):  # SFTTrainer(model="org/name")
            site.model, site.model_span, site.model_origin = value.value, value.span, "code"
            return
        load = self._load_behind(model_expr)
        if load is None:
            return
        site.loader, site.task, site.quantized = load.loader, load.task, load.quantized
        site.quant_skip_modules = load.skip_modules
        if isinstance(load.ref.value, str):
            site.model, site.model_span, site.model_origin = load.ref.value, load.ref.span, "code"

    def _load_behind(self, expr: cst.BaseExpression, depth: int = 0) -> _Load | None:
        """Follow names and wrappers (prepare_model_for_kbit_training) back to from_pretrained."""
        if depth > 8:
            return None
        call = self.evaluator.call_behind(expr)
        if call is None:
            return None
        name = self.qualified(call.func) or ""
        method = _last(name)
        if method in ("from_pretrained", "from_config"):
            owner = _last(name.rpartition(".")[0])
            ref_expr = self._arg(call, 0, "model_name" if owner in UNSLOTH_CLASSES else "")
            if ref_expr is None:
                ref_expr = self._arg(call, 0, "pretrained_model_name_or_path")
            ref = self.evaluator.value(ref_expr) if ref_expr is not None else Value(UNKNOWN)
            if method == "from_config":
                ref = Value(UNKNOWN)
            quantized, skip = self._quantized(call)
            return _Load(ref, owner, task_for_loader(owner), quantized, skip)
        if call.args and method in ("prepare_model_for_kbit_training", "get_peft_model"):
            return self._load_behind(call.args[0].value, depth + 1)
        return None

    def _quantized(self, call: cst.Call) -> tuple[str | None, list[str] | None]:
        """("4bit" / "8bit" / None, llm_int8_skip_modules) from the loading call's keywords."""
        mode, skip = None, None
        for arg in call.args:
            key = arg.keyword.value if arg.keyword else None
            if key in ("load_in_4bit", "load_in_8bit"):
                if self.evaluator.value(arg.value).value is True:
                    mode = key.removeprefix("load_in_")
            elif key == "llm_int8_skip_modules":
                value = self.evaluator.value(arg.value).value
                if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
                    skip = list(value)
            elif key == "quantization_config":
                inner = self.evaluator.call_behind(arg.value)
                if inner is not None:
                    return self._quantized(inner)
        return mode, skip


def extract_sites(path: str, source: str) -> list[Site]:
    """All PEFT sites of one Python file; raises libcst.ParserSyntaxError on bad syntax."""
    parsed = PythonFile(path, source)
    sites = parsed.sites()
    if parsed.comment_model:
        for site in sites:
            site.model, site.model_origin, site.model_span = parsed.comment_model, "comment", None
    return sites
