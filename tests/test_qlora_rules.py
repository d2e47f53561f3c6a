"""LL404 and LL409 on the shapes QLoRA scripts take: what fires, what stays silent, the fixes.

What the rules claim about the libraries (the float32 default, the TypeError) is proven in
tests/test_qlora_proofs.py; these tests hold the rules to those facts on written code.
"""

from __future__ import annotations

import ast
import json
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


def fixed(source: str, path: str = "train.py", codes=("LL404", "LL409")) -> str:
    source = textwrap.dedent(source)
    fixes = [d.fix for d in lint(source, path, codes) if d.fix is not None]
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


# --- the rules on a model's flow: LL401, LL303, LL305, LL402, LL601 -------------------------
FLOW_HEAD = """\
    import torch
    from peft import LoraConfig, PeftModel, get_peft_model, prepare_model_for_kbit_training
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig, Trainer
    from trl import SFTTrainer
    q = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                           bnb_4bit_compute_dtype=torch.bfloat16)
    cfg = LoraConfig(target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM")
    """
FLOW_CODES = ("LL303", "LL305", "LL401", "LL402", "LL601")


def flow_lint(body: str, path: str = "train.py"):
    source = textwrap.dedent(FLOW_HEAD) + textwrap.dedent(body)
    return [(d.code, d.span.row, d.severity) for d in lint(source, path, FLOW_CODES)]


QUANTIZED = 'model = AutoModelForCausalLM.from_pretrained("m", quantization_config=q)\n'


def test_ll401_prepare_after_get_peft_model():
    found = flow_lint(f"""\
        {QUANTIZED}
        model = get_peft_model(model, cfg)
        model = prepare_model_for_kbit_training(model)
        """)
    assert found == [("LL401", 11, "error")]


def test_ll401_silent_in_the_right_order_and_after_a_merge():
    assert (
        flow_lint(f"""\
        {QUANTIZED}
        model = prepare_model_for_kbit_training(model)
        model = get_peft_model(model, cfg)
        """)
        == []
    )
    assert (
        flow_lint(f"""\
        {QUANTIZED}
        model = get_peft_model(model, cfg)
        model = model.merge_and_unload()
        model = prepare_model_for_kbit_training(model)
        model = get_peft_model(model, cfg)
        """)
        == []
    )


def test_flow_findings_span_the_call():
    source = textwrap.dedent(FLOW_HEAD) + textwrap.dedent(f"""\
        {QUANTIZED}
        model = get_peft_model(model, cfg)
        model = prepare_model_for_kbit_training(
            model)
        merged = model.merge_and_unload()
        """)
    found = {d.code: d.span for d in lint(source, codes=FLOW_CODES)}
    assert (found["LL401"].row, found["LL401"].col) == (11, 9)
    assert (found["LL401"].end_row, found["LL401"].end_col) == (12, 11)
    assert (found["LL601"].row, found["LL601"].col, found["LL601"].end_col) == (13, 10, 34)


def test_ll401_fix_moves_the_statement_above_get_peft_model():
    source = f"""\
        {QUANTIZED}
        model = get_peft_model(model, cfg)
        model.print_trainable_parameters()
        # prepare it
        model = prepare_model_for_kbit_training(model)  # k-bit
        """
    text = fixed(textwrap.dedent(FLOW_HEAD) + textwrap.dedent(source), codes=FLOW_CODES)
    assert text.endswith(
        "model = prepare_model_for_kbit_training(model)  # k-bit\n"
        "model = get_peft_model(model, cfg)\n"
        "model.print_trainable_parameters()\n"
        "# prepare it\n"
    )


@pytest.mark.parametrize(
    "between_and_prepare",
    [
        "model.config.use_cache = False\nmodel = prepare_model_for_kbit_training(model)",
        "peft = prepare_model_for_kbit_training(model)",
        "if True:\n    model = prepare_model_for_kbit_training(model)",
        "model = prepare_model_for_kbit_training(model, model.is_loaded_in_4bit)",
    ],
)
def test_ll401_no_fix_where_the_move_could_change_something(between_and_prepare):
    source = (
        textwrap.dedent(FLOW_HEAD)
        + QUANTIZED
        + "model = get_peft_model(model, cfg)\n"
        + between_and_prepare
        + "\n"
    )
    (found,) = lint(source, codes=FLOW_CODES)
    assert found.code == "LL401" and found.fix is None
    assert "move it before get_peft_model (line 9), onto the base model" in found.message


