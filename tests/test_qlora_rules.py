"""LL404 and LL409 on the shapes QLoRA scripts take: what fires, what stays silent, the fixes.

What the rules claim about the libraries (the float32 default, the TypeError) is proven in
tests/test_qlora_proofs.py; these tests hold the rules to those facts on written code.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from lorlint import versions
from lorlint.engine import Options, ViewCache, lint_source
from lorlint.fixes import apply

TRANSFORMERS = versions.installed("transformers")
needs_5 = pytest.mark.skipif(
    TRANSFORMERS is None or versions.older_than(TRANSFORMERS, "5"), reason="transformers 5 rule"
)


def lint(source: str, path: str = "train.py", codes=("LL404", "LL409")):
    options = Options(selected=set(codes))
    return lint_source(path, textwrap.dedent(source), options, ViewCache(online=False))


def fixed(source: str, path: str = "train.py") -> str:
    source = textwrap.dedent(source)
    fixes = [d.fix for d in lint(source, path) if d.fix is not None]
    text, _ = apply(source, fixes)
    ast.parse(text)
    return text


# --- LL404 ----------------------------------------------------------------------------------
def test_ll404_no_compute_dtype_warns_and_notes_the_fp4_default():
    found = lint("""\
        from transformers import BitsAndBytesConfig
        quantization = BitsAndBytesConfig(load_in_4bit=True)
        """)
    assert [(d.code, d.severity) for d in found] == [("LL404", "warning"), ("LL404", "info")]
    assert "defaults to torch.float32" in found[0].message
    assert 'defaults to "fp4"' in found[1].message
    assert (found[0].span.row, found[0].span.col) == (2, 16)


@pytest.mark.parametrize(
    "dtype",
    ["torch.bfloat16", '"bfloat16"', 'getattr(torch, "bfloat16")', "compute", "torch.float16"],
)
def test_ll404_silent_with_a_compute_dtype_and_nf4(dtype):
    found = lint(f"""\
        import torch
        from transformers import BitsAndBytesConfig
        compute = torch.bfloat16
        quantization = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype={dtype}
        )
        """)
    assert found == []


def test_ll404_misspelt_keyword_names_the_right_one():
    found = lint("""\
        import torch
        from transformers import BitsAndBytesConfig
        q = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                               bnb_4bit_compute_type=torch.bfloat16)
        """)
    assert len(found) == 1
    assert "bnb_4bit_compute_type= is not a BitsAndBytesConfig parameter" in found[0].message
    assert (found[0].span.row, found[0].span.col) == (4, 24)


@pytest.mark.parametrize(
    ("arguments", "fires"),
    [
        ("TrainingArguments(output_dir='o', bf16=True)", True),
        ("TrainingArguments(output_dir='o', fp16=True)", False),
        ("SFTConfig(output_dir='o', bf16=True)", True),
        ("SFTConfig(output_dir='o')", False),  # TRL's bf16 default follows the hardware
        ("TrainingArguments(output_dir='o', bf16=flag)", False),  # unknown value
    ],
)
def test_ll404_float16_compute_under_bf16_training(arguments, fires):
    found = lint(f"""\
        import sys
        import torch
        from transformers import BitsAndBytesConfig, TrainingArguments
        from trl import SFTConfig
        flag = sys.argv[1] == "bf16"
        q = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                               bnb_4bit_compute_dtype=torch.float16)
        args = {arguments}
        """)
    assert [d.code for d in found] == (["LL404"] if fires else [])
    if fires:
        assert "bf16=True" in found[0].message and found[0].span.row == 7


@pytest.mark.parametrize(
    "call",
    [
        "BitsAndBytesConfig(load_in_8bit=True)",
        "BitsAndBytesConfig(**settings)",
        "BitsAndBytesConfig(load_in_4bit=four_bit)",
    ],
)
def test_ll404_silent_where_4bit_is_not_certain(call):
    found = lint(f"""\
        import sys
        from transformers import BitsAndBytesConfig
        from mylib import load_settings
        settings = load_settings()
        four_bit = sys.argv[1] == "4"
        q = {call}
        """)
    assert found == []


def test_ll404_reads_a_known_mapping():
    found = lint("""\
        from transformers import BitsAndBytesConfig
        settings = dict(load_in_4bit=True, bnb_4bit_quant_type="nf4")
        q = BitsAndBytesConfig(**settings)
        """)
    assert [d.code for d in found] == ["LL404"] and "float32" in found[0].message


def test_ll404_not_a_transformers_class():
    assert (
        lint("""\
        from mylib import BitsAndBytesConfig
        q = BitsAndBytesConfig(load_in_4bit=True)
        """)
        == []
    )


# --- LL409 ----------------------------------------------------------------------------------
LOAD = """\
    from transformers import AutoModelForCausalLM
    model = AutoModelForCausalLM.from_pretrained("org/model", load_in_4bit=True)
    """


@needs_5
def test_ll409_error_on_the_installed_transformers_5():
    (found,) = lint(LOAD)
    assert found.code == "LL409" and found.severity == "error"
    assert f"transformers {TRANSFORMERS} (installed)" in found.message
    assert (found.span.row, found.span.col) == (2, 59)
    assert found.fix is not None and found.fix.applicability == "safe"


@needs_5
def test_ll409_fix_writes_the_quantization_config_and_its_import():
    assert fixed(LOAD) == textwrap.dedent("""\
        from transformers import BitsAndBytesConfig
        from transformers import AutoModelForCausalLM
        model = AutoModelForCausalLM.from_pretrained("org/model", quantization_config=BitsAndBytesConfig(load_in_4bit=True))
        """)  # fmt: skip


@needs_5
def test_ll409_fix_uses_the_names_the_file_has():
    source = """\
        import transformers
        model = transformers.AutoModelForCausalLM.from_pretrained("m", load_in_8bit=True)
        """
    assert "quantization_config=transformers.BitsAndBytesConfig(load_in_8bit=True)" in fixed(source)
    source = """\
        from transformers import AutoModel, BitsAndBytesConfig
        model = AutoModel.from_pretrained("m", device_map="auto", load_in_4bit=True)
        """
    assert (
        fixed(source).splitlines()[1]
        == (
            '        model = AutoModel.from_pretrained("m", device_map="auto", '
            "quantization_config=BitsAndBytesConfig(load_in_4bit=True))"
        ).strip()
    )


@needs_5
def test_ll409_fix_merges_into_an_inline_config_and_drops_false():
    source = """\
        import torch
        from transformers import AutoModelForCausalLM, BitsAndBytesConfig
        a = AutoModelForCausalLM.from_pretrained(
            "m",
            load_in_4bit=True,
            quantization_config=BitsAndBytesConfig(bnb_4bit_compute_dtype=torch.bfloat16),
        )
        b = AutoModelForCausalLM.from_pretrained("m", load_in_8bit=False, device_map="auto")
        """
    text = fixed(source)
    assert (
        "quantization_config=BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_compute_dtype" in text
    )
    assert '\n    "m",\n    quantization_config=' in text
    assert 'from_pretrained("m", device_map="auto")' in text
    assert lint(text, codes=("LL409",)) == []


@needs_5
@pytest.mark.parametrize(
    "call",
    [
        'from_pretrained("m", load_in_4bit=True, quantization_config=q)',  # passed by name
        'from_pretrained("m", load_in_4bit=True, load_in_8bit=True)',  # which one?
        'from_pretrained("m", load_in_4bit=flag)',  # a value computed in code
    ],
)
def test_ll409_no_fix_where_it_would_guess(call):
    found = lint(f"""\
        import sys
        from transformers import AutoModelForCausalLM, BitsAndBytesConfig
        flag = sys.argv[1] == "4"
        q = BitsAndBytesConfig(load_in_8bit=True)
        model = AutoModelForCausalLM.{call}
        """, codes=("LL409",))  # fmt: skip
    assert [d.code for d in found] == ["LL409"] and found[0].fix is None


@needs_5
def test_ll409_no_fix_that_would_delete_a_comment():
    found = lint("""\
        from transformers import AutoModelForCausalLM
        model = AutoModelForCausalLM.from_pretrained(
            "m",  # the base model
            load_in_8bit=False
        )
        """)
    assert [d.code for d in found] == ["LL409"] and found[0].fix is None


def test_ll409_not_on_unsloth_or_other_loaders():
    assert (
        lint("""\
        from unsloth import FastLanguageModel
        from mylib import Loader
        model, tok = FastLanguageModel.from_pretrained("unsloth/llama-3-8b", load_in_4bit=True)
        other = Loader.from_pretrained("m", load_in_4bit=True)
        """)
        == []
    )


def _project(tmp_path: Path, pin: str) -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / "requirements.txt").write_text(pin)
    return tmp_path / "train.py"


def test_ll409_a_transformers_4_pin_makes_it_a_warning(tmp_path):
    path = _project(tmp_path, "transformers==4.46.3\n")
    (found,) = lint(LOAD, str(path))
    assert found.severity == "warning"
    assert "transformers 4.46.3 in requirements.txt still accepts it" in found.message
    assert "removed from from_pretrained() in transformers 5.0" in found.message


@needs_5
def test_ll409_a_transformers_5_pin_is_an_error(tmp_path):
    path = _project(tmp_path, "transformers>=5.0\n")
    (found,) = lint(LOAD, str(path))
    assert found.severity == "error"
