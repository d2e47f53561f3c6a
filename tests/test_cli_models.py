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


def models_without_torch(*args: str):
    """`lorlint models ARGS` in a fresh process that fails if torch or transformers is imported."""
    import subprocess
    import sys

    code = (
        "import sys; from lorlint.cli import main; rc = main(['models', *sys.argv[1:]]); "
        "assert 'torch' not in sys.modules and 'transformers' not in sys.modules, 'imported'; "
        "sys.exit(rc)"
    )
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)


def test_no_torch_import_on_the_bundled_path():
    proc = models_without_torch("meta-llama/Llama-3.1-8B", "--targets", "all-linear")
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


def test_every_model_type_answers_without_a_traceback(capsys):
    """`lorlint models TYPE` for each of transformers' ~800 model types: 0 with a table for every
    buildable one, 2 with one line saying why for the others."""
    from lorlint.cli import main
    from lorlint.models import catalog

    built = catalog.raw_index()["types"]
    assert len(built) > 500
    for model_type in sorted(catalog.model_types()):
        code = main(["models", model_type, "--format", "json"])
        out, err = capsys.readouterr()
        if model_type in built:
            assert code == 0, (model_type, err)
            data = json.loads(out)
            assert data["modules"], model_type  # (gpt2 is also a hub id: exact)
        else:
            assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, model_type


@pytest.mark.parametrize(
    ("model_type", "task"),
    [("vit", "image-cls"), ("whisper", "speech-seq2seq"), ("m2m_100", "seq2seq-lm"),
     ("wav2vec2", "ctc"), ("llama4", "image-text-to-text")],
)  # fmt: skip
def test_a_config_directory_is_loaded_through_its_natural_task(tmp_path, model_type, task):
    transformers = pytest.importorskip("transformers")
    config = transformers.CONFIG_MAPPING[model_type]()
    config.save_pretrained(tmp_path / model_type)  # as transformers 5 writes config.json
    proc = run_cli("models", str(tmp_path / model_type), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["task"] == task and data["certainty"] == "exact"


def test_infinity_in_a_transformers_5_config_is_read(tmp_path):
    """mamba2 / bamba / nemotron_h / granitemoehybrid configs hold {"__float__": "Infinity"}."""
    transformers = pytest.importorskip("transformers")
    transformers.CONFIG_MAPPING["mamba2"]().save_pretrained(tmp_path / "m")
    assert "__float__" in (tmp_path / "m" / "config.json").read_text()
    proc = run_cli("models", str(tmp_path / "m"), "--targets", "in_proj")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr


def test_an_architecture_from_the_name_answers_from_the_catalog_without_torch():
    proc = models_without_torch("tiiuae/Falcon-H1-1B-Deep-Instruct", "--targets", "all-linear")
    # PEFT raises here: "all-linear" reaches the Mamba mixers' out_proj, which it rejects
    assert proc.returncode == 1, proc.stderr
    assert "architecture: falcon_h1's default config" in proc.stdout
    assert "Module 'out_proj' is incompatible with Mamba-based models" in proc.stdout
    proc = models_without_torch("tiiuae/Falcon-H1-1B-Deep-Instruct", "--targets", "q_proj,in_proj")
    assert proc.returncode == 0, proc.stderr
    assert "about" in proc.stdout
