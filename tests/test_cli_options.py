"""ruff's command-line conventions: options, standard input, summary wording, colour, progress."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from helpers import REPO, run_cli, write
from test_cli_check import TYPO

FIXABLE = (REPO / "fixtures" / "transformers_peft_llama.py").read_text()


def check(cwd, *args, env=None, stdin=None):
    full_env = {**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "lorlint", "check", "--no-cache", *args],
        cwd=cwd, env=full_env, capture_output=True, text=True, input=stdin, timeout=300,
    )  # fmt: skip


def test_summary_counts_findings_as_ruff_does(tmp_path):
    write(tmp_path / "t.py", TYPO)
    write(tmp_path / "clean.py", "from peft import LoraConfig\n")
    proc = check(tmp_path, ".")
    lines = proc.stdout.splitlines()[-2:]  # after the report, on standard output, as ruff does
    assert proc.stderr == ""
    assert lines == [
        "Found 2 findings (1 error, 1 warning).",
        "[*] 1 fixable with `--fix` (1 unsafe fix available with `--fix --unsafe-fixes`).",
    ]
    write(tmp_path / "t.py", TYPO.replace(', "dwn_proj"', ""))
    assert check(tmp_path, ".").stdout.splitlines()[-2:] == [
        "Found 1 finding (1 warning).",
        "1 unsafe fix available with `--fix --unsafe-fixes`.",
    ]
    write(tmp_path / "fix.py", FIXABLE)
    assert check(tmp_path, "fix.py").stdout.splitlines()[-2:] == [
        "Found 1 finding (1 error).",
        "[*] 1 fixable with `--fix`.",
    ]
    assert check(tmp_path, "clean.py").stdout == "All checks passed!\n"


def test_missing_path_is_an_error_without_all_checks_passed(tmp_path):
    write(tmp_path / "clean.py", "from peft import LoraConfig\n")
    proc = check(tmp_path, "nope.py", "clean.py")
    assert proc.returncode == 2
    assert proc.stderr == "lorlint check: nope.py: no such file or directory\n"


def test_repeated_select_keeps_both(tmp_path):
    write(tmp_path / "t.py", TYPO)
    out = check(tmp_path, "t.py", "--select", "LL101", "--select", "LL201").stdout
    assert "LL101" in out and "LL201" in out
    out = check(tmp_path, "t.py", "--ignore", "LL101", "--ignore", "LL201").stdout
    assert out == "All checks passed!\n"


def test_unknown_option_prints_the_subcommands_usage():
    proc = run_cli("check", "--bogus")
    assert proc.returncode == 2
    assert proc.stderr.startswith("usage: lorlint check ")
    assert "lorlint check: error: unrecognized arguments: --bogus" in proc.stderr
    proc = run_cli("models", "gpt2", "--bogus")
    assert proc.returncode == 2 and proc.stderr.startswith("usage: lorlint models ")


def test_format_and_output_format_everywhere():
    assert json.loads(run_cli("rule", "LL101", "--format", "json").stdout)["code"] == "LL101"
    assert json.loads(run_cli("models", "gpt2", "--output-format", "json").stdout)["model_type"]
    assert json.loads(run_cli("version", "--format", "json").stdout)["version"]
    proc = run_cli("check", "fixtures/transformers_peft_llama.py", "--format", "json")
    assert json.loads(proc.stdout)[0]["code"] == "LL101"
    help_text = run_cli("verify", "--help").stdout
    assert "--format" in help_text and "--output-format" in help_text


def test_version_command():
    from lorlint import __version__

    assert run_cli("version").stdout == f"lorlint {__version__}\n"
    assert run_cli("--version").stdout == f"lorlint {__version__}\n"


def test_stdin_with_stdin_filename(tmp_path):
    proc = check(tmp_path, "-", "--output-format", "concise", stdin=TYPO)
    assert proc.returncode == 1 and proc.stdout.startswith("-:4:57: LL101 ")
    proc = check(tmp_path, "--stdin-filename", "src/train.py", "--output-format", "concise",
                 stdin=TYPO)  # fmt: skip
    assert proc.stdout.startswith("src/train.py:4:57: LL101 ")
    # per-file-ignores and exclude apply to the given name
    write(tmp_path / "pyproject.toml",
          '[tool.lorlint]\nper-file-ignores = { "src/*" = ["LL201"] }\nexclude = ["gen/*"]\n')  # fmt: skip
    out = check(tmp_path, "-", "--stdin-filename", "src/train.py", stdin=TYPO).stdout
    assert "LL101" in out and "LL201" not in out
    proc = check(tmp_path, "-", "--stdin-filename", "gen/x.py", "--force-exclude", stdin=TYPO)
    assert (proc.returncode, proc.stdout) == (0, "")
    # a YAML config is read as YAML
    yaml_text = (REPO / "fixtures" / "axolotl_qlora.yml").read_text()
    out = check(tmp_path, "-", "--stdin-filename", "a.yml", "--output-format", "concise",
                stdin=yaml_text).stdout  # fmt: skip
    assert out.startswith("a.yml:15:5: LL101")


def test_stdin_fix_prints_the_fixed_source_and_reports_on_stderr(tmp_path):
    proc = check(tmp_path, "-", "--stdin-filename", "train.py", "--fix", stdin=FIXABLE)
    assert proc.stdout == FIXABLE.replace('"dwn_proj"', '"down_proj"')
    assert "Found 1 finding (1 fixed, 0 remaining)." in proc.stderr
    assert proc.returncode == 0
    proc = check(tmp_path, "-", "--diff", stdin=FIXABLE)
    assert proc.stdout.startswith("--- a/stdin.py") and proc.returncode == 1


def test_show_fixes_and_exit_non_zero_on_fix(tmp_path):
    path = write(tmp_path / "t.py", FIXABLE)
    proc = check(tmp_path, "t.py", "--show-fixes", "--output-format", "concise")
    assert '  fix (safe): Replace "dwn_proj" with "down_proj"' in proc.stdout
    proc = check(tmp_path, "t.py", "--fix", "--show-fixes")
    assert proc.returncode == 0
    assert proc.stdout.startswith(
        "Fixed 1 finding:\n- t.py:\n    1 × LL101 (unknown-target-module)\n"
    )
    assert "Found 1 finding (1 fixed, 0 remaining)." in proc.stdout
    path.write_text(FIXABLE)
    assert check(tmp_path, "t.py", "--fix", "--exit-non-zero-on-fix").returncode == 1
    assert check(tmp_path, "t.py", "--fix", "--exit-non-zero-on-fix").returncode == 0


def test_output_file_quiet_and_silent(tmp_path):
    write(tmp_path / "t.py", TYPO)
    proc = check(tmp_path, "t.py", "--output-format", "json", "-o", "report.json")
    assert proc.returncode == 1 and proc.stdout == ""
    report = json.loads((tmp_path / "report.json").read_text())
    assert {d["code"] for d in report} == {"LL101", "LL201"}
    proc = check(tmp_path, "t.py", "-q")
    assert proc.stdout and proc.stderr == ""
    proc = check(tmp_path, "t.py", "-s")
    assert (proc.returncode, proc.stdout, proc.stderr) == (1, "", "")


def test_show_settings_and_show_files(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.lorlint]\nignore = ["LL302"]\nmodel = "gpt2"\n')
    write(tmp_path / "a.py", TYPO)
    write(tmp_path / "unrelated.py", "x = 1\n")
    write(tmp_path / "b.yml", (REPO / "fixtures" / "axolotl_qlora.yml").read_text())
    proc = check(tmp_path, "--show-files")
    assert proc.stdout.splitlines() == ["a.py", "b.yml"] and proc.returncode == 0
    out = check(tmp_path, "--show-settings", "--config", "fail-level = 'error'").stdout
    assert f"Settings path: {tmp_path / 'pyproject.toml'}" in out
    assert 'ignore = ["LL302"]' in out and 'model = "gpt2"' in out
    assert 'fail-level = "error"' in out and '"LL302"' not in out.split("rules = ")[1]
    assert (
        "Settings path: none (defaults) (--isolated)"
        in check(tmp_path, "--show-settings", "--isolated").stdout
    )


def test_cache_dir(tmp_path):
    write(tmp_path / "t.py", TYPO)
    proc = subprocess.run(
        [sys.executable, "-m", "lorlint", "check", "t.py", "--cache-dir", "c"],
        cwd=tmp_path, capture_output=True, text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )  # fmt: skip
    assert proc.returncode == 1
    assert not (tmp_path / ".lorlint_cache").exists()
    assert list((tmp_path / "c").rglob("*.json")), "site cache under --cache-dir"


@pytest.mark.parametrize(
    ("args", "env", "colored"),
    [
        (["--color", "always"], {}, True),
        (["--color", "never"], {"FORCE_COLOR": "1"}, False),
        ([], {"FORCE_COLOR": "1"}, True),
        ([], {"FORCE_COLOR": "1", "NO_COLOR": "1"}, False),
        ([], {}, False),  # a pipe
    ],
)
def test_color(tmp_path, args, env, colored):
    write(tmp_path / "t.py", TYPO)
    env = {"NO_COLOR": "", "FORCE_COLOR": "", **env}
    out = check(tmp_path, "t.py", *args, env=env).stdout
    assert ("\033[" in out) == colored


def _in_a_terminal(args: list[str], cwd) -> str:
    """Run lorlint with stderr on a pseudo-terminal; what it wrote there."""
    import pty

    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "lorlint", *args],
        cwd=cwd, stdout=subprocess.DEVNULL, stderr=follower,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )  # fmt: skip
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=300)
    os.close(leader)
    return b"".join(chunks).decode(errors="replace")


def test_progress_on_a_terminal_only(tmp_path):
    for i in range(40):
        write(tmp_path / f"s{i}.py", TYPO)
    tty = _in_a_terminal(["check", ".", "--no-cache", "--jobs", "1"], tmp_path)
    assert "checking " in tty and "/40 files" in tty and "\r\033[K" in tty
    assert tty.endswith("\r\033[K")  # the progress line is erased before the report comes
    piped = check(tmp_path, ".", "--jobs", "1").stderr
    assert "checking" not in piped and "\r" not in piped


def test_watch_relints_on_change(tmp_path):
    path = write(tmp_path / "t.py", TYPO)
    proc = subprocess.Popen(
        [sys.executable, "-m", "lorlint", "check", "--watch", "--no-cache", "--output-format",
         "concise", "."],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )  # fmt: skip
    try:
        seen = []

        def until(text: str) -> None:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                line = proc.stdout.readline()
                seen.append(line)
                if text in line:
                    return
            raise AssertionError(f"{text!r} not in {seen}")

        until("Watching for file changes.")
        assert any("LL101" in line for line in seen)
        seen.clear()
        time.sleep(0.1)
        path.write_text(TYPO.replace(', "dwn_proj"', ""))
        until("Watching for file changes.")
        assert any("File change detected" in line for line in seen)
        assert not any("LL101" in line for line in seen) and any("LL201" in line for line in seen)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
