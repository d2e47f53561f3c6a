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


def test_help_is_as_wide_as_shutil_says(monkeypatch):
    """The formatter reads the terminal's width as shutil does, without importing it."""
    import argparse
    import shutil

    from lorlint import cli

    for columns in (None, "0", "-3", "wide", "50", "132"):
        if columns is None:
            monkeypatch.delenv("COLUMNS", raising=False)
        else:
            monkeypatch.setenv("COLUMNS", columns)
        assert cli._columns() == shutil.get_terminal_size().columns, columns
        check = cli._subparser(build_parser("check"), "check")
        ours = check.format_help()
        check.formatter_class = argparse.HelpFormatter
        assert ours == check.format_help(), columns


def test_rule_modules_are_those_pkgutil_lists():
    import pkgutil

    import lorlint.checks as package

    listed = [i.name for i in pkgutil.iter_modules(package.__path__) if i.name.startswith("ll")]
    assert package._rule_modules() == listed


def test_findings_still_compare_and_pickle_by_value():
    """Diagnostic, Fix, ListPlan and Edit are plain classes (no @dataclass at start-up) that keep
    a dataclass's equality: findings equal field by field, fixes included, across a pickle."""
    import pickle

    from lorlint.checks import Diagnostic
    from lorlint.fixes import Edit, Fix, ListPlan
    from lorlint.site import Span

    def finding(message: str = "m") -> Diagnostic:
        plan = ListPlan(Span(1, 1, 1, 9), '["q"]', ("",), ('"v"',), True)
        fix = Fix("safe", "add v", plan=plan)
        return Diagnostic("LL201", "attention-only", "warning", message, "t.py", Span(1, 1, 1, 9),
                          fix=fix)  # fmt: skip

    assert finding() == finding() != finding("other")
    assert pickle.loads(pickle.dumps(finding(), pickle.HIGHEST_PROTOCOL)) == finding()
    assert Fix("safe", "x", known_edits=(Edit(Span(1, 1, 1, 2), "a"),)) == Fix(
        "safe", "x", known_edits=(Edit(Span(1, 1, 1, 2), "a"),)
    )
    assert len({Edit(Span(1, 1, 1, 2), "a"), Edit(Span(1, 1, 1, 2), "a")}) == 1


def test_sites_and_modules_keep_what_their_dataclasses_gave():
    """Site, Value, Span, Argument, Step, Module and TargetSpec are plain classes (no
    ``dataclasses`` at start-up): same constructors, value equality, the frozen ones' hashes (the
    dataclass's ``hash`` of the field tuple), the dataclass repr, pickling and deep copies."""
    import copy
    import pickle

    from lorlint.models.match import TargetSpec
    from lorlint.models.table import Module
    from lorlint.site import UNKNOWN, Argument, Site, Span, Step, Value

    span = Span(1, 2, 3, 4)
    assert repr(span) == "Span(row=1, col=2, end_row=3, end_col=4)"
    assert hash(span) == hash((1, 2, 3, 4)) and {span, Span(1, 2, 3, 4)} == {span}
    assert hash(Argument("r", span)) == hash(("r", span, True))
    value = Value([1], span, [Value(1, span)], "T", 1)
    assert repr(Value(UNKNOWN)) == (
        "Value(value=Unknown, span=None, elements=None, bound_to=None, bound_uses=0, "
        "editable=True, quote='\"')"
    )
    site = Site("t.py", "peft-config", "peft.LoraConfig", span, {"r": value}, "m", span,
                flow=[Step("load", 1, 1, 1, 5, {"loader": "Auto"})],
                arguments=[Argument(None, span, False)], facts={"x": [1]})  # fmt: skip
    assert repr(site).startswith("Site(path='t.py', kind='peft-config', callee='peft.LoraConfig'")
    for obj in (span, value, site, site.flow[0], site.arguments[0]):
        assert pickle.loads(pickle.dumps(obj, pickle.HIGHEST_PROTOCOL)) == obj
        assert copy.deepcopy(obj) == obj and copy.copy(obj) == obj
    other = copy.deepcopy(site)
    other.keywords["r"].bound_uses = 2
    assert other != site and Value(1) != Value(2) and Value(1) != 1
    module = Module("a.q", "Linear", "linear", (4, 4), 16)
    assert module == Module("a.q", "Linear", "linear", (4, 4), 16) != Module("a.k", "Linear")
    assert hash(module) == hash(("a.q", "Linear", "linear", (4, 4), 16, (), 1))
    assert repr(module).startswith("Module(name='a.q', cls='Linear', kind='linear'")
    spec = TargetSpec(["q"], lora_dropout=0.1)
    assert spec.replaced(lora_dropout=0.0) == TargetSpec(["q"]) != spec
    assert spec.rank_pattern == {} and spec.rank_pattern is not TargetSpec().rank_pattern
