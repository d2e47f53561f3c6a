"""The Python front end: which calls are sites, how values resolve, how models are linked."""

from __future__ import annotations

import textwrap

import pytest

from lorlint.frontends.python import extract_sites
from lorlint.site import SETUP_KINDS, UNKNOWN


def sites(code: str):
    """The PEFT config sites (setup sites, issue #14, are tested in test_qlora_rules.py)."""
    found = extract_sites("t.py", textwrap.dedent(code))
    return [s for s in found if s.kind not in SETUP_KINDS]


def one(code: str):
    found = sites(code)
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize(
    "code",
    [
        "from peft import LoraConfig\nLoraConfig(target_modules=['q_proj'])",
        "from peft import LoraConfig as LC\nLC(target_modules=['q_proj'])",
        "import peft as pf\npf.LoraConfig(target_modules=['q_proj'])",
        "import peft\npeft.tuners.lora.LoraConfig(target_modules=['q_proj'])",
        "from peft.tuners.lora import LoraConfig\nLoraConfig(target_modules=['q_proj'])",
        "from peft import LoHaConfig\nLoHaConfig(target_modules=['q_proj'])",
    ],
)
def test_peft_configs_are_found_however_imported(code):
    assert one(code).get("target_modules") == ["q_proj"]


def test_a_users_own_class_named_loraconfig_is_not_a_site():
    assert sites("class LoraConfig: ...\nLoraConfig(target_modules=['x'])") == []
    assert sites("from mylib import LoraConfig\nLoraConfig(target_modules=['x'])") == []


def test_values_resolve_through_names_concat_split_env_and_fstrings():
    site = one(
        """
        import os
        from peft import LoraConfig
        ATTN = ["q_proj", "k_proj"]
        MLP = "gate_proj,up_proj".split(",")
        SUFFIX = "proj"
        cfg = LoraConfig(
            target_modules=ATTN + MLP + [f"down_{SUFFIX}"],
            r=int(os.environ.get("R", "8")),
            lora_alpha=os.getenv("ALPHA", 16),
            layers_to_transform=list(range(0, 4)),
            **dict(lora_dropout=0.0, bias="none"),
        )
        """
    )
    assert site.get("target_modules") == ["q_proj", "k_proj", "gate_proj", "up_proj", "down_proj"]
    assert site.get("r") is UNKNOWN  # int(...) of an env var is not a literal
    assert site.get("lora_alpha") == 16
    assert site.get("layers_to_transform") == [0, 1, 2, 3]
    assert site.get("lora_dropout") == 0.0 and site.get("bias") == "none"


def test_element_spans_point_at_the_binding():
    site = one(
        "from peft import LoraConfig\nT = ['q_proj', 'dwn_proj']\nLoraConfig(target_modules=T)"
    )
    elements = site.keywords["target_modules"].elements
    assert (elements[1].span.row, elements[1].span.col) == (2, 16)


def test_pieces_of_a_split_string_point_inside_the_string_literal():
    """``"c_proj,q_attn".split(",")`` bound elsewhere: a finding on one piece points at that
    piece in the literal (where the fix goes), and nothing is offered for a fix."""
    site = one(
        """
        from peft import LoraConfig
        NAMES = "c_proj,q_attn , c_fc"
        SPACED = r"a b"
        LoraConfig(target_modules=NAMES.split(","), modules_to_save=SPACED.split())
        """
    )
    value = site.keywords["target_modules"]
    assert value.value == ["c_proj", "q_attn ", " c_fc"] and not value.editable
    assert (value.span.row, value.span.col) == (3, 9)
    spans = [(e.span.col, e.span.end_col) for e in value.elements]
    assert spans == [(10, 16), (17, 24), (25, 30)]
    assert not any(e.editable for e in value.elements)
    saved = site.keywords["modules_to_save"]  # a prefixed literal: each piece on the whole string
    assert saved.value == ["a", "b"]
    assert {(e.span.col, e.span.end_col) for e in saved.elements} == {(10, 16)}


