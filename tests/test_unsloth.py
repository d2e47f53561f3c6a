"""Unsloth's get_peft_model semantics (lorlint/models/unsloth.py).

The regex FastModel / FastVisionModel build is compared string for string with unsloth_zoo's own
``get_peft_regex`` run on meta-device models; the rest are minimal reproductions through the rules.
"""

from __future__ import annotations

import itertools
import textwrap

import pytest
from archs import ARCHS
from unsloth_oracle import get_peft_regex

from lorlint.engine import Options, ViewCache, lint_text
from lorlint.models import unsloth
from lorlint.models.introspect import build_model, introspect

FLAG_SETS = [
    dict(zip(unsloth.FLAGS, values, strict=True))
    for values in itertools.product(
        [True, False], [True, False], [True, False], [True, False], [False]
    )
]


@pytest.mark.parametrize("model_type", ["llama", "qwen2_vl", "qwen2_5_vl", "gemma3", "phi3", "t5"])
def test_regex_equals_unsloth_zoo(model_type):
    real = get_peft_regex()
    if real is None:
        pytest.skip("unsloth_zoo is not installed (make install adds it)")
    config, task = ARCHS[model_type]
    model, table = build_model(config, task), introspect(config, task)
    for flags, targets in itertools.product(FLAG_SETS, [None, ["q_proj", "v_proj", "qkv", "fc1"]]):
        try:
            theirs = real(model, target_modules=targets, **flags)
        except RuntimeError:
            theirs = None  # "Unsloth: No layers to finetune ..."
        assert unsloth.peft_regex(table, flags, targets) == theirs, (flags, targets)


def lint(source: str):
    found = lint_text("t.py", textwrap.dedent(source), Options(), ViewCache(online=False))
    return sorted(d.code for d in found), found


def test_fast_language_model_embed_tokens_and_lm_head_are_deliberate():
    """FastLanguageModel moves embed_tokens to modules_to_save; lm_head moved too before
    unsloth #4106 and is a LoRA target since: Unsloth's continued-pretraining recipe, no LL203."""
    codes, _ = lint("""
        from unsloth import FastLanguageModel
        model, tok = FastLanguageModel.from_pretrained("unsloth/Meta-Llama-3.1-8B-bnb-4bit")
        model = FastLanguageModel.get_peft_model(model, target_modules=[
            "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj",
            "embed_tokens", "lm_head"])
    """)
    assert codes == []


def test_fast_language_model_moves_embed_tokens_to_modules_to_save():
    from lorlint.engine import spec_for
    from lorlint.frontends.python import extract_sites

    source = textwrap.dedent("""
        from unsloth import FastLanguageModel
        model, tok = FastLanguageModel.from_pretrained("unsloth/Meta-Llama-3.1-8B-bnb-4bit")
        model = FastLanguageModel.get_peft_model(model, target_modules=["q_proj", "embed_tokens"])
    """)
    (site,) = extract_sites("t.py", source)
    config, task = ARCHS["llama"]
    spec = spec_for(site, introspect(config, task))
    assert spec.target_modules == ["q_proj"] and spec.modules_to_save == ["embed_tokens"]


VISION = """
    from unsloth import FastVisionModel
    model, processor = FastVisionModel.from_pretrained("Qwen/Qwen2-VL-2B-Instruct")
    model = FastVisionModel.get_peft_model(model, {flags})
"""


def test_finetune_vision_layers_is_a_deliberate_vision_adaptation():
    codes, _ = lint(VISION.format(flags="finetune_vision_layers=True, r=16"))
    assert codes == []


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ('finetune_vision_layers=False, target_modules="all-linear"', ["LL205"]),
        ('finetune_vision_layers=True, target_modules="all-linear"', []),
        ('target_modules="all-linear"', []),
        ("finetune_vision_layers=False", []),
    ],
)
def test_all_linear_overrides_finetune_vision_layers_false(flags, expected):
    """FastBaseModel.get_peft_model switches every finetune_* flag on for "all-linear": a written
    finetune_vision_layers=False is overridden, and the tower adapted although not asked for."""
    source = VISION.replace("Qwen/Qwen2-VL-2B-Instruct", "unsloth/gemma-3-4b-it")
    codes, found = lint(source.format(flags=flags))
    assert codes == expected
    if expected:
        assert "overriding finetune_vision_layers=False" in found[0].message


def test_fast_vision_model_flags_are_modelled():
    """finetune_mlp_modules=False leaves attention only: LL201 now runs on FastVisionModel."""
    codes, found = lint(
        VISION.format(flags="finetune_vision_layers=False, finetune_mlp_modules=False")
    )
    assert codes == ["LL201"]
    assert "finetune_mlp_modules=True" in found[0].message


def test_fast_vision_model_explicit_list_is_scoped_by_the_flags():
    from lorlint.engine import spec_for
    from lorlint.frontends.python import extract_sites
    from lorlint.models.match import match

    source = textwrap.dedent(
        VISION.format(
            flags='target_modules=["q_proj", "v_proj", "qkv"], finetune_vision_layers=False'
        )
    )
    (site,) = extract_sites("t.py", source)
    config, task = ARCHS["qwen2_vl"]
    table = introspect(config, task)
    result = match(table, spec_for(site, table))
    assert result.ok and result.modules
    assert all("visual" not in name for name in result.modules)


def test_unsloth_regex_compiled_with_dotall_only_where_a_name_holds_a_line_break():
    """unsloth_zoo matches its regex with ``re.DOTALL``; on names without a line break the flag
    changes no answer, and the pattern is the one PEFT's matching compiles (``bounded``)."""
    import re

    from lorlint.models import bounded
    from lorlint.models.table import LayerTable, Module

    plain = LayerTable("x", "X", [Module("", "X"), Module("a.q_proj", "Linear", "linear")])
    broken = LayerTable("x", "X", [Module("", "X"), Module("a\nb.q_proj", "Linear", "linear")])
    assert unsloth._compiled(plain, r".*q_proj") is bounded.compiled(r".*q_proj")
    assert unsloth._compiled(broken, r".*q_proj").flags & re.DOTALL
    assert unsloth._compiled(broken, r".*q_proj").fullmatch("a\nb.q_proj")
    assert not bounded.compiled(r".*q_proj").fullmatch("a\nb.q_proj")
