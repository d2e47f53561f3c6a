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
        ("microsoft/Phi-3-mini-4k-instruct", "phi-3-mini"),
        ("unsloth/Qwen2.5-7B-Instruct-bnb-4bit", "qwen2-7b"),
        ("unsloth/Meta-Llama-3.1-8B-Instruct-unsloth-bnb-4bit", "llama-3-8b"),
    ],
)
def test_bundled_index(reference, key):
    assert index_key_for(reference) == key
    assert resolve(reference).source == "bundled"


def test_unsloth_phi_is_llama_layout():
    assert resolve("unsloth/Phi-3-mini-4k-instruct").model_type == "llama"
    assert resolve("microsoft/Phi-3-mini-4k-instruct").model_type == "phi3"


def test_heuristic_is_low_confidence():
    resolved = resolve("someone/my-llama-finetune-v2")
    assert resolved.source == "heuristic" and not resolved.confident
    assert resolved.model_type == "llama"


def test_explicit_class_name():
    pytest.importorskip("transformers")
    resolved = resolve("GPT2LMHeadModel")
    assert resolved.source == "class" and resolved.model_type == "gpt2"


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
