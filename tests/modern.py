"""MoE and hybrid architectures built from transformers' own config defaults, shrunk to a few layers.

These model types are not (all) in the bundled index, and some of their config.json files do not
load yet (transformers 5 writes infinity as ``{"__float__": "Infinity"}``), so the tests build them
from in-memory configs: ``CONFIG_MAPPING[model_type](...)`` with fewer layers, per-layer lists cut
to match, and the layer kinds chosen so that every block kind of a hybrid appears.
"""

from __future__ import annotations

from functools import cache

# The model types of issue #13, each with the overrides that make a small model show every block
# kind (a hybrid's default config may use one kind only).
ISSUE_TYPES: dict[str, dict] = {
    "gpt_oss": {"layer_types": ["sliding_attention", "full_attention"]},
    "qwen3_moe": {},
    "mixtral": {},
    "deepseek_v3": {"first_k_dense_replace": 1},
    "llama4": {},
    "qwen3_next": {"layer_types": ["linear_attention"] * 3 + ["full_attention"]},
    "falcon_h1": {},
    "granitemoehybrid": {"layer_types": ["mamba", "attention", "mamba", "attention"]},
    "nemotron_h": {"layers_block_type": ["mamba", "moe", "attention", "mlp"]},
    "lfm2": {"layer_types": ["conv", "full_attention", "conv", "full_attention"]},
}
# Other hybrids: Mamba types PEFT restricts, and Mamba mixers in hybrids it does not.
MORE_HYBRIDS: dict[str, dict] = {
    "mamba": {},
    "mamba2": {},
    "falcon_mamba": {},
    "bamba": {"attn_layer_indices": [1, 3]},
    "jamba": {
        "attn_layer_period": 2,
        "attn_layer_offset": 1,
        "expert_layer_period": 2,
        "expert_layer_offset": 1,
    },
    "zamba2": {},
}
# Defaults that do not build as they are.
REPAIRS: dict[str, dict] = {
    "dots1": {"n_routed_experts": 8, "n_shared_experts": 1, "num_experts_per_tok": 2},
    "hunyuan_v1_moe": {"num_experts": 4, "moe_topk": 2, "head_dim": 128},
}
# Model types no task's auto class builds: the class their checkpoints load as.
CLASSES = {
    "qwen3_omni_moe": "Qwen3OmniMoeForConditionalGeneration",
    "qwen3_omni_moe_text": "Qwen3OmniMoeThinkerTextModel",
}
LAYERS = 4


def _cut(config: dict, layers: int) -> None:
    """Fewer blocks in nested sub-config dicts: per-layer lists are cut to the new count."""
    old = config.get("num_hidden_layers")
    if isinstance(old, int) and old > layers:
        config["num_hidden_layers"] = layers
        for key, value in list(config.items()):
            if isinstance(value, list) and len(value) == old:
                config[key] = value[:layers]
    for value in config.values():
        if isinstance(value, dict):
            _cut(value, layers)


@cache
def _small(model_type: str) -> dict:
    from transformers import CONFIG_MAPPING

    cls = CONFIG_MAPPING[model_type]
    default = cls().to_dict()
    chosen = ISSUE_TYPES.get(model_type, MORE_HYBRIDS.get(model_type, {}))
    overrides = {**REPAIRS.get(model_type, {}), **chosen}
    if "first_k_dense_replace" in default:
        overrides.setdefault("first_k_dense_replace", 1)
    kinds = next(
        (v for k, v in overrides.items() if k.endswith(("layer_types", "block_type"))), None
    )
    layers = len(kinds) if kinds else LAYERS
    count = next((k for k in ("num_hidden_layers", "num_layers") if k in default), None)
    if isinstance(default.get(count), int) and "layers_block_type" not in overrides:
        overrides[count] = layers
        old = default[count]
        for key, value in default.items():  # lists the config validates against the layer count
            per_layer = key.endswith(("layer_types", "block_type")) and isinstance(value, list)
            if per_layer and len(value) == old:
                overrides.setdefault(key, value[:layers])
    config = cls(**overrides).to_dict()
    for value in config.values():
        if isinstance(value, dict):
            _cut(value, 2)
    config["model_type"] = model_type
    return config


def config_of(model_type: str) -> dict:
    """A fresh copy of the small config (callers may change it)."""
    import copy

    return copy.deepcopy(_small(model_type))


def task_of(model_type: str) -> str:
    """The task (or the class) the model type is built as."""
    from lorlint.models.catalog import natural_task

    return CLASSES.get(model_type) or natural_task(model_type) or "causal-lm"


def conversion_types() -> list[str]:
    """Every model type PEFT's MoE conversion rewrites targets for, with the installed transformers
    and PEFT (``_convert_peft_config_moe``'s lookups), that builds from its config."""
    from peft.utils import transformers_weight_conversion as twc
    from transformers import CONFIG_MAPPING
    from transformers.conversion_mapping import get_checkpoint_conversion_mapping

    out = []
    for model_type, family in sorted(twc._MODEL_TO_CONVERSION_PATTERN.items()):
        if family not in twc._MOE_TARGET_MODULE_MAPPING or model_type not in CONFIG_MAPPING:
            continue
        if get_checkpoint_conversion_mapping(model_type) is not None:
            out.append(model_type)
    return out