def test_argparse_and_dataclass_defaults():
    site = one(
        """
        import argparse
        from dataclasses import dataclass, field
        from peft import LoraConfig
        p = argparse.ArgumentParser()
        p.add_argument("--lora-r", type=int, default=32)
        @dataclass
        class Args:
            targets: list = field(default_factory=lambda: ["c_attn"])
        args = p.parse_args()
        margs = Args()
        LoraConfig(r=args.lora_r, target_modules=margs.targets)
        """
    )
    assert site.get("r") == 32 and site.get("target_modules") == ["c_attn"]


def test_unknown_values_stay_unknown():
    site = one("from peft import LoraConfig\ndef f(t):\n    return LoraConfig(target_modules=t)")
    assert site.get("target_modules") is UNKNOWN


def test_models_are_linked_per_call():
    found = sites(
        """
        from peft import LoraConfig, get_peft_model
        from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, BitsAndBytesConfig
        a = AutoModelForCausalLM.from_pretrained("gpt2", quantization_config=BitsAndBytesConfig(load_in_4bit=True))
        b = AutoModelForSequenceClassification.from_pretrained("roberta-base")
        get_peft_model(a, LoraConfig(target_modules=["c_attn"]))
        cfg = LoraConfig(target_modules=["query"])
        b = get_peft_model(b, cfg)
        """
    )
    assert [(s.model, s.task, s.quantized) for s in found] == [
        ("gpt2", "causal-lm", "4bit"),
        ("roberta-base", "seq-cls", None),
    ]


def test_model_reassigned_before_use_is_followed():
    site = one(
        """
        from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training
        from transformers import AutoModelForCausalLM
        model = AutoModelForCausalLM.from_pretrained("gpt2", load_in_8bit=True)
        model = prepare_model_for_kbit_training(model)
        model = get_peft_model(model, LoraConfig(target_modules=["c_attn"]))
        """
    )
    assert site.model == "gpt2" and site.quantized == "8bit"


def test_trl_trainer_and_model_by_name():
    site = one(
        """
        from peft import LoraConfig
        from trl import SFTTrainer
        SFTTrainer(model="Qwen/Qwen2.5-7B", peft_config=LoraConfig(target_modules="all-linear"))
        """
    )
    assert site.model == "Qwen/Qwen2.5-7B" and site.applied_with == "SFTTrainer"


def test_unsloth_site_and_its_model():
    site = one(
        """
        from unsloth import FastLanguageModel
        model, tok = FastLanguageModel.from_pretrained(model_name="unsloth/llama-3-8b-bnb-4bit", load_in_4bit=True)
        model = FastLanguageModel.get_peft_model(model, r=16)
        """
    )
    assert site.kind == "unsloth" and site.model == "unsloth/llama-3-8b-bnb-4bit"
    assert site.quantized == "4bit" and site.loader == "FastLanguageModel"


def test_comment_overrides_the_code():
    site = one(
        """
        # lorlint: model=gpt2
        from peft import LoraConfig, get_peft_model
        from transformers import AutoModelForCausalLM
        m = AutoModelForCausalLM.from_pretrained("meta-llama/Llama-3.1-8B")
        get_peft_model(m, LoraConfig(target_modules=["c_attn"]))
        """
    )
    assert site.model == "gpt2" and site.model_origin == "comment"


@pytest.mark.parametrize("reduce", [None, True])
def test_an_analysed_file_leaves_nothing_for_the_cyclic_gc(reduce):
    """Once its sites are out, a file's tree and analysis are freed by reference counting: the
    cyclic GC finds nothing of them (it would walk the whole tree to find it is garbage)."""
    import gc

    text = textwrap.dedent(
        """
        from peft import LoraConfig, get_peft_model
        from transformers import AutoModelForCausalLM, TrainingArguments
        from trl import SFTTrainer
        model = AutoModelForCausalLM.from_pretrained("meta-llama/Llama-3.1-8B", load_in_4bit=True)
        targets = ["q_proj", "v_proj"]
        model = get_peft_model(model, LoraConfig(target_modules=targets))
        model.gradient_checkpointing_enable()
        SFTTrainer(model, args=TrainingArguments("out"), train_dataset=data).train()
        """
    )
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        sites = extract_sites("train.py", text, reduce=reduce)
        assert gc.collect() == 0
    finally:
        if enabled:
            gc.enable()
    assert [s.kind for s in sites] == ["load", "peft-config"]
