"""PEFT methods other than LoRA: which modules each can wrap, its default targets, its own checks.

Every method below matches names with ``BaseTuner._check_target_module_exists`` exactly like LoRA;
they differ in the module types their ``_create_new_module`` accepts, in their per-``model_type``
default targets (generated into peft_defaults.py) and in a few checks of their own. A method not
listed in ``SUPPORTED_KINDS`` is not modelled, and one in ``SHAPE_CHECKED`` not predicted: lorlint
then says nothing that depends on what PEFT would adapt.
tests/test_methods_vs_peft.py runs PEFT itself on meta-device models for every method here.
"""

from __future__ import annotations

from lorlint.models.peft_defaults import (
    CONFIG_FIELDS,
    IA3_FEEDFORWARD_MODULES,
    METHOD_TARGET_MODULES,
)
from lorlint.models.table import LORA_KINDS, Module

_LINEAR = frozenset({"linear"})  # nn.Linear and its subclasses (bitsandbytes' too)
_LINEAR_CONV1D = frozenset({"linear", "conv1d_hf"})  # ... and transformers' GPT-2 style Conv1D
ANY_MODULE = frozenset({"*"})

# Module kinds (layer table kinds) each method wraps, from ``_create_new_module`` in
# peft/tuners/<method>/model.py (PEFT 0.21); anything else raises "Target module ... not supported".
SUPPORTED_KINDS: dict[str, frozenset[str]] = {
    "LORA": frozenset(LORA_KINDS),
    # SVDLinear for Linear / Conv1D, SVDConv2d for Conv2d (adalora/model.py).
    "ADALORA": frozenset({"linear", "conv1d_hf", "conv2d"}),
    # LyCORIS: Linear, Conv1d, Conv2d (lycoris_utils.py ``layers_mapping``).
    "LOHA": frozenset({"linear", "conv1d", "conv2d"}),
    "LOKR": frozenset({"linear", "conv1d", "conv2d"}),
    # Linear / Conv1D, Conv2d, Conv3d (ia3/model.py).
    "IA3": frozenset({"linear", "conv1d_hf", "conv2d", "conv3d"}),
    "OFT": frozenset({"linear", "conv2d", "embedding"}),
    "BOFT": frozenset({"linear", "conv2d"}),
    "HRA": frozenset({"linear", "conv2d"}),
    "VERA": _LINEAR_CONV1D,
    "VBLORA": _LINEAR_CONV1D,
    "RANDLORA": _LINEAR_CONV1D,
    "FOURIERFT": _LINEAR_CONV1D,
    "GRALORA": _LINEAR_CONV1D,
    "C3A": _LINEAR,
    "MISS": _LINEAR,
    "ROAD": _LINEAR,
    "DELORA": _LINEAR,
    "SHIRA": _LINEAR,
    # LNTuningLayer wraps whatever module the names select (ln_tuning/model.py).
    "LN_TUNING": ANY_MODULE,
}
METHOD_NAMES = {"LORA": "LoRA", "ADALORA": "AdaLoRA", "LOHA": "LoHa", "LOKR": "LoKr", "IA3": "IA3",
                "VERA": "VeRA", "VBLORA": "VBLoRA", "RANDLORA": "RandLoRA", "LN_TUNING": "LN-tuning",
                "FOURIERFT": "FourierFT", "GRALORA": "GraLoRA", "DELORA": "DeLoRA",
                "SHIRA": "SHiRA", "ROAD": "RoAd", "MISS": "MiSS"}  # fmt: skip
# PEFT checks each adapted layer's dimensions against these methods' own sizes (block sizes, vector
# lengths, group sizes, ``n_frequency``, SHiRA's rank budget, HRA's and OFT's grouped / dilated
# Conv2d) and raises when they do not fit: whether PEFT accepts a config then depends on numbers
# lorlint does not model, so it predicts no match for them (the module-type check still applies).
SHAPE_CHECKED = frozenset({"OFT", "BOFT", "HRA", "FOURIERFT", "VBLORA", "C3A", "SHIRA", "MISS",
                           "ROAD", "GRALORA"})  # fmt: skip
# VeRA and RandLoRA size their shared projections from the targeted Linear / Conv1D layers before
# injecting, and raise when there is none (``_find_dim`` in peft/tuners/{vera,randlora}/model.py).
SHARED_PROJECTIONS = {"VERA": "VeRA", "RANDLORA": "RandLora"}


def modelled(peft_type: str) -> bool:
    """Whether lorlint knows which module types this method wraps."""
    return peft_type in SUPPORTED_KINDS


def predicted(peft_type: str) -> bool:
    """Whether lorlint reproduces what PEFT adapts for this method (otherwise it predicts nothing)."""
    return modelled(peft_type) and peft_type not in SHAPE_CHECKED


def method_name(peft_type: str) -> str:
    return METHOD_NAMES.get(peft_type, peft_type)


def can_wrap(module: Module, peft_type: str = "LORA") -> bool:
    """Whether this PEFT method can put an adapter on the module."""
    kinds = SUPPORTED_KINDS[peft_type]
    return kinds is ANY_MODULE or module.kind in kinds


def takes(peft_type: str, keyword: str) -> bool:
    """Whether the method's config has this field (passing another one is a TypeError)."""
    return keyword in CONFIG_FIELDS.get(peft_type, ())


def default_targets(peft_type: str, model_type: str) -> list[str] | str | None:
    """The method's own ``target_modules`` default for a ``model_type`` (None: it has none)."""
    return METHOD_TARGET_MODULES.get(peft_type, {}).get(model_type)


def no_default_message(peft_type: str) -> str:
    """What ``_prepare_adapter_config`` raises when the model type has no default."""
    if peft_type == "LORA":
        return "Please specify `target_modules` or `target_parameters`in `peft_config`"
    return "Please specify `target_modules` in `peft_config`"


def feedforward_problem(spec_targets, feedforward, model_type: str) -> str | None:
    """IA3's checks on ``feedforward_modules``: a default must exist when it is omitted
    (IA3Model._prepare_adapter_config), and a list must be a subset of a list of targets
    (IA3Config.__post_init__)."""
    if feedforward is None:
        if model_type not in IA3_FEEDFORWARD_MODULES:
            return "Please specify `feedforward_modules` in `peft_config`"
        return None
    both_lists = not isinstance(feedforward, str) and not isinstance(
        spec_targets, (str, type(None))
    )
    if both_lists and not set(feedforward) <= set(spec_targets):
        return "`feedforward_modules` should be a subset of `target_modules`"
    return None


def ln_tuning_problem(modules: list[Module], targeted: list[str]) -> str | None:
    """LN-tuning copies each selected module whole, so two things fail that LoRA never meets: a
    module without parameters (``_replace_module`` reads its first parameter: StopIteration) and a
    module inside another selected one (it is gone once its parent is replaced: AttributeError)."""
    chosen = set(targeted)
    for name in targeted:
        parts = name.split(".")
        if any(".".join(parts[:i]) in chosen for i in range(1, len(parts))):
            return f"{name} lies inside another selected module, which LN-tuning replaces whole"
        prefix = name + "."
        if not any(m.own_params for m in modules if m.name == name or m.name.startswith(prefix)):
            return f"{name} has no parameters to tune"
    return None
