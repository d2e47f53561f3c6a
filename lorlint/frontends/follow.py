"""Following models and values through real code, the way its authors wrote it.

- Branches: every assignment that can reach a use counts (``reaching.py``); where they disagree
  about something a rule needs, that thing is unknown.
- Functions of the same file: a parameter holds what the calls of its function pass (the call
  that was followed into it, else every call in the file, else its default); a call's result is
  what the function returns (tuple returns by position).
- Methods: ``self.model`` holds what the class's methods assign to it.
- Classes: ``Config.TARGETS``, ``cfg.lora.target_modules`` through the class a name holds (a local
  class called, a parameter annotated with one, ``HfArgumentParser((A, B))
  .parse_args_into_dataclasses()`` by position) and its field defaults.
- Wrappers that hand back the model they are given (``prepare_model_for_kbit_training``,
  ``get_peft_model``, ``setup_chat_format``, ``accelerator.prepare``, ``.to(device)``,
  ``.cuda()``, ``.eval()``, ...) lead back to the ``from_pretrained`` that made it.

Every step is bounded (depth, and the evaluator's per-file budget); a cycle is no answer.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from lorlint.frontends.names import UNSLOTH_CLASSES
from lorlint.site import UNKNOWN, Value

if TYPE_CHECKING:
    from lorlint.frontends.python import PythonFile

MAX_DEPTH = 16
# Methods that return the model they are called on.
IDENTITY_METHODS = frozenset(
    {"to", "cuda", "cpu", "eval", "train", "half", "float", "bfloat16", "double"}
    | {"requires_grad_", "to_empty"}
)
# Functions that return the model passed as their first argument (alone or first of a tuple).
WRAPPERS = frozenset(
    {"prepare_model_for_kbit_training", "prepare_model_for_int8_training", "get_peft_model"}
    | {"setup_chat_format", "compile"}
)
# HfArgumentParser methods that return one instance per dataclass type, in order.
_PARSE_INTO_DATACLASSES = frozenset(
    {"parse_args_into_dataclasses", "parse_yaml_file", "parse_json_file", "parse_dict"}
)
# ``accelerator.prepare(model, optimizer, ...)`` returns its arguments in order.
PASS_THROUGH = frozenset({"prepare"})

# A parameter's function → the call that was followed into it (and the frames of that call).
Frames = tuple[tuple[ast.AST, ast.Call, "Frames"], ...]


class Load:
    """A ``from_pretrained`` / ``from_config`` call that produces a model (or what several
    that may produce it agree on: a field they disagree on is unknown, ``None``)."""

    def __init__(
        self,
        ref: Value,
        loader: str | None,
        task: str | None,
        quantized: str | None,
        skip_modules: list[str] | None = None,
        call: ast.Call | None = None,
        file: object = None,
    ):
        self.ref = ref
        self.loader = loader
        self.task = task
        self.quantized = quantized
        self.skip_modules = skip_modules
        self.call = call  # the loading call (None when several disagree)
        self.file = file  # the PythonFile the call is in


class _Cycle:
    """No model from this path (it led back to itself, or to a ``None`` placeholder)."""


CYCLE = _Cycle()


def merge(loads: list) -> Load | _Cycle | None:
    """What every path agrees on; ``None`` if a path is unknown."""
    real = [load for load in loads if load is not CYCLE]
    if not real:
        return CYCLE if loads else None
    if any(load is None for load in real):
        return None
    first = real[0]
    if len(real) == 1 or (first.call is not None and all(ld.call is first.call for ld in real)):
        return first  # one load, or one loading call reached along several paths
    refs = {repr(load.ref.value) for load in real}
    return Load(
        first.ref if len(refs) == 1 and first.ref.known else Value(UNKNOWN),
        _agreed(load.loader for load in real),
        _agreed(load.task for load in real),
        _agreed(load.quantized for load in real),
        first.skip_modules
        if all(load.skip_modules == first.skip_modules for load in real)
        else None,
    )


def _agreed(values):
    values = list(values)
    return values[0] if all(v == values[0] for v in values) else None


def _last_name(func: ast.expr) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _element(node: ast.expr | None, index: int | None) -> ast.expr | None:
    if index is None:
        return node
    if isinstance(node, (ast.Tuple, ast.List)) and index < len(node.elts):
        element = node.elts[index]
        return None if isinstance(element, ast.Starred) else element
    return None


class Follower:
    def __init__(self, file: PythonFile):
        self.file = file
        self._calls_to: dict[ast.AST, list[ast.Call]] = {}
        self._assigned_in: dict[ast.ClassDef, list[tuple[ast.AST, ast.stmt]]] = {}
        self._returns: dict[ast.AST, list[ast.expr]] = {}

    # --- where a name's value comes from ----------------------------------------------------
    def sources(
        self, name: ast.Name, frames: Frames = ()
    ) -> list[tuple[ast.expr, int | None, Frames]] | None:
        """The expressions ``name`` can hold at this use, each with the tuple position it is
        unpacked from and the frames to read it in; None when unknown."""
        reaching = self.file.reaching(name, params=True)
        if not reaching:
            return None
        out: list[tuple[ast.expr, int | None, Frames]] = []
        for binding in reaching:
            if binding.kind == "param":
                found = self._parameter(binding.node, binding.function, frames)
                if found is None:
                    return None
                out.extend(found)
            else:
                assert binding.value is not None
                out.append((binding.value, binding.index, frames))
        return out

    def imported(self, name: ast.Name) -> tuple[str, int, str] | None:
        """(module, level, name) when ``name`` is bound once, by ``from module import name``."""
        found = self.file.scopes.bindings_of(name)[1]
        self.file.needs.bindings.add(name.id)
        if len(found) != 1 or not isinstance(found[0].node, ast.ImportFrom):
            return None
        node = found[0].node
        for alias in node.names:
            if (alias.asname or alias.name) == name.id and alias.name != "*":
                return node.module or "", node.level, alias.name
        return None

    def imported_module(self, expr: ast.expr) -> tuple[str, int] | None:
        """(module, level) when ``expr`` is a name bound once by ``import module`` (or
        ``from . import module``)."""
        if not isinstance(expr, ast.Name):
            return None
        found = self.file.scopes.bindings_of(expr)[1]
        self.file.needs.bindings.add(expr.id)
        if len(found) != 1 or found[0].kind != "import":
            return None
        node = found[0].node
        if isinstance(node, ast.Import):
            for alias in node.names:
                if (alias.asname or alias.name) == expr.id:
                    return alias.name, 0
        elif isinstance(node, ast.ImportFrom) and node.level and not node.module:
            return expr.id, node.level  # ``from . import config``
        return None

    def _parameter(self, param: ast.arg, function, frames: Frames):
        """What a parameter holds: the argument of the call followed into the function, else of
        every call of it in this file, else its default."""
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return None
        for entered, call, outer in frames:
            if entered is function:
                argument = _argument(call, function, param)
                if argument is not None:
                    return [(argument, None, outer)]
                default = _default(function, param)
                return None if default is None else [(default, None, outer)]
        calls = self.calls_to(function)
        found = []
        for call in calls:
            argument = _argument(call, function, param)
            if argument is None:
                argument = _default(function, param)
            if argument is None:
                return None
            found.append((argument, None, frames))
        if found:
            return found
        default = _default(function, param)
        return None if default is None else [(default, None, frames)]

    def calls_to(self, function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.Call]:
        """The calls of a function of this file: ``f(...)`` for a function, ``self.f(...)``
        inside its class for a method."""
        if function in self._calls_to:
            return self._calls_to[function]
        self.file.needs.values.add(function.name)  # every use of the name must be parsed
        cls = self.file.method_class(function)
        constructor = cls is not None and function.name == "__init__"
        if constructor:
            self.file.needs.values.add(cls.name)
        out = []
        for call in self.file.scopes.calls:
            func = call.func
            if constructor and isinstance(func, ast.Name) and func.id == cls.name:
                if self._class_named(func) is cls:  # ``Finetuner(...)`` calls __init__
                    out.append(call)
            elif isinstance(func, ast.Name) and func.id == function.name:
                found = self.file.scopes.bindings_of(func)[1]
                if any(b.kind == "def" and b.node is function for b in found):
                    out.append(call)
            elif (
                isinstance(func, ast.Attribute)
                and func.attr == function.name
                and isinstance(func.value, ast.Name)
                and func.value.id == "self"
                and self.file.method_class(function) is not None
            ):
                out.append(call)
        self._calls_to[function] = out
        return out

    def local_function(self, call: ast.Call) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        """The function of this file a call calls, if it is one (``f(...)``, ``self.f(...)``)."""
        func = call.func
        if isinstance(func, ast.Name):
            found = self.file.scopes.bindings_of(func)[1]
            self.file.needs.bindings.add(func.id)
            defs = [b.node for b in found if b.kind == "def"]
            if (
                len(found) == 1
                and defs
                and isinstance(defs[0], ast.FunctionDef | ast.AsyncFunctionDef)
            ):
                return defs[0]
        elif isinstance(func, ast.Attribute) and _is_self(func.value):
            cls = self.file.enclosing_class(func.value)
            if cls is not None:
                self.file.needs.functions.add(func.attr)
                for statement in cls.body:
                    is_def = isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef)
                    if is_def and statement.name == func.attr:
                        return statement
        return None

    def returns(self, function) -> list[ast.expr]:
        """The values a function returns (its own ``return`` statements, not nested ones'),
        found once per function (each flow through it asks; read only)."""
        self.file.needs.returns.add(function.name)
        found = self._returns.get(function)
        if found is None:
            found = self._returns[function] = self._returns_of(function)
        return found

    @staticmethod
    def _returns_of(function) -> list[ast.expr]:
        out, stack = [], list(function.body)
        while stack:
            node = stack.pop()
            if isinstance(node, ast.Return):
                if node.value is not None:
                    out.append(node.value)
            elif isinstance(node, ast.stmt) and not isinstance(
                node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
            ):
                for field in ("body", "orelse", "finalbody", "handlers", "cases"):
                    stack.extend(getattr(node, field, ()))
            elif isinstance(node, (ast.ExceptHandler, ast.match_case)):
                stack.extend(node.body)
        return sorted(out, key=lambda n: (n.lineno, n.col_offset))

    def _assignments_in(self, cls: ast.ClassDef) -> list[tuple[ast.AST, ast.stmt]]:
        """The assignments with a value in the class's methods, each with its method (walked
        once per class, not once per ``self.x`` read)."""
        found = self._assigned_in.get(cls)
        if found is None:
            found = self._assigned_in[cls] = [
                (statement, node)
                for statement in cls.body
                if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef)
                for node in ast.walk(statement)
                if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None
            ]
        return found

    def members(self, use: ast.Attribute) -> list[tuple[ast.expr, int | None]] | None:
        """What ``self.<name>`` holds: the assignments to it in the method before this use, else
        every assignment to it in the class's other methods."""
        if not _is_self(use.value):
            return None
        cls = self.file.enclosing_class(use.value)
        method = self.file.enclosing_function(use.value)
        if cls is None or method is None:
            return None
        self.file.needs.members.add(use.attr)
        here, elsewhere = [], []
        position = (use.lineno, use.col_offset)
        for statement, node in self._assignments_in(cls):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for value, index in _member_targets(target, node.value, use.attr):
                    if statement is method:
                        end = (node.end_lineno or node.lineno, node.end_col_offset or 0)
                        if end <= position:
                            here.append((end, value, index))
                    else:
                        elsewhere.append((value, index))
        if here:
            return [max(here, key=lambda item: item[0])[1:]]
        return elsewhere or None

    # --- classes ----------------------------------------------------------------------------
    def class_of(self, expr: ast.expr, depth: int = 0) -> ast.ClassDef | None:
        """The class of this file that ``expr`` is (``Config``) or holds an instance of
        (``cfg = Config()``, a parameter annotated ``cfg: Config``, ``model_args, data_args =
        HfArgumentParser((ModelArgs, DataArgs)).parse_args_into_dataclasses()``, a field
        ``lora: LoraArgs = field(default_factory=LoraArgs)`` of such a class)."""
        if depth > MAX_DEPTH:
            return None
        if isinstance(expr, ast.Attribute):
            owner = self.class_of(expr.value, depth + 1)
            field = self.class_field(owner, expr.attr) if owner is not None else None
            return self._field_class(field, depth) if field is not None else None
        if not isinstance(expr, ast.Name):
            return None
        itself = self._class_named(expr)
        if itself is not None:
            return itself
        found = self.file.scopes.bindings_of(expr)[1]
        if len(found) == 1 and found[0].kind == "param":
            annotation = getattr(found[0].node, "annotation", None)
            return self._class_named(annotation) if annotation is not None else None
        sources = self.sources(expr)
        if not sources:
            return None
        classes = {self._instance_class(value, index, depth) for value, index, _ in sources}
        return classes.pop() if len(classes) == 1 else None

    def _class_named(self, expr: ast.expr | None) -> ast.ClassDef | None:
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):  # ``cfg: "Config"``
            return next((c for c in self.file.scopes.classes if c.name == expr.value), None)
        if not isinstance(expr, ast.Name):
            return None
        self.file.needs.bindings.add(expr.id)
        found = self.file.scopes.bindings_of(expr)[1]
        if len(found) == 1 and isinstance(found[0].node, ast.ClassDef):
            return found[0].node
        return None

    def _instance_class(self, value: ast.expr, index: int | None, depth: int):
        if not isinstance(value, ast.Call):
            return None
        cls = self._class_named(value.func)
        if cls is not None:
            return cls if index is None else None
        if _last_name(value.func) in _PARSE_INTO_DATACLASSES and isinstance(
            value.func, ast.Attribute
        ):
            parsers = self.file.evaluator.calls_behind(value.func.value)
            if len(parsers) != 1 or _last_name(parsers[0].func) != "HfArgumentParser":
                return None
            types = _argument_at(parsers[0], 0, "dataclass_types")
            if isinstance(types, (ast.Tuple, ast.List)):
                return self._class_named(_element(types, index or 0))
            return self._class_named(types) if index in (None, 0) else None
        return None

    def class_field(self, cls: ast.ClassDef, name: str) -> ast.stmt | None:
        """The last statement of ``cls`` (or of a base class of this file) binding ``name``."""
        self.file.needs.attributes.add(name)
        for _ in range(MAX_DEPTH):
            for statement in reversed(cls.body):
                targets = (
                    statement.targets
                    if isinstance(statement, ast.Assign)
                    else [statement.target]
                    if isinstance(statement, ast.AnnAssign)
                    else []
                )
                if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                    return statement
            bases = [self._class_named(base) for base in cls.bases]
            local = [base for base in bases if base is not None]
            if not local:
                return None
            cls = local[0]
        return None

    def _field_class(self, field: ast.stmt, depth: int) -> ast.ClassDef | None:
        annotation = getattr(field, "annotation", None)
        named = self._class_named(annotation) if annotation is not None else None
        if named is not None:
            return named
        value = field.value
        if isinstance(value, ast.Call):
            if _last_name(value.func) == "field":
                for keyword in value.keywords:
                    if keyword.arg == "default_factory":
                        return self._class_named(keyword.value)
                return None
            return self._class_named(value.func)
        return None

    # --- models -----------------------------------------------------------------------------
    def load_behind(self, expr: ast.expr | None) -> Load | None:
        found = self._load(expr, None, (), 0, frozenset())
        return found if isinstance(found, Load) else None

    def _load(self, expr, index, frames: Frames, depth: int, seen: frozenset):
        if expr is None or depth > MAX_DEPTH:
            return None
        if id(expr) in seen or _is_none(expr):  # ``model = None`` before the real assignment
            return CYCLE
        seen = seen | {id(expr)}
        if isinstance(expr, ast.Name):
            sources = self.sources(expr, frames)
            if sources is None:
                return None
            return merge([self._load(value, i, f, depth + 1, seen) for value, i, f in sources])
        if isinstance(expr, ast.Attribute):
            members = self.members(expr)
            if members is None:
                return None
            return merge([self._load(value, i, frames, depth + 1, seen) for value, i in members])
        if isinstance(expr, (ast.Tuple, ast.List)) and index is not None:
            return self._load(_element(expr, index), None, frames, depth + 1, seen)
        if not isinstance(expr, ast.Call):
            return None
        return self._load_call(expr, index, frames, depth, seen)

    def _load_call(self, call: ast.Call, index, frames: Frames, depth: int, seen: frozenset):
        name = self.file.qualified(call.func) or ""
        method = _last_name(call.func)
        if method in ("from_pretrained", "from_config"):
            owner = name.rpartition(".")[0].rpartition(".")[2] if name else ""
            if not owner and isinstance(call.func, ast.Attribute):
                owner = _last_name(call.func.value)
            if name.startswith("peft.") or owner.startswith(("PeftModel", "PeftMixedModel")):
                # an adapter loaded onto a base model: the base model is the model
                return self._load(_argument_at(call, 0, "model"), None, frames, depth + 1, seen)
            if index not in (None, 0):
                return None  # Unsloth returns (model, tokenizer)
            return self._from_pretrained(call, owner, method)
        if method in IDENTITY_METHODS and isinstance(call.func, ast.Attribute):
            return self._load(call.func.value, index, frames, depth + 1, seen)
        if method in WRAPPERS:
            if index not in (None, 0):
                return None
            model = _argument_at(call, 0, "model")
            return self._load(model, None, frames, depth + 1, seen)
        if method in PASS_THROUGH and isinstance(call.func, ast.Attribute):
            return self._load(_argument_at(call, index or 0, ""), None, frames, depth + 1, seen)
        function = self.local_function(call)
        if function is None:
            return None
        inner = ((function, call, frames), *frames)
        values = self.returns(function)
        return merge([self._load(v, index, inner, depth + 1, seen) for v in values] or [None])

    def _from_pretrained(self, call: ast.Call, owner: str, method: str) -> Load:
        from lorlint.frontends.python import task_for_loader

        evaluator = self.file.evaluator
        ref_expr = _argument_at(call, 0, "model_name" if owner in UNSLOTH_CLASSES else "")
        if ref_expr is None:
            ref_expr = _argument_at(call, 0, "pretrained_model_name_or_path")
        ref = evaluator.value(ref_expr) if ref_expr is not None else Value(UNKNOWN)
        if method == "from_config":
            ref = Value(UNKNOWN)
        quantized, skip = self._quantized(call)
        return Load(ref, owner or None, task_for_loader(owner), quantized, skip, call, self.file)

    def _quantized(self, call: ast.Call, depth: int = 0) -> tuple[str | None, list[str] | None]:
        """("4bit" / "8bit" / None, llm_int8_skip_modules) from the loading call's keywords."""
        evaluator = self.file.evaluator
        mode, skip = None, None
        for keyword in call.keywords:
            key = keyword.arg
            if key in ("load_in_4bit", "load_in_8bit"):
                if evaluator.value(keyword.value).value is True:
                    mode = key.removeprefix("load_in_")
            elif key == "llm_int8_skip_modules":
                value = evaluator.value(keyword.value).value
                if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
                    skip = list(value)
            elif key == "quantization_config" and depth < 4:
                inner = evaluator.call_behind(keyword.value)
                if inner is not None:
                    return self._quantized(inner, depth + 1)
        return mode, skip


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _is_self(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id == "self"


def _member_targets(target: ast.expr, value: ast.expr, attr: str):
    """``self.<attr> = value`` (or an element of a tuple target): (value, tuple position)."""
    if isinstance(target, ast.Attribute) and target.attr == attr and _is_self(target.value):
        yield value, None
    elif isinstance(target, (ast.Tuple, ast.List)):
        for i, element in enumerate(target.elts):
            if (
                isinstance(element, ast.Attribute)
                and element.attr == attr
                and _is_self(element.value)
            ):
                yield value, i


def _argument_at(call: ast.Call, index: int, keyword: str) -> ast.expr | None:
    for kw in call.keywords:
        if kw.arg == keyword and keyword:
            return kw.value
    positional = []
    for arg in call.args:
        if isinstance(arg, ast.Starred):
            break
        positional.append(arg)
    return positional[index] if index < len(positional) else None


def _argument(call: ast.Call, function, param: ast.arg) -> ast.expr | None:
    """The argument a call passes for ``param`` (None: not passed, or not knowable)."""
    args = function.args
    positional = [*args.posonlyargs, *args.args]
    for kw in call.keywords:
        if kw.arg is None:
            return None  # **kwargs could pass it
        if kw.arg == param.arg:
            return kw.value
    if param not in positional:
        return None
    index = positional.index(param)
    if positional and positional[0].arg == "self":
        index -= 1  # ``self.method(...)`` or ``Class(...)``: self is not among the arguments
    if index < 0:
        return None
    passed = []
    for arg in call.args:
        if isinstance(arg, ast.Starred):
            return None if len(passed) <= index else passed[index]
        passed.append(arg)
    return passed[index] if index < len(passed) else None


def _default(function, param: ast.arg) -> ast.expr | None:
    args = function.args
    positional = [*args.posonlyargs, *args.args]
    if param in positional:
        offset = len(positional) - len(args.defaults)
        index = positional.index(param)
        return args.defaults[index - offset] if index >= offset else None
    if param in args.kwonlyargs:
        return args.kw_defaults[args.kwonlyargs.index(param)]
    return None
