"""Each tool's and PEFT method's own semantics, end to end through ``lint_source``.

Every case is a minimal reproduction of a config that is right under the semantics of the method
or tool really used; where behaviour is claimed, the matching test runs the real library
(tests/test_methods_vs_peft.py for PEFT methods).
"""

from __future__ import annotations

import textwrap

import pytest

from lorlint.engine import Options, ViewCache, lint_text


def codes(source: str, path: str = "t.py", **options) -> list[str]:
    found = lint_text(path, textwrap.dedent(source), Options(**options), ViewCache(online=False))
    return sorted(d.code for d in found)


def findings(source: str, path: str = "t.py"):
    return lint_text(path, textwrap.dedent(source), Options(), ViewCache(online=False))


# --- PEFT methods other than LoRA ----------------------------------------------------------------


def test_adalora_default_on_bart_adapts_the_mlp_too():
    """Issue #11: AdaLoRA's own default for BART includes fc1/fc2, so it is not attention-only."""
    source = """
        from peft import AdaLoraConfig
        # lorlint: model=facebook/bart-large
        config = AdaLoraConfig(total_step=1000, task_type="SEQ_2_SEQ_LM")
    """
    assert codes(source) == []


def test_adalora_default_on_llama_is_attention_only():
    source = """
        from peft import AdaLoraConfig
        # lorlint: model=meta-llama/Llama-3.1-8B
        config = AdaLoraConfig(total_step=1000)
    """
    assert codes(source) == ["LL201"]


@pytest.mark.parametrize(
    "config",
    [
        "IA3Config()",
        "IA3Config(target_modules=['q_proj', 'v_proj'], feedforward_modules=[])",
        "LoHaConfig(target_modules=['q_proj', 'v_proj'])",
        "VeraConfig(target_modules=['q_proj', 'v_proj'])",
        "LNTuningConfig()",
        "OFTConfig()",
    ],
)
def test_rules_that_model_lora_only_stay_quiet_on_other_methods(config):
    name = config.partition("(")[0]
    source = f"""
        from peft import {name}
        # lorlint: model=meta-llama/Llama-3.1-8B
        config = {config}
    """
    assert codes(source) == []


def test_a_method_keeps_its_own_module_types():
    """LoHa cannot wrap GPT-2's Conv1D: LL104 names LoHa, not LoRA."""
    source = """
        from peft import LoHaConfig
        # lorlint: model=openai-community/gpt2
        config = LoHaConfig(target_modules=["c_attn"])
    """
    (d,) = findings(source)
    assert d.code == "LL104" and "LoHa cannot wrap" in d.message


def test_ln_tuning_is_a_peft_type_of_its_own():
    from lorlint.frontends.python import extract_sites

    (site,) = extract_sites("t.py", "from peft import LNTuningConfig\nLNTuningConfig()\n")
    assert site.peft_type == "LN_TUNING"


# --- classification heads PEFT adds itself --------------------------------------------------------


def test_seq_cls_heads_in_modules_to_save_are_peft_s_own():
    """PeftModelForSequenceClassification adds both "classifier" and "score"; Llama has "score"."""
    source = """
        from peft import LoraConfig
        # lorlint: model=meta-llama/Llama-3.2-1B
        config = LoraConfig(target_modules="all-linear", task_type="SEQ_CLS",
                            modules_to_save=["classifier", "score"])
    """
    assert codes(source) == []


def test_saved_seq_cls_adapter_lists_both_heads(tmp_path):
    """What PEFT writes for a Llama classifier: modules_to_save holds both head names."""
    import json

    adapter = {
        "peft_type": "LORA",
        "task_type": "SEQ_CLS",
        "base_model_name_or_path": "meta-llama/Llama-3.2-1B",
        "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj",
                           "down_proj"],
        "modules_to_save": ["classifier", "score"],
        "r": 8,
        "lora_alpha": 16,
    }  # fmt: skip
    assert codes(json.dumps(adapter, indent=2), path="adapter_config.json") == []


def test_a_dead_modules_to_save_entry_is_still_reported_without_the_task():
    source = """
        from peft import LoraConfig
        # lorlint: model=meta-llama/Llama-3.2-1B
        config = LoraConfig(target_modules="all-linear", modules_to_save=["classifier"])
    """
    assert codes(source) == ["LL106"]


def test_peft_itself_adds_both_heads_for_seq_cls():
    """The claim behind the two tests above, on PEFT itself."""
    pytest.importorskip("peft")
    from archs import ARCHS
    from peft import LoraConfig, get_peft_model

    from lorlint.models.introspect import build_model

    config, _ = ARCHS["llama"]
    model = get_peft_model(
        build_model(config, "seq-cls"), LoraConfig(target_modules=["q_proj"], task_type="SEQ_CLS")
    )
    assert {"classifier", "score"} <= set(model.peft_config["default"].modules_to_save)


# --- config tools ---------------------------------------------------------------------------------


