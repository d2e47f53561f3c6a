"""PEFT's target matching, reimplemented over a layer table (no torch, no peft import).

Mirrors, step for step, what ``get_peft_model`` / ``inject_adapter_in_model`` do in PEFT 0.21
(``BaseTuner.inject_adapter`` and ``check_target_module_exists`` in peft/tuners/tuners_utils.py,
``_convert_peft_config_moe`` in peft/utils/transformers_weight_conversion.py). The differential test
(tests/test_match_vs_peft.py) runs PEFT itself on the same models and requires identical results.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from lorlint.models import bounded
from lorlint.models.peft_defaults import DEFAULT_TARGET_MODULES
from lorlint.models.table import ALL_LINEAR_KINDS, LORA_KINDS, LayerTable, Module

ALL_LINEAR = "all-linear"
SEQ_CLS_HEAD_NAMES = ("score", "classifier")
# Heads that ``PeftModelFor<Task>`` adds to ``modules_to_save`` (peft/peft_model.py).
TASK_HEADS = {
    "SEQ_CLS": ("classifier", "score"),
    "TOKEN_CLS": ("classifier", "score"),
    "QUESTION_ANS": ("qa_outputs",),
}
# transformers v5 fused MoE experts; PEFT rewrites v4 names to ``target_parameters``.
MOE_TARGET_MODULE_MAPPING: dict[str, dict[str, str]] = {
    "mixtral": {
        "gate": "gate.weight",
        "w1": "gate_up_proj",
        "w3": "gate_up_proj",
        "w2": "down_proj",
    },
    "qwen2_moe": {
        "gate": "gate.weight",
        "gate_proj": "gate_up_proj",
        "up_proj": "gate_up_proj",
        "down_proj": "down_proj",
    },
}
MOE_FUSED_TARGETS: dict[str, dict[str, list[str]]] = {
    "mixtral": {"gate_up_proj": ["w1", "w3"]},
    "qwen2_moe": {"gate_up_proj": ["gate_proj", "up_proj"]},
}


# Module kinds each method can wrap (LoHa / LoKr: peft/tuners/lycoris_utils.py); others as LoRA.
SUPPORTED_KINDS = {
    "LORA": frozenset(LORA_KINDS),
    "LOHA": frozenset({"linear", "conv1d", "conv2d"}),
    "LOKR": frozenset({"linear", "conv1d", "conv2d"}),
}


def can_wrap(module: Module, peft_type: str = "LORA") -> bool:
    """Whether this PEFT method can put an adapter on the module."""
    return module.kind in SUPPORTED_KINDS.get(peft_type, SUPPORTED_KINDS["LORA"])


@dataclass
class TargetSpec:
    """The matching-relevant part of a PEFT config, as PEFT holds it after ``__post_init__``."""

    target_modules: str | Sequence[str] | None = None
    exclude_modules: str | Sequence[str] | None = None
    layers_to_transform: int | Sequence[int] | None = None
    layers_pattern: str | Sequence[str] | None = None
    modules_to_save: Sequence[str] | None = None
    target_parameters: Sequence[str] | None = None
    rank_pattern: dict[str, int] = field(default_factory=dict)
    alpha_pattern: dict[str, int] = field(default_factory=dict)
    task_type: str | None = None
    peft_type: str = "LORA"
    r: int = 8  # LoraConfig's defaults; MoE conversion derives fused ranks from them
    lora_alpha: int = 8
    # get_peft_model wraps the model in PeftModelFor<Task>, which adds the task head to modules_to_save;
    # inject_adapter_in_model does not.
    via_get_peft_model: bool = True


class PeftError(Exception):
    """An error PEFT itself would raise for this config on this model."""

    def __init__(self, kind: str, message: str, modules: Sequence[str] = ()):
        super().__init__(message)
        self.kind = kind  # config | unsupported | not-found | all-excluded | nothing-targeted | ...
        self.message = message
        self.modules = tuple(modules)


@dataclass
class MatchResult:
    modules: list[str]  # full names PEFT wraps with adapters, in named_modules() order
    parameters: list[str]  # full ``module.param`` names adapted through target_parameters
    error: PeftError | None = None
    warnings: list[str] = field(default_factory=list)
    effective_targets: str | set[str] | None = (
        None  # target_modules after defaults / MoE conversion
    )
    excluded: list[str] = field(default_factory=list)
    rank_pattern: dict[str, int] = field(default_factory=dict)  # after MoE conversion
    converted: dict[str, str] = field(default_factory=dict)  # v4 MoE name → target parameter
    defaulted: bool = False  # target_modules came from PEFT's per-model default

    @property
    def ok(self) -> bool:
        return self.error is None


def _as_list(value) -> list | None:
    if value is None or isinstance(value, str):
        return value
    return list(value)


def _normalise(spec: TargetSpec) -> TargetSpec:
    """LoraConfig.__post_init__: lists become sets, and the config-time checks."""
    if isinstance(spec.target_parameters, str):
        raise PeftError("config", "`target_parameters` must be a list of strings or None.")
    if isinstance(spec.target_modules, str) and spec.layers_to_transform is not None:
        raise PeftError(
            "config", "`layers_to_transform` cannot be used when `target_modules` is a str."
        )
    if isinstance(spec.target_modules, str) and spec.layers_pattern is not None:
        raise PeftError("config", "`layers_pattern` cannot be used when `target_modules` is a str.")
    if spec.layers_pattern and spec.layers_to_transform is None:
        raise PeftError(
            "config",
            "When `layers_pattern` is specified, `layers_to_transform` must also be specified. ",
        )
    mts = list(spec.modules_to_save) if spec.modules_to_save is not None else None
    if spec.via_get_peft_model and spec.task_type in TASK_HEADS:
        mts = (mts or []) + list(TASK_HEADS[spec.task_type])
    tm = spec.target_modules
    return TargetSpec(
        target_modules=set(tm) if tm is not None and not isinstance(tm, str) else tm,
        exclude_modules=(
            set(spec.exclude_modules)
            if spec.exclude_modules is not None and not isinstance(spec.exclude_modules, str)
            else spec.exclude_modules
        ),
        layers_to_transform=(
            list(spec.layers_to_transform)
            if isinstance(spec.layers_to_transform, (list, tuple, range))
            else spec.layers_to_transform
        ),
        layers_pattern=_as_list(spec.layers_pattern),
        modules_to_save=mts,
        target_parameters=list(spec.target_parameters)
        if spec.target_parameters is not None
        else None,
        rank_pattern=dict(spec.rank_pattern or {}),
        alpha_pattern=dict(spec.alpha_pattern or {}),
        task_type=spec.task_type,
        peft_type=spec.peft_type,
        r=spec.r,
        lora_alpha=spec.lora_alpha,
        via_get_peft_model=spec.via_get_peft_model,
    )


class _Excluded:
    """PEFT's ``_ExcludedModule``: falsy, but distinguishable from a plain miss."""

    def __bool__(self) -> bool:
        return False


