"""``lorlint check --fix / --unsafe-fixes / --diff``: exact edits, idempotent, safe writes."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import libcst
import pytest
from helpers import REPO, run_cli, write

FIXTURES = sorted(p for p in (REPO / "fixtures").glob("*.py") if p.stem != "syntax_error")


def codes_with_fixes(cwd: Path, name: str, unsafe: bool) -> set[str]:
    proc = run_cli("check", name, "--output-format", "json", "--no-cache", cwd=cwd)
    items = json.loads(proc.stdout)
    return {
        i["code"] for i in items if i["fix"] and (unsafe or i["fix"]["applicability"] == "safe")
    }


@pytest.mark.parametrize("script", FIXTURES, ids=lambda p: p.stem)
def test_fixture_round_trip(tmp_path, script):
    shutil.copy(script, tmp_path / script.name)
    fixable = codes_with_fixes(tmp_path, script.name, unsafe=True)
    run_cli("check", script.name, "--fix", "--unsafe-fixes", "--no-cache", cwd=tmp_path)
    fixed = (tmp_path / script.name).read_text()
    libcst.parse_module(fixed)  # still parses
    assert not fixable & codes_with_fixes(tmp_path, script.name, unsafe=True)
    again = run_cli("check", script.name, "--diff", "--unsafe-fixes", "--no-cache", cwd=tmp_path)
    assert again.stdout == "" and again.returncode == 0  # a second run changes nothing


def test_safe_fixes_only_by_default(tmp_path):
    path = write(
        tmp_path / "t.py",
        """\
        from peft import LoraConfig
        # lorlint: model=meta-llama/Llama-3.1-8B
        a = LoraConfig(target_modules=['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'dwn_proj', 'q_proj'])
        b = LoraConfig(target_modules="q_proj", task_type="CAUSAL_LM")  # keep this comment
        """,
    )
    proc = run_cli("check", "t.py", "--fix", "--no-cache", cwd=tmp_path)
    assert "Found 4 findings (3 fixed, 1 remaining)." in proc.stderr
    text = path.read_text()
    # quote style kept, duplicate dropped, list form, comment untouched
    assert "'up_proj', 'down_proj'])" in text
    assert 'target_modules=["q_proj"], task_type="CAUSAL_LM")  # keep this comment' in text
    assert "LL201" in proc.stdout  # unsafe: reported, not applied
    assert "1 unsafe fix available with `--fix --unsafe-fixes`." in proc.stderr


def test_unsafe_fixes_translate_other_architectures(tmp_path):
    path = write(
        tmp_path / "t.py",
        """\
        from peft import LoraConfig
        # lorlint: model=gpt2
        cfg = LoraConfig(target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM")
        """,
    )
    proc = run_cli("check", "t.py", "--no-cache", cwd=tmp_path)
    assert "2 unsafe fixes available with `--fix --unsafe-fixes`." in proc.stderr
    run_cli("check", "t.py", "--fix", "--unsafe-fixes", "--no-cache", cwd=tmp_path)
    assert 'target_modules=["c_attn", "c_proj", "c_fc"]' in path.read_text()


def test_binding_used_once_is_fixed_there_used_twice_is_not(tmp_path):
    once = write(
        tmp_path / "once.py",
        """\
        from peft import LoraConfig
        # lorlint: model=meta-llama/Llama-3.1-8B
        T = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "dwn_proj"]
        LoraConfig(target_modules=T, task_type="CAUSAL_LM")
        """,
    )
    twice = write(tmp_path / "twice.py", once.read_text() + "print(T)\n")
    run_cli("check", ".", "--fix", "--no-cache", cwd=tmp_path)
    assert '"up_proj", "down_proj"]' in once.read_text()
    assert '"dwn_proj"]' in twice.read_text()


def test_diff_writes_nothing(tmp_path):
    source = (REPO / "fixtures" / "transformers_peft_llama.py").read_text()
    path = tmp_path / "t.py"
    path.write_text(source)
    proc = run_cli("check", "t.py", "--diff", "--no-cache", cwd=tmp_path)
    assert proc.returncode == 1 and path.read_text() == source
    assert proc.stdout.startswith("--- a/t.py\n+++ b/t.py\n")
    assert (
        '-    target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "dwn_proj"],'
        in proc.stdout
    )
    clean = tmp_path / "clean.py"
    shutil.copy(REPO / "fixtures" / "clean_llama.py", clean)
    assert run_cli("check", "clean.py", "--diff", "--no-cache", cwd=tmp_path).returncode == 0


def test_fix_keeps_permissions_and_is_byte_exact_elsewhere(tmp_path):
    source = (REPO / "fixtures" / "transformers_peft_llama.py").read_text()
    path = tmp_path / "t.py"
    path.write_text(source)
    os.chmod(path, 0o640)
    run_cli("check", "t.py", "--fix", "--no-cache", cwd=tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert path.read_text() == source.replace('"dwn_proj"', '"down_proj"')
    assert not list(tmp_path.glob(".t.py.*"))  # no temporary file left behind


def test_fix_is_refused_when_the_result_would_not_parse(tmp_path, monkeypatch, capsys):
    from lorlint.cli import main
    from lorlint.commands import check

    source = (REPO / "fixtures" / "transformers_peft_llama.py").read_text()
    path = tmp_path / "t.py"
    path.write_text(source)
    monkeypatch.setattr(check, "apply_fixes", lambda text, fixes: (text + "(\n", 1))
    monkeypatch.chdir(tmp_path)
    main(["check", "t.py", "--fix", "--no-cache"])
    assert "fix refused" in capsys.readouterr().err
    assert path.read_text() == source


def test_json_fix_shape(tmp_path):
    shutil.copy(REPO / "fixtures" / "transformers_peft_llama.py", tmp_path / "t.py")
    items = json.loads(
        run_cli("check", "t.py", "--output-format", "json", "--no-cache", cwd=tmp_path).stdout
    )
    fix = next(i["fix"] for i in items if i["code"] == "LL101")
    assert fix == {
        "applicability": "safe",
        "message": 'Replace "dwn_proj" with "down_proj"',
        "edits": [
            {
                "content": '"down_proj"',
                "location": {"row": 15, "column": 85},
                "end_location": {"row": 15, "column": 95},
            }
        ],
    }