def test_llama_factory_all_is_its_own_linear_leaves_not_peft_all_linear():
    """lora_target: all is find_all_linear_modules: Linear-class leaves, never the non-Linear MoE
    router, so no LL204 (PEFT's own "all-linear" would convert the router's name on Mixtral)."""
    source = """
        model_name_or_path: mistralai/Mixtral-8x7B-v0.1
        finetuning_type: lora
        lora_target: all
    """
    assert "LL204" not in codes(source, path="train.yaml")


@pytest.mark.parametrize("model_type", ["mixtral", "qwen2_moe", "llama", "gpt2"])
def test_llama_factory_leaves_match_what_peft_adapts(model_type):
    """The leaf list LLaMA-Factory builds, handed to PEFT itself, adapts what lorlint predicts."""
    pytest.importorskip("peft")
    from archs import ARCHS
    from peft_oracle import peft_targets

    from lorlint.models.introspect import introspect
    from lorlint.models.llama_factory import all_linear_leaves
    from lorlint.models.match import TargetSpec, match

    config, task = ARCHS[model_type]
    table = introspect(config, task)
    leaves = all_linear_leaves(table)
    assert "lm_head" not in leaves and "gate" not in leaves
    modules, params, err = peft_targets(config, task, {"target_modules": leaves})
    ours = match(table, TargetSpec(target_modules=leaves, via_get_peft_model=False))
    assert (sorted(ours.modules), sorted(ours.parameters), ours.ok) == (modules, params, not err)


def _llama_factory_targets(model, freeze_vision_tower: bool) -> list[str]:
    """LLaMA-Factory's find_all_linear_modules then patch_target_modules (ff6d4d1, model_utils/
    misc.py and visual.py), on the torch model, defaults for the other freeze flags."""
    from lorlint.models.llama_factory import COMPOSITE_MODELS

    projector, vision, _language, conflict = (
        k.split() for k in COMPOSITE_MODELS[model.config.model_type]
    )
    forbidden = {"lm_head", *projector, *(vision if freeze_vision_tower else ())}
    leaves = {
        name.split(".")[-1]
        for name, module in model.named_modules()
        if not any(f in name for f in forbidden)
        and "Linear" in type(module).__name__
        and "Embedding" not in type(module).__name__
    }
    frozen = {*conflict, *projector, *(vision if freeze_vision_tower else ())}
    return [
        name
        for name, _ in model.named_modules()
        if any(t in name for t in leaves) and not any(f in name for f in frozen)
    ]


@pytest.mark.parametrize("model_type", ["qwen3_vl_moe", "qwen2_vl", "mllama", "gemma3"])
@pytest.mark.parametrize("freeze_vision_tower", [True, False])
def test_llama_factory_all_on_a_vision_language_model_is_what_peft_adapts(
    model_type, freeze_vision_tower
):
    """lora_target: all on a composite model: the full names LLaMA-Factory hands PEFT, given to
    PEFT itself on the class LLaMA-Factory loads (AutoModelForImageTextToText), adapt exactly
    what lorlint predicts."""
    pytest.importorskip("peft")
    from peft_oracle import peft_targets
    from transformers import CONFIG_MAPPING

    from lorlint.engine import spec_for
    from lorlint.frontends.configs import yaml_sites
    from lorlint.models.introspect import build_model, introspect
    from lorlint.models.match import match

    config = CONFIG_MAPPING[model_type]().to_dict()
    task = "image-text-to-text"
    source = (
        f"model_name_or_path: x\nfinetuning_type: lora\nlora_target: all\n"
        f"freeze_vision_tower: {str(freeze_vision_tower).lower()}\n"
    )
    (site,) = yaml_sites("train.yaml", source)
    table = introspect(config, task)
    spec = spec_for(site, table)
    spec.via_get_peft_model = False
    ours = match(table, spec)
    targets = _llama_factory_targets(build_model(config, task), freeze_vision_tower)
    modules, params, err = peft_targets(config, task, {"target_modules": targets})
    assert (sorted(ours.modules), sorted(ours.parameters), ours.ok) == (modules, params, not err)
    vision = [m for m in modules if "vision" in m or "visual" in m]
    assert bool(vision) is (not freeze_vision_tower)


@pytest.mark.parametrize(
    ("path", "source", "expected"),
    [
        ("train.yaml", "lora_target: q_proj,v_proj", []),  # the tower is left out
        ("train.yaml", "lora_target: q_proj,v_proj\nfreeze_vision_tower: false", []),  # asked for
        ("train.sh", "--lora_target q_proj,v_proj --freeze_vision_tower false", []),
    ],
)
def test_llama_factory_vision_tower_is_adapted_only_when_unfrozen_and_then_on_purpose(
    path, source, expected
):
    model = "meta-llama/Llama-3.2-11B-Vision-Instruct"
    if path.endswith(".sh"):
        text = (
            f"llamafactory-cli train --model_name_or_path {model} --finetuning_type lora {source}\n"
        )
    else:
        text = f"model_name_or_path: {model}\nfinetuning_type: lora\n{source}\n"
    assert [c for c in codes(text, path=path) if c == "LL205"] == expected
    unfrozen = "freeze_vision_tower" in source
    assert _adapted_vision_tower(path, text) is unfrozen  # left out, or adapted on purpose


