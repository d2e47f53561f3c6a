"""Settings: one clear line for every bad value (exit 2), --config / --isolated, the user's file,
``online`` never turned on by a project's own file, and nothing from a linted tree ever runs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from helpers import run_cli, write
from test_cli_check import TYPO


def check(tmp_path, *args, env=None):
    proc = run_cli(
        "check", "--output-format", "concise", "--no-cache", *args, cwd=tmp_path, env=env
    )
    return proc.returncode, proc.stdout, proc.stderr


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ('select = "LL1"', 'select = "LL1": expected a list of strings, e.g. select = ["LL1"]'),
        (
            'ignore = "LL201"',
            'ignore = "LL201": expected a list of strings, e.g. ignore = ["LL201"]',
        ),
        ("extend-select = 3", "extend-select = 3: expected a list of strings"),
        ('per-file-ignores = ["a.py"]', 'per-file-ignores = ["a.py"]: expected a table of glob'),
        ('per-file-ignores = { "a.py" = "LL201" }', 'per-file-ignores."a.py" = "LL201": expected'),
        (
            'fail-level = "fatal"',
            'fail-level = "fatal": expected one of "info", "warning", "error"',
        ),
        ("model = 5", "model = 5: expected a string"),
        ('online = "yes"', 'online = "yes": expected true or false'),
        ("exclude = 1", "exclude = 1: expected a list of strings"),
        ("bogus = 1", "unknown key: bogus"),
        ('select = ["LL999"]', "unknown rule selector 'LL999' in"),
    ],
)
def test_bad_setting_is_one_line_naming_key_value_and_expectation(tmp_path, setting, expected):
    write(tmp_path / "pyproject.toml", f"[tool.lorlint]\n{setting}\n")
    write(tmp_path / "t.py", TYPO)
    code, out, err = check(tmp_path, "t.py")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and expected in err, err
    assert "pyproject.toml" in err and "Traceback" not in err and "Error:" not in err


def test_invalid_utf8_and_invalid_toml(tmp_path):
    write(tmp_path / "t.py", TYPO)
    (tmp_path / "lorlint.toml").write_bytes(b'select = ["LL1"]\nmodel = "\xff"\n')
    code, _, err = check(tmp_path, "t.py")
    assert code == 2 and err.count("\n") == 1
    assert "lorlint.toml: not valid UTF-8 (byte 0xff on line 2, offset 26)" in err
    (tmp_path / "lorlint.toml").write_text("select = [\n")
    code, _, err = check(tmp_path, "t.py")
    assert code == 2 and "lorlint.toml: invalid TOML:" in err and "Traceback" not in err


def test_config_path_key_value_and_isolated(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.lorlint]\nselect = ["LL201"]\n')
    write(tmp_path / "t.py", TYPO)
    write(tmp_path / "other.toml", 'select = ["LL101"]\n')
    assert "LL101" not in check(tmp_path, "t.py")[1]
    out = check(tmp_path, "t.py", "--config", "other.toml")[1]
    assert "LL101" in out and "LL201" not in out
    out = check(tmp_path, "t.py", "--config", "select = ['LL101']")[1]
    assert "LL101" in out and "LL201" not in out
    assert check(tmp_path, "t.py", "--config", "fail-level=error", "--select", "LL201")[0] == 0
    out = check(tmp_path, "t.py", "--isolated")[1]
    assert "LL101" in out and "LL201" in out
    code, _, err = check(tmp_path, "t.py", "--config", "not a pair")
    assert code == 2 and "neither a file nor a TOML `KEY = VALUE` pair" in err
    code, _, err = check(tmp_path, "t.py", "--config", "select = 'LL1'")
    assert code == 2 and '--config: select = "LL1": expected a list' in err


def test_user_configuration_is_used_without_a_project_file(tmp_path):
    home = tmp_path / "xdg"
    write(home / "lorlint" / "lorlint.toml", 'ignore = ["LL201"]\n')
    project = tmp_path / "project"
    write(project / "t.py", TYPO)
    env = {"XDG_CONFIG_HOME": str(home)}
    out = check(project, "t.py", env=env)[1]
    assert "LL101" in out and "LL201" not in out
    write(project / "pyproject.toml", "[tool.lorlint]\n")
    assert "LL201" in check(project, "t.py", env=env)[1]  # a project file replaces it, as ruff's


NET_GUARD = """
import os, socket
_log = os.environ["NET_GUARD_LOG"]
def _blocked(*args, **kwargs):
    with open(_log, "a") as fh:
        fh.write(repr(args[:2]) + "\\n")
    os._exit(97)  # recorded: stop here rather than wait through the client's retries
_connect = socket.socket.connect
def connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _blocked(address)
    return _connect(self, address)
socket.getaddrinfo = _blocked
socket.socket.connect = connect
"""


def _network_attempts(tmp_path, project, *args, env=None) -> tuple[str, str]:
    """Run ``lorlint check`` with HF_HUB_OFFLINE unset, in a network namespace when one can be
    made, and a socket guard that records every connection or name lookup; the attempts."""
    guard = tmp_path / "guard"
    write(guard / "sitecustomize.py", NET_GUARD)
    log = tmp_path / "net.log"
    log.write_text("")
    full_env = {k: v for k, v in os.environ.items() if k != "HF_HUB_OFFLINE"}
    full_env.update(PYTHONPATH=str(guard), NET_GUARD_LOG=str(log), **(env or {}))
    command = [sys.executable, "-m", "lorlint", "check", "--no-cache", *args]
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0:
        command = [unshare, "-n", *command]
    proc = subprocess.run(command, cwd=project, env=full_env, capture_output=True, text=True)
    return log.read_text(), proc.stderr


UNKNOWN_MODEL = """\
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM

model = AutoModelForCausalLM.from_pretrained("someone/a-model-nobody-catalogued")
model = get_peft_model(model, LoraConfig(target_modules=["q_proj"]))
"""


def test_project_online_true_opens_no_connection(tmp_path):
    project = tmp_path / "cloned"
    write(project / "pyproject.toml", "[tool.lorlint]\nonline = true\n")
    write(project / "train.py", UNKNOWN_MODEL)
    attempts, err = _network_attempts(tmp_path, project, "train.py")
    assert attempts == "", attempts
    assert "online = true is ignored: a project's settings cannot turn on network access" in err
    # the guard does see lorlint's download when the user asks for it: the test can fail
    attempts, _ = _network_attempts(tmp_path, project, "train.py", "--online")
    assert attempts != ""
    home = tmp_path / "xdg"
    write(home / "lorlint" / "lorlint.toml", "online = true\n")
    attempts, _ = _network_attempts(
        tmp_path, project, "train.py", env={"XDG_CONFIG_HOME": str(home)}
    )
    assert attempts != ""  # the user's own configuration may


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_a_linted_trees_git_configuration_runs_nothing(tmp_path):
    project = tmp_path / "received"
    write(project / "t.py", TYPO)
    marker = tmp_path / "ran"
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    hook = f"touch {marker}; true"
    subprocess.run(["git", "config", "core.fsmonitor", hook], cwd=project, check=True)
    subprocess.run(["git", "ls-files"], cwd=project, capture_output=True)
    assert marker.exists()  # plain git runs it: the test can fail
    marker.unlink()
    code, out, _ = check(project, ".")
    assert code == 1 and "t.py:4:57: LL101" in out
    assert not marker.exists()