def test_ll401_after_an_adapter_loaded_for_training():
    found = flow_lint(f"""\
        {QUANTIZED}
        model = PeftModel.from_pretrained(model, "out", is_trainable=True)
        model = prepare_model_for_kbit_training(model)
        """)
    assert found == [("LL401", 11, "error")]


LOAD_ADAPTER = """\
    from transformers import AutoModelForCausalLM, Trainer
    model = AutoModelForCausalLM.from_pretrained("m")
    {load}
    {between}
    trainer = {trainer}(model=model, train_dataset=data)
    """


@pytest.mark.parametrize(
    ("load", "between", "trainer", "fires"),
    [
        ('model.load_adapter("out")', "", "Trainer", True),
        ('model.load_adapter("out", adapter_name="a")', "model.train()", "Trainer", True),
        ('model.load_adapter("out", is_trainable=True)', "", "Trainer", False),
        ('model.load_adapter("out")', 'model.set_adapter("default")', "Trainer", False),
        ('model.load_adapter("out")', "model.enable_adapters()", "Trainer", False),
        ('model.load_adapter("out", **kw)', "", "Trainer", False),
        ('model.load_adapter("out")', "", "SFTTrainer", False),  # not proven for TRL
        # PEFT's load_adapter on a PeftModel: the new adapter is inactive, the active one trains
        (
            'model = get_peft_model(model, cfg); model.load_adapter("out", "b")',
            "",
            "Trainer",
            False,
        ),
    ],
)
def test_ll305_transformers_load_adapter_then_trained(load, between, trainer, fires):
    source = textwrap.dedent(
        LOAD_ADAPTER.format(load=load, between=between or "pass", trainer=trainer)
    )
    source = "from peft import get_peft_model, LoraConfig\ncfg = LoraConfig()\n" + source
    found = lint(source, codes=("LL305",))
    assert [d.span.row for d in found] == ([5] if fires else [])
    if fires:
        assert "load_adapter() without is_trainable=True" in found[0].message
        assert fixed(source, codes=("LL305",)).count("is_trainable=True)") == 1


def _trl_project(tmp_path: Path, pin: str | None) -> str:
    (tmp_path / ".git").mkdir()
    if pin:
        (tmp_path / "requirements.txt").write_text(pin)
    return str(tmp_path / "train.py")


@pytest.mark.skipif(versions.installed("trl") is not None, reason="TRL installed: it is in force")
@pytest.mark.parametrize(
    ("pin", "severity", "text"),
    [
        (None, "error", "TRL 0.27 and later raise ValueError"),
        ("trl==0.26.2\n", "warning", "TRL 0.26.2 in requirements.txt merges, re-wraps or ignores"),
        ("trl>=0.27\n", "error", "TRL>=0.27 in requirements.txt raises ValueError"),
    ],
)
def test_ll303_wrapped_model_and_peft_config_by_trl_version(tmp_path, pin, severity, text):
    source = textwrap.dedent(FLOW_HEAD) + textwrap.dedent(f"""\
        {QUANTIZED}
        model = get_peft_model(model, cfg)
        trainer = SFTTrainer(model=model, peft_config=cfg, train_dataset=data)
        """)
    (found,) = lint(source, _trl_project(tmp_path, pin), FLOW_CODES)
    assert (found.code, found.span.row, found.severity) == ("LL303", 11, severity)
    assert text in found.message


@pytest.mark.parametrize(
    "trainer",
    ["SFTTrainer(model=model, train_dataset=data)", "SFTTrainer(model=base, peft_config=cfg)"],
)
def test_ll303_silent_without_both(trainer):
    assert flow_lint(f"""\
        base = AutoModelForCausalLM.from_pretrained("m")
        model = get_peft_model(base, cfg)
        trainer = {trainer}
        """) in ([], [("LL303", 10, "error")])
    if "peft_config" not in trainer:
        return
    # ``base`` is the model get_peft_model wrapped in place: PEFT injects into it
    assert (
        flow_lint(f"""\
        base = AutoModelForCausalLM.from_pretrained("m")
        trainer = {trainer}
        """)
        == []
    )


ADAPTER = """\
    base = AutoModelForCausalLM.from_pretrained("m", dtype=torch.bfloat16)
    model = PeftModel.from_pretrained(base, "out/adapter"{keywords})
    {use}
    """


