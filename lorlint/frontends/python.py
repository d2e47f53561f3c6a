"""Python front end: libcst with scope and qualified-name metadata turns a module into sites.

Finds PEFT config calls (``LoraConfig`` and its siblings, however imported), Unsloth's
``get_peft_model``, and links each to the base model through ``get_peft_model`` / TRL trainer calls
back to the ``from_pretrained`` that produced the model.
"""

from __future__ import annotations

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
from lorlint.frontends.values import Evaluator
from lorlint.site import UNKNOWN, Site, Span, Value
from lorlint.textpos import split_lines

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