EXCLUDED = _Excluded()


def layer_index_of(name: str, layers_pattern: str | Sequence[str] | None) -> int | None:
    """The layer index PEFT reads from a module name for ``layers_to_transform``."""
    match = None
    if layers_pattern is None or len(layers_pattern) == 0:
        match = re.match(r".*?\.[^.]*\.(?P<idx>\d+)\.", name)
    else:
        patterns = [layers_pattern] if isinstance(layers_pattern, str) else layers_pattern
        for pattern in patterns:
            match = bounded.match(rf"(?:^|.*?\.){pattern}\.(?P<idx>\d+)\.", name)
            if match is not None:
                break
    return int(match.group("idx")) if match else None


def check_target_module_exists(spec: TargetSpec, key: str):
    """PEFT's ``check_target_module_exists``: truthy on a hit, ``EXCLUDED`` or falsy otherwise."""
    if spec.exclude_modules:
        if isinstance(spec.exclude_modules, str):
            if bounded.fullmatch(spec.exclude_modules, key):
                return EXCLUDED
        elif key in spec.exclude_modules or any(
            key.endswith(f".{ex}") for ex in spec.exclude_modules
        ):
            return EXCLUDED
    if spec.modules_to_save and any(
        bounded.match(rf"(^|.*\.){m}($|\..*)", key) for m in spec.modules_to_save
    ):
        return EXCLUDED
    if spec.target_modules is None and spec.target_parameters is not None:
        return False
    if isinstance(spec.target_modules, str):
        return bounded.fullmatch(spec.target_modules, key)
    if key in spec.target_modules:
        return True
    found = any(key.endswith(f".{t}") for t in spec.target_modules)
    lt = spec.layers_to_transform
    using_layers = lt is not None and (len(lt) != 0 if isinstance(lt, list) else True)
    if using_layers and found:
        idx = layer_index_of(key, spec.layers_pattern)
        if idx is None:
            return False
        return idx == lt if isinstance(lt, int) else idx in lt
    return found


