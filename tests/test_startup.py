"""Start-up shortcuts change nothing a user sees: one command's parser, git outside a work tree."""

from __future__ import annotations

import subprocess

from lorlint.cli import COMMANDS, build_parser
from lorlint.commands.check import _may_be_in_work_tree, discover


def test_one_command_s_parser_reads_and_helps_as_the_whole_command_line():
    whole = build_parser()
    for name in COMMANDS:
        alone = build_parser(name)
        argv = [name, "--help"]
        assert _help(alone, argv) == _help(whole, argv)
    argv = ["check", "a.py", "--select", "LL1", "--jobs", "2", "-q"]
    assert vars(build_parser("check").parse_args(argv)) == vars(whole.parse_args(argv))


def _help(parser, argv) -> str:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        parser.parse_args(argv)
    return out.getvalue()


def test_git_is_asked_only_where_it_may_find_a_work_tree(tmp_path, monkeypatch):
    monkeypatch.delenv("GIT_DIR", raising=False)
    monkeypatch.delenv("GIT_WORK_TREE", raising=False)
    plain = tmp_path / "plain" / "sub"
    plain.mkdir(parents=True)
    if not _may_be_in_work_tree(str(tmp_path)):  # (a temporary directory inside a checkout)
        assert not _may_be_in_work_tree(str(plain))
    repo = tmp_path / "repo"
    (repo / "src").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "src" / "t.py").write_text("from peft import LoraConfig\nLoraConfig()\n")
    (repo / ".gitignore").write_text("ignored.py\n")
    (repo / "src" / "ignored.py").write_text("from peft import LoraConfig\nLoraConfig()\n")
    assert _may_be_in_work_tree(str(repo / "src"))
    files, _ = discover([str(repo / "src")], [])
    assert [f.name for f in files] == ["t.py"]  # git's listing: the ignored file left out
    monkeypatch.setenv("GIT_DIR", str(repo / ".git"))
    assert _may_be_in_work_tree(str(plain))
