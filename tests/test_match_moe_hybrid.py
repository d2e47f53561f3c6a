"""Differential test for MoE and hybrid models: the matcher against PEFT itself, no tolerance.

Every model type PEFT's MoE conversion rewrites targets for (read from the installed PEFT and
transformers) and the model types of issue #13 (gpt-oss, Llama 4, Nemotron-H, Falcon-H1, Granite 4
hybrid, LFM2, ...) and other Mamba hybrids are built on the meta device from transformers' own config defaults. For each,
PEFT's adapted module and parameter sets, its error (exact message) and its weight-tying warnings
must equal the matcher's: the conversion and its fused-pair errors, ``target_parameters`` with
``lora_dropout``, PEFT's Mamba restriction, LoRA's conv ``groups`` limit and
``ensure_weight_tying``.
"""

from __future__ import annotations

import contextlib
import re
import warnings

import pytest

pytest.importorskip("peft")

from modern import ISSUE_TYPES, MORE_HYBRIDS, config_of, conversion_types, task_of
from peft_oracle import peft_targets

from lorlint.models.introspect import IntrospectionError, introspect
from lorlint.models.match import TargetSpec, match
from lorlint.models.summary import split_block

LLAMA = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
SIZES = {"r": 4, "lora_alpha": 8}
DETAILED = set(ISSUE_TYPES) | set(MORE_HYBRIDS)
MODEL_TYPES = sorted(set(conversion_types()) | DETAILED)


def _table(model_type: str):
    try:
        return introspect(config_of(model_type), task_of(model_type))
    except IntrospectionError as err:
        pytest.skip(f"{model_type} does not build from its default config: {err}")


def expert_parameters(table) -> list[str]:
    """``owner.param`` names of 3-D parameters of modules LoRA cannot wrap (fused experts)."""
    seen: dict[str, None] = {}
    for m in table.modules:
        if m.kind is None and split_block(m.name):
            for p, shape in m.own_params:
                if len(shape) == 3:
                    seen.setdefault(f"{m.leaf}.{p}", None)
    return list(seen)


HYBRID_SPECS = [
    {"target_modules": ["in_proj", "out_proj"]},
    {"target_modules": ["conv1d"]},
    {"target_modules": ["q_proj", "conv1d"], "rank_pattern": {"conv1d": 8}},
    {"target_modules": ["q_proj"], "target_parameters": ["out_proj.weight"]},
]
TIED_SPECS = [
    {"target_modules": ["q_proj", "lm_head"]},
    {"target_modules": ["q_proj", "lm_head"], "ensure_weight_tying": True},
    {"target_modules": ["q_proj"], "modules_to_save": ["lm_head"]},
    {"target_modules": ["q_proj"], "modules_to_save": ["lm_head"], "ensure_weight_tying": True},
    {"target_modules": r".*\.(q_proj|embed_tokens)", "ensure_weight_tying": True},
    {"target_modules": ["q_proj"], "ensure_weight_tying": True},
    {"target_modules": ["embed_tokens"]},
]


def specs_for(table) -> list[dict]:
    """MoE specs: the conversion's names, its fused pairs, regexes, expert parameters, dropout."""
    leaves: dict[str, None] = {}
    for m in table.modules:
        if m.kind and split_block(m.name):
            leaves.setdefault(m.leaf, None)
    experts = expert_parameters(table)
    specs: list[dict] = [
        {},
        {"target_modules": "all-linear"},
        {"target_modules": LLAMA},
        {"target_modules": LLAMA, "lora_dropout": 0.05},
        {"target_modules": ["q_proj", "v_proj"], "lora_dropout": 0.1},
        {"target_modules": ["gate_proj"]},
        {"target_modules": ["up_proj", "down_proj"]},
        {"target_modules": ["w1"]},
        {"target_modules": ["q_proj", "gate", "w1", "w3", "w2"]},
        {"target_modules": ["experts.down_proj"]},
        {"target_modules": r".*\.(gate|up|down)_proj"},
        {"target_modules": r".*experts.*"},
        {"target_modules": list(leaves)},
    ]
    if experts:
        specs += [
            {"target_modules": [], "target_parameters": experts},
            {"target_modules": ["q_proj"], "target_parameters": experts, "lora_dropout": 0.05},
            {"target_modules": "all-linear", "target_parameters": experts},
        ]
    return specs


def _outcome(result) -> tuple:
    message = result.error.message if result.error else None
    return sorted(result.modules), sorted(result.parameters), _canonical(message)


def _canonical(message: str | None) -> str | None:
    """PEFT prints Python sets: their order depends on the hash seed, so sort their items."""
    if message is None:
        return None

    def sort_set(m: re.Match) -> str:
        return "{" + ", ".join(sorted(m.group(1).split(", "))) + "}"

    return re.sub(r"\{('[^{}]*')\}", sort_set, message)


@pytest.mark.parametrize("model_type", MODEL_TYPES)
def test_matcher_equals_peft_on_moe_and_hybrid_models(model_type):
    config, task = config_of(model_type), task_of(model_type)
    table = _table(model_type)
    mismatches = []
    extra = HYBRID_SPECS + TIED_SPECS if model_type in DETAILED else []
    for spec in specs_for(table) + extra:
        modules, params, err = peft_targets(config, task, spec)
        ours = match(table, TargetSpec(**SIZES, **spec, via_get_peft_model=False))
        want = (modules, params, _canonical(str(err)) if err is not None else None)
        got = _outcome(ours)
        if ours.error is not None and ours.error.kind in ("config", "regex", "unsupported"):
            # PEFT's text holds the module's repr or Python's own wording: compare the outcome
            got, want = (*got[:2], "raises"), (*want[:2], "raises" if err is not None else None)
        if got != want:
            mismatches.append(
                (spec, want[2], got[2], want[0][:4], got[0][:4], want[1][:2], got[1][:2])
            )
    assert not mismatches, "\n".join(map(str, mismatches))


def _peft_warnings(config: dict, task: str, spec: dict) -> list[str]:
    from peft import LoraConfig, inject_adapter_in_model

    from lorlint.models.introspect import build_model

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with contextlib.suppress(ValueError):
            inject_adapter_in_model(LoraConfig(**SIZES, **spec), build_model(config, task))
    return [str(w.message) for w in caught if "weight_tying" in str(w.message)]


TIED = ["lfm2", "gemma3_text", "qwen3"]


@pytest.mark.parametrize("model_type", TIED)
def test_tied_weight_warnings_equal_peft(model_type):
    """PEFT warns about an adapter on tied embedding weights exactly when the matcher says so."""
    from transformers import CONFIG_MAPPING

    config = config_of(model_type) if model_type in ISSUE_TYPES else None
    if config is None:
        config = CONFIG_MAPPING[model_type](num_hidden_layers=2, tie_word_embeddings=True).to_dict()
        config["model_type"] = model_type
    task = "causal-lm"
    table = introspect(config, task)
    assert table.tied_embeddings
    for spec in TIED_SPECS:
        ours = match(table, TargetSpec(**SIZES, **spec, via_get_peft_model=False))
        expected = _peft_warnings(config, task, spec)
        got = [w for w in ours.warnings if "weight_tying" in w]
        assert got == expected, spec
        assert (ours.tied_warning is not None) == any("not set to True" in w for w in expected)