def entry_matches(entry: str, name: str) -> bool:
    """Whether one list entry of ``target_modules`` matches a full module name (exact or ``.``-suffix)."""
    return name == entry or name.endswith("." + entry)


def all_linear_names(table: LayerTable, task_type: str | None) -> set[str]:
    """What ``"all-linear"`` expands to: Linear/Conv1D modules but the output layer."""
    names = {m.name for m in table.modules if m.kind in ALL_LINEAR_KINDS}
    if table.is_pretrained_model:
        if table.output_embedding is not None:
            names.discard(table.output_embedding)
        elif task_type == "SEQ_CLS":
            for head in SEQ_CLS_HEAD_NAMES:
                if head in table.children:
                    names.discard(head)
                    break
    return names


def _is_all_linear(value) -> bool:
    return isinstance(value, str) and value.lower() == ALL_LINEAR


def _convert_moe(spec: TargetSpec, table: LayerTable, converted: dict[str, str]) -> None:
    """transformers v5: rewrite v4 MoE expert/router names to ``target_parameters`` (in place)."""
    family = table.meta.get("moe_conversion")
    if spec.peft_type != "LORA" or family not in MOE_TARGET_MODULE_MAPPING:
        return
    mapping = MOE_TARGET_MODULE_MAPPING[family]
    fused = MOE_FUSED_TARGETS[family]
    if isinstance(spec.target_modules, str):
        resolved = _resolve_string_targets(spec, table, mapping)
        if not resolved:
            return
        spec.target_modules = resolved
    params = set(spec.target_parameters or [])
    remaining: set[str] = set()
    seen: dict[str, set[str]] = {new: set() for new in fused}
    for target in spec.target_modules or []:
        for old, new in mapping.items():
            if target == old or target.endswith(f".{old}"):
                params.add(new)
                converted[target] = new
                if new in fused:
                    seen.setdefault(new, set()).add(old)
                break
        else:
            remaining.add(target)
    for new, required in fused.items():
        present = seen.get(new, set())
        if 0 < len(present) < len(required):
            missing = ", ".join(sorted(set(required) - present))
            raise PeftError(
                "moe-fused",
                f"Cannot convert PEFT target(s) {', '.join(sorted(present))} without also targeting "
                f"{missing} because they are fused into {new}.",
            )
        if len(present) == len(required) > 1:
            key = rf".*\.{re.escape(new)}"
            spec.rank_pattern[key] = spec.r * len(required)
            spec.alpha_pattern[key] = spec.lora_alpha * len(required)
    spec.target_parameters = params
    spec.target_modules = remaining


