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
