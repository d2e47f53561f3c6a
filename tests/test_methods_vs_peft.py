"""PEFT methods other than LoRA: the matcher against PEFT itself, method by method.

Each method lorlint models (lorlint/models/methods.py) runs on meta-device models with a battery of
target specs — its own defaults included — and must adapt exactly the modules PEFT adapts, and
fail exactly where PEFT fails. SHiRA builds its masks from real weights, so it runs on a tiny CPU
model instead.
"""

from __future__ import annotations

import pytest

pytest.importorskip("peft")

from archs import ARCHS
from peft_oracle import peft_targets
from test_match_vs_peft import _kind, _ours_kind, specs_for

from lorlint.frontends.names import PEFT_CONFIGS
from lorlint.models import methods
from lorlint.models.introspect import build_config, introspect, model_class
from lorlint.models.match import TargetSpec, match
from lorlint.models.methods import SHAPE_CHECKED
from lorlint.models.peft_defaults import CONFIG_PEFT_TYPES

METHODS = sorted(n for n in PEFT_CONFIGS if n != "LoraConfig")
PREDICTED = [m for m in METHODS if methods.predicted(CONFIG_PEFT_TYPES[m])]
MODEL_TYPES = ["llama", "gpt2", "t5"]
MOE_NAMES = (["gate", "router"], ["w1", "w3", "w2"], ["gate_proj"])
SPEC_FIELDS = ("exclude_modules", "layers_to_transform", "layers_pattern", "modules_to_save")
# One module of each kind lorlint's tables know, from models that have one.
KIND_MODELS = {
    "llama": ARCHS["llama"],
    "gpt2": ARCHS["gpt2"],
    "qwen2_vl": ARCHS["qwen2_vl"],
    "whisper": ({"model_type": "whisper", "encoder_layers": 1, "decoder_layers": 1}, "base"),
    "vit": ({"model_type": "vit", "num_hidden_layers": 1}, "base"),
    "siglip": ({"model_type": "siglip_vision_model", "num_hidden_layers": 1}, "base"),
}


def _method_specs(table, peft_type: str) -> list[dict]:
    """The LoRA battery, less what this method's config does not take or checks its own way."""
    specs = []
    for spec in specs_for(table):
        if spec.get("target_parameters") or spec.get("target_modules") in MOE_NAMES:
            continue  # LoRA-only: target_parameters and the v4 MoE names PEFT converts
        if any(k in spec and not methods.takes(peft_type, k) for k in SPEC_FIELDS):
            continue  # a TypeError in the config: lorlint predicts nothing (engine.spec_for)
        layered = "layers_to_transform" in spec or "layers_pattern" in spec
        if isinstance(spec.get("target_modules"), str) and layered:
            continue  # config-time checks differ by method: no prediction either
        if "layers_pattern" in spec and "layers_to_transform" not in spec:
            continue
        specs.append(spec)
    if peft_type == "IA3":
        leaves = ["q_proj", "v_proj", "down_proj", "c_attn", "query", "wo", "fc2"]
        specs += [
            {"target_modules": leaves, "feedforward_modules": leaves[2:]},
            {"target_modules": leaves[:2], "feedforward_modules": leaves[2:3]},
            {"target_modules": leaves[:2], "feedforward_modules": ".*down_proj"},
            {"target_modules": leaves},
        ]
    return specs


# Names do not depend on widths; narrow layers keep VeRA's and RandLoRA's shared bases small.
NARROW = {"hidden_size": 64, "intermediate_size": 128, "num_attention_heads": 4,
          "num_key_value_heads": 2, "head_dim": 16, "n_embd": 64, "n_head": 4, "d_model": 64,
          "d_ff": 128, "d_kv": 16, "num_heads": 4}  # fmt: skip


def _narrow(config: dict) -> dict:
    return {**config, **{k: v for k, v in NARROW.items() if k in config or k == "head_dim"}}


