"""Command lines as sites: TRL and LLaMA-Factory argument lists in shell scripts, notebook ``!``
lines and usage lines of Python files."""

from __future__ import annotations

import json
import textwrap

import pytest

from lorlint.engine import Options, ViewCache, lint_text
from lorlint.frontends.shell import sites


def lint(path: str, text: str):
    return lint_text(path, textwrap.dedent(text), Options(), ViewCache(online=False))


def test_hf_argument_parser_gives_a_list_field_one_entry_per_word():
    """transformers' HfArgumentParser: a ``list[str]`` field is ``nargs="+"``."""
    from dataclasses import dataclass, field

    from transformers import HfArgumentParser

    @dataclass
    class Args:
        lora_target_modules: list[str] | None = field(default=None)

    (args,) = HfArgumentParser(Args).parse_args_into_dataclasses(
        ["--lora_target_modules", "q_proj,", "v_proj"]
    )
    assert args.lora_target_modules == ["q_proj,", "v_proj"]


def test_trl_space_after_comma_leaves_an_entry_that_matches_nothing():
    script = """
        #!/bin/bash
        accelerate launch trl sft \\
            --model_name_or_path meta-llama/Llama-3.1-8B \\
            --use_peft --lora_target_modules q_proj, v_proj, up_proj, down_proj, gate_proj
    """
    found = lint("train.sh", script)
    assert [d.code for d in found] == ["LL101"] * 4
    first = found[0]
    assert '"q_proj,"' in first.message and (first.span.row, first.span.col) == (5, 38)


def test_trl_one_entry_is_a_string_and_so_a_regex():
    """ModelConfig.__post_init__ turns a one-entry list into its string: PEFT's regex."""
    (site,) = sites(
        "t.sh", "trl sft --model_name_or_path gpt2 --use_peft --lora_target_modules c_attn"
    )
    assert site.get("target_modules") == "c_attn"
    found = lint(
        "t.sh", "trl sft --model_name_or_path gpt2 --use-peft --lora-target-modules c_attn\n"
    )
    assert [d.code for d in found] == ["LL102"]


def test_without_use_peft_there_is_no_peft_config():
    assert sites("t.sh", "trl sft --model_name_or_path gpt2 --lora_target_modules c_attn") == []


def test_llama_factory_cli():
    script = (
        "llamafactory-cli train --model_name_or_path meta-llama/Llama-3.1-8B "
        "--finetuning_type lora --lora_target q_proj,v_prj\n"
    )
    found = lint("run.sh", script)
    assert [(d.code, d.span.col) for d in found] == [("LL101", 113), ("LL201", 106)]


@pytest.mark.parametrize("prefix", ["!", "!accelerate launch "])
def test_notebook_shell_lines_are_sites(prefix):
    cell = (
        f"{prefix}trl sft --model_name_or_path meta-llama/Llama-3.1-8B --use_peft \\\n"
        "    --lora_target_modules q_proj v_proj up_proj down_proj gate_proj dwn_proj"
    )
    notebook = {"cells": [{"cell_type": "markdown", "source": "# run", "metadata": {}},
                          {"cell_type": "code", "source": cell, "metadata": {}, "outputs": []}],
                "metadata": {}, "nbformat": 4, "nbformat_minor": 5}  # fmt: skip
    found = lint_text("nb.ipynb", json.dumps(notebook), Options(), ViewCache(online=False))
    assert [(d.code, d.cell, d.span.row) for d in found] == [("LL101", 2, 2)]


def test_usage_docstring_of_a_python_file():
    source = '''
        """Fine-tune with TRL.

        Usage:
            trl sft --model_name_or_path meta-llama/Llama-3.1-8B --use_peft \\\\
                --lora_target_modules q_proj, v_proj
        """
        from trl import SFTTrainer
    '''
    assert [d.code for d in lint("train.py", source)] == ["LL101", "LL201"]