def _adapted_vision_tower(path: str, text: str) -> bool:
    from pathlib import Path

    from lorlint.engine import spec_for
    from lorlint.frontends.configs import yaml_sites
    from lorlint.frontends.shell import sites
    from lorlint.models.match import match

    (site,) = sites(path, text) if path.endswith(".sh") else yaml_sites(path, text)
    view = ViewCache(online=False).get(site.model, site.task, Path("."), site.loader)
    result = match(view.table, spec_for(site, view.table))
    return result.ok and any("vision_model" in name for name in result.modules)


def test_llama_factory_all_on_a_moe_vlm_leaves_the_experts_with_no_target_parameters_advice():
    """lora_target: all on Qwen3-VL-MoE adapts attention only; LLaMA-Factory has no way to pass
    target_parameters, so LL209 does not tell its user to add them."""
    source = """
        model_name_or_path: Qwen/Qwen3-VL-30B-A3B-Instruct
        finetuning_type: lora
        lora_target: all
    """
    (d,) = [d for d in findings(source, path="train.yaml") if d.code == "LL209"]
    assert d.message.endswith(
        "LLaMA-Factory hands PEFT no target_parameters, so its LoRA cannot adapt them"
    )
    assert "add target_parameters" not in d.message


def test_llama_factory_reads_the_freeze_flags_of_a_command_line():
    from lorlint.frontends.shell import sites
    from lorlint.site import UNKNOWN

    line = "llamafactory-cli train --model_name_or_path m --finetuning_type lora --lora_target all"
    (site,) = sites("t.sh", line + " --freeze_vision_tower false --freeze_language_model $X\n")
    assert site.get("freeze_vision_tower") is False
    assert site.get("freeze_language_model") is UNKNOWN


def test_llama_factory_default_lora_target_is_all():
    source = """
        model_name_or_path: meta-llama/Llama-3.1-8B
        finetuning_type: lora
    """
    assert codes(source, path="train.yaml") == []


def test_llama_factory_all_is_case_sensitive():
    """split_arg keeps "ALL" as a module name: PEFT finds no module called ALL."""
    source = """
        model_name_or_path: meta-llama/Llama-3.1-8B
        finetuning_type: lora
        lora_target: ALL
    """
    assert codes(source, path="train.yaml") == ["LL101"]


def test_oumi_turns_the_all_linear_list_into_the_string():
    source = """
        model:
          model_name: meta-llama/Llama-3.1-8B
        training:
          use_peft: true
        peft:
          lora_target_modules: ["all-linear"]
    """
    assert codes(source, path="oumi.yaml") == []


@pytest.mark.parametrize(
    ("model", "vision"),
    [
        ("meta-llama/Llama-4-Scout-17B-16E-Instruct", False),
        ("meta-llama/Llama-3.2-11B-Vision-Instruct", True),
    ],
)
def test_oumi_loads_the_class_its_model_map_names(model, vision):
    """oumi builds a type outside its model map (Llama 4) with AutoModelForCausalLM, the text
    model alone: no vision tower to adapt. mllama is in the map as a VLM: its tower is there."""
    source = f"""
        model:
          model_name: {model}
        training:
          use_peft: true
        peft:
          lora_target_modules: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj"]
    """
    found = findings(source, path="oumi.yaml")
    assert ("LL205" in [d.code for d in found]) is vision
    assert "LL901" not in [d.code for d in found]
    if not vision:  # oumi's own key for PEFT's target_parameters
        (experts,) = [d for d in found if d.code == "LL209"]
        assert "add lora_target_parameters=" in experts.message


def test_axolotl_target_parameters_adapt_the_experts():
    source = """
        base_model: openai/gpt-oss-20b
        adapter: lora
        lora_target_modules: ["q_proj", "k_proj", "v_proj", "o_proj"]
        lora_target_parameters: ["mlp.experts.gate_up_proj", "mlp.experts.down_proj"]
        lora_dropout: 0.0
    """
    assert codes(source, path="axolotl.yaml") == []


def test_axolotl_target_linear_adds_every_linear_leaf_to_the_list():
    from lorlint.frontends.configs import yaml_sites
    from lorlint.models.axolotl import resolve
    from lorlint.models.view import load_view

    text = textwrap.dedent("""
        base_model: meta-llama/Llama-3.2-1B
        adapter: qlora
        lora_target_modules: ["q_proj"]
        lora_target_linear: true
    """)
    (site,) = yaml_sites("axolotl.yaml", text)
    table = load_view("meta-llama/Llama-3.2-1B").table
    targets, _ = resolve(site, table, site.get("target_modules"), {})
    assert targets == sorted(["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj",
                              "down_proj"])  # fmt: skip