@pytest.mark.parametrize(
    ("keywords", "use", "expected"),
    [
        ("", "Trainer(model=model, args=args).train()", [("LL305", 9, "error")]),
        (", is_trainable=False", "SFTTrainer(model=model)", [("LL305", 9, "error")]),
        ("", "opt = torch.optim.AdamW(model.parameters(), lr=1e-4)", [("LL305", 9, "error")]),
        (", is_trainable=True", "Trainer(model=model, args=args).train()", []),
        ("", "model.generate(ids)", []),  # inference: frozen is right
        ("", "SFTTrainer(model=model, peft_config=cfg)", [("LL303", 10, "error")]),
        (", is_trainable=flag", "Trainer(model=model, args=args).train()", []),  # unknown
    ],
)
def test_ll305_adapter_loaded_frozen_then_trained(keywords, use, expected, tmp_path):
    adapter = textwrap.dedent(ADAPTER).format(keywords=keywords, use=use)
    body = "import sys\nflag = sys.argv[1] == 't'\n" + adapter
    found = flow_lint(body, _trl_project(tmp_path, None))
    assert [f for f in found if f[0] != "LL303" or expected] == [
        (code, row + 2, severity) for code, row, severity in expected
    ]


def test_ll305_fix_passes_is_trainable():
    source = textwrap.dedent(FLOW_HEAD) + textwrap.dedent(
        ADAPTER.format(keywords="", use="Trainer(model=model, args=args).train()")
    )
    text = 'PeftModel.from_pretrained(base, "out/adapter", is_trainable=True)'
    assert text in fixed(source, codes=FLOW_CODES)
    source = source.replace('"out/adapter"', '"out/adapter", is_trainable=False')
    assert text in fixed(source, codes=FLOW_CODES)


@pytest.mark.parametrize(
    ("load", "fires"),
    [
        ('from_pretrained("m", dtype=torch.bfloat16)', True),
        ('from_pretrained("m", torch_dtype="float16")', True),
        ('from_pretrained("m", dtype=torch.float32)', False),
        ('from_pretrained("m", quantization_config=q)', False),
        ('from_pretrained("m", load_in_8bit=True, dtype=torch.float16)', False),
        ('from_pretrained("m")', False),  # the checkpoint's dtype: unknown model
        ('from_pretrained("m", **kwargs)', False),
    ],
)
def test_ll402_prepare_on_an_unquantized_half_precision_model(load, fires):
    found = flow_lint(f"""\
        kwargs = {{}}
        model = AutoModelForCausalLM.{load}
        model = prepare_model_for_kbit_training(model)
        model = get_peft_model(model, cfg)
        """)
    assert [f[0] for f in found] == (["LL402"] if fires else [])


@needs_5
@pytest.mark.parametrize(("stored", "fires"), [("bfloat16", True), ("float32", False)])
def test_ll402_default_dtype_is_the_checkpoints_on_transformers_5(tmp_path, stored, fires):
    """transformers 5 loads dtype="auto" by default: the dtype the checkpoint's config names."""
    config = {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": 64,
              "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
              "num_key_value_heads": 4, "vocab_size": 256, "torch_dtype": stored}  # fmt: skip
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "config.json").write_text(json.dumps(config))
    found = flow_lint(
        """\
        model = AutoModelForCausalLM.from_pretrained("./m")
        model = prepare_model_for_kbit_training(model)
        model = get_peft_model(model, cfg)
        """,
        _trl_project(tmp_path, None),
    )
    assert found == ([("LL402", 9, "warning")] if fires else [])


@pytest.mark.parametrize(
    ("load", "fires"),
    [
        ('AutoModelForCausalLM.from_pretrained("m", quantization_config=q)', True),
        ('AutoModelForCausalLM.from_pretrained("m", dtype=torch.bfloat16)', False),
        ('AutoModelForCausalLM.from_pretrained("m", quantization_config=GPTQConfig(bits=4))', True),
    ],
)
def test_ll601_merge_into_a_quantized_model(load, fires):
    found = flow_lint(f"""\
        from transformers import GPTQConfig
        base = {load}
        model = PeftModel.from_pretrained(base, "out")
        merged = model.merge_and_unload()
        """)
    assert [f[0] for f in found] == (["LL601"] if fires else [])


