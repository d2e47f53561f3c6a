"""``lorlint check``: exit codes, selection, suppression, configuration, formats, bad input."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from helpers import run_cli, write

TYPO = """\
from peft import LoraConfig

# lorlint: model=meta-llama/Llama-3.1-8B
config = LoraConfig(target_modules=["q_proj", "v_proj", "dwn_proj"], task_type="CAUSAL_LM")
"""


def concise(tmp_path, *args):
    proc = run_cli("check", "--output-format", "concise", *args, cwd=tmp_path)
    return proc.returncode, proc.stdout, proc.stderr


def test_findings_exit_1_with_codes(tmp_path):
    write(tmp_path / "train.py", TYPO)
    code, out, err = concise(tmp_path, "train.py")
    assert code == 1
    assert "train.py:4:57: LL101" in out and "LL201" in out
    assert "Found 2 findings (1 error, 1 warning)" in out and err == ""


def test_clean_exit_0(tmp_path):
    write(
        tmp_path / "ok.py",
        TYPO.replace("dwn_proj", "down_proj").replace(
            '"v_proj", ', '"v_proj", "o_proj", "k_proj", "gate_proj", "up_proj", '
        ),
    )
    code, out, err = concise(tmp_path, ".")
    assert (code, out, err) == (0, "All checks passed!\n", "")


def test_select_ignore_and_names(tmp_path):
    write(tmp_path / "t.py", TYPO)
    assert "LL201" not in concise(tmp_path, "t.py", "--select", "LL101")[1]
    assert "LL101" not in concise(tmp_path, "t.py", "--ignore", "unknown-target-module")[1]
    assert concise(tmp_path, "t.py", "--select", "LL2")[1].count("LL201") == 1
    code, _, err = concise(tmp_path, "t.py", "--select", "LL999")
    assert code == 2 and "unknown rule selector" in err


def test_fail_level_and_exit_zero(tmp_path):
    write(tmp_path / "t.py", TYPO)
    assert concise(tmp_path, "t.py", "--select", "LL201", "--fail-level", "error")[0] == 0
    assert concise(tmp_path, "t.py", "--exit-zero")[0] == 0
    info_only = "from peft import LoraConfig\nLoraConfig(target_modules='all-linear')\n"
    write(tmp_path / "info.py", info_only)
    write(
        tmp_path / "unrelated.py",
        "from peftlike import LoraConfig\nLoraConfig(target_modules='q')\n",
    )
    assert concise(tmp_path, "info.py")[0] == 0  # LL901 is info
    assert concise(tmp_path, "info.py", "--fail-level", "info")[0] == 1


@pytest.mark.parametrize(
    ("edit", "gone"),
    [
        (lambda s: s.replace('"CAUSAL_LM")', '"CAUSAL_LM")  # noqa: LL101'), {"LL101"}),
        (lambda s: s.replace('"CAUSAL_LM")', '"CAUSAL_LM")  # noqa'), {"LL101", "LL201"}),
        (lambda s: s.replace('"CAUSAL_LM")', '"CAUSAL_LM")  # noqa: attention-only'), {"LL201"}),
        (lambda s: s.replace("config =", "# lorlint: ignore[LL201]\nconfig ="), {"LL201"}),
        (lambda s: "# lorlint: noqa\n" + s, {"LL101", "LL201"}),
    ],
)
def test_suppressions(tmp_path, edit, gone):
    write(tmp_path / "t.py", edit(TYPO))
    out = concise(tmp_path, "t.py")[1]
    for code in {"LL101", "LL201"}:
        assert (code in out) == (code not in gone), (code, out)


def test_ignore_comment_covers_a_multiline_call(tmp_path):
    write(
        tmp_path / "t.py",
        """\
        from peft import LoraConfig
        # lorlint: model=meta-llama/Llama-3.1-8B
        config = LoraConfig(
            target_modules=["q_proj", "v_proj"],  # lorlint: ignore[LL201]
            task_type="CAUSAL_LM",
        )
        """,
    )
    assert concise(tmp_path, "t.py")[0] == 0


def test_pyproject_configuration(tmp_path):
    write(
        tmp_path / "pyproject.toml",
        """\
        [tool.lorlint]
        ignore = ["LL201"]
        model = "gpt2"
        per-file-ignores = {"legacy/*.py" = ["LL101"]}
        """,
    )
    write(
        tmp_path / "a.py",
        "from peft import LoraConfig\nLoraConfig(target_modules=['c_attn', 'q_proj'])\n",
    )
    write(
        tmp_path / "legacy" / "b.py",
        "from peft import LoraConfig\nLoraConfig(target_modules=['c_attn', 'q_proj'])\n",
    )
    _, out, _ = concise(tmp_path, ".")
    assert "a.py:2:38: LL101" in out and "gpt2" in out
    assert "legacy" not in out
    write(tmp_path / "pyproject.toml", "[tool.lorlint]\nbogus = 1\n")
    code, _, err = concise(tmp_path, ".")
    assert code == 2 and "bogus" in err


def test_model_flag_overrides_code(tmp_path):
    write(tmp_path / "t.py", "from peft import LoraConfig\nLoraConfig(target_modules=['c_attn'])\n")
    code, out, _ = concise(tmp_path, "t.py", "--model", "meta-llama/Llama-3.1-8B")
    assert code == 1 and "LL101" in out and "Llama-3.1-8B" in out


def test_json_output_has_ruffs_keys(tmp_path):
    write(tmp_path / "t.py", TYPO)
    proc = run_cli("check", "t.py", "--output-format", "json", cwd=tmp_path)
    items = json.loads(proc.stdout)
    first = next(item for item in items if item["code"] == "LL101")
    for key in ("code", "message", "filename", "location", "end_location", "fix", "noqa_row",
                "url", "severity", "name", "model"):  # fmt: skip
        assert key in first
    assert first["location"] == {"row": 4, "column": 57}
    assert first["end_location"] == {"row": 4, "column": 67}
    assert first["model"] == "meta-llama/Llama-3.1-8B"


def test_full_output_has_source_and_caret(tmp_path):
    write(tmp_path / "t.py", TYPO)
    proc = run_cli("check", "t.py", "--select", "LL101", cwd=tmp_path)
    lines = proc.stdout.splitlines()
    caret = next(line for line in lines if "^" in line)
    assert caret.index("^") == lines[lines.index(caret) - 1].index('"dwn_proj"')
    assert caret.count("^") == len('"dwn_proj"')


def test_statistics(tmp_path):
    write(tmp_path / "t.py", TYPO)
    out = concise(tmp_path, "t.py", "--statistics")[1]
    assert "1\tLL101\t[unknown-target-module]" in out


def test_bad_input_never_tracebacks(tmp_path):
    write(tmp_path / "syntax.py", "from peft import LoraConfig\nLoraConfig(\n")
    (tmp_path / "latin1.py").write_bytes(b"from peft import LoraConfig\nx = '\xe9'\n")
    (tmp_path / "binary.py").write_bytes(b"from peft import LoraConfig\x00\x01\x02")
    nested = "from peft import LoraConfig\nLoraConfig(r=" + "[" * 5000 + "]" * 5000 + ")\n"
    write(tmp_path / "nested.py", nested)
    unreadable = write(tmp_path / "locked.py", "from peft import LoraConfig\n")
    os.chmod(unreadable, 0)
    proc = run_cli("check", ".", "--output-format", "concise", cwd=tmp_path)
    os.chmod(unreadable, 0o644)
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "syntax.py:2:11: LL900 syntax error: '(' was never closed" in proc.stdout
    assert "latin1.py:1:1: LL900 cannot decode" in proc.stdout
    assert "binary.py:1:1: LL900" in proc.stdout
    assert "nested.py:2:213: LL900 syntax error: too many nested parentheses" in proc.stdout
    if os.geteuid() != 0:  # root reads anything
        assert "locked.py:1:1: LL900 cannot read" in proc.stdout
    assert proc.returncode == 0  # LL900 is info


def test_missing_path_is_exit_2(tmp_path):
    code, _, err = concise(tmp_path, "nope.py")
    assert code == 2 and "nope.py: no such file" in err


def test_gitignored_and_virtualenv_files_are_not_read(tmp_path):
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    write(tmp_path / ".gitignore", "generated/\n")
    write(tmp_path / "generated" / "t.py", TYPO)
    write(tmp_path / ".venv" / "lib" / "t.py", TYPO)
    write(tmp_path / "src" / "t.py", TYPO)
    out = concise(tmp_path, ".")[1]
    assert "src/t.py" in out and "generated" not in out and ".venv" not in out


def test_rule_command():
    proc = run_cli("rule", "LL101")
    assert proc.returncode == 0 and proc.stdout.startswith("# LL101 unknown-target-module")
    proc = run_cli("rule", "attention-only")
    assert "## Why is this bad?" in proc.stdout
    listing = run_cli("rule", "--all").stdout
    assert listing.count("\n") >= 20
    data = json.loads(run_cli("rule", "--all", "--output-format", "json").stdout)
    assert {"code", "name", "severity", "summary", "url", "explanation"} <= set(data[0])
    assert run_cli("rule", "LL999").returncode == 2


ODD = """\
from peft import LoraConfig, LoHaConfig
# lorlint: model=meta-llama/Llama-3.1-8B
c = LoraConfig(target_modules=5)
d = LoraConfig(target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"], layers_to_transform="0")
e = LoraConfig(target_modules="all-linear", rank_pattern={"(": 4})
g = LoraConfig(target_modules=["q_proj", 3, None])
h = LoHaConfig(target_modules=["embed_tokens", "q_proj"])
i = LoraConfig(target_modules="all-linear", layers_to_transform=[0], layers_pattern=["layers", "h"])
"""


def test_odd_values_never_crash_and_are_explained(tmp_path):
    write(tmp_path / "odd.py", ODD)
    code, out, err = concise(tmp_path, "odd.py")
    assert "internal error" not in err and "Traceback" not in err
    assert code == 1
    assert "odd.py:5:58: LL106 rank_pattern key '(' is not a valid regular expression" in out
    assert "LoRA can wrap it, LoHa cannot" in out
    assert "LL107" not in out  # a str layers_to_transform, and one of two layers_pattern matches
