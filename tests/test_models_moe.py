"""``lorlint models`` on MoE and hybrid models: expert parameters and hybrid blocks as rows, and
the picture of which block parts an adapter reaches."""

from __future__ import annotations

import json

from helpers import run_cli

LLAMA = '["q_proj","k_proj","v_proj","o_proj","gate_proj","up_proj","down_proj"]'


def test_gpt_oss_shows_expert_parameters_as_rows_and_the_frozen_experts():
    proc = run_cli("models", "openai/gpt-oss-20b", "--targets", LLAMA)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    (row,) = [line for line in lines if line.strip().startswith("mlp.experts.gate_up_proj")]
    assert row.split()[1:] == ["GptOssExperts", "32×2880×5760", "24", "parameter", "experts", "-"]
    assert "    attention  ■■■■■■■■■■■■■■■■■■■■■■■■ 24/24" in lines
    assert "    experts    □□□□□□□□□□□□□□□□□□□□□□□□ 0/24" in lines


def test_target_parameters_option_adapts_the_experts():
    proc = run_cli("models", "openai/gpt-oss-20b", "--targets", "all-linear", "--target-parameters",
                   "mlp.experts.gate_up_proj,mlp.experts.down_proj", "--format", "json")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert len(data["matched_parameters"]) == 48 and len(data["matched"]) == 96
    assert data["block_parts"]["experts"]["adapted"] == list(range(24))
    assert data["expert_parameters"][0] == {
        "name": "model.layers.0.mlp.experts.gate_up_proj",
        "type": "GptOssExperts",
        "shape": [32, 2880, 5760],
    }


def test_hybrid_blocks_are_their_own_part():
    proc = run_cli("models", "Qwen3NextForCausalLM", "--targets", LLAMA)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "linear_attn.in_proj_qkvz     Linear" in out and "linear-attn  -" in out
    bar = "□□□·" * 12
    assert f"    linear-attn  {bar} 0/36" in out.splitlines()
    assert "    experts      " + "■" * 48 + " 48/48" in out.splitlines()


def test_classic_models_keep_their_table():
    proc = run_cli("models", "meta-llama/Llama-3.1-8B", "--targets", "all-linear")
    assert "part" not in proc.stdout and "block parts" not in proc.stdout


def test_regex_target_parameters_are_refused():
    proc = run_cli("models", "openai/gpt-oss-20b", "--target-parameters", '".*experts.*"')
    assert proc.returncode == 2 and "no regex" in proc.stderr