# --- LL403 ----------------------------------------------------------------------------------
GC_SCRIPT = """\
    import torch
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig, Trainer
    model = AutoModelForCausalLM.from_pretrained("m"{load})
    {before}
    model = get_peft_model(model, LoraConfig(target_modules=["q_proj"]))
    {after}
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    """
GC = "model.gradient_checkpointing_enable()"


def _gc_lint(tmp_path, pin, load="", before="pass", after=GC):
    path = _project(tmp_path, pin) if pin else str(tmp_path / "train.py")
    source = textwrap.dedent(GC_SCRIPT).format(load=load, before=before, after=after)
    return [(d.code, d.span.row, d.span.end_col) for d in lint(source, str(path), ("LL403",))]


@pytest.mark.parametrize(
    ("load", "before", "after", "fires"),
    [
        ("", "pass", GC, True),
        ("", "pass", 'model.gradient_checkpointing_enable({"use_reentrant": True})', True),
        ("", "pass", 'model.gradient_checkpointing_enable({"use_reentrant": False})', False),
        ("", "pass", "model.gradient_checkpointing_enable(kwargs)", False),  # unknown
        ("", "pass", f"{GC}\nmodel.enable_input_require_grads()", False),
        ("", "model = prepare_model_for_kbit_training(model)", GC, False),
        ("", GC, "pass", False),  # PeftModel enables input grads on an unquantized model
        (", quantization_config=BitsAndBytesConfig(load_in_4bit=True)", GC, "pass", True),
        # default arguments: the Trainer leaves the model's own reentrant checkpointing in place
        ("", "pass", f"{GC}\ntrainer = Trainer(model=model)", True),
        ("", "pass", f"if cond:\n    {GC}", False),
    ],
)
def test_ll403_reentrant_checkpointing_without_input_grads(tmp_path, load, before, after, fires):
    found = _gc_lint(tmp_path, "transformers==4.57.1\n", load, before, after)
    assert bool(found) == fires, found
    if fires:
        (_, row, end_col) = found[0]
        assert row in (5, 7) and end_col > 1


TRAINER_SCRIPT = """\
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, Trainer, TrainingArguments
    model = AutoModelForCausalLM.from_pretrained("m")
    model = get_peft_model(model, LoraConfig(target_modules=["q_proj"]))
    {before}
    args = TrainingArguments(output_dir="out"{args})
    {between}
    trainer = {trainer}(model=model, args=args{more})
    """


@pytest.mark.parametrize(
    ("args", "before", "between", "trainer", "more", "fires"),
    [
        (", gradient_checkpointing=True", "pass", "pass", "Trainer", "", True),
        (', gradient_checkpointing=True, gradient_checkpointing_kwargs={"use_reentrant": True}',
         "pass", "pass", "Trainer", "", True),
        (', gradient_checkpointing=True, gradient_checkpointing_kwargs={"use_reentrant": False}',
         "pass", "pass", "Trainer", "", False),
        (", gradient_checkpointing=True, gradient_checkpointing_kwargs=KWARGS", "pass", "pass",
         "Trainer", "", False),  # unknown kwargs
        (", gradient_checkpointing=FLAG", "pass", "pass", "Trainer", "", False),  # unknown
        ("", "pass", "pass", "Trainer", "", False),  # no checkpointing at all
        (", gradient_checkpointing=True", "model.enable_input_require_grads()", "pass", "Trainer",
         "", False),
        (", gradient_checkpointing=True", "pass", "args.gradient_checkpointing_kwargs = KW",
         "Trainer", "", False),  # changed after it was built
        (", gradient_checkpointing=True", "pass", "pass", "Trainer", ", **extra", False),
        (", gradient_checkpointing=True", "pass", "pass", "MyTrainer", "", False),  # a subclass
        (", **options", "pass", "pass", "Trainer", "", False),
    ],
)  # fmt: skip
def test_ll403_reads_the_trainers_arguments(tmp_path, args, before, between, trainer, more, fires):
    source = textwrap.dedent(TRAINER_SCRIPT).format(
        args=args, before=before, between=between, trainer=trainer, more=more
    )
    if trainer == "MyTrainer":
        source = source.replace("args = ", "class MyTrainer(Trainer): pass\nargs = ")
    path = _project(tmp_path, "transformers==4.57.1\n")
    found = lint(source, str(path), ("LL403",))
    assert bool(found) == fires, found
    if fires:
        (finding,) = found
        assert finding.span.row == source.count("\n", 0, source.index("trainer =")) + 1
        assert finding.message.startswith("Trainer enables reentrant gradient checkpointing")
        assert "backward() raises" in finding.message