def _resolve_string_targets(spec: TargetSpec, table: LayerTable, mapping: dict[str, str]) -> set:
    if _is_all_linear(spec.target_modules):
        names = all_linear_names(table, spec.task_type)
        return {n.rpartition(".")[2] for n in names} | set(mapping)
    param_keys = [f"{m.name}.{p}" if m.name else p for m in table.modules for p, _ in m.own_params]
    keys = [m.name for m in table.modules] + param_keys
    matched = {k.rpartition(".")[2] for k in keys if check_target_module_exists(spec, k)}
    containers: dict[str, set[str]] = {}
    for name in param_keys:
        container, _, leaf = name.rpartition(".")
        containers.setdefault(leaf, set()).add(container)
    for old, new in mapping.items():
        if old in matched:
            continue
        for container in containers.get(new, ()):
            if check_target_module_exists(spec, f"{container}.{old}"):
                matched.add(old)
                break
    return matched


def _fmt(value) -> str:
    """Python's repr of the value as PEFT holds it (lists became sets)."""
    if isinstance(value, set):
        return "{" + ", ".join(repr(v) for v in sorted(value)) + "}" if value else "set()"
    return repr(value)


def match(table: LayerTable, spec: TargetSpec) -> MatchResult:
    """Which modules (and parameters) PEFT adapts for ``spec`` on the model of ``table``.

    Never raises: PEFT's own errors come back as ``MatchResult.error``.
    """
    result = MatchResult(modules=[], parameters=[])
    try:
        with bounded.deadline():
            _match_into(table, spec, result)
    except bounded.TooCostly as err:
        result.error = PeftError("too-costly", too_costly_message(err))
        result.modules, result.parameters = [], []
    except PeftError as err:
        result.error = err
        result.modules, result.parameters = [], []
    except re.error as err:
        result.error = PeftError("regex", f"invalid regular expression: {err}")
        result.modules, result.parameters = [], []
    except (TypeError, ValueError) as err:  # a config value of a type PEFT does not take
        result.error = PeftError("config", str(err))
        result.modules, result.parameters = [], []
    return result


def too_costly_message(err: bounded.TooCostly) -> str:
    """LL103's words when a config's regex cannot be checked in bounded time."""
    what = f"the regular expression {err.pattern!r}" if err.pattern else "this config"
    why = err.reason or (
        f"matching it against the module names takes more than {bounded.CHECK_SECONDS:g} s "
        "(catastrophic backtracking: PEFT's get_peft_model would be as slow)"
    )
    return f"{what} is too costly to check: {why}; lorlint did not check this config"


