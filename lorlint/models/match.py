"""PEFT's target matching, reimplemented over a layer table (no torch, no peft import).

Mirrors, step for step, what ``get_peft_model`` / ``inject_adapter_in_model`` do in PEFT 0.21
(``BaseTuner.inject_adapter`` and ``check_target_module_exists`` in peft/tuners/tuners_utils.py,
``_convert_peft_config_moe`` in peft/utils/transformers_weight_conversion.py, the Mamba and tied-weight
checks, and the errors LoRA's layer classes raise while wrapping). The differential tests
(tests/test_match_vs_peft.py, tests/test_match_moe_hybrid.py) run PEFT itself on the same models and
require identical results.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache, partial

from lorlint.models import bounded, methods
from lorlint.models.methods import can_wrap
from lorlint.models.table import ALL_LINEAR_KINDS, LayerTable, Module, once_per_table
from lorlint.site import Record

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
# ``_check_lora_target_modules_mamba`` (peft/tuners/tuners_utils.py): these leaf names raise on these
# model types for LoRA-like methods. PEFT keeps both as sets and prints the set; its order varies
# with the process's hash seed, so lorlint prints them in PEFT's source order.
MAMBA_MODEL_TYPES = ("falcon_h1", "mamba", "mamba2", "falcon_mamba", "nemotron_h")
MAMBA_INCOMPATIBLE = ("out_proj", "conv1d")
LORA_LIKE_TYPES = ("LORA", "ADALORA", "XLORA", "RANDLORA")
# PEFT's ``EMBEDDING_LAYER_NAMES``: the only names its tied-weight handling recognises.
EMBEDDING_LAYER_NAMES = ("embed_tokens", "lm_head")


class TargetSpec(Record):
    """The matching-relevant part of a PEFT config, as PEFT holds it after ``__post_init__``.

    A plain class, not ``@dataclass`` (whose methods are compiled at every start, and whose
    ``import dataclasses`` costs 5-9 ms before the first file is linted); it compares by value
    and ``replaced`` is ``dataclasses.replace``."""

    FIELDS = ("target_modules", "exclude_modules", "layers_to_transform", "layers_pattern",
              "modules_to_save", "target_parameters", "rank_pattern", "alpha_pattern",
              "task_type", "peft_type", "feedforward_modules", "r", "lora_alpha", "lora_dropout",
              "ensure_weight_tying", "via_get_peft_model")  # fmt: skip

    def __init__(
        self,
        target_modules: str | Sequence[str] | None = None,
        exclude_modules: str | Sequence[str] | None = None,
        layers_to_transform: int | Sequence[int] | None = None,
        layers_pattern: str | Sequence[str] | None = None,
        modules_to_save: Sequence[str] | None = None,
        target_parameters: Sequence[str] | None = None,
        rank_pattern: dict[str, int] | None = None,
        alpha_pattern: dict[str, int] | None = None,
        task_type: str | None = None,
        peft_type: str = "LORA",  # other methods: lorlint/models/methods.py
        feedforward_modules: str | Sequence[str] | None = None,  # IA3 only
        r: int = 8,  # LoraConfig's defaults; MoE conversion derives fused ranks from them
        lora_alpha: int = 8,
        lora_dropout: float | None = 0.0,  # None: not known (PEFT's dropout raise is skipped)
        ensure_weight_tying: bool = False,
        # get_peft_model wraps the model in PeftModelFor<Task>, which adds the task head to
        # modules_to_save; inject_adapter_in_model does not.
        via_get_peft_model: bool = True,
    ):
        self.target_modules, self.exclude_modules = target_modules, exclude_modules
        self.layers_to_transform, self.layers_pattern = layers_to_transform, layers_pattern
        self.modules_to_save, self.target_parameters = modules_to_save, target_parameters
        self.rank_pattern = {} if rank_pattern is None else rank_pattern
        self.alpha_pattern = {} if alpha_pattern is None else alpha_pattern
        self.task_type, self.peft_type = task_type, peft_type
        self.feedforward_modules, self.r, self.lora_alpha = feedforward_modules, r, lora_alpha
        self.lora_dropout, self.ensure_weight_tying = lora_dropout, ensure_weight_tying
        self.via_get_peft_model = via_get_peft_model

    def replaced(self, **changes) -> TargetSpec:
        """A copy with ``changes`` (what ``dataclasses.replace`` did)."""
        return TargetSpec(**{name: getattr(self, name) for name in self.FIELDS} | changes)


class PeftError(Exception):
    """An error PEFT itself would raise for this config on this model."""

    def __init__(self, kind: str, message: str, modules: Sequence[str] = ()):
        super().__init__(message)
        self.kind = kind  # config | unsupported | not-found | all-excluded | nothing-targeted | ...
        self.message = message
        self.modules = tuple(modules)


class MatchResult:
    def __init__(
        self,
        modules: list[str],
        parameters: list[str],
        error: PeftError | None = None,
        warnings: list[str] | None = None,
        effective_targets: str | set[str] | None = None,
        excluded: list[str] | None = None,
        rank_pattern: dict[str, int] | None = None,
        converted: dict[str, str] | None = None,
        defaulted: bool = False,
        tied_warning: str | None = None,
    ):
        self.modules = modules  # full names PEFT wraps with adapters, in named_modules() order
        self.parameters = parameters  # full ``module.param`` names adapted by target_parameters
        self.error = error
        self.warnings = [] if warnings is None else warnings
        self.effective_targets = effective_targets  # target_modules after defaults / MoE conversion
        self.excluded = [] if excluded is None else excluded
        self.rank_pattern = {} if rank_pattern is None else rank_pattern  # after MoE conversion
        self.converted = {} if converted is None else converted  # v4 MoE name → target parameter
        self.defaulted = defaulted  # target_modules came from PEFT's per-model default
        self.tied_warning = tied_warning  # PEFT's warning about an adapter on tied embeddings

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
        feedforward_modules=spec.feedforward_modules,
        r=spec.r,
        lora_alpha=spec.lora_alpha,
        lora_dropout=spec.lora_dropout,
        ensure_weight_tying=spec.ensure_weight_tying,
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
    found = key.endswith(_dot_suffixes(tuple(spec.target_modules)))
    lt = spec.layers_to_transform
    using_layers = lt is not None and (len(lt) != 0 if isinstance(lt, list) else True)
    if using_layers and found:
        idx = layer_index_of(key, spec.layers_pattern)
        if idx is None:
            return False
        return idx == lt if isinstance(lt, int) else idx in lt
    return found


def _plain_list_hits(table: LayerTable, spec: TargetSpec) -> list[Module] | None:
    """The modules ``check_target_module_exists`` hits for the common config — a list of names,
    nothing excluded or saved, every layer — in table order, found through the leaf index (a
    module hit by an entry, exactly or as a ``.``-suffix, has the entry's last component as its
    leaf) instead of testing every module of the table; None for any other config."""
    targets = spec.target_modules
    lt = spec.layers_to_transform
    if (
        spec.exclude_modules
        or spec.modules_to_save
        or targets is None
        or isinstance(targets, str)
        or (lt is not None and (len(lt) != 0 if isinstance(lt, list) else True))
        or not all(type(t) is str for t in targets)
    ):
        return None
    by_leaf: dict[str, list[str]] = {}
    for target in targets:
        by_leaf.setdefault(target.rpartition(".")[2], []).append("." + target)
    modules = table.modules
    hits: list[int] = []  # positions
    for leaf, suffixes in by_leaf.items():
        candidates = table.positions_with_leaf(leaf)
        if leaf and leaf in targets:  # the bare leaf is listed: each (named) candidate ends in it
            hits.extend(candidates)
            continue
        ends = tuple(suffixes)
        hits.extend(
            [
                i
                for i in candidates
                if (name := modules[i].name) and (name in targets or name.endswith(ends))
            ]
        )
    if len(by_leaf) > 1:
        hits.sort()  # table order
    return [modules[i] for i in hits]


_PLAIN_NAME = re.compile(r"\w+")  # a modules_to_save entry with no regex syntax in it


def _exists_test(spec: TargetSpec) -> Callable[[str], object]:
    r"""``check_target_module_exists(spec, key)`` as a function of ``key``, with what depends on
    the spec alone prepared once: the ``.``-suffixes of the target and exclude lists (PEFT's
    ``any(key.endswith(f".{t}"))``, one ``endswith`` of a tuple). Most keys are spared the
    ``modules_to_save`` regexes when every entry is a plain name: ``(^|.*\.)name($|\..*)``
    matches a key without a line break exactly when ``name`` is one of its ``.``-separated
    components; a key with one of them gets ``check_target_module_exists`` itself. Other specs
    (no target list or regex, layer filters, entries that are not names) get it for every key."""
    saved, targets, exclude = spec.modules_to_save, spec.target_modules, spec.exclude_modules
    lt = spec.layers_to_transform
    if (
        (saved and not all(isinstance(m, str) and _PLAIN_NAME.fullmatch(m) for m in saved))
        or targets is None
        or (lt is not None and (len(lt) != 0 if isinstance(lt, list) else True))
        or not (isinstance(targets, str) or all(type(t) is str for t in targets))
        or not (not exclude or isinstance(exclude, str) or all(type(e) is str for e in exclude))
    ):
        return partial(check_target_module_exists, spec)
    hit = _entries_test(targets)
    if not exclude and not saved:
        return hit
    excluded = _entries_test(exclude) if exclude else None
    names = frozenset(saved) if saved else None

    def test(key: str):
        if excluded is not None and excluded(key):
            return EXCLUDED
        if names is not None and ("\n" in key or not names.isdisjoint(key.split("."))):
            return check_target_module_exists(spec, key)
        return hit(key)

    return test


def _entries_test(entries: str | Sequence[str]) -> Callable[[str], object]:
    """PEFT's test of a key against ``target_modules`` or ``exclude_modules`` as a function of the
    key: a string is a regex over the full name; a list hits a name it holds or a ``.``-suffix of
    one, the suffixes tried only against those of the key's last component."""
    if isinstance(entries, str):
        return bounded.fullmatcher(entries)
    ends = _suffixes_by_leaf(entries)

    def test(key: str) -> bool:
        if key in entries:
            return True
        found = ends.get(key.rpartition(".")[2])
        return found is not None and key.endswith(found)

    return test