@pytest.mark.parametrize("method", PREDICTED)
@pytest.mark.parametrize("model_type", MODEL_TYPES)
def test_method_equals_peft(method, model_type):
    peft_type = CONFIG_PEFT_TYPES[method]
    config, task = ARCHS[model_type]
    config = _narrow(config)
    table = introspect(config, task)
    mismatches = []
    for spec in _method_specs(table, peft_type):
        peft_modules, _, err = peft_targets(config, task, spec, method=method)
        ours = match(table, TargetSpec(**spec, peft_type=peft_type, via_get_peft_model=False))
        got = (sorted(ours.modules), _ours_kind(ours))
        want = (peft_modules, _kind(err))
        if got != want:
            mismatches.append((spec, want[1], str(err)[:120], got[1], got[0][:3], want[0][:3]))
    assert not mismatches, "\n".join(map(str, mismatches))


def _tiny_cpu(config: dict, task: str):
    """A small model with real (random) weights: SHiRA computes its masks from them."""
    import torch

    cfg = build_config({**config, "hidden_size": 32, "intermediate_size": 64,
                        "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 64})  # fmt: skip
    torch.manual_seed(0)
    return model_class(task).from_config(cfg)


# Sizes that fit the dimension-checked methods on layers whose sizes are multiples of 64.
PROBE_SIZES = {"BOFTConfig": {"boft_block_size": 64}, "ShiraConfig": {"r": 2},
               "C3AConfig": {"block_size": 64}, "VBLoRAConfig": {"vector_length": 64}}  # fmt: skip


def _fits(module) -> bool:
    return all(size % 64 == 0 for size in module.shape)


@pytest.mark.parametrize("method", METHODS)
def test_module_kinds_equal_peft(method):
    """Each method wraps exactly the module types SUPPORTED_KINDS says: one module of each kind
    targeted alone must be adapted, or PEFT must raise."""
    import peft_oracle

    peft_type = CONFIG_PEFT_TYPES[method]
    assert methods.modelled(peft_type), f"{method} is in PEFT_CONFIGS but not modelled"
    peft_oracle.REQUIRED[method] = {**peft_oracle.REQUIRED.get(method, {}),
                                    **PROBE_SIZES.get(method, {})}  # fmt: skip
    if peft_type == "IA3":
        peft_oracle.REQUIRED[method]["feedforward_modules"] = []
    wrong = []
    for model_name, (config, task) in KIND_MODELS.items():
        if method == "ShiraConfig" and model_name != "llama":
            continue  # SHiRA needs real weights: a tiny CPU llama only
        build = _tiny_cpu if method == "ShiraConfig" else None
        table = introspect(config, task) if build is None else _tiny_table(config, task)
        probes: dict[str, object] = {}
        for module in table.modules:
            if module.name and module.kind and (peft_type not in SHAPE_CHECKED or _fits(module)):
                probes.setdefault(module.kind, module)
        for kind, module in probes.items():
            modules, _, err = peft_targets(
                config, task, {"target_modules": [module.name]}, method=method, build=build
            )
            if (modules == [module.name]) != methods.can_wrap(module, peft_type):
                wrong.append((model_name, kind, module.cls, str(err)[:100]))
    assert not wrong, wrong


def _tiny_table(config: dict, task: str):
    from lorlint.models.introspect import table_from_model

    return table_from_model(_tiny_cpu(config, task), config["model_type"])


@pytest.mark.parametrize(
    ("method", "model_type", "adapts"),
    [
        # AdaLoRA's own map adapts BART's fc1/fc2 (LoRA's only q_proj/v_proj): issue #11.
        ("AdaLoraConfig", "bart", {"q_proj", "k_proj", "v_proj", "out_proj", "fc1", "fc2"}),
        ("IA3Config", "llama", {"k_proj", "v_proj", "down_proj"}),
        ("LNTuningConfig", "llama", {"input_layernorm", "post_attention_layernorm", "norm"}),
        ("FourierFTConfig", "gpt2", {"c_proj"}),
    ],
)
def test_method_defaults_are_its_own(method, model_type, adapts):
    config, task = ARCHS[model_type]
    peft_type = CONFIG_PEFT_TYPES[method]
    ours = match(introspect(config, task), TargetSpec(peft_type=peft_type))
    assert ours.ok and ours.defaulted
    assert {n.rpartition(".")[2] for n in ours.modules} == adapts
