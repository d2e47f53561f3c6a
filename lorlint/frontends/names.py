"""Names the Python front end looks for; light (no libcst) so the pre-filter can use them."""

from __future__ import annotations

import re

# PEFT configs that take ``target_modules``.
PEFT_CONFIGS = frozenset(
    {
        "LoraConfig", "AdaLoraConfig", "LoHaConfig", "LoKrConfig", "IA3Config", "VeraConfig",
        "OFTConfig", "BOFTConfig", "FourierFTConfig", "HRAConfig", "VBLoRAConfig",
        "LNTuningConfig", "RandLoraConfig", "C3AConfig", "ShiraConfig", "MissConfig", "RoadConfig",
        "DeloraConfig", "GraloraConfig",
    }
)  # fmt: skip
UNSLOTH_CLASSES = frozenset({"FastLanguageModel", "FastModel", "FastVisionModel"})
TRAINERS = frozenset(
    {"SFTTrainer", "DPOTrainer", "ORPOTrainer", "KTOTrainer", "GRPOTrainer", "RewardTrainer"}
)

# A site is a call that resolves to peft.<Config> or unsloth.<Class>.get_peft_model, or a setup
# call around one (lorlint/frontends/setup.py: ``load_in_4bit=``, ``BitsAndBytesConfig``, an
# adapter's ``PeftModel`` / ``AutoPeftModelFor*.from_pretrained`` / ``model.load_adapter``): the file
# must import peft, unsloth or transformers, and name one of those somewhere. Each test is a
# necessary condition on the bytes wherever they sit: a BOM, CR-only line endings, ``import os,
# peft`` or ``import torch; from peft import *`` cannot hide a file. The patterns here are
# searched with ``word_search`` (a match must start a word).
_IMPORT = re.compile(rb"import\b")
_MODULE = re.compile(rb"(?:peft|unsloth|transformers)\b")
SETUP_NAMES = (
    "load_in_4bit",
    "load_in_8bit",
    "BitsAndBytesConfig",
    "PeftModel",
    "AutoPeftModel\\w*",
    "load_adapter",
)
_NAME = re.compile(
    rb"(?:"
    + b"|".join(n.encode() for n in sorted(PEFT_CONFIGS) + list(SETUP_NAMES))  # regexes
    + rb"|get_peft_model)\b"
)


def word_search(pattern: re.Pattern, text, pos: int = 0) -> re.Match | None:
    """The first match of ``pattern`` that starts a word: what ``\\b`` + ``pattern`` finds, as
    fast as a pattern that starts with its literals (one that starts with ``\\b`` has the regex
    engine try the whole pattern at every position). Every alternative of ``pattern`` must start
    with a word character; ``text`` is ``str`` or ``bytes`` (whose ``\\b`` is ASCII's, as
    ``bytes.isalnum``)."""
    m = pattern.search(text, pos)
    while m is not None:
        before = text[m.start() - 1 : m.start()]
        if not (before.isalnum() or before in ("_", b"_")):
            return m
        m = pattern.search(text, m.start() + 1)
    return None


def might_have_sites(data: bytes) -> bool:
    """The cheap text pre-filter run on every Python file or notebook before any parsing."""
    return (
        word_search(_NAME, data) is not None
        and word_search(_MODULE, data) is not None
        and word_search(_IMPORT, data) is not None
    )


_YAML_KEYS = re.compile(
    rb"(?:lora_target_modules|lora_target_linear|lora_target|lora_attn_modules|use_peft"
    rb"|finetuning_type)\b"
)


# A TRL or LLaMA-Factory command line (shell scripts, usage lines in docstrings and comments);
# ``train_bash.py`` is LLaMA-Factory's entry point before llamafactory-cli.
_COMMAND = re.compile(
    rb"(?:trl\s+(?:sft|dpo|grpo|kto|reward|rloo|orpo|ppo)|llamafactory(?:-cli)?\s+(?:train|sft)"
    rb"|train_bash\.py)\b"
)


def file_kind(name: str) -> str | None:
    """Which front end reads a file, by name: python, notebook, yaml, adapter, shell (or None)."""
    if name.endswith(".py"):
        return "python"
    if name.endswith(".sh"):
        return "shell"
    if name.endswith(".ipynb"):
        return "notebook"
    if name.endswith((".yaml", ".yml")):
        return "yaml"
    if name == "adapter_config.json":
        return "adapter"
    return None


def worth_reading(kind: str, data: bytes) -> bool:
    """The pre-filter for each kind of file: can it hold a site at all?"""
    if kind in ("python", "notebook"):
        return might_have_sites(data) or word_search(_COMMAND, data) is not None
    if kind == "shell":
        return word_search(_COMMAND, data) is not None
    if kind == "yaml":
        return word_search(_YAML_KEYS, data) is not None
    # a saved adapter's config in UTF-16 must be reported, not skipped: PEFT cannot read it
    return kind == "adapter" and (
        b"peft_type" in data or data.startswith((b"\xff\xfe", b"\xfe\xff"))
    )