def _match_into(table: LayerTable, spec: TargetSpec, result: MatchResult) -> None:
    spec = _normalise(spec)
    _convert_moe(spec, table, result.converted)
    if spec.target_modules is None:
        default = DEFAULT_TARGET_MODULES.get(table.model_type)
        if default is not None:
            spec.target_modules = default if isinstance(default, str) else set(default)
            result.defaulted = True
        elif not spec.target_parameters:
            raise PeftError(
                "no-default",
                "Please specify `target_modules` or `target_parameters`in `peft_config`",
            )
    if _is_all_linear(spec.target_modules):
        spec.target_modules = all_linear_names(table, spec.task_type)
    result.effective_targets = spec.target_modules
    result.rank_pattern = dict(spec.rank_pattern)

    excluded, unmatched, targeted = [], [], []
    for module in table.modules:
        if not module.name:
            continue
        hit = check_target_module_exists(spec, module.name)
        if hit is EXCLUDED:
            excluded.append(module.name)
        elif not hit:
            unmatched.append(module.name)
        else:
            if not can_wrap(module, spec.peft_type):
                raise PeftError(
                    "unsupported",
                    f"Target module {module.cls} ({module.name}) is not supported. Currently, only the "
                    "following modules are supported: `torch.nn.Linear`, `torch.nn.Embedding`, "
                    "`torch.nn.Conv1d`, `torch.nn.Conv2d`, `torch.nn.Conv3d`, "
                    "`transformers.pytorch_utils.Conv1D`, `torch.nn.MultiheadAttention.`.",
                    [module.name],
                )
            targeted.append(module.name)
    params = _match_parameters(table, spec, set(targeted)) if spec.target_parameters else []
    result.excluded = excluded

    if not targeted and not params:
        extra = ""
        if spec.layers_to_transform is not None:
            extra += f" Note: You specified 'layers_to_transform': {spec.layers_to_transform}."
        if spec.layers_pattern is not None:
            extra += f" You also specified 'layers_pattern': {spec.layers_pattern}."
        if excluded and not unmatched:
            raise PeftError(
                "all-excluded",
                "All modules were excluded. This is likely unintended. Check your `target_modules`, "
                "`exclude_modules` and `modules_to_save` configuration.",
            )
        if not excluded and unmatched and not spec.target_modules:
            raise PeftError(
                "no-targets",
                "No `target_modules` passed but also no `target_parameters` found. Please check the "
                "values for these arguments.",
            )
        if not excluded and unmatched:
            raise PeftError(
                "not-found",
                f"Target modules {_fmt(spec.target_modules)} not found in the base model. "
                "Please check the target modules and try again." + extra,
            )
        raise PeftError(
            "nothing-targeted",
            "No modules were targeted for adaptation. This might be caused by a combination of "
            "mismatched target modules and excluded modules. Please check your `target_modules` and "
            "`exclude_modules` configuration. You may also have only targeted modules that are marked "
            "to be saved (`modules_to_save`)." + extra,
        )
    if spec.exclude_modules and not excluded:
        result.warnings.append(
            f"You have passed exclude_modules={_fmt(spec.exclude_modules)} but no modules were "
            "excluded. Please check that exclude_modules was set correctly."
        )
    elif spec.target_modules and not targeted:
        result.warnings.append(
            f"target_modules={_fmt(spec.target_modules)} were set but no module was matched."
        )
    elif spec.target_parameters and not params:
        result.warnings.append(
            f"target_parameters={_fmt(set(spec.target_parameters))} were set but no parameter was "
            "matched."
        )
    for attr in ("rank_pattern", "alpha_pattern"):
        keys = unmatched_pattern_keys(getattr(spec, attr), targeted)
        if keys:
            result.warnings.append(
                f"The following {attr} keys did not match any targeted module and were ignored: "
                f"{sorted(keys)}."
            )
    result.modules = targeted
    result.parameters = params


def _match_parameters(table: LayerTable, spec: TargetSpec, wrapped: set[str]) -> list[str]:
    targets = sorted(set(spec.target_parameters or []))
    found = []
    for module in table.modules:
        for pname, _ in module.own_params:
            key = f"{module.name}.{pname}"
            if key in targets or any(key.endswith(f".{t}") for t in targets):
                if module.name == "":
                    raise PeftError(
                        "parameter",
                        f"Targeting an nn.Parameter on the top-level module is not supported "
                        f"(parameter '{key}'). ",
                    )
                if module.name in wrapped:
                    raise PeftError(
                        "parameter",
                        f"Trying to wrap an `nn.Parameter` of layer '{module.name}' of type "
                        f"{module.cls}, which is not a valid target. Make sure that this layer is not "
                        "also targeted with `target_modules`.",
                        [module.name],
                    )
                found.append(key)
    return found


def pattern_key_matches(key: str, name: str) -> bool:
    """``get_pattern_key``: a rank/alpha_pattern key is a regex tried as ``(.*\\.)?(key)$``."""
    try:
        return bounded.match(rf"(.*\.)?({key})$", name) is not None
    except re.error:
        return False


def unmatched_pattern_keys(patterns: Iterable[str] | None, targeted: Sequence[str]) -> list[str]:
    return [k for k in patterns or () if not any(pattern_key_matches(k, n) for n in targeted)]


def modules_matching_entry(table: LayerTable, entry: str) -> list[Module]:
    """All modules a single list entry hits, ignoring exclusions and layer filters."""
    return [m for m in table.modules if m.name and entry_matches(entry, m.name)]
