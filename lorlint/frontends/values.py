"""Static evaluation of the expressions real training scripts pass as PEFT keywords.

Literals; names bound once in module or function scope; list/str concatenation; ``"a,b".split(",")``;
f-strings with known parts; ``os.environ.get`` / ``os.getenv`` defaults; argparse defaults read back
through ``args.x``; ``range``. Anything else is UNKNOWN.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

import libcst as cst

from lorlint.site import UNKNOWN, Value

if TYPE_CHECKING:
    from lorlint.frontends.python import PythonFile

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