def test_variables_are_expanded_from_earlier_assignments():
    from lorlint.frontends import shell

    text = (
        "MODEL_PATH=Qwen/Qwen3-8B\n"
        "export TARGETS=q_proj,v_proj\n"
        "llamafactory-cli train --model_name_or_path ${MODEL_PATH} --finetuning_type lora \\\n"
        "    --lora_target $TARGETS\n"
    )
    (site,) = shell.sites("t.sh", text)
    assert site.model == "Qwen/Qwen3-8B"
    assert site.get("target_modules") == ["q_proj", "v_proj"]


def test_an_unknown_variable_is_unknown_not_a_model_id_or_a_default():
    from lorlint.frontends import shell
    from lorlint.site import UNKNOWN

    text = (
        "llamafactory-cli train --model_name_or_path $1 --finetuning_type lora "
        "--lora_target $TARGETS\n"
        "trl sft --use_peft --model_name_or_path ${M} --lora_target_modules $T\n"
    )
    lf, trl = shell.sites("t.sh", text)
    assert lf.model is None and lf.get("target_modules") is UNKNOWN
    assert trl.model is None and trl.get("target_modules") is UNKNOWN


@pytest.mark.parametrize("prefix", ["", "accelerate launch ", "deepspeed --num_gpus 8 "])
def test_the_old_llama_factory_entry_point_reads_the_same_arguments(prefix):
    """``python src/train_bash.py`` (LLaMA-Factory before llamafactory-cli): finetuning_type
    defaults to lora; the targets are a comma list handed to PEFT."""
    script = (
        f"CUDA_VISIBLE_DEVICES=0 {prefix}python ../../src/train_bash.py --stage sft \\\n"
        "    --model_name_or_path meta-llama/Llama-2-7b-hf \\\n"
        "    --lora_target q_proj,v_proj --quantization_bit 4\n"
    )
    found = lint("run.sh", script)
    assert [(d.code, d.span.row, d.span.col) for d in found] == [("LL201", 3, 19)]


def test_the_old_entry_point_without_lora_target_has_unknown_targets():
    """Its default changed in that era (q_proj,v_proj; required; all): never assumed."""
    from lorlint.frontends import shell
    from lorlint.site import UNKNOWN

    text = "python src/train_bash.py --model_name_or_path meta-llama/Llama-2-7b-hf\n"
    (site,) = shell.sites("t.sh", text)
    assert site.kind == "llama-factory" and site.get("target_modules") is UNKNOWN
    assert lint("t.sh", text) == []
    assert shell.sites("t.sh", text.replace("\n", " --finetuning_type freeze\n")) == []


def test_a_finding_on_a_variable_points_at_its_assignment_and_comments_are_comments():
    script = (
        "MODEL_ID=Mistral-7B-Instruct-v0.1\n"
        "#MODEL_ID=Orca-2-13b\n"
        'LORA_TARGET="q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj,lm_head"\n'
        "#--lora_target q_proj \\\n"
        "python src/train_bash.py --model_name_or_path mistralai/$MODEL_ID \\\n"
        "    --lora_target $LORA_TARGET\n"
    )
    found = lint("run.sh", script)
    assert [(d.code, d.span.row, d.span.col) for d in found] == [("LL203", 3, 70)]
    assert found[0].model == "mistralai/Mistral-7B-Instruct-v0.1"


def test_old_entry_point_in_a_notebook_shell_line():
    cell = "!python src/train_bash.py --model_name_or_path meta-llama/Llama-2-7b-hf --lora_target q_proj,v_proj"
    notebook = {"cells": [{"cell_type": "code", "source": cell, "metadata": {}, "outputs": []}],
                "metadata": {}, "nbformat": 4, "nbformat_minor": 5}  # fmt: skip
    found = lint_text("nb.ipynb", json.dumps(notebook), Options(), ViewCache(online=False))
    assert [(d.code, d.cell) for d in found] == [("LL201", 1)]
