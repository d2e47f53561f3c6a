"""Hub id → model type: the alias table and the vocabulary place a family, or say "unknown".

Every expected type below is what the model's real config.json says (issue #10's cases first);
``None`` means lorlint must not guess: the id does not pin the architecture down.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lorlint.models import catalog
from lorlint.models.derive import ALIASES, derive, literal_prefix, strip_quantization, tokens

PLACED = [
    # issue #10: each of these resolved to a neighbour before
    ("tiiuae/Falcon-H1-1B-Deep-Instruct", "falcon_h1"),
    ("tiiuae/Falcon-H1-0.5B-Instruct", "falcon_h1"),
    ("Qwen/Qwen3-Next-80B-A3B-Instruct", "qwen3_next"),
    ("meta-llama/Llama-4-Scout-17B-16E-Instruct", "llama4"),
    ("meta-llama/Llama-4-Maverick-17B-128E-Instruct", "llama4"),
    ("meta-llama/Llama-3.2-11B-Vision-Instruct", "mllama"),
    ("meta-llama/Llama-3.2-90B-Vision", "mllama"),
    ("google/gemma-3-270m-it", "gemma3_text"),
    ("google/gemma-3-1b-it", "gemma3_text"),
    ("google/gemma-3-4b-it", "gemma3"),
    ("google/gemma-3-12b-it", "gemma3"),
    ("google/txgemma-2b-predict", "gemma2"),
    ("google/txgemma-27b-chat", "gemma2"),
    ("google/medgemma-4b-it", "gemma3"),
    ("google/medgemma-1.5-4b-it", "gemma3"),
    ("google/gemma-3n-E4B-it", "gemma3n"),
    ("google/gemma-3n-E2B", "gemma3n"),
    ("Qwen/Qwen3-VL-8B-Instruct", "qwen3_vl"),
    ("Qwen/Qwen3-VL-30B-A3B-Instruct", "qwen3_vl_moe"),
    ("answerdotai/ModernBERT-base", "modernbert"),
    ("ibm-granite/granite-4.0-h-small", "granitemoehybrid"),
    ("ibm-granite/granite-4.0-micro", "granitemoehybrid"),
    ("LiquidAI/LFM2-VL-1.6B", "lfm2_vl"),
    ("LiquidAI/LFM2-1.2B", "lfm2"),
    ("LiquidAI/LFM2-8B-A1B", "lfm2_moe"),
    ("HuggingFaceTB/SmolVLM-Instruct", "smolvlm"),
    ("HuggingFaceTB/SmolVLM2-2.2B-Instruct", "smolvlm"),
    ("openai/whisper-large-v3", "whisper"),
    ("openai/whisper-small", "whisper"),
    ("google/vit-base-patch16-224-in21k", "vit"),
    ("unsloth/Phi-3-medium-4k-instruct", "mistral"),
    ("unsloth/Phi-3-mini-4k-instruct-bnb-4bit", "mistral"),
    ("unsloth/phi-4", "llama"),
    # families whose names differ from their type
    ("meta-llama/Meta-Llama-3.1-8B-Instruct", "llama"),
    ("NousResearch/Llama-2-7b-hf", "llama"),
    ("codellama/CodeLlama-7b-hf", "llama"),
    ("Qwen/Qwen2.5-7B-Instruct", "qwen2"),
    ("Qwen/Qwen2.5-Coder-1.5B-Instruct", "qwen2"),
    ("Qwen/Qwen2.5-VL-3B-Instruct", "qwen2_5_vl"),
    ("Qwen/Qwen2-VL-7B-Instruct", "qwen2_vl"),
    ("Qwen/Qwen3-8B", "qwen3"),
    ("Qwen/Qwen3-30B-A3B", "qwen3_moe"),
    ("Qwen/Qwen3-Coder-30B-A3B-Instruct", "qwen3_moe"),
    ("Qwen/Qwen1.5-MoE-A2.7B", "qwen2_moe"),
    ("deepseek-ai/DeepSeek-R1-Distill-Qwen-7B", "qwen2"),
    ("deepseek-ai/DeepSeek-V3", "deepseek_v3"),
    ("deepseek-ai/DeepSeek-V2-Lite-Chat", "deepseek_v2"),
    ("microsoft/Phi-3-mini-4k-instruct", "phi3"),
    ("microsoft/Phi-3.5-mini-instruct", "phi3"),
    ("microsoft/phi-4", "phi3"),
    ("microsoft/Phi-4-reasoning-plus", "phi3"),
    ("microsoft/phi-2", "phi"),
    ("mistralai/Mistral-7B-Instruct-v0.3", "mistral"),
    ("mistralai/Mistral-Small-3.1-24B-Instruct-2503", "mistral3"),
    ("mistralai/Mixtral-8x7B-Instruct-v0.1", "mixtral"),
    ("openai/gpt-oss-20b", "gpt_oss"),
    ("google/paligemma2-3b-pt-224", "paligemma"),
    ("google/flan-t5-base", "t5"),
    ("google-t5/t5-small", "t5"),
    ("google/mt5-base", "mt5"),
    ("facebook/bart-large-cnn", "bart"),
    ("bert-base-uncased", "bert"),
    ("FacebookAI/xlm-roberta-base", "xlm-roberta"),
    ("microsoft/deberta-v3-base", "deberta-v2"),
    ("EleutherAI/pythia-1b", "gpt_neox"),
    ("EleutherAI/gpt-neox-20b", "gpt_neox"),
    ("EleutherAI/gpt-j-6b", "gptj"),
    ("bigscience/bloomz-560m", "bloom"),
    ("facebook/opt-1.3b", "opt"),
    ("allenai/OLMo-2-1124-7B", "olmo2"),
    ("state-spaces/mamba-2.8b-hf", "mamba"),
    ("unsloth/Qwen2.5-7B-Instruct-bnb-4bit", "qwen2"),
    ("unsloth/Llama-3.2-11B-Vision-Instruct-unsloth-bnb-4bit", "mllama"),
    ("TheBloke/Llama-2-7B-Chat-GPTQ", "llama"),
    ("llava-hf/llava-1.5-7b-hf", "llava"),
    ("llava-hf/llava-v1.6-mistral-7b-hf", "llava_next"),
    ("Salesforce/blip2-opt-2.7b", "blip-2"),
    ("facebook/wav2vec2-base-960h", "wav2vec2"),
    ("google/gemma-1.1-7b-it", "gemma"),
]

UNKNOWN = [
    "google/medgemma-27b-text-it",  # text-only: not the 4B vision-language layout
    "acme/zzz-unknown",
    "someone/my-llama-finetune-v2",  # what "finetune" changed is anyone's guess
    "mistralai/Mamba-Codestral-7B-v0.1",  # mamba2, not mamba
    "microsoft/Phi-3.5-vision-instruct",  # remote code
    "microsoft/Phi-3-small-8k-instruct",  # remote code
    "THUDM/chatglm3-6b",
    "THUDM/glm-4-9b-chat",  # remote code; only the -hf repo is transformers' glm
    "baichuan-inc/Baichuan2-7B-Chat",
    "Qwen/Qwen-7B",  # Qwen 1: remote code
    "lmsys/vicuna-7b-v1.5",
    "tiiuae/Falcon-H1R-7B",  # a family lorlint does not know, spelled like one it does
    "unsloth/Phi-4-mini-instruct",  # not known whether Unsloth converted it
    "mistralai/Pixtral-12B-2409",
    "internlm/internlm2-chat-7b",
    "01-ai/Yi-1.5-9B",
]


@pytest.fixture(autouse=True)
def _catalog_present():
    if not catalog.model_types():
        pytest.skip("no catalog: run `make catalog`")


@pytest.mark.parametrize(("reference", "model_type"), PLACED)
def test_placed(reference, model_type):
    found = derive(reference)
    assert found.model_type == model_type, found.how


@pytest.mark.parametrize("reference", UNKNOWN)
def test_unknown(reference):
    found = derive(reference)
    assert found.model_type is None, found.how
    assert found.how


def test_every_alias_names_a_catalogued_type():
    """An alias to a type transformers does not know would resolve to nothing buildable."""
    known = catalog.model_types()
    assert all(t is None or t in known for _, _, t, _ in ALIASES)


def test_quantized_mirror_suffixes():
    assert strip_quantization("Qwen2.5-7B-Instruct-bnb-4bit") == "Qwen2.5-7B-Instruct"
    assert strip_quantization("Meta-Llama-3.1-8B-Instruct-unsloth-bnb-4bit") == (
        "Meta-Llama-3.1-8B-Instruct"
    )
    assert strip_quantization("Qwen2.5-7B-Instruct-GPTQ-Int4") == "Qwen2.5-7B-Instruct"
    assert strip_quantization("gemma-3-4b-it") == "gemma-3-4b-it"


def test_decimal_sizes_stay_whole():
    assert tokens("mamba-2.8b-hf") == ["mamba", "2.8b", "hf"]
    assert tokens("Qwen2.5-0.5B") == ["qwen2", "5", "0.5b"]


@pytest.mark.parametrize(
    ("pattern", "prefix"),
    [
        ("^phi-3-(mini|medium)-", "phi-3-"),
        ("^ab?c", "a"),
        ("^ab*c", "a"),
        ("^ab{0,2}c", "a"),
        ("^ab+c", "ab"),
        (r"^ab\dc", "ab"),
        ("^a.c", "a"),
        ("^(meta-)?llama", ""),
        ("llama", ""),
        ("^llama$", "llama"),
    ],
)
def test_literal_prefix(pattern, prefix):
    assert literal_prefix(pattern) == prefix


@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_alias_prefix_is_necessary(data):
    """A name an alias pattern finds always starts with that pattern's literal prefix, so the
    patterns the prefix rules out need not be searched (nor compiled)."""
    for _, pattern, _, _ in ALIASES:
        name = data.draw(st.from_regex(re.compile(pattern)), label=pattern)
        if re.search(pattern, name):
            assert name.startswith(literal_prefix(pattern)), (pattern, name)
