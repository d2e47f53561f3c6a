"""Model reference → config, in the documented order, offline."""

from __future__ import annotations

import json

import huggingface_hub.constants
import pytest
from helpers import put_in_hf_cache, write_config

from lorlint.models.resolve import ModelNotFound, index_key_for, resolve

TINY_LLAMA = {"model_type": "llama", "hidden_size": 64, "intermediate_size": 128,
              "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
              "vocab_size": 100}  # fmt: skip


def test_local_directory_relative_to_the_linted_file(tmp_path):
    write_config(tmp_path / "ckpt", TINY_LLAMA)
    resolved = resolve("ckpt", base_dir=tmp_path)
    assert resolved.source == "local"
    assert resolved.config["hidden_size"] == 64
    assert resolved.location.endswith("ckpt/config.json")


def test_local_directory_wins_over_the_index(tmp_path, monkeypatch):
    write_config(tmp_path / "gpt2", {**TINY_LLAMA})
    monkeypatch.chdir(tmp_path)
    assert resolve("gpt2").source == "local"


def test_adapter_directory_follows_base_model(tmp_path):
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text(
        json.dumps({"base_model_name_or_path": "gpt2", "target_modules": ["c_attn"]})
    )
    resolved = resolve(str(adapter))
    assert resolved.source == "bundled" and resolved.model_type == "gpt2"


def test_relative_adapter_directory_and_a_config_json_that_is_no_file(tmp_path, monkeypatch):
    """The relative references ``_from_local`` rules out without path objects (most hub ids)
    are found as before when a directory has them; a ``config.json`` directory is no config."""
    adapter = tmp_path / "runs" / "adapter"
    (adapter / "config.json").mkdir(parents=True)
    (adapter / "adapter_config.json").write_text(
        json.dumps({"base_model_name_or_path": "gpt2", "target_modules": ["c_attn"]})
    )
    for reference in ("runs/adapter", "runs//adapter/", "./runs/adapter"):
        resolved = resolve(reference, base_dir=tmp_path)
        assert resolved.source == "bundled" and resolved.model_type == "gpt2", reference
    monkeypatch.chdir(tmp_path / "runs")
    assert resolve("adapter").model_type == "gpt2"
    with pytest.raises(ModelNotFound, match="tried local directory"):
        resolve("adapter/config.json")


def test_hugging_face_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))
    put_in_hf_cache(tmp_path, "acme/tiny-llama", TINY_LLAMA)
    resolved = resolve("acme/tiny-llama")
    assert resolved.source == "hf-cache"
    assert resolved.config["num_hidden_layers"] == 2


def test_cache_beats_index(tmp_path, monkeypatch):
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))
    put_in_hf_cache(tmp_path, "gpt2", {**TINY_LLAMA})
    assert resolve("gpt2").source == "hf-cache"


@pytest.mark.parametrize(
    ("reference", "key"),
    [
        ("meta-llama/Llama-3.1-8B", "llama-3-8b"),
        ("META-LLAMA/llama-3.1-8b-instruct", "llama-3-8b"),
        ("unsloth/Phi-3-mini-4k-instruct", "unsloth-phi-3-mini"),
        ("unsloth/Phi-3-medium-4k-instruct-bnb-4bit", "unsloth-phi-3-medium"),
        ("microsoft/Phi-3-mini-4k-instruct", "phi-3-mini"),
        ("unsloth/Qwen2.5-7B-Instruct-bnb-4bit", "qwen2-7b"),
        ("unsloth/Meta-Llama-3.1-8B-Instruct-unsloth-bnb-4bit", "llama-3-8b"),
    ],
)
def test_bundled_index(reference, key):
    assert index_key_for(reference) == key
    assert resolve(reference).source == "bundled"


def test_unsloth_phi_is_converted():
    """Unsloth's Phi-3 are Mistral-type, its Phi-4 Llama-type; Microsoft's own are phi3."""
    assert resolve("unsloth/Phi-3-mini-4k-instruct").model_type == "mistral"
    assert resolve("unsloth/Phi-3-medium-4k-instruct").model_type == "mistral"
    assert resolve("unsloth/phi-4").model_type == "llama"
    assert resolve("microsoft/Phi-3-mini-4k-instruct").model_type == "phi3"


def test_name_places_the_architecture_not_the_size():
    resolved = resolve("tiiuae/Falcon-H1-1B-Deep-Instruct")
    assert resolved.source == "name" and resolved.certainty == "architecture"
    assert resolved.config == {"model_type": "falcon_h1"}


def test_a_name_lorlint_cannot_place_is_unknown_not_a_neighbour():
    with pytest.raises(ModelNotFound) as info:
        resolve("someone/my-llama-finetune-v2")
    assert "finetune" in str(info.value) and "lorlint: model=" in str(info.value)


def test_the_loader_class_places_an_unknown_id():
    resolved = resolve("acme/zzz-unknown", loader="ViTForImageClassification")
    assert resolved.source == "loader" and resolved.model_type == "vit"
    assert resolved.certainty == "architecture"


def test_download_is_tried_before_the_name(monkeypatch):
    import lorlint.models.resolve as r

    monkeypatch.setattr(r, "_download", lambda ref: ("x", {**TINY_LLAMA, "model_type": "mistral"}))
    resolved = resolve("acme/llama-7b", online=True)
    assert resolved.source == "online" and resolved.model_type == "mistral"
    assert resolved.certainty == "exact"


def test_transformers_5_infinity_in_config_json(tmp_path):
    """transformers 5 writes inf as {"__float__": "Infinity"} (mamba2, bamba, nemotron_h, ...)."""
    config = {**TINY_LLAMA, "time_step_limit": [0.0, {"__float__": "Infinity"}]}
    resolved = resolve(str(write_config(tmp_path / "inf", config)))
    assert resolved.config["time_step_limit"] == [0.0, float("inf")]


def test_explicit_class_name():
    resolved = resolve("GPT2LMHeadModel")
    assert resolved.source == "class" and resolved.model_type == "gpt2"
    assert resolved.certainty == "architecture"


def test_unknown_model_names_what_was_tried():
    with pytest.raises(ModelNotFound) as info:
        resolve("acme/zzz-unknown")
    message = str(info.value)
    for source in ("local directory", "Hugging Face cache", "bundled index", "--online"):
        assert source in message


def test_remote_code_config_is_flagged(tmp_path):
    pytest.importorskip("transformers")
    write_config(tmp_path / "rc", {"model_type": "acme_custom", "auto_map": {"AutoConfig": "x.Y"}})
    resolved = resolve(str(tmp_path / "rc"))
    assert resolved.remote_code


def test_surely_absent_passes_over_missing_directories_and_files_named_as_one(tmp_path):
    from lorlint.models.resolve import _surely_absent

    (tmp_path / "org" / "model").mkdir(parents=True)
    (tmp_path / "org" / "file").write_text("x")
    assert _surely_absent("org/missing", [tmp_path])
    assert _surely_absent("nothing/at/all", [tmp_path])
    assert _surely_absent("org/file", [tmp_path])  # a file where a directory is asked for
    assert _surely_absent("org/model", [tmp_path])  # a directory with neither file
    (tmp_path / "org" / "model" / "adapter_config.json").write_text("{}")
    assert not _surely_absent("org/model", [tmp_path])
    assert _surely_absent("a\0b", [tmp_path])  # a name no file system takes