def _suffixes_by_leaf(names: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """``(".model.layers.0.q_proj", ...)`` by last component: a key ending in ``".name"`` has
    ``name``'s last component as its own, so it is tried only against those (``"all-linear"``
    lists every Linear by its full name)."""
    out: dict[str, list[str]] = {}
    for name in names:
        out.setdefault(name.rpartition(".")[2], []).append(f".{name}")
    return {leaf: tuple(ends) for leaf, ends in out.items()}


def _dot_suffixes(targets: tuple) -> tuple[str, ...]:
    """``(".q_proj", ...)``: ``key.endswith`` of it is PEFT's ``any(key.endswith(f".{t}"))``, in
    one call per module name (cached per target list; entries that cannot be hashed are rare)."""
    try:
        return _cached_dot_suffixes(targets)
    except TypeError:
        return tuple(f".{t}" for t in targets)


@lru_cache(maxsize=256)
def _cached_dot_suffixes(targets: tuple) -> tuple[str, ...]:
    return tuple(f".{t}" for t in targets)


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
    param_keys = [
        f"{m.name}.{p}" if m.name else p for m in table.modules for p, _ in _listed_params(m)
    ]
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


def _listed_params(module: Module) -> tuple[tuple[str, tuple[int, ...]], ...]:
    """The module's parameters as ``model.named_parameters()`` lists them: a tied weight (one
    tensor under two modules) is listed under the first module only, which holds its count."""
    return module.own_params if module.params or not module.own_params else ()


@once_per_table
def tied_with_embedding(table: LayerTable) -> list[str]:
    """PEFT's ``_get_module_names_tied_with_embedding``: modules whose weights are the input
    embedding's (``lm_head`` of a model with ``tie_word_embeddings``), read from the table: a
    module whose every parameter was already counted under an earlier module. Once per table
    (every match asks; callers must not change it)."""
    if not table.tied_embeddings:
        return []
    return sorted(m.name for m in table.modules if m.name and m.own_params and not m.params)


def input_embedding(table: LayerTable) -> str | None:
    """The input embedding a tied module shares its weight with (same weight shape, first)."""
    tied = [table.get(name) for name in tied_with_embedding(table)]
    shapes = {dict(m.own_params).get("weight") for m in tied if m is not None}
    for m in table.modules:
        if m.kind == "embedding" and m.params and dict(m.own_params).get("weight") in shapes:
            return m.name
    return None


TIED_WARNING = (
    "Model has `tie_word_embeddings=True` and a tied layer is part of the adapter, but {why}. This "
    "can lead to complications, for example when merging the adapter or converting your model to "
    "formats other than safetensors. Check the discussion here: "
    "https://github.com/huggingface/peft/issues/2777"
)


def _embedding_in_adapter(spec: TargetSpec) -> tuple[bool, bool]:
    """(an embedding name is in modules_to_save, one is in target_modules), as PEFT tests them."""
    to_save = any(m.split(".")[-1] in EMBEDDING_LAYER_NAMES for m in spec.modules_to_save or [])
    raw = spec.target_modules
    if isinstance(raw, str):
        in_target = any(bounded.fullmatch(raw, name) for name in EMBEDDING_LAYER_NAMES)
    else:
        in_target = any(m.split(".")[-1] in EMBEDDING_LAYER_NAMES for m in raw or [])
    return to_save, bool(in_target)


def _check_tied_modules(spec: TargetSpec, table: LayerTable, result: MatchResult) -> set[str]:
    """``BaseTuner._check_tied_modules``: PEFT's warnings, and ``ensure_weight_tying``'s rewrite of
    the config (LoraModel's ``_add_*_to_tie``). Returns ``target_modules_to_tie``."""
    to_save, in_target = _embedding_in_adapter(spec)
    tied = tied_with_embedding(table)
    if not spec.ensure_weight_tying:
        if (to_save or in_target) and tied:
            why = (
                "`ensure_weight_tying` is not set to True"
                if spec.peft_type in ("LORA", "ADALORA")
                else "no implementation exists to tie the adapters"
            )
            result.tied_warning = TIED_WARNING.format(why=why)
            result.warnings.append(result.tied_warning)
        return set()
    if not tied:
        result.warnings.append(
            "You have requested `ensure_weight_tying`, but no tied modules were found in the model"
        )
        return set()
    if not (to_save or in_target):
        result.warnings.append(
            "You have requested `ensure_weight_tying`, but no tied modules are added in either "
            "`modules_to_save` or `target_modules`"
        )
        return set()
    embed = input_embedding(table)
    if to_save:
        kept = list(spec.modules_to_save or [])
        if embed not in kept:
            kept.append(embed)
        _drop_first_matches(kept, tied)
        spec.modules_to_save = kept
        return set()
    if isinstance(spec.target_modules, str):
        spec.target_modules = rf"(?:{spec.target_modules}|^{re.escape(embed)}$)"
    else:
        targets = set(spec.target_modules or []) | {embed}
        listed = list(targets)
        _drop_first_matches(listed, tied)
        spec.target_modules = set(listed)
    return set(tied)


def _drop_first_matches(names: list[str], tied: list[str]) -> None:
    """Per tied key, remove the first entry that names it (``_add_*_to_tie``)."""
    for key in tied:
        for m in names:
            if bounded.match(rf"(^|.*\.){m}($|\..*)", key):
                names.remove(m)
                break


def rank_for(name: str, r: int, rank_pattern: dict[str, int] | None) -> int:
    """The rank PEFT gives one module: the first ``rank_pattern`` key that matches, else ``r``."""
    for key, value in (rank_pattern or {}).items():
        if pattern_key_matches(key, name):
            return value
    return r


def mamba_error(spec: TargetSpec, model_type: str, leaf: str) -> PeftError | None:
    """PEFT's ``_check_lora_target_modules_mamba``, run on every module it is about to wrap."""
    if spec.peft_type not in LORA_LIKE_TYPES or model_type not in MAMBA_MODEL_TYPES:
        return None
    if leaf not in MAMBA_INCOMPATIBLE:
        return None
    names = "{" + ", ".join(repr(n) for n in MAMBA_INCOMPATIBLE) + "}"
    return PeftError(
        "mamba",
        f"[PEFT:PeftType.{spec.peft_type}] Module '{leaf}' is incompatible with Mamba-based models "
        f"(model_type='{model_type}'). Incompatible modules: {names}. "
        "Please remove it from `target_modules` to avoid compatibility issues.",
    )


def _fmt(value) -> str:
    """The value as PEFT's f-strings print it: a str as is, a list as the set it became."""
    if isinstance(value, str):
        return value
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
    if table.meta.get("peft_error"):  # BaseTuner._check_tied_modules: the model itself fails
        raise PeftError("model", table.meta["peft_error"])
    written_targets = spec.target_modules
    tie_keys = _check_tied_modules(spec, table, result)
    if spec.target_modules is None:
        default = methods.default_targets(spec.peft_type, table.model_type)
        if default is not None:
            spec.target_modules = default if isinstance(default, str) else set(default)
            result.defaulted = True
        elif not spec.target_parameters:
            raise PeftError("no-default", methods.no_default_message(spec.peft_type))
    if spec.peft_type == "IA3":
        problem = methods.feedforward_problem(
            written_targets, spec.feedforward_modules, table.model_type
        )
        if problem:
            raise PeftError("config", problem)
    if _is_all_linear(spec.target_modules):
        spec.target_modules = all_linear_names(table, spec.task_type)
    if spec.peft_type in methods.SHARED_PROJECTIONS:
        hit_of = _exists_test(spec)
        if not any(
            m.name and m.kind in ("linear", "conv1d_hf") and hit_of(m.name) for m in table.modules
        ):
            name = methods.SHARED_PROJECTIONS[spec.peft_type]
            raise PeftError(
                "config",
                f"No layers types compatible with {name} were found. Please check "
                "`peft_config.target_modules`.",
            )
    result.effective_targets = spec.target_modules
    result.rank_pattern = dict(spec.rank_pattern)

    excluded, targeted, to_tie = [], [], []
    plain = None if tie_keys else _plain_list_hits(table, spec)
    if plain is not None:
        for module in _unsure_wrappable(table, spec, plain):
            _check_wrappable(table, spec, module)
        targeted = [module.name for module in plain]
        unmatched = table.named_count() > len(plain)  # (only whether there is one is asked)
    else:
        unmatched = False
        hit_of = _exists_test(spec)
        passes = _passes_wrappable(table, spec)
        for module in table.modules:
            if not module.name:
                continue
            hit = hit_of(module.name)
            if tie_keys and entry_in(module.name, tie_keys):
                to_tie.append(module)  # wrapped after the parameters, tied to the embedding's
            elif hit is EXCLUDED:
                excluded.append(module.name)
            elif not hit:
                unmatched = True
            else:
                if not passes(module):
                    _check_wrappable(table, spec, module)
                targeted.append(module.name)
    if spec.peft_type == "LN_TUNING":
        problem = methods.ln_tuning_problem(table.modules, targeted)
        if problem:
            raise PeftError("unsupported", problem)
    params = _match_parameters(table, spec, set(targeted)) if spec.target_parameters else []
    for module in to_tie:
        _check_wrappable(table, spec, module)
        targeted.append(module.name)
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


def entry_in(name: str, entries: Iterable[str]) -> bool:
    """An exact name or a ``.``-suffix of one of ``entries`` (PEFT's list matching)."""
    return any(entry_matches(entry, name) for entry in entries)


def _check_wrappable(table: LayerTable, spec: TargetSpec, module: Module) -> None:
    """What PEFT checks, in its order, on a module it is about to wrap: the Mamba restriction, the
    supported layer types, then LoRA's conv layers' ``groups`` limit."""
    error = mamba_error(spec, table.model_type, module.leaf)
    if error is not None:
        error.modules = (module.name,)
        raise error
    if not can_wrap(module, spec.peft_type):
        raise PeftError(
            "unsupported",
            f"Target module {module.cls} ({module.name}) is not supported. Currently, only the "
            "following modules are supported: `torch.nn.Linear`, `torch.nn.Embedding`, "
            "`torch.nn.Conv1d`, `torch.nn.Conv2d`, `torch.nn.Conv3d`, "
            "`transformers.pytorch_utils.Conv1D`, `torch.nn.MultiheadAttention.`.",
            [module.name],
        )
    groups = module.groups  # recorded by every table (introspect, catalog, cache formats 3 on)
    r = rank_for(module.name, spec.r, spec.rank_pattern)
    if spec.peft_type == "LORA" and groups > 1 and r % groups != 0:
        raise PeftError(
            "conv-groups",
            f"Targeting a {module.cls} with groups={groups} and rank {r}. Currently, support is "
            "limited to conv layers where the rank is divisible by groups. Either choose a "
            "different rank or do not target this specific layer.",
            [module.name],
        )


def _passes_wrappable(table: LayerTable, spec: TargetSpec) -> Callable[[Module], bool]:
    """A test that a module passes ``_check_wrappable`` for sure, with nothing it would evaluate
    skipped (False: ask ``_check_wrappable``): see ``_sure_kinds``."""
    kinds = _sure_kinds(table, spec)
    if kinds is None:
        return lambda module: False
    if kinds is methods.ANY_MODULE:
        return lambda module: module.groups == 1
    return lambda module: module.groups == 1 and module.kind in kinds


def _unsure_wrappable(table: LayerTable, spec: TargetSpec, modules: list[Module]) -> list[Module]:
    """The modules of ``modules`` that ``_passes_wrappable`` does not pass for sure, in order,
    chosen in one pass (no call per module)."""
    kinds = _sure_kinds(table, spec)
    if kinds is None:
        return modules
    if kinds is methods.ANY_MODULE:
        return [m for m in modules if m.groups != 1]
    return [m for m in modules if m.groups != 1 or m.kind not in kinds]


def _sure_kinds(table: LayerTable, spec: TargetSpec):
    """The layer kinds whose modules with ``groups`` 1 pass ``_check_wrappable`` for sure
    (``methods.ANY_MODULE``: every kind), or None for none: a module passes for sure where this
    model has no Mamba restriction, no ``rank_pattern`` key is to be tried (its regexes run under
    the matching's deadline) and the method wraps its layer type."""
    if spec.rank_pattern or mamba_error(spec, table.model_type, MAMBA_INCOMPATIBLE[0]):
        return None
    return methods.SUPPORTED_KINDS.get(spec.peft_type)


def _match_parameters(table: LayerTable, spec: TargetSpec, wrapped: set[str]) -> list[str]:
    targets = sorted(set(spec.target_parameters or []))
    ends = _dot_suffixes(tuple(targets))
    # A key equal to a target or ending in ".target" ends in the target's last component: other
    # parameters are passed over without building their keys.
    leaves = {f"{t}".rpartition(".")[2] for t in targets}
    found = []
    for module in table.modules:
        for pname, _ in module.own_params:
            if pname.rpartition(".")[2] not in leaves:
                continue
            key = f"{module.name}.{pname}"
            if key in targets or key.endswith(ends):
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
                        "also targeted with `target_modules`. For some models, PEFT will do this "
                        "automatically, try setting `target_modules=[]` to prevent it.",
                        [module.name],
                    )
                error = mamba_error(spec, table.model_type, module.leaf)
                if error is not None:
                    error.modules = (module.name,)
                    raise error
                if spec.peft_type == "LORA" and spec.lora_dropout:
                    raise PeftError(
                        "param-dropout",
                        "lora.ParamWrapper does not work with lora_dropout != 0.",
                        [key],
                    )
                found.append(key)
    return found


