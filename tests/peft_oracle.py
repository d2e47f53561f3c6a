"""Run PEFT itself on a meta-device model: the oracle the matcher is compared against."""

from __future__ import annotations

import warnings

from lorlint.models.introspect import build_model

# Arguments a config cannot be built without.
REQUIRED = {"AdaLoraConfig": {"total_step": 10}}
# ``inject_adapter_in_model`` refuses these methods (they share buffers across layers).
GET_PEFT_MODEL_ONLY = {"VeraConfig", "VBLoRAConfig"}


def peft_targets(
    config: dict,
    task: str,
    spec: dict,
    via_get_peft_model: bool = False,
    method: str = "LoraConfig",
    build=None,
):
    """(sorted adapted module names, sorted adapted parameter names, error or None) from real PEFT."""
    import peft
    from peft import get_peft_model, inject_adapter_in_model
    from peft.tuners.lora import ParamWrapper
    from peft.tuners.tuners_utils import BaseTunerLayer

    model = build(config, task) if build is not None else build_model(config, task)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sizes = {"r": 4, "lora_alpha": 8} if method == "LoraConfig" else {}
            cfg = getattr(peft, method)(**sizes, **REQUIRED.get(method, {}), **spec)
            # VeRA and VBLoRA share buffers that only get_peft_model sets up.
            if via_get_peft_model or method in GET_PEFT_MODEL_ONLY:
                model = get_peft_model(model, cfg).base_model.model
            else:
                model = inject_adapter_in_model(cfg, model)
    except Exception as err:
        return [], [], err
    modules, params = [], []
    for name, module in model.named_modules():
        if isinstance(module, ParamWrapper):
            base = name.replace(".base_layer", "")
            params.append(f"{base}.{module.parameter_name}")
        elif isinstance(module, BaseTunerLayer) and ".base_layer" not in name:
            modules.append(name)
    return sorted(set(modules)), sorted(set(params)), None


def outcome_kind(err) -> str | None:
    """PEFT's outcome as the differential tests compare it: no error, no match, another error."""
    if err is None:
        return None
    return "no-match" if type(err).__name__ == "NoMatchingPeftModuleError" else "error"


def match_outcome_kind(result) -> str | None:
    """The matcher's outcome in the same terms (its error kinds PEFT raises as no-match)."""
    if result.error is None:
        return None
    no_match = {"not-found", "all-excluded", "no-targets", "nothing-targeted"}
    return "no-match" if result.error.kind in no_match else "error"
