"""``lorlint models``: text and JSON output, exactness against PEFT, errors, speed path."""

from __future__ import annotations

import json

import pytest
from helpers import run_cli, write_config
from test_resolve import TINY_LLAMA


def test_bundled_model_all_linear_json_without_torch():
    # -X importtime shows every module imported; torch must not be among them.
    proc = run_cli("models", "meta-llama/Llama-3.1-8B", "--targets", "all-linear", "--format",
                   "json")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["model_type"] == "llama" and data["source"] == "bundled"
    assert len(data["matched"]) == 32 * 7
    assert "lm_head" not in data["matched"]
    assert {"name": "lm_head", "type": "Linear"}.items() <= data["modules"][-1].items()
    assert data["trainable_params"] == 41_943_040


def test_no_torch_import_on_the_bundled_path():
    import subprocess
    import sys

    code = (
        "import sys; from lorlint.cli import main; main(['models', 'meta-llama/Llama-3.1-8B', "
        "'--targets', 'all-linear', '--format', 'json']); "
        "assert 'torch' not in sys.modules and 'transformers' not in sys.modules, 'imported'"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_text_output_shows_table_and_coverage():
    proc = run_cli("models", "gpt2", "--targets", "c_attn", "--layers", "0-5")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "GPT2LMHeadModel" in out and "bundled index" in out
    assert "attn.c_attn" in out and "Conv1D" in out
    assert "■■■■■■······ 6/12" in out


def test_local_config_is_exact_from_installed_transformers(tmp_path):
    pytest.importorskip("peft")
    from peft_oracle import peft_targets

    write_config(tmp_path / "tiny", TINY_LLAMA)
    proc = run_cli("models", str(tmp_path / "tiny"), "--targets", '["q_proj","down_proj"]',
                   "--format", "json")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["source"] == "local" and data["table_source"] == "introspected"
    expected, _, err = peft_targets(
        TINY_LLAMA, "causal-lm", {"target_modules": ["q_proj", "down_proj"]}
    )
    assert err is None and data["matched"] == expected


def test_peft_error_exits_1_with_peft_text():
    proc = run_cli("models", "gpt2", "--targets", "q_proj,v_proj")
    assert proc.returncode == 1
    assert "not found in the base model" in proc.stdout


def test_plain_string_regex_form():
    proc = run_cli("models", "gpt2", "--targets", '"q_proj"', "--format", "json")
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["matched"] == []


def test_unknown_model_is_one_line_exit_2():
    proc = run_cli("models", "acme/zzz-unknown")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "tried" in proc.stderr


def test_bad_spec_is_usage_error():
    proc = run_cli("models", "gpt2", "--layers", "x-y")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_version():
    proc = run_cli("--version")
    assert proc.returncode == 0 and proc.stdout.startswith("lorlint ")
