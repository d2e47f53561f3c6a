"""Static evaluation of the expressions real training scripts pass as PEFT keywords.

Literals; names bound by a plain assignment (the last before the use); list/str concatenation;
``"a,b".split(",")``; ``sorted``/``list``/``tuple``; f-strings with known parts;
``os.environ.get`` / ``os.getenv`` defaults; argparse defaults and dataclass field defaults read
back through ``args.x``; ``range``. Anything else is UNKNOWN.

Every evaluation is bounded: nesting (``MAX_DEPTH``), total work per file (``MAX_STEPS``), the
length of a list (``MAX_ITEMS``) and of a string (``MAX_CHARS``). Past a bound the value is
UNKNOWN, so no rule guesses about it.
"""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING

from lorlint.frontends.siblings import from_elsewhere
from lorlint.site import UNKNOWN, Span, Value

if TYPE_CHECKING:
    from lorlint.frontends.python import PythonFile

MAX_DEPTH = 12
MAX_STEPS = 200_000
MAX_ITEMS = 10_000
MAX_CHARS = 100_000


class Evaluator:
    def __init__(self, file: PythonFile):
        self.file = file
        self.steps = 0
        self._argparse: dict[str, ast.expr] | None = None
        self._fields: dict[str, ast.expr] | None = None

    # --- public -----------------------------------------------------------------------------
    def value(self, expr: ast.expr, depth: int = 0) -> Value:
        self.steps += 1
        if depth > MAX_DEPTH or self.steps > MAX_STEPS:
            return Value(UNKNOWN, self.file.span(expr))
        result = self._eval(expr, depth)
        if result.span is None:  # a name's value keeps the spans of what it is bound to
            result.span = self.file.span(expr)
        return result

    def call_behind(self, expr: ast.expr | None, depth: int = 0) -> ast.Call | None:
        """The call an expression evaluates to, following plain name bindings (one call, or
        None when branches assign different things)."""
        calls = self.calls_behind(expr, depth)
        return calls[0] if len(calls) == 1 else None

    def calls_behind(self, expr: ast.expr | None, depth: int = 0) -> list[ast.Call]:
        """Every call an expression can evaluate to, through every assignment that reaches it
        (``cfg = LoraConfig(...) if peft else None``-style branches give one call)."""
        if expr is None or depth >= MAX_DEPTH:
            return []
        if isinstance(expr, ast.Call):
            return [expr]
        if not isinstance(expr, ast.Name):
            return []
        reaching = self.file.reaching(expr)
        if not reaching:
            return []
        out: list[ast.Call] = []
        for binding in reaching:
            value = binding.value
            if binding.index is not None and isinstance(value, (ast.Tuple, ast.List)):
                value = _element(value, binding.index)  # else ``model, tok = load(...)``: the call
            out.extend(c for c in self.calls_behind(value, depth + 1) if c not in out)
        return out

    def mapping(self, expr: ast.expr, depth: int = 0) -> dict[str, Value] | None:
        """``**{...}`` / ``**dict(...)`` / ``**NAME`` expanded into keyword values."""
        self.steps += 1
        if depth > MAX_DEPTH or self.steps > MAX_STEPS:
            return None
        if isinstance(expr, ast.Name):
            bound = self.file.binding(expr)
            return self.mapping(bound[0], depth + 1) if bound and bound[1] is None else None
        if isinstance(expr, ast.Dict):
            out = {}
            for key_expr, value_expr in zip(expr.keys, expr.values, strict=True):
                if key_expr is None:  # **other inside the literal
                    return None
                key = self._eval(key_expr, depth + 1).value
                if not isinstance(key, str):
                    return None
                out[key] = self.value(value_expr, depth + 1)
            return out
        if isinstance(expr, ast.Call) and self.file.qualified(expr.func) == "builtins.dict":
            if expr.args or any(k.arg is None for k in expr.keywords):
                return None
            return {k.arg: self.value(k.value, depth + 1) for k in expr.keywords if k.arg}
        return None

    # --- evaluation -------------------------------------------------------------------------
    def _eval(self, expr: ast.expr, depth: int) -> Value:
        if isinstance(expr, ast.Constant):
            value = expr.value
            if isinstance(value, str):
                return (
                    Value(value, quote=self.file.quote(expr))
                    if len(value) <= MAX_CHARS
                    else (Value(UNKNOWN))
                )
            if value is None or isinstance(value, (bool, int, float, bytes)):
                return Value(value)
            return Value(UNKNOWN)
        if isinstance(expr, ast.JoinedStr):
            return self._fstring(expr, depth)
        if isinstance(expr, ast.Name):
            return self._name(expr, depth)
        if isinstance(expr, (ast.List, ast.Tuple, ast.Set)):
            return self._sequence(expr, depth)
        if isinstance(expr, ast.Dict):
            mapping = self.mapping(expr, depth + 1)
            if mapping is None or any(not v.known for v in mapping.values()):
                return Value(UNKNOWN)
            return Value({k: v.value for k, v in mapping.items()})
        if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.USub):
            inner = self.value(expr.operand, depth + 1).value
            return Value(-inner) if isinstance(inner, (int, float)) else Value(UNKNOWN)
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
            return self._add(expr, depth)
        if isinstance(expr, ast.Call):
            return self._call(expr, depth)
        if isinstance(expr, ast.Attribute):
            return self._attribute(expr, depth)
        return Value(UNKNOWN)

    def name_value(self, expr: ast.Name) -> Value:
        """The value of a name (no span of its own: for a use the parser never saw)."""
        return self._name(expr, 0)

    def _name(self, expr: ast.Name, depth: int) -> Value:
        imported = self.file.follower.imported(expr)
        if imported is not None:  # ``from config import TARGETS``: a sibling module's value
            value = self.file.siblings.value(*imported)
            return from_elsewhere(value, self.file.span(expr), expr.id) if value.known else value
        sources = self.file.follower.sources(expr)
        if not sources:
            return Value(UNKNOWN)
        results = []
        for node, index, _ in sources:
            node = node if index is None else _element(node, index)
            if node is None:
                return Value(UNKNOWN)
            results.append(self.value(node, depth + 1))
        inner = self._agreed(results)
        if not inner.known and not inner.elements:
            return inner
        # Keep the binding's spans: a fix or finding on ``TARGETS`` points at the literal; record
        # how often the name is used, since a fix there changes every use (so every use of it
        # must have been parsed: the reduction keeps them for names with a known value).
        if inner.known or inner.elements:
            self.file.needs.values.add(expr.id)
        uses = self.file.references.get(expr, 0)
        for part in [inner, *(inner.elements or [])]:
            if part.bound_to is None:
                part.bound_to, part.bound_uses = expr.id, uses
        return inner

    @staticmethod
    def _agreed(results: list[Value], editable: bool = True) -> Value:
        """One value from several sources (branches, call sites, methods): known only when they
        all agree; then not editable by a fix if more than one, as a fix edits one of them."""
        if not results:
            return Value(UNKNOWN)
        inner = results[-1]
        if len(results) > 1 and any(not r.known or r.value != inner.value for r in results):
            return Value(UNKNOWN)
        if len(results) > 1 or not editable:
            for part in [inner, *(inner.elements or [])]:
                part.editable = False
        return inner

    def _sequence(self, expr: ast.List | ast.Tuple | ast.Set, depth: int) -> Value:
        elements: list[Value] = []
        for element in expr.elts:
            if isinstance(element, ast.Starred):
                inner = self.value(element.value, depth + 1)
                if inner.elements is None:
                    return Value(UNKNOWN)
                elements.extend(inner.elements)
            else:
                elements.append(self.value(element, depth + 1))
            if len(elements) > MAX_ITEMS:
                return Value(UNKNOWN)
        values = [e.value for e in elements]
        if any(v is UNKNOWN for v in values):
            return Value(UNKNOWN, elements=elements)
        if isinstance(expr, ast.Tuple):
            return Value(tuple(values), elements=elements)
        return Value(values, elements=elements)

    def _add(self, expr: ast.BinOp, depth: int) -> Value:
        left, right = self.value(expr.left, depth + 1), self.value(expr.right, depth + 1)
        if isinstance(left.value, str) and isinstance(right.value, str):
            if len(left.value) + len(right.value) > MAX_CHARS:
                return Value(UNKNOWN)
            return Value(left.value + right.value, quote=left.quote)
        if isinstance(left.value, (list, tuple)) and isinstance(right.value, (list, tuple)):
            if len(left.value) + len(right.value) > MAX_ITEMS:
                return Value(UNKNOWN)
            return Value(
                list(left.value) + list(right.value),
                elements=(left.elements or []) + (right.elements or []),
            )
        return Value(UNKNOWN)

    def _fstring(self, expr: ast.JoinedStr, depth: int) -> Value:
        parts = []
        for part in expr.values:
            if isinstance(part, ast.Constant) and isinstance(part.value, str):
                parts.append(part.value)
            elif isinstance(part, ast.FormattedValue) and part.format_spec is None:
                inner = self.value(part.value, depth + 1).value
                if isinstance(inner, bool) or not isinstance(inner, (str, int)):
                    return Value(UNKNOWN)
                if part.conversion in (ord("r"), ord("a")) and isinstance(inner, str):
                    return Value(UNKNOWN)  # repr() adds quotes
                parts.append(str(inner))
            else:
                return Value(UNKNOWN)
        text = "".join(parts)
        return Value(text) if len(text) <= MAX_CHARS else Value(UNKNOWN)

    def _call(self, expr: ast.Call, depth: int) -> Value:
        name = self.file.qualified(expr.func) or ""
        args = [a for a in expr.args if not isinstance(a, ast.Starred)]
        if name in ("os.environ.get", "os.getenv") and len(args) == 2:
            return self.value(args[1], depth + 1)
        if name in ("builtins.list", "builtins.tuple", "builtins.sorted") and len(args) == 1:
            inner = self.value(args[0], depth + 1)
            if not isinstance(inner.value, (list, tuple, set)):
                return Value(UNKNOWN)
            if name != "builtins.sorted":
                return Value(list(inner.value), elements=inner.elements)
            try:
                order = sorted(range(len(inner.value)), key=list(inner.value).__getitem__)
            except TypeError:
                return Value(UNKNOWN)
            elements = [inner.elements[i] for i in order] if inner.elements else None
            return Value([list(inner.value)[i] for i in order], elements=elements)
        if name == "builtins.range" and 1 <= len(args) <= 3:
            bounds = [self.value(a, depth + 1).value for a in args]
            if all(isinstance(b, int) and not isinstance(b, bool) for b in bounds):
                try:
                    span = range(*bounds)
                except ValueError:  # step 0
                    return Value(UNKNOWN)
                return Value(list(span)) if len(span) <= MAX_ITEMS else Value(UNKNOWN)
            return Value(UNKNOWN)
        if isinstance(expr.func, ast.Attribute) and expr.func.attr == "split" and not expr.keywords:
            base = self.value(expr.func.value, depth + 1)
            seps = [self.value(a, depth + 1).value for a in args]
            simple = len(seps) <= 1 and len(args) == len(expr.args)
            if (
                simple
                and isinstance(base.value, str)
                and all(isinstance(s, str) and s for s in seps)
            ):
                return self._split(base, seps[0] if seps else None)
        return Value(UNKNOWN)

    def _split(self, base: Value, sep: str | None) -> Value:
        """``"a,b".split(",")``, each piece placed inside the string literal when that is written
        as is (plain quotes, no escapes), else on the whole literal: a finding points at the
        string, where the fix goes. Nothing is editable: a fix would have to rewrite the string."""
        text = base.value
        if sep is None:
            pieces = [(m.group(), m.start()) for m in re.finditer(r"\S+", text)]
        else:
            pieces, at = [], 0
            for piece in text.split(sep):
                pieces.append((piece, at))
                at += len(piece) + len(sep)
        span = base.span
        written = self.file.written(span) if span is not None else None
        plain = (
            written is not None
            and written[:1] in "\"'"
            and written == f"{written[0]}{text}{written[0]}"
        )
        elements = []
        for piece, at in pieces:
            where = span
            if plain:
                col = span.col + 1 + at
                where = Span(span.row, col, span.row, col + len(piece))
            elements.append(Value(piece, where, editable=False))
        return Value([p for p, _ in pieces], span, elements=elements, editable=False)

    def _attribute(self, expr: ast.Attribute, depth: int) -> Value:
        """``args.x`` → the ``default=`` of ``add_argument("--x")`` or of a dataclass field ``x``.

        Dataclass fields cover HfArgumentParser / TRL ``ModelConfig``-style argument classes.
        """
        name = expr.attr
        owner = expr.value
        owner_name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
        if owner_name == "TaskType":  # peft.TaskType.SEQ_CLS is the string "SEQ_CLS"
            return Value(name)
        follower = self.file.follower
        module = follower.imported_module(owner)
        if module is not None:  # ``import config`` ... ``config.TARGETS``
            value = self.file.siblings.value(module[0], module[1], name)
            return from_elsewhere(value, self.file.span(expr), name) if value.known else value
        cls = follower.class_of(owner)
        if cls is not None:  # ``Config.TARGETS``, ``cfg.lora.target_modules``: its class says
            field = follower.class_field(cls, name)
            default = _field_default(getattr(field, "value", None)) if field is not None else None
            return self.value(default, depth + 1) if default is not None else Value(UNKNOWN)
        members = follower.members(expr)
        if members is not None:  # ``self.targets``: what the class's methods assign to it
            return self._agreed(
                [self.value(v if i is None else _element(v, i), depth + 1) for v, i in members],
                editable=False,
            )
        self.file.needs.attributes.add(name)
        default = self._argparse_defaults().get(name)
        if default is None:
            default = self._dataclass_defaults().get(name)
        if default is None:
            return Value(UNKNOWN)
        return self.value(default, depth + 1)

    def _argparse_defaults(self) -> dict[str, ast.expr]:
        if self._argparse is None:
            self._argparse = {}
            for call in self.file.scopes.calls:
                func = call.func
                if not (isinstance(func, ast.Attribute) and func.attr == "add_argument"):
                    continue
                flags = [self._eval(a, 0).value for a in call.args]
                kwargs = {k.arg: k.value for k in call.keywords if k.arg is not None}
                long = [f for f in flags if isinstance(f, str) and f.startswith("--")]
                dest_expr = kwargs.get("dest")
                dest = self._eval(dest_expr, 0).value if dest_expr is not None else None
                if not isinstance(dest, str) and long:
                    dest = long[0][2:].replace("-", "_")
                if isinstance(dest, str) and "default" in kwargs:
                    self._argparse[dest] = kwargs["default"]
        return self._argparse

    def _dataclass_defaults(self) -> dict[str, ast.expr]:
        if self._fields is None:
            self._fields = {}
            for cls in self.file.scopes.classes:
                if not any(_decorator_name(d).endswith("dataclass") for d in cls.decorator_list):
                    continue
                for statement in cls.body:
                    if isinstance(statement, ast.AnnAssign) and isinstance(
                        statement.target, ast.Name
                    ):
                        default = _field_default(statement.value)
                        if default is not None:
                            self._fields[statement.target.id] = default
        return self._fields


def _element(node: ast.expr, index: int) -> ast.expr | None:
    """Element ``index`` of a tuple/list literal (None when it is not one, or too short)."""
    if not isinstance(node, (ast.Tuple, ast.List)) or index >= len(node.elts):
        return None
    element = node.elts[index]
    return None if isinstance(element, ast.Starred) else element


def _decorator_name(node: ast.expr) -> str:
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def _field_default(value: ast.expr | None) -> ast.expr | None:
    """``x: T = 3`` → 3; ``field(default=3)`` → 3; ``field(default_factory=lambda: [..])`` → [..]."""
    if value is None:
        return None
    if not (isinstance(value, ast.Call) and _decorator_name(value.func) == "field"):
        return value
    for keyword in value.keywords:
        if keyword.arg == "default":
            return keyword.value
        if keyword.arg == "default_factory":
            factory = keyword.value
            if isinstance(factory, ast.Lambda):
                return factory.body
            if isinstance(factory, ast.Name) and factory.id in ("list", "dict"):
                empty = ast.List([], ast.Load()) if factory.id == "list" else ast.Dict([], [])
                return ast.copy_location(empty, factory)
    return None
