"""The bundled catalog equals what the installed transformers builds, and says what it knows.

Every bundled-index table and a sample of per-type tables are rebuilt and compared here
(``LORLINT_SWEEP=all`` rebuilds every per-type table); the generator is scripts/build_catalog.py.
"""

from __future__ import annotations

import os

import pytest

from lorlint.models import catalog
from lorlint.models.index_data import CONFIGS, MODELS
from lorlint.models.table import LayerTable

pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from sweep import SAMPLE  # noqa: E402
from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES  # noqa: E402

from lorlint.models.introspect import IntrospectionError, introspect  # noqa: E402
from lorlint.models.match import TargetSpec, match  # noqa: E402

TYPES = sorted(catalog.raw_index()["types"]) if os.environ.get("LORLINT_SWEEP") else SAMPLE


def test_catalog_is_stamped_with_the_installed_transformers():
    assert catalog.transformers_version() == transformers.__version__, (
        "the catalog was built with another transformers: run `make catalog`"
    )


def test_the_vocabulary_is_every_model_type_of_transformers():
    assert catalog.model_types() == set(CONFIG_MAPPING_NAMES)
    assert len(catalog.raw_index()["types"]) > 500  # ~560 build from their default config


def test_every_index_entry_has_a_table():
    assert set(catalog.raw_index()["entries"]) == set(CONFIGS)
    assert set(MODELS.values()) <= set(CONFIGS)


# Entries whose every task is rebuilt here (LORLINT_SWEEP=all: every entry); the others have
# their own task's table rebuilt.
ALL_TASKS_SAMPLE = {"bert-base-cased", "llama-3-8b", "qwen2-vl-2b", "t5-base", "mixtral-8x7b"}


@pytest.mark.parametrize("key", sorted(CONFIGS))
def test_entry_table_matches_a_fresh_build(key):
    config = CONFIGS[key]
    own, *others = catalog.entry_tasks(key)
    assert own == (config.get("task") or catalog.natural_task(config["model_type"]))
    assert set(others) <= set(catalog.type_tasks(config["model_type"]))
    every = os.environ.get("LORLINT_SWEEP") or key in ALL_TASKS_SAMPLE
    for task in [own, *others] if every else [own]:
        fresh = introspect(config, task).to_json()
        stored = catalog.entry_table(key, task)
        assert stored.to_json() == LayerTable.from_json(fresh).to_json(), task


def test_entries_hold_the_tasks_scripts_load_them_through():
    """bert-base-cased loaded for token classification (tests/realworld: huggingface--peft--
    bert-ner-lora) is a catalog lookup, not a 4 s build of torch and transformers."""
    assert "token-cls" in catalog.entry_tasks("bert-base-cased")
    assert catalog.entry_table("bert-base-cased", "token-cls").architecture == (
        "BertForTokenClassification"
    )


@pytest.mark.parametrize("model_type", TYPES)
def test_type_tables_match_a_fresh_build(model_type):
    for task in catalog.type_tasks(model_type):
        fresh = introspect({"model_type": model_type}, task).to_json()
        stored = catalog.type_table(model_type, task)
        assert stored.to_json() == LayerTable.from_json(fresh).to_json(), task


@pytest.mark.parametrize("model_type", ["dbrx", "musicgen", "timm_wrapper"])
def test_unbuildable_types_really_fail_to_build(model_type):
    reason = catalog.unbuildable_reason(model_type)
    assert reason
    with pytest.raises(IntrospectionError):
        introspect({"model_type": model_type}, "base")


def test_natural_tasks():
    natural = {
        "llama": "causal-lm",
        "gemma3": "image-text-to-text",
        "gemma3_text": "causal-lm",
        "llama4": "image-text-to-text",
        "t5": "seq2seq-lm",
        "m2m_100": "seq2seq-lm",
        "nllb-moe": "seq2seq-lm",
        "whisper": "speech-seq2seq",
        "bert": "seq-cls",
        "vit": "image-cls",
        "wav2vec2": "ctc",
    }
    assert {t: catalog.natural_task(t) for t in natural} == natural


def test_llama4_as_a_causal_lm_is_the_text_model_and_has_no_peft_default():
    """AutoModelForCausalLM hands Llama 4's text config to Llama4ForCausalLM: llama4_text,
    which PEFT has no default target_modules for (get_peft_model raises)."""
    assert catalog.type_tasks("llama4")["causal-lm"][1] == "llama4_text"
    table = catalog.type_table("llama4", "causal-lm")
    assert table.model_type == "llama4_text"
    assert match(table, TargetSpec()).error.kind == "no-default"


@pytest.mark.parametrize(
    "model_type", ["granite_speech5_ctc", "pp_doclayout_v3", "pp_doclayout_v4", "pp_formulanet"]
)
def test_get_input_embeddings_peft_cannot_call_is_recorded(model_type):
    table = catalog.type_table(model_type, catalog.natural_task(model_type))
    assert "get_input_embeddings" in table.meta["peft_error"]
    assert match(table, TargetSpec(target_modules="all-linear")).error.kind == "model"


def test_a_size_kept_as_a_tensor_is_cached_as_an_int(tmp_path, monkeypatch):
    """inkling_mm_model keeps a layer size as a 0-d tensor: the table must still be JSON."""
    from lorlint.models import cache

    monkeypatch.setenv("LORLINT_CACHE_DIR", str(tmp_path))
    table = introspect({"model_type": "inkling_mm_model"}, "image-text-to-text")
    cache.store("k", "v", table)
    assert cache.load("k", "v").to_json() == table.to_json()


@pytest.mark.parametrize(
    ("model_type", "field"),
    [
        ("gemma3", "vision_config.vision_use_head"),
        ("deepseek_v3", "first_k_dense_replace"),
        ("deepseek_v3", "q_lora_rank"),
        ("qwen3_next", "layer_types"),
        ("llama4", "text_config.moe_layers"),
        ("t5", "is_gated_act"),
    ],
)
def test_layout_fields_are_found(model_type, field):
    assert field in catalog.layout_fields(model_type)


def test_layout_names_of_gemma3_vision_head():
    unstable, optional = catalog.layout_names("gemma3")
    assert "model.vision_tower.head.mlp.fc1" in unstable and not optional


def test_classes_map_to_their_config_type():
    assert catalog.class_info("ViTForImageClassification") == ("vit", "image-cls")
    assert catalog.class_info("Gemma3ForCausalLM") == ("gemma3_text", "causal-lm")
    assert catalog.class_info("Llama4ForCausalLM") == ("llama4_text", "causal-lm")
    assert catalog.class_info("WhisperForConditionalGeneration") == ("whisper", "speech-seq2seq")


@pytest.mark.parametrize("key", sorted(CONFIGS))
def test_index_entries_decide_every_layout_field(key):
    """A layout field left unset takes transformers' default, which is right only if the hub
    config.json agrees: each is set in the entry or listed in DEFAULTED_LAYOUT with why."""
    from lorlint.models.index_data import DEFAULTED_LAYOUT

    config = CONFIGS[key]
    model_type = config["model_type"]
    for path in catalog.layout_fields(model_type):
        *parents, field = path.split(".")
        part = config
        for name in parents:
            part = part.get(name, {})
        assert field in part or field in DEFAULTED_LAYOUT.get(model_type, {}), (key, path)
