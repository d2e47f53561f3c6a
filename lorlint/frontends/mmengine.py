"""xtuner / mmengine Python configs: ``lora=dict(type=LoraConfig, target_modules=[...])``.

An mmengine config never calls ``LoraConfig``: it names it as ``type`` of a dict that the runner
builds later, and the model as ``pretrained_model_name_or_path`` of the LLM's dict (usually a
module-level constant). Read with stdlib ``ast``; values are literals or module-level constants.

xtuner's ``SupervisedFinetune._prepare_for_lora`` (xtuner/model/sft.py) fills an omitted
``target_modules`` with ``find_all_linear_names`` (xtuner/model/utils.py): the leaf names of
every ``nn.Linear`` but ``lm_head`` and ``output_layer`` — lorlint/models/xtuner.py.
"""

from __future__ import annotations

import ast
import re
from collections import deque

from lorlint.frontends import handoff
from lorlint.frontends.names import PEFT_CONFIGS, word_search
from lorlint.site import UNKNOWN, Site, Span, Value
from lorlint.textpos import split_lines

MENTION = re.compile(r"type\s*=\s*(?:\w+\.)*(?:" + "|".join(sorted(PEFT_CONFIGS)) + r")\b")
MODEL_KEY = "pretrained_model_name_or_path"


def mentions_config(source: str) -> bool:
    """The cheap test the engine runs before parsing a Python file a second time."""
    return word_search(MENTION, source) is not None


class _Reader:
    def __init__(self, source: str, tree: ast.Module):
        self.lines = split_lines(source)
        self.constants: dict[str, ast.expr] = {}
        for node in tree.body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                if isinstance(target, ast.Name):
                    self.constants[target.id] = node.value
        self.peft_names = self._peft_imports(tree)

    @staticmethod
    def _peft_imports(tree: ast.Module) -> dict[str, str]:
        """Local name → PEFT config class, from ``from peft import LoraConfig [as X]``."""
        names = {}
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "peft":
                for alias in node.names:
                    if alias.name in PEFT_CONFIGS:
                        names[alias.asname or alias.name] = alias.name
        return names

    def span(self, node: ast.AST) -> Span:
        def col(row: int, offset: int) -> int:  # ast offsets count UTF-8 bytes
            line = self.lines[row - 1] if 0 < row <= len(self.lines) else ""
            return len(line.encode()[:offset].decode(errors="ignore")) + 1

        end_row = node.end_lineno or node.lineno
        return Span(node.lineno, col(node.lineno, node.col_offset), end_row,
                    col(end_row, node.end_col_offset or 0))  # fmt: skip

    def resolve(self, node: ast.expr, depth: int = 0) -> ast.expr:
        while isinstance(node, ast.Name) and node.id in self.constants and depth < 8:
            node, depth = self.constants[node.id], depth + 1
        return node

    def value(self, node: ast.expr) -> Value:
        bound = node.id if isinstance(node, ast.Name) else None
        target = self.resolve(node)
        span = self.span(target)
        if isinstance(target, (ast.List, ast.Tuple)):
            elements = [self.value(e) for e in target.elts]
            values = [e.value for e in elements]
            value = UNKNOWN if any(v is UNKNOWN for v in values) else values
            return Value(value, span, elements=elements, bound_to=bound, editable=False)
        try:
            return Value(ast.literal_eval(target), span, bound_to=bound, editable=False)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return Value(UNKNOWN, span, editable=False)

    def config_class(self, call: ast.Call) -> str | None:
        """``LoraConfig`` when the call is ``dict(type=LoraConfig, ...)`` (or ``peft.LoraConfig``)."""
        if not (isinstance(call.func, ast.Name) and call.func.id == "dict"):
            return None
        for keyword in call.keywords:
            if keyword.arg != "type":
                continue
            kind = keyword.value
            if isinstance(kind, ast.Name):
                return self.peft_names.get(kind.id)
            if isinstance(kind, ast.Attribute) and kind.attr in PEFT_CONFIGS:
                return kind.attr
        return None


def _calls(tree: ast.Module) -> list[ast.Call]:
    """Every call, in ``ast.walk``'s order (breadth first), in one walk without its generators."""
    calls, todo = [], deque([tree])
    while todo:
        node = todo.popleft()
        if isinstance(node, ast.Call):
            calls.append(node)
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, ast.AST):
                todo.append(value)
            elif isinstance(value, list):
                todo.extend(item for item in value if isinstance(item, ast.AST))
    return calls


def _model(reader: _Reader, calls: list[ast.Call]) -> tuple[Value | None, str | None]:
    """The model reference and ``"4bit"`` / ``"8bit"``, from the config's LLM dict."""
    reference, quantized = None, None
    for node in calls:
        keywords = {k.arg: k.value for k in node.keywords if k.arg}
        if MODEL_KEY in keywords and reference is None:
            value = reader.value(keywords[MODEL_KEY])
            reference = value if isinstance(value.value, str) else None
        for bits in ("load_in_4bit", "load_in_8bit"):
            if bits in keywords and reader.value(keywords[bits]).value is True:
                quantized = bits.removeprefix("load_in_")
    if reference is None and MODEL_KEY in reader.constants:
        value = reader.value(ast.Name(MODEL_KEY))
        reference = value if isinstance(value.value, str) else None
    return reference, quantized


def sites(path: str, source: str) -> list[Site]:
    """Sites of an mmengine-style config; raises SyntaxError like ``ast.parse``. The tree the
    Python front end parsed of this very text is taken (``handoff``), when it offered it."""
    tree = handoff.take(source) or ast.parse(source)
    reader = _Reader(source, tree)
    if not reader.peft_names and "peft." not in source:
        return []
    calls = _calls(tree)
    reference, quantized = _model(reader, calls)
    out = []
    for node in calls:
        name = reader.config_class(node)
        if name is None:
            continue
        span = reader.span(node)
        site = Site(path, "xtuner", f"peft.{name}", span, statement_rows=(span.row, span.end_row))
        for keyword in node.keywords:
            if keyword.arg is None:
                site.keywords["**"] = Value(UNKNOWN, reader.span(keyword.value), editable=False)
            elif keyword.arg != "type":
                site.keywords[keyword.arg] = reader.value(keyword.value)
        if reference is not None:
            site.model, site.model_span, site.model_origin = reference.value, reference.span, "code"
        site.quantized, site.task, site.applied_with = quantized, "causal-lm", "get_peft_model"
        out.append(site)
    return sorted(out, key=lambda s: (s.span.row, s.span.col))