def pattern_key_matches(key: str, name: str) -> bool:
    """``get_pattern_key``: a rank/alpha_pattern key is a regex tried as ``(.*\\.)?(key)$``."""
    try:
        return _key_matcher(key)(name) is not None
    except re.error:
        return False


@lru_cache(maxsize=256)
def _key_matcher(key: str) -> Callable[[str], re.Match | None]:
    """``get_pattern_key``'s regex for ``key`` (tried on every module PEFT wraps), prepared once
    per key (``bounded.matcher``: compiled and checked when run)."""
    return bounded.matcher(rf"(.*\.)?({key})$")


def unmatched_pattern_keys(patterns: Iterable[str] | None, targeted: Sequence[str]) -> list[str]:
    return [k for k in patterns or () if not _key_matches_any(k, targeted)]


def _key_matches_any(key: str, names: Sequence[str]) -> bool:
    """``any(pattern_key_matches(key, name) for name in names)``, the pattern prepared once."""
    try:
        return any(map(_key_matcher(key), names))
    except re.error:
        return False


def modules_matching_entry(table: LayerTable, entry: str) -> list[Module]:
    """All modules a single list entry hits, ignoring exclusions and layer filters; once per
    table and entry (several rules ask for every entry of every site; callers only read it)."""
    hits = _entry_hits(table)
    found = hits.get(entry)
    if found is None:
        modules = table.modules
        suffix = "." + entry  # entry_matches, inline
        found = hits[entry] = [
            m
            for i in table.positions_with_leaf(entry.rpartition(".")[2])
            if (m := modules[i]).name and (m.name == entry or m.name.endswith(suffix))
        ]
    return found


@once_per_table
def _entry_hits(table: LayerTable) -> dict[str, list[Module]]:
    """``modules_matching_entry``'s answers for this table, by entry."""
    return {}


def unwrappable_matching_entry(table: LayerTable, entry: str, peft_type: str) -> list[Module]:
    """The modules a single list entry hits that ``peft_type`` cannot wrap (``can_wrap``), in
    table order; once per table, entry and method (LL104 asks for every entry of every site;
    callers only read it)."""
    known = _unwrappable_hits(table)
    found = known.get((entry, peft_type))
    if found is None:
        hits = modules_matching_entry(table, entry)
        found = known[(entry, peft_type)] = [m for m in hits if not can_wrap(m, peft_type)]
    return found


@once_per_table
def _unwrappable_hits(table: LayerTable) -> dict[tuple[str, str], list[Module]]:
    """``unwrappable_matching_entry``'s answers for this table, by entry and method."""
    return {}
