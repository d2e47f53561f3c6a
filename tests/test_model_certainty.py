"""Which model a config is checked against, and how sure each finding is (issue #10's cases).

No finding may rest on a guessed architecture: an id lorlint cannot place is LL901 only; an
architecture placed by its name or class is checked by names, never by counts.
"""

from __future__ import annotations

import textwrap

import pytest

from lorlint.engine import Options, ViewCache, lint_source
from lorlint.models import catalog
from lorlint.models.view import load_view

pytestmark = pytest.mark.skipif(not catalog.model_types(), reason="no catalog")


def lint(source: str) -> list:
    return lint_source("train.py", textwrap.dedent(source), Options(), ViewCache(online=False))


def codes(found) -> list[str]:
    return sorted(d.code for d in found)


def script(model: str, targets: list[str], loader: str = "AutoModelForCausalLM") -> str:
    return f"""\
        from peft import LoraConfig, get_peft_model
        from transformers import {loader}

        model = {loader}.from_pretrained("{model}")
        config = LoraConfig(target_modules={targets!r})
        model = get_peft_model(model, config)
        """


def test_vit_class_names_the_architecture_and_query_value_are_gone():
    """transformers 5's ViT has q/k/v/o_proj: ["query", "value"] makes get_peft_model raise."""
    found = lint(script("google/vit-base-patch16-224-in21k", ["query", "value"],
                        "ViTForImageClassification"))  # fmt: skip
    ll101 = [d for d in found if d.code == "LL101"]
    assert len(ll101) == 2 and all(d.severity == "error" for d in ll101)
    assert "get_peft_model raises" in ll101[0].message
    assert "vit" in ll101[0].message


@pytest.mark.parametrize(
    ("model", "targets", "loader"),
    [
        ("tiiuae/Falcon-H1-1B-Deep-Instruct",
         ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj", "in_proj"],
         "AutoModelForCausalLM"),
        ("Qwen/Qwen3-Next-80B-A3B-Instruct",
         ["q_proj", "v_proj", "in_proj_qkvz", "in_proj_ba", "shared_expert_gate"],
         "AutoModelForCausalLM"),
        ("meta-llama/Llama-4-Scout-17B-16E-Instruct",
         ["q_proj", "v_proj", "feed_forward.shared_expert.down_proj"], "AutoModelForCausalLM"),
        ("meta-llama/Llama-3.2-11B-Vision-Instruct", ["q_proj", "v_proj", "fc1", "fc2"],
         "MllamaForConditionalGeneration"),
        ("unsloth/Phi-3-medium-4k-instruct",
         ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
         "AutoModelForCausalLM"),
    ],
)  # fmt: skip
def test_real_names_of_the_real_architecture_pass(model, targets, loader):
    assert not [d for d in lint(script(model, targets, loader)) if d.code in ("LL101", "LL901")]


def test_gemma_3_270m_is_text_only():
    view = load_view("google/gemma-3-270m-it", task="causal-lm")
    assert view.model_type == "gemma3_text"
    found = lint(script("google/gemma-3-270m-it", ["q_proj", "v_proj"]))
    assert "LL205" not in codes(found)


def test_llama4_loaded_as_causal_lm_is_the_text_model():
    view = load_view("meta-llama/Llama-4-Scout-17B-16E-Instruct", loader="AutoModelForCausalLM")
    assert view.model_type == "llama4_text" and view.table.architecture == "Llama4ForCausalLM"
    assert not view.exact


def test_an_id_lorlint_cannot_place_is_ll901_and_nothing_else():
    found = lint(script("someone/my-llama-finetune-v2", ["q_proj", "dwn_proj"]))
    model_rules = {"LL101", "LL103", "LL104", "LL105", "LL106", "LL107", "LL108", "LL201",
                   "LL203", "LL204", "LL205"}  # fmt: skip
    assert "LL901" in codes(found) and not model_rules & set(codes(found))
    (ll901,) = [d for d in found if d.code == "LL901"]
    assert "tried" in ll901.message and "lorlint: model=" in ll901.message


def test_counts_from_a_default_config_make_no_layer_finding():
    """layers_to_transform=[90] is out of range on the default config, maybe not on the model."""
    source = """\
        from peft import LoraConfig
        # lorlint: model=tiiuae/Falcon-H1-1B-Deep-Instruct
        config = LoraConfig(target_modules=["q_proj"], layers_to_transform=[90])
        """
    assert "LL107" not in codes(lint(source))
    exact = source.replace("tiiuae/Falcon-H1-1B-Deep-Instruct", "meta-llama/Llama-3.2-1B")
    assert "LL107" in codes(lint(exact))


def test_a_name_only_another_layout_has_is_not_reported():
    """DeepSeek-V3.1 by name: the default config has q_lora_rank (q_a_proj / q_b_proj); a
    config without it has q_proj. Neither can be ruled out, so q_proj is no finding."""
    view = load_view("deepseek-ai/DeepSeek-V3.1")
    assert not view.exact and view.might_have("q_proj")
    assert "LL101" not in codes(lint(script("deepseek-ai/DeepSeek-V3.1", ["q_proj", "o_proj"])))


def test_view_describes_its_source_and_certainty():
    exact = load_view("meta-llama/Llama-3.1-8B")
    assert (
        exact.exact
        and exact.describe() == "meta-llama/Llama-3.1-8B (llama, bundled index: llama-3-8b)"
    )
    named = load_view("tiiuae/Falcon-H1-1B-Deep-Instruct")
    assert named.certainty == "architecture"
    assert named.describe().startswith("tiiuae/Falcon-H1-1B-Deep-Instruct (falcon_h1 from")


def test_exclude_modules_matching_nothing_needs_the_models_own_names():
    """Gemma 4 E4B by name: the default config lacks the towers the checkpoint has, and an
    exclude_modules regex naming them is right (a real adapter_config.json in the real-world
    set); with an exact config the same finding stands."""
    source = """\
        from peft import LoraConfig
        # lorlint: model=google/gemma-4-E4B-it
        config = LoraConfig(target_modules=["q_proj"], exclude_modules=".*(audio_tower|nothing_x).*")
        """
    assert "LL105" not in codes(lint(source))
    exact = source.replace("google/gemma-4-E4B-it", "meta-llama/Llama-3.2-1B")
    assert "LL105" in codes(lint(exact))
