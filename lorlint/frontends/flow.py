"""The calls applied to the model a config is applied to, in order (``Site.flow``).

The model is tracked through the assignments that hold it in the function (or module) that applies
the config: the one the applier reads, the ones before it that made it (the load, wrappers such as
``prepare_model_for_kbit_training``, ``.to(device)``), and the ones after it that keep it
(``model = get_peft_model(model, cfg)``, ``model = model.cuda()``). A call counts when its
receiver or model argument is a name those assignments reach — a model loaded again into the same
variable later is another model, and its calls are not this one's. Issue #14's rules read the
order (``prepare_model_for_kbit_training`` after ``get_peft_model``, gradient checkpointing
without input gradients, ``PeftModel.from_pretrained`` without ``is_trainable`` then trained).

API (stable; issue #14's rules build on it): ``Site.flow`` is a ``list[Step]`` sorted by
``(row, col)`` of each call (1-based, code points, like ``Span``). ``Step.call`` names the call:
``load``, ``prepare_model_for_kbit_training``, ``prepare_model_for_int8_training``,
``get_peft_model``, ``gradient_checkpointing_enable``, ``enable_input_require_grads``,
``merge_and_unload``, ``PeftModel.from_pretrained``, ``trainer``, ``optimizer``; ``Step.detail``
holds what each one's docstring in ``lorlint/site.py::Step`` lists, a value the code does not
state being None. The flow is empty when the config is not applied to a model in code (a site
with no applier, ``SFTTrainer(model="org/name")``). Steps come from the scope that applies the
config (plus the load, wherever it is): calls made on the model inside other functions are not
in it, so a rule must read a missing step as "not seen here", never as "not done".
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from lorlint.frontends.follow import IDENTITY_METHODS, WRAPPERS, Load, _argument_at, _last_name
from lorlint.site import Step

if TYPE_CHECKING:
    from lorlint.frontends.python import PythonFile

METHODS = frozenset(
    {"gradient_checkpointing_enable", "enable_input_require_grads", "merge_and_unload"}
)
FUNCTIONS = frozenset(
    {"prepare_model_for_kbit_training", "prepare_model_for_int8_training", "get_peft_model"}
)
OPTIMIZERS = ("Adam", "AdamW", "SGD", "Adafactor", "Lion", "Adagrad", "RMSprop", "PagedAdamW")


class Flow:
    def __init__(self, file: PythonFile, applier: ast.Call, model: ast.expr, load: Load | None):
        self.file = file
        self.applier = applier
        self.scope = file.scopes.call_scope.get(applier)
        self.holders: set[ast.stmt] = set()  # the assignments that hold this model
        self._assigned: dict[int, ast.stmt] = {}  # id(value) → the assignment of it, in scope
        for bindings in self.scope.bindings.values() if self.scope else ():
            for binding in bindings:
                if binding.kind == "assign" and binding.statement is not None:
                    self._assigned[id(binding.value)] = binding.statement
        self._backward(model, 0)
        self._forward()
        self.load = load

    def steps(self) -> list[Step]:
        steps = []
        for call in self.file.scopes.calls:
            if self.file.scopes.call_scope.get(call) is not self.scope:
                continue
            step = self._step(call)
            if step is not None:
                steps.append(step)
        if self.load is not None and self.load.call is not None and self.load.file is self.file:
            load = self.load.call
            if not any(s.call == "load" and (s.row, s.col) == self._at(load) for s in steps):
                detail = {"loader": self.load.loader, "quantized": self.load.quantized}
                steps.append(Step("load", *self._at(load), detail))
        return sorted(steps, key=lambda s: (s.row, s.col))

    # --- which assignments hold the model ---------------------------------------------------
    def _backward(self, expr: ast.expr | None, depth: int) -> None:
        if depth > 12 or expr is None:
            return
        if isinstance(expr, ast.Call):
            self._backward(_model_argument(expr), depth + 1)
        elif isinstance(expr, ast.Name):
            for binding in self.file.reaching(expr) or ():
                if binding.statement is not None and binding.statement not in self.holders:
                    self._hold(binding.statement)
                    self._backward(binding.value, depth + 1)

    def _forward(self) -> None:
        """Assignments (in source order) of what a holder's name becomes: ``model =
        get_peft_model(model, cfg)``, ``model = model.to(device)``."""
        for call in self.file.scopes.calls:
            if self.file.scopes.call_scope.get(call) is not self.scope:
                continue
            statement = self._assignment_of(call)
            if statement is None or statement in self.holders:
                continue
            keeps = _last_name(call.func) in WRAPPERS | IDENTITY_METHODS | FUNCTIONS
            if call is self.applier or (keeps and self._holds(_model_argument(call))):
                self._hold(statement)

    def _hold(self, statement: ast.stmt) -> None:
        """A statement that assigns this model: the calls on the names it binds are its steps
        (so the reduction must keep them)."""
        self.holders.add(statement)
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        for target in targets:
            for node in ast.walk(target):
                if isinstance(node, ast.Name):
                    self.file.needs.flows.add(node.id)

    def _assignment_of(self, call: ast.Call) -> ast.stmt | None:
        """The assignment whose whole value is this call (``x = call``, ``x, y = call``)."""
        return self._assigned.get(id(call))

    def _holds(self, expr: ast.expr | None) -> bool:
        """Is ``expr`` this model (a name a holding assignment reaches, or ``.to()`` of one)?"""
        while isinstance(expr, ast.Call) and _last_name(expr.func) in IDENTITY_METHODS:
            func = expr.func
            expr = func.value if isinstance(func, ast.Attribute) else None
        if not isinstance(expr, ast.Name):
            return False
        self.file.needs.flows.add(expr.id)  # its calls must be parsed
        reaching = self.file.reaching(expr)
        return bool(reaching) and any(b.statement in self.holders for b in reaching)

    # --- what each call does to it ----------------------------------------------------------
    def _step(self, call: ast.Call) -> Step | None:
        func, name = call.func, _last_name(call.func)
        evaluator = self.file.evaluator
        if name in METHODS and isinstance(func, ast.Attribute) and self._holds(func.value):
            return Step(name, *self._at(call))
        if name in FUNCTIONS and self._holds(_model_argument(call)):
            detail = {}
            for keyword in call.keywords:
                if keyword.arg == "use_gradient_checkpointing":
                    detail["use_gradient_checkpointing"] = _plain(evaluator.value(keyword.value))
            return Step(name, *self._at(call), detail)
        if name == "from_pretrained" and self._holds(_argument_at(call, 0, "model")):
            qualified = self.file.qualified(call.func) or ""
            if qualified.startswith("peft.") or "Peft" in qualified:
                trainable = False
                for keyword in call.keywords:
                    if keyword.arg == "is_trainable":
                        trainable = _plain(evaluator.value(keyword.value))
                return Step(
                    "PeftModel.from_pretrained", *self._at(call), {"is_trainable": trainable}
                )
        if name.endswith("Trainer") and self._holds(_argument_at(call, 0, "model")):
            config = next((k.value for k in call.keywords if k.arg == "peft_config"), None)
            given = config is not None and not (
                isinstance(config, ast.Constant) and config.value is None
            )
            return Step("trainer", *self._at(call), {"class": name, "peft_config": given})
        if name.endswith(OPTIMIZERS) and any(self._parameters_of(arg) for arg in call.args):
            return Step("optimizer", *self._at(call), {"class": name})
        if name in ("from_pretrained", "from_config") and self._assignment_of(call) in self.holders:
            load = self.load
            detail = {"loader": load.loader, "quantized": load.quantized} if load else {}
            return Step("load", *self._at(call), detail)
        return None

    def _at(self, node: ast.AST) -> tuple[int, int]:
        span = self.file.span(node)
        return span.row, span.col

    def _parameters_of(self, expr: ast.expr) -> bool:
        """``model.parameters()`` (or a comprehension / filter over it) of this model."""
        for node in ast.walk(expr):
            if (
                isinstance(node, ast.Call)
                and _last_name(node.func) in ("parameters", "named_parameters")
                and isinstance(node.func, ast.Attribute)
                and self._holds(node.func.value)
            ):
                return True
        return False


def model_flow(file: PythonFile, applier: ast.Call, model: ast.expr, load: Load | None):
    """The steps of the model ``applier`` applies a config to (``model`` is its argument)."""
    return Flow(file, applier, model, load).steps()


def _model_argument(call: ast.Call) -> ast.expr | None:
    """The model a wrapper, applier or identity method works on."""
    name = _last_name(call.func)
    if name in IDENTITY_METHODS and isinstance(call.func, ast.Attribute):
        return call.func.value
    if name in WRAPPERS or name in FUNCTIONS or name.endswith("Trainer"):
        return _argument_at(call, 0, "model")
    return None


def _plain(value):
    return value.value if value.known and isinstance(value.value, (bool, int, str)) else None
