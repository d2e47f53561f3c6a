"""The calls applied to the model a config is applied to, in order (``Site.flow``).

The model is tracked through the assignments that hold it in the function (or module) that applies
the config: the one the applier reads, the ones before it that made it (the load, wrappers such as
``prepare_model_for_kbit_training``, ``.to(device)``), and the ones after it that keep it
(``model = get_peft_model(model, cfg)``, ``model = model.cuda()``). A call counts when its
receiver or model argument is a name those assignments reach — a model loaded again into the same
variable later is another model, and its calls are not this one's. Issue #14's rules read the
order (``prepare_model_for_kbit_training`` after ``get_peft_model``, gradient checkpointing
without input gradients, ``PeftModel.from_pretrained`` without ``is_trainable`` then trained).

When the function that applies the config returns the model (``return get_peft_model(model,
cfg)``, ``return model, tokenizer``) and the file calls it exactly once (``model =
add_lora(model)`` in ``main()``), the flow goes on in that caller: its calls on the model before
that call, then the function's, then the caller's after it (up to ``MAX_CALLERS`` levels).

API (stable; issue #14's rules build on it): ``Site.flow`` is a ``list[Step]`` in the order the
code runs them: the load first (it may sit in another function), then the calls described above;
``row``/``col`` … ``end_row``/``end_col`` are each call's span (1-based, code points, like
``Span``). ``Step.call`` names
the call:
``load``, ``prepare_model_for_kbit_training``, ``prepare_model_for_int8_training``,
``get_peft_model``, ``gradient_checkpointing_enable``, ``enable_input_require_grads``,
``merge_and_unload``, ``set_adapter``, ``enable_adapters``, ``load_adapter``,
``PeftModel.from_pretrained``, ``trainer``, ``optimizer``; ``Step.detail``
holds what each one's docstring in ``lorlint/site.py::Step`` lists, a value the code does not
state being None. A call in an ``if`` arm other than the applier's is left out (the other arm's
run); ``Step.conditional`` is True for a call that may not run when the applier does (inside a
branch, loop or ``try`` the applier is not in): two trainers in ``if``/``else`` both appear,
both conditional. The flow is empty when the config is not applied to a model in code (a site
with no applier, ``SFTTrainer(model="org/name")``). Calls made on the model in other functions (a
helper called with it, a caller when there are several) are not in it, so a rule must read a
missing step as "not seen here", never as "not done".
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from lorlint.frontends.follow import (
    IDENTITY_METHODS,
    WRAPPERS,
    Load,
    _argument,
    _argument_at,
    _last_name,
)
from lorlint.frontends.moves import move_before
from lorlint.frontends.reaching import conditional, exclusive
from lorlint.frontends.setup import TRAINING_ARGS, load_facts
from lorlint.site import Step

if TYPE_CHECKING:
    from lorlint.frontends.python import PythonFile

METHODS = frozenset(
    {"gradient_checkpointing_enable", "enable_input_require_grads", "merge_and_unload",
     "set_adapter", "enable_adapters"}
)  # fmt: skip
FUNCTIONS = frozenset(
    {"prepare_model_for_kbit_training", "prepare_model_for_int8_training", "get_peft_model"}
)
PREPARE = ("prepare_model_for_kbit_training", "prepare_model_for_int8_training")
ADAPTERS = ("get_peft_model", "PeftModel.from_pretrained")  # the steps that add a LoRA adapter
# Trainers whose checkpointing at ``train()`` LL403 reads from their arguments: transformers' own,
# and TRL's SFTTrainer (which before TRL 0.20 enables no input grads for a model already wrapped).
CHECKPOINTING_TRAINERS = {("transformers", "Trainer"), ("transformers", "Seq2SeqTrainer"),
                          ("trl", "SFTTrainer")}  # fmt: skip
ARGUMENTS = {("transformers", name) for name in TRAINING_ARGS} | {("trl", "SFTConfig")}
OPTIMIZERS = ("Adam", "AdamW", "SGD", "Adafactor", "Lion", "Adagrad", "RMSprop", "PagedAdamW")
# The names (last parts) of the calls ``Flow._step`` can make a step of, and their endings
STEP_NAMES = METHODS | FUNCTIONS | {"load_adapter", "from_pretrained", "from_config"}
STEP_SUFFIXES = ("Trainer", *OPTIMIZERS)
KEEPS = WRAPPERS | IDENTITY_METHODS | FUNCTIONS  # calls whose result is the model they are given


class Flow:
    """The calls on one model in one scope: the scope of ``applier``, whose model argument (or,
    in a caller, whose result) is the model."""

    def __init__(self, file: PythonFile, applier: ast.Call, model: ast.expr | None, load=None):
        self.file = file
        self.applier = applier
        self.load: Load | None = load
        self.scope = file.scopes.call_scope.get(applier)
        self.holders: set[ast.AST] = set()  # the assignments (and parameter) holding the model
        # id(value) → the assignment of it, in scope
        self._assigned = file.scopes.assignments(self.scope) if self.scope else {}
        self._backward(model, 0)
        self._forward()

    def steps(self) -> list[Step]:
        """This scope's steps, in source order, but for those in an arm of an ``if`` the
        applier is not in (another run's model)."""
        root = self.scope.node if self.scope is not None else None
        structured = isinstance(root, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef)
        where = self.file.path_to(root, _start(self.applier)) if structured else []
        steps = []
        for call in _scope_calls(self.file, self.scope)[0]:
            step = self._step(call)
            if step is None:
                continue
            if structured:
                path = self.file.path_to(root, _start(call))
                if exclusive(path, where):
                    continue
                step.conditional = conditional(path, where)
            steps.append((step, call))
        steps.sort(key=lambda pair: (pair[0].row, pair[0].col))
        self._moves(steps)
        return [step for step, _ in steps]

    def _moves(self, steps: list[tuple[Step, ast.Call]]) -> None:
        """``detail["move"]`` on each prepare step after an adapter where moving it before that
        call is safe (LL401's fix, lorlint/frontends/moves.py)."""
        wrapper = None
        for step, call in steps:
            if step.call in ADAPTERS:
                wrapper = call
            elif step.call == "merge_and_unload":
                wrapper = None
            elif step.call in PREPARE and wrapper is not None:
                move = move_before(self.file, wrapper, call)
                if move is not None:
                    step.detail["move"] = move

    def caller(self) -> tuple[ast.Call, ast.expr | None] | None:
        """When this scope is a function that returns the model and the file calls it once:
        that call, and the argument it passes for the parameter that held the model."""
        function = self.scope.node if self.scope is not None else None
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            return None
        follower = self.file.follower
        if not any(self._is_model(value) for value in follower.returns(function)):
            return None
        calls = follower.calls_to(function)
        if len(calls) != 1:
            return None
        params = [holder for holder in self.holders if isinstance(holder, ast.arg)]
        argument = _argument(calls[0], function, params[0]) if len(params) == 1 else None
        return calls[0], argument

    def _is_model(self, value: ast.expr) -> bool:
        """``return model`` / ``return model, tokenizer`` (the model first)."""
        if isinstance(value, ast.Tuple) and value.elts:
            value = value.elts[0]
        return self._holds(value)

    # --- which assignments hold the model ---------------------------------------------------
    def _backward(self, expr: ast.expr | None, depth: int) -> None:
        if depth > 12 or expr is None:
            return
        if isinstance(expr, ast.Call):
            self._backward(_model_argument(expr), depth + 1)
        elif isinstance(expr, ast.Name):
            for binding in self.file.reaching(expr, params=True) or ():
                if binding.kind == "param":  # the model was passed in: the parameter holds it
                    self.holders.add(binding.node)
                    self.file.needs.flows.add(expr.id)
                elif binding.statement is not None and binding.statement not in self.holders:
                    self._hold(binding.statement)
                    self._backward(binding.value, depth + 1)

    def _forward(self) -> None:
        """Assignments (in source order) of what a holder's name becomes: ``model =
        get_peft_model(model, cfg)``, ``model = model.to(device)``."""
        for call, statement, keeps in _scope_calls(self.file, self.scope)[1]:
            if statement in self.holders:
                continue
            if call is self.applier or (keeps and self._holds(_model_argument(call))):
                self._hold(statement)

    def _hold(self, statement: ast.stmt) -> None:
        """A statement that assigns this model: the calls on the names it binds are its steps
        (so the reduction must keep them)."""
        self.holders.add(statement)
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        for target in targets:
            if type(target) is ast.Name:  # most targets: no walk
                self.file.needs.flows.add(target.id)
                continue
            for node in ast.walk(target):
                if isinstance(node, ast.Name):
                    self.file.needs.flows.add(node.id)

    def _assignment_of(self, call: ast.Call) -> ast.stmt | None:
        """The assignment whose whole value is this call (``x = call``, ``x, y = call``)."""
        return self._assigned.get(id(call))

    def _holds(self, expr: ast.expr | None) -> bool:
        """Is ``expr`` this model (the applier's result, a name a holding assignment reaches, or
        ``.to()`` of one)?"""
        if expr is self.applier:
            return True
        while isinstance(expr, ast.Call) and _last_name(expr.func) in IDENTITY_METHODS:
            func = expr.func
            expr = func.value if isinstance(func, ast.Attribute) else None
        if not isinstance(expr, ast.Name):
            return False
        self.file.needs.flows.add(expr.id)  # its calls must be parsed
        reaching = self.file.reaching(expr, params=True)
        return bool(reaching) and any(
            (b.node if b.kind == "param" else b.statement) in self.holders for b in reaching
        )

    # --- what each call does to it ----------------------------------------------------------
    def _step(self, call: ast.Call) -> Step | None:
        func, name = call.func, _last_name(call.func)
        evaluator = self.file.evaluator
        if name in METHODS and isinstance(func, ast.Attribute) and self._holds(func.value):
            if name == "gradient_checkpointing_enable":
                return Step(name, *self._at(call), {"use_reentrant": self._reentrant(call)})
            return Step(name, *self._at(call))
        if name == "load_adapter" and isinstance(func, ast.Attribute) and self._holds(func.value):
            return Step(name, *self._at(call), {"is_trainable": self._trainable(call)})
        if name in FUNCTIONS and self._holds(_model_argument(call)):
            detail = {}
            for keyword in call.keywords:
                if keyword.arg == "use_gradient_checkpointing":
                    detail["use_gradient_checkpointing"] = _plain(evaluator.value(keyword.value))
            return Step(name, *self._at(call), detail)
        if name == "from_pretrained" and self._holds(_argument_at(call, 0, "model")):
            qualified = self.file.qualified(call.func) or ""
            if qualified.startswith("peft.") or "Peft" in qualified:
                detail = {"is_trainable": self._trainable(call)}
                return Step("PeftModel.from_pretrained", *self._at(call), detail)
        if name.endswith("Trainer") and self._holds(_argument_at(call, 0, "model")):
            config = next((k.value for k in call.keywords if k.arg == "peft_config"), None)
            given = config is not None and not (
                isinstance(config, ast.Constant) and config.value is None
            )
            detail = {"class": name, "peft_config": given}
            qualified = (self.file.qualified(call.func) or "").split(".")
            if (qualified[0], name) in CHECKPOINTING_TRAINERS:
                detail.update(self._trainer_checkpointing(call))
            return Step("trainer", *self._at(call), detail)
        if name.endswith(OPTIMIZERS) and any(self._parameters_of(arg) for arg in call.args):
            return Step("optimizer", *self._at(call), {"class": name})
        if name in ("from_pretrained", "from_config") and self._assignment_of(call) in self.holders:
            return Step("load", *self._at(call), self._load_detail())
        return None

    def _reentrant(self, call: ast.Call) -> bool | str | None:
        """``use_reentrant`` in ``gradient_checkpointing_kwargs``: True / False as written,
        "default" when no kwargs are passed (transformers decides), None when unknown."""
        if not call.args and not call.keywords:
            return "default"
        kwargs = _argument_at(call, 0, "gradient_checkpointing_kwargs")
        if kwargs is None or any(k.arg is None for k in call.keywords):
            return None
        return self._use_reentrant(kwargs)

    def _use_reentrant(self, kwargs: ast.expr) -> bool | None:
        """``use_reentrant`` of a ``gradient_checkpointing_kwargs`` dict: True / False as written,
        None when the dict or its entry is unknown or absent."""
        value = self.file.evaluator.value(kwargs)
        given = value.value if value.known and isinstance(value.value, dict) else {}
        reentrant = given.get("use_reentrant")
        return reentrant if isinstance(reentrant, bool) else None

    def _trainer_checkpointing(self, call: ast.Call) -> dict:
        """What a trainer does about checkpointing at ``train()`` (transformers'
        ``Trainer._inner_training_loop``), from its ``args``: ``gradient_checkpointing`` (True /
        False / None unknown) and ``use_reentrant`` of its ``gradient_checkpointing_kwargs``
        ("default" when none are given)."""
        unknown = {"gradient_checkpointing": None, "use_reentrant": None}
        if any(k.arg is None for k in call.keywords):
            return unknown
        args = _argument_at(call, 1, "args")
        if args is None:
            return {"gradient_checkpointing": False, "use_reentrant": None}  # default arguments
        behind = self.file.evaluator.call_behind(args)
        name = (self.file.qualified(behind.func) or "") if behind is not None else ""
        if (name.split(".")[0], name.rpartition(".")[2]) not in ARGUMENTS:
            return unknown
        if any(k.arg is None for k in behind.keywords) or self._set_later(args):
            return unknown
        written = {k.arg: k.value for k in behind.keywords}
        enabled = written.get("gradient_checkpointing")
        enabled = False if enabled is None else _plain(self.file.evaluator.value(enabled))
        kwargs = written.get("gradient_checkpointing_kwargs")
        if kwargs is None or (isinstance(kwargs, ast.Constant) and kwargs.value is None):
            return {"gradient_checkpointing": enabled, "use_reentrant": "default"}
        return {"gradient_checkpointing": enabled, "use_reentrant": self._use_reentrant(kwargs)}

    def _set_later(self, args: ast.expr) -> bool:
        """``args.gradient_checkpointing... = ...`` anywhere in the file: the arguments as
        built are not the ones the trainer reads."""
        if not isinstance(args, ast.Name):
            return False
        self.file.needs.values.add(args.id)  # the reduction keeps every use of the name
        return any(
            name == args.id and attribute.startswith("gradient_checkpointing")
            for name, attribute in self.file.scopes.stored_attributes
        )

    def _trainable(self, call: ast.Call) -> bool | None:
        """``is_trainable=`` as passed (PEFT's and transformers' default: False); None unknown."""
        if any(keyword.arg is None for keyword in call.keywords):
            return None  # ``**kwargs`` may hold it
        for keyword in call.keywords:
            if keyword.arg == "is_trainable":
                return _plain(self.file.evaluator.value(keyword.value))
        return False

    def _load_detail(self) -> dict:
        """``loader`` and ``quantized``; with the loading call in hand, also ``quantization``
        and ``dtype`` as issue #14's rules need them (frontends/setup.py ``load_facts``)."""
        load = self.load
        if load is None:
            return {}
        detail = {"loader": load.loader, "quantized": load.quantized}
        if load.call is not None and load.file is not None:
            detail.update(load_facts(load.file, load.call))
        return detail

    def _at(self, node: ast.AST) -> tuple[int, int, int, int]:
        span = self.file.span(node)
        return span.row, span.col, span.end_row, span.end_col

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


MAX_CALLERS = 4


def model_flow(file: PythonFile, applier: ast.Call, model: ast.expr, load: Load | None):
    """The steps of the model ``applier`` applies a config to (``model`` is its argument): the
    load, then the calls in the applier's scope, and, while that scope is a function returning
    the model to its one caller, the caller's calls around that call."""
    flow = Flow(file, applier, model, load)
    steps = flow.steps()
    seen = {flow.scope}
    for _ in range(MAX_CALLERS):
        found = flow.caller()
        if found is None:
            break
        call, argument = found
        flow = Flow(file, call, argument, load)
        if flow.scope in seen:  # recursion
            break
        seen.add(flow.scope)
        at = flow._at(call)[:2]
        around = flow.steps()
        steps = [s for s in around if (s.row, s.col) < at] + steps
        steps += [s for s in around if (s.row, s.col) > at]
    if load is not None and load.call is not None and load.file is file:
        at = flow._at(load.call)
        if not any(s.call == "load" and (s.row, s.col) == at[:2] for s in steps):
            steps.append(Step("load", *at, flow._load_detail()))
    # the load runs first wherever it is (in another function), the others in the code's order
    return [s for s in steps if s.call == "load"] + [s for s in steps if s.call != "load"]


def _scope_calls(file: PythonFile, scope) -> tuple[list, list]:
    """A scope's calls as every flow in it reads them, sorted out once per file: those whose
    name can make a step (``_step`` tests these names first), and (call, assignment, whether the
    call keeps the model it is given) for each call that is the whole value of an assignment
    (``_forward``'s), in source order."""
    found = file.flow_calls.get(scope)
    if found is None:
        steps, assigned = [], []
        assignments = file.scopes.assignments(scope) if scope is not None else {}
        for call in file.scopes.calls_in.get(scope, ()):
            name = _last_name(call.func)
            if name in STEP_NAMES or name.endswith(STEP_SUFFIXES):
                steps.append(call)
            statement = assignments.get(id(call))
            if statement is not None:
                assigned.append((call, statement, name in KEEPS))
        found = file.flow_calls[scope] = (steps, assigned)
    return found


def _start(node: ast.AST) -> tuple[int, int]:
    return node.lineno, node.col_offset


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
