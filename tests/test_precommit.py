"""The real ``pre-commit try-repo`` against a temporary git repository, for both hooks."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPO

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
}


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory):
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory):
    """This working tree as a one-commit repository: try-repo sees exactly what is on disk."""
    dest = tmp_path_factory.mktemp("lorlint-repo")
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    env = {**os.environ, **GIT_ENV}
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-qm", "hooks"]):
        subprocess.run(cmd, cwd=dest, env=env, check=True)
    return dest


def try_repo(project: Path, hook: str, home: Path, repo: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        **GIT_ENV,
        "PRE_COMMIT_HOME": str(home),
        # the system hook runs the lorlint of this environment
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(repo), hook, "--all-files"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def make_repo(path: Path, files: dict[str, str]) -> Path:
    path.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=path, check=True)
    for name, text in files.items():
        (path / name).write_text(text)
    subprocess.run(["git", "add", "."], cwd=path, check=True)
    return path


@pytest.mark.parametrize("hook", ["lorlint", "lorlint-system"])
def test_hook_fails_on_a_bad_config(tmp_path, hook, pre_commit_home, hook_repo):
    bad = (REPO / "fixtures" / "transformers_peft_llama.py").read_text()
    project = make_repo(tmp_path / "p", {"train.py": bad, "other.py": "x = 1\n"})
    proc = try_repo(project, hook, pre_commit_home, hook_repo)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "train.py:15:85: LL101" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


@pytest.mark.parametrize("hook", ["lorlint", "lorlint-system"])
def test_hook_passes_clean_code_and_skips_when_no_python(
    tmp_path, hook, pre_commit_home, hook_repo
):
    clean = (REPO / "fixtures" / "clean_llama.py").read_text()
    project = make_repo(tmp_path / "clean", {"train.py": clean})
    proc = try_repo(project, hook, pre_commit_home, hook_repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Passed" in proc.stdout
    empty = make_repo(tmp_path / "empty", {"README.md": "# nothing to lint\n"})
    proc = try_repo(empty, hook, pre_commit_home, hook_repo)
    assert proc.returncode == 0 and "Skipped" in proc.stdout, proc.stdout + proc.stderr


def test_hook_lints_a_yaml_only_commit(tmp_path, pre_commit_home, hook_repo):
    """README: YAML, JSON and notebooks are linted too, not only Python."""
    config = (REPO / "fixtures" / "axolotl_qlora.yml").read_text()
    project = make_repo(tmp_path / "yaml", {"axolotl.yml": config})
    proc = try_repo(project, "lorlint", pre_commit_home, hook_repo)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "axolotl.yml:15:5: LL101" in proc.stdout


def test_readme_revs_exist_and_have_the_hooks():
    """Every `rev:` in the README's pre-commit snippets is a commit or tag of this repository
    whose .pre-commit-hooks.yaml defines the hook ids the snippet uses."""
    import re

    import yaml

    readme = (REPO / "README.md").read_text()
    snippets = re.findall(r"```yaml\n(# \.pre-commit-config\.yaml\n.*?)```", readme, re.S)
    assert snippets
    for snippet in snippets:
        for repo in yaml.safe_load(snippet)["repos"]:
            rev = str(repo["rev"])
            shown = subprocess.run(
                ["git", "show", f"{rev}:.pre-commit-hooks.yaml"],
                cwd=REPO, capture_output=True, text=True,
            )  # fmt: skip
            assert shown.returncode == 0, f"rev {rev} is no revision of this repository"
            ids = {hook["id"] for hook in yaml.safe_load(shown.stdout)}
            used = set(re.findall(r"- id: ([\w-]+)", snippet))
            assert used <= ids, (rev, used - ids)


def test_the_hooks_receive_every_kind_of_file_lorlint_reads():
    """A file kind the front ends read but the hooks' ``types_or`` omits would never be linted in
    pre-commit (shell scripts were once left out)."""
    identify = pytest.importorskip("identify.identify")
    yaml = pytest.importorskip("yaml")
    from lorlint.frontends.names import file_kind

    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    examples = ["train.py", "train.sh", "nb.ipynb", "axolotl.yaml", "t.yml", "adapter_config.json"]
    assert all(file_kind(name) for name in examples)
    for hook in hooks:
        for name in examples:
            tags = identify.tags_from_filename(name)
            assert tags & set(hook["types_or"]), (hook["id"], name, tags)
