"""Notebooks, axolotl / LLaMA-Factory / torchtune / oumi YAML and adapter_config.json."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from helpers import REPO, put_in_hf_cache, run_cli, write

from lorlint.frontends.configs import yaml_sites

FIXTURES = REPO / "fixtures"


def concise(cwd: Path, *args: str) -> tuple[int, str]:
    proc = run_cli("check", *args, "--output-format", "concise", "--no-cache", cwd=cwd)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, proc.stdout


# --- notebooks ------------------------------------------------------------------------------------
def test_notebook_cells_are_counted_like_ruff_and_names_cross_cells(tmp_path):
    shutil.copy(FIXTURES / "unsloth_colab.ipynb", tmp_path / "nb.ipynb")
    code, out = concise(tmp_path, "nb.ipynb")
    assert code == 1
    assert out.startswith("nb.ipynb:cell 5:5:85: LL101 [*]")  # markdown cells count
    assert "unsloth/Meta-Llama-3.1-8B-bnb-4bit" in out  # model loaded in cell 3
    proc = run_cli("check", "nb.ipynb", "--output-format", "json", "--no-cache", cwd=tmp_path)
    (item,) = json.loads(proc.stdout)
    assert item["cell"] == 5 and item["location"] == {"row": 5, "column": 85}
    full = run_cli("check", "nb.ipynb", "--no-cache", cwd=tmp_path).stdout
    assert '   5 |     target_modules=["q_proj"' in full  # the cell's own line


def test_notebook_fix_edits_the_cell_and_keeps_layout_and_outputs(tmp_path):
    path = tmp_path / "nb.ipynb"
    shutil.copy(FIXTURES / "unsloth_colab.ipynb", path)
    before = path.read_text()
    run_cli("check", "nb.ipynb", "--fix", "--no-cache", cwd=tmp_path)
    after = path.read_text()
    assert after == before.replace('\\"dwn_proj\\"', '\\"down_proj\\"')
    assert json.loads(after)["cells"][2]["outputs"]  # outputs untouched
    assert concise(tmp_path, "nb.ipynb") == (0, "All checks passed!\n")
    again = run_cli("check", "nb.ipynb", "--diff", "--no-cache", cwd=tmp_path)
    assert again.stdout == "" and again.returncode == 0


def test_magics_and_shell_lines_are_skipped(tmp_path):
    nb = {
        "cells": [
            {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
             "source": "%pip install peft\n!ls\nfrom peft import LoraConfig\nx = len?\n"},
            {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
             "source": "# lorlint: model=gpt2\ncfg = LoraConfig(target_modules=['q_proj', 'c_attn'])"},
        ],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5,
    }  # fmt: skip
    (tmp_path / "m.ipynb").write_text(json.dumps(nb))
    _, out = concise(tmp_path, "m.ipynb")
    assert "m.ipynb:cell 2:2:34: LL101" in out  # the magics and `x?` lines were skipped


# --- YAML tools -----------------------------------------------------------------------------------
def test_axolotl_linear_flag_and_regex_string(tmp_path):
    write(tmp_path / "a.yml", """\
        base_model: gpt2
        adapter: lora
        lora_target_linear: true
        """)  # fmt: skip
    assert concise(tmp_path, "a.yml") == (0, "All checks passed!\n")
    write(tmp_path / "b.yml", """\
        base_model: meta-llama/Llama-3.1-8B
        adapter: qlora
        lora_target_modules: q_proj
        """)  # fmt: skip
    code, out = concise(tmp_path, "b.yml")
    assert code == 1 and out.startswith("b.yml:3:22: LL102")


def test_llama_factory_all_and_torchtune_names(tmp_path):
    write(tmp_path / "lf.yaml", """\
        model_name_or_path: Qwen/Qwen2.5-7B-Instruct
        finetuning_type: lora
        lora_target: all
        """)  # fmt: skip
    assert concise(tmp_path, "lf.yaml") == (0, "All checks passed!\n")
    write(tmp_path / "tt.yaml", """\
        model:
          _component_: torchtune.models.llama3_1.lora_llama3_1_8b
          lora_attn_modules: [q_proj, k_proj, v_proj, o_proj]
          apply_lora_to_mlp: true
        """)  # fmt: skip
    code, out = concise(tmp_path, "tt.yaml")
    assert code == 1
    assert out.startswith('tt.yaml:3:47: LL101 "o_proj"') and 'calls it "output_proj"' in out


def test_oumi_qlora_and_unrelated_yaml():
    text = (FIXTURES / "oumi_gemma.yaml").read_text()
    (site,) = yaml_sites("oumi.yaml", text)
    assert site.kind == "oumi" and site.quantized == "4bit" and site.model == "google/gemma-2-2b-it"
    assert yaml_sites("ci.yml", (FIXTURES / "unrelated_ci.yml").read_text()) == []
    assert yaml_sites("list.yml", "- a\n- b\n") == []


# --- adapters -------------------------------------------------------------------------------------
def test_hugging_face_cache_directory_lints_cached_adapters(tmp_path):
    adapter = json.loads((FIXTURES / "adapters/llama-3.2-1b-lora/adapter_config.json").read_text())
    snapshot = put_in_hf_cache(tmp_path / "hub", "someone/llama-lora", {"model_type": "llama"})
    (snapshot / "config.json").unlink()
    (snapshot / "adapter_config.json").write_text(json.dumps(adapter, indent=2))
    code, out = concise(tmp_path, "hub")
    assert code == 1
    assert "models--someone--llama-lora/snapshots/" in out and '"dwn_proj" matches no module' in out


# --- bad input ------------------------------------------------------------------------------------
def test_bad_files_give_ll900_never_a_traceback(tmp_path):
    (tmp_path / "adapter_config.json").write_text('{"peft_type": "LORA", ')
    (tmp_path / "nocells.ipynb").write_text('{"metadata": {}, "from peft import LoraConfig": 1}')
    (tmp_path / "broken.ipynb").write_text('{"cells": [ from peft import LoraConfig')
    (tmp_path / "tabs.yaml").write_text(
        "base_model: gpt2\nadapter: lora\nlora_target_modules:\n\t- q\n"
    )
    bomb = ["base_model: gpt2", "adapter: lora", 'a: &a ["q_proj","q_proj","q_proj","q_proj"]']
    for i in range(1, 12):
        bomb.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}" if i > 1 else "*a"] * 9) + "]")
    bomb.append("lora_target_modules: *a11")
    (tmp_path / "bomb.yaml").write_text("\n".join(bomb) + "\n")
    started = time.perf_counter()
    code, out = concise(tmp_path, ".")
    assert time.perf_counter() - started < 30
    assert code == 0  # LL900 is info
    assert "adapter_config.json:1:1: LL900 cannot parse: invalid JSON" in out
    assert "nocells.ipynb:1:1: LL900 cannot parse notebook: not a notebook: no `cells` list" in out
    assert "broken.ipynb:1:1: LL900 cannot parse notebook: invalid JSON" in out
    assert "tabs.yaml:1:1: LL900 cannot parse: invalid YAML (line 4, column 1)" in out
    assert "bomb.yaml:1:1: LL900 cannot parse: more than 20000 YAML nodes" in out