def test_ll403_trainer_arguments_inline_and_dpo_trainer(tmp_path):
    path = _project(tmp_path, "transformers==4.57.1\n")
    inline = (
        textwrap.dedent(TRAINER_SCRIPT)
        .format(args="", before="pass", between="pass", trainer="Trainer", more="")
        .replace("args=args", "args=TrainingArguments(output_dir='o', gradient_checkpointing=True)")
    )
    assert [d.code for d in lint(inline, str(path), ("LL403",))] == ["LL403"]
    trl = inline.replace("Trainer(", "DPOTrainer(").replace(
        "from transformers", "from trl import DPOTrainer\nfrom transformers"
    )
    assert lint(trl, str(path), ("LL403",)) == []  # enables input grads whenever it checkpoints


@pytest.mark.parametrize(
    ("pin", "trainer", "more", "fires"),
    [
        ("trl==0.19.1", "SFTTrainer", "", True),
        ("trl==0.19.1", "SFTTrainer", ', gradient_checkpointing_kwargs={"use_reentrant": False}',
         False),
        ("trl==0.20.0", "SFTTrainer", "", False),
        ("trl>=0.24", "SFTTrainer", "", False),
        ("", "SFTTrainer", "", True),  # no TRL version known: the range is stated
        ("trl==0.19.1", "DPOTrainer", "", False),  # enables input grads whenever it checkpoints
        ("trl==0.19.1", "unsloth", "", False),  # Unsloth enables them and patches the trainer
    ],
)  # fmt: skip
def test_ll403_sft_trainer_before_trl_0_20(tmp_path, monkeypatch, pin, trainer, more, fires):
    real = versions.installed
    monkeypatch.setattr(versions, "installed", lambda n: None if n == "trl" else real(n))
    source = (
        textwrap.dedent(TRAINER_SCRIPT)
        .format(
            args=f", gradient_checkpointing=True{more}",
            before="pass",
            between="pass",
            trainer=trainer,
            more="",
        )
        .replace('args = TrainingArguments(output_dir="out"', 'args = SFTConfig(output_dir="out"')
    )
    if trainer == "unsloth":
        trainer = "SFTTrainer"
        source = source.replace(
            "AutoModelForCausalLM.from_pretrained", "FastLanguageModel.from_pretrained"
        )
        source = source.replace("trainer = unsloth(", "trainer = SFTTrainer(")
        source = "from unsloth import FastLanguageModel\n" + source
    source = f"from trl import SFTConfig, {trainer}\n" + source
    path = _project(tmp_path, f"transformers==4.57.1\n{pin}\n")
    found = lint(source, str(path), ("LL403",))
    assert [d.code for d in found] == (["LL403"] if fires else []), found
    if fires:
        assert found[0].message.startswith("SFTTrainer enables reentrant gradient checkpointing")
        label = "TRL 0.19.1 in requirements.txt (TRL 0.20" if pin else "before TRL 0.20, whose"
        assert label in found[0].message


def test_ll403_silent_where_transformers_5_is_in_force(tmp_path):
    assert _gc_lint(tmp_path, "transformers>=5.0\n") == []
    if TRANSFORMERS is not None and not versions.older_than(TRANSFORMERS, "5"):
        assert _gc_lint(tmp_path, None) == []  # the installed one


def test_ll403_message_names_the_version_or_the_range(tmp_path, monkeypatch):
    source = textwrap.dedent(GC_SCRIPT).format(load="", before="pass", after=GC)
    path = _project(tmp_path, "transformers==4.46.3\n")
    (found,) = lint(source, str(path), ("LL403",))
    assert "with transformers 4.46.3 in requirements.txt (transformers 5.0 enables" in found.message
    assert found.severity == "warning"
    real = versions.installed
    monkeypatch.setattr(versions, "installed", lambda n: None if n == "transformers" else real(n))
    (tmp_path / "unpinned" / ".git").mkdir(parents=True)
    (found,) = lint(source, str(tmp_path / "unpinned" / "train.py"), ("LL403",))
    assert "before transformers 5.0, which enables them itself" in found.message
