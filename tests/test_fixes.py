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
from hypothesis import given, settings
from hypothesis import strategies as st

from lorlint import fixes

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
    assert "Found 4 findings (3 fixed, 1 remaining)." in proc.stdout
    text = path.read_text()
    # quote style kept, duplicate dropped, list form, comment untouched
    assert "'up_proj', 'down_proj'])" in text
    assert 'target_modules=["q_proj"], task_type="CAUSAL_LM")  # keep this comment' in text
    assert "LL201" in proc.stdout  # unsafe: reported, not applied
    assert "1 unsafe fix available with `--fix --unsafe-fixes`." in proc.stdout


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
    assert "2 unsafe fixes available with `--fix --unsafe-fixes`." in proc.stdout
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
    monkeypatch.setattr(check, "splice_fixes", lambda text, edits: text + "(\n")
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


# --- issue #15: --fix changes exactly what it says -------------------------------------------------
LLAMA = "from peft import LoraConfig  # lorlint: model=meta-llama/Llama-3.1-8B\n"


def fix_in_process(path: Path, *flags: str) -> tuple[int, str, str]:
    """``lorlint check PATH --no-cache FLAGS`` in this process (fast), with its output."""
    import contextlib
    import io

    from lorlint.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["check", str(path), "--no-cache", *flags])
    return code, out.getvalue(), err.getvalue()


def test_crlf_and_cr_files_keep_every_line_ending(tmp_path):
    for newline in ("\r\n", "\r"):
        source = (
            LLAMA + 'cfg = LoraConfig(target_modules=["q_proj", "k_proj", "v_proj", "o_proj", '
            '"gate_proj", "up_proj", "dwn_proj"])\nx = 1\n'
        ).replace("\n", newline)
        path = tmp_path / "t.py"
        path.write_bytes(source.encode())
        fix_in_process(path, "--fix")
        assert path.read_bytes() == source.replace("dwn_proj", "down_proj").encode()


def test_diff_of_a_file_without_final_newline_is_a_patch_that_applies(tmp_path):
    import subprocess

    source = LLAMA + 'cfg = LoraConfig(target_modules=["q_proj", "dwn_proj"])'
    (tmp_path / "a").mkdir()
    path = tmp_path / "a" / "t.py"
    path.write_text(source)
    code, out, _ = fix_in_process(path, "--diff")
    assert code == 1 and path.read_text() == source
    assert out.endswith('+cfg = LoraConfig(target_modules=["q_proj", "down_proj"])\n'
                        "\\ No newline at end of file\n")  # fmt: skip
    patch = out.replace(f"a/{path.as_posix()}", "a/t.py").replace(f"b/{path.as_posix()}", "b/t.py")
    proc = subprocess.run(["patch", "-p1", "-d", str(tmp_path / "a")], input=patch.encode())
    assert proc.returncode == 0
    assert path.read_text() == source.replace("dwn_proj", "down_proj")


def test_read_only_file_is_never_replaced(tmp_path):
    source = LLAMA + 'cfg = LoraConfig(target_modules=["q_proj", "dwn_proj"])\n'
    path = tmp_path / "t.py"
    path.write_text(source)
    os.chmod(path, 0o444)
    code, out, err = fix_in_process(path, "--fix")
    assert code == 2
    assert f"{path}: fix refused: the file is read-only; not fixed" in err
    assert "LL101" in out  # the finding is still reported
    assert path.read_text() == source and stat.S_IMODE(path.stat().st_mode) == 0o444


def test_symlinked_file_is_fixed_through_the_link(tmp_path):
    real = tmp_path / "real.py"
    real.write_text(LLAMA + 'cfg = LoraConfig(target_modules=["q_proj", "dwn_proj"])\n')
    link = tmp_path / "link.py"
    link.symlink_to(real)
    fix_in_process(link, "--fix")
    assert link.is_symlink() and '"down_proj"' in real.read_text()


def test_duplicate_removal_keeps_the_first_entrys_comment(tmp_path):
    path = tmp_path / "t.py"
    path.write_text(
        LLAMA + "cfg = LoraConfig(target_modules=[\n"
        '    "q_proj",  # query projection\n'
        '    "q_proj",  # duplicate\n'
        '    "v_proj",\n'
        "])\n"
    )
    fix_in_process(path, "--fix")
    assert path.read_text() == (
        LLAMA + "cfg = LoraConfig(target_modules=[\n"
        '    "q_proj",  # query projection\n'
        '    "v_proj",\n'
        "])\n"
    )


def test_unsafe_rewrites_keep_every_comment_in_the_list(tmp_path):
    path = tmp_path / "t.py"
    path.write_text(
        "from peft import LoraConfig  # lorlint: model=gpt2\n"
        "cfg = LoraConfig(\n"
        "    target_modules=[\n"
        "        # attention\n"
        '        "q_proj",  # query\n'
        '        "v_proj",  # value\n'
        "    ],\n"
        '    task_type="CAUSAL_LM",\n'
        ")\n"
    )
    fix_in_process(path, "--fix", "--unsafe-fixes")
    assert path.read_text() == (
        "from peft import LoraConfig  # lorlint: model=gpt2\n"
        "cfg = LoraConfig(\n"
        "    target_modules=[\n"
        "        # attention\n"
        '        "c_attn",  # query\n'
        "        # value\n"
        '        "c_proj",\n'
        '        "c_fc",\n'
        "    ],\n"
        '    task_type="CAUSAL_LM",\n'
        ")\n"
    )


@pytest.mark.parametrize(
    "value",
    [
        '"q_proj,v_proj".split(",")',
        'list(["q_proj", "v_proj"])',
        '["q_proj"] + ["v_proj"]',
        '[f"q_proj", "v_proj"]',
        '["q_" "proj", "v_proj"]',
        'sorted(["v_proj", "q_proj"])',
    ],
)
def test_values_computed_in_code_are_never_edited(tmp_path, value):
    source = LLAMA + f"cfg = LoraConfig(target_modules={value})\n"
    path = tmp_path / "t.py"
    path.write_text(source)
    _, out, _ = fix_in_process(path, "--fix", "--unsafe-fixes", "--output-format", "json")
    assert path.read_text() == source
    found = [item for item in json.loads(out) if item["code"] == "LL201"]
    assert found and all(item["fix"] is None for item in found)


def test_bom_tabs_and_non_ascii_do_not_move_an_edit(tmp_path):
    from types import SimpleNamespace

    from lorlint.commands.check import fix_file
    from lorlint.engine import Options

    source = (
        "\ufeff" + LLAMA + 'données = "é 𝔘"\n'
        "def build():\n"
        '\tcfg = LoraConfig(target_modules=["𝔘_proj",\t"q_proj", "dwn_proj"])  # é\n'
    )
    path = tmp_path / "t.py"
    path.write_bytes(source.encode())
    args = SimpleNamespace(fix=True, diff=False, unsafe_fixes=False)
    outcome = fix_file(path, Options(), set(), args)
    assert outcome.text == source.replace("dwn_proj", "down_proj")


NOTEBOOK_CELLS = [
    {"cell_type": "markdown", "metadata": {}, "source": ["# Tüning\n", "é"]},
    {"cell_type": "code", "execution_count": 1, "metadata": {"scrolled": 1.0}, "outputs": [],
     "source": ["from peft import LoraConfig  # lorlint: model=meta-llama/Llama-3.1-8B\n",
                "x = 'é'\n"]},
    {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
     "source": ['cfg = LoraConfig(target_modules=["q_proj",  # é\n',
                '    "dwn_proj", "v_proj", "v_proj"])']},
]  # fmt: skip


@pytest.mark.parametrize(
    "layout",
    [
        {"indent": 1, "ensure_ascii": False},
        {"indent": 2, "ensure_ascii": True},
        {"indent": None, "separators": (",", ":"), "ensure_ascii": True},
        {"indent": "\t", "separators": (", ", " : "), "ensure_ascii": False, "crlf": True},
        {"indent": 4, "ensure_ascii": False, "string_source": True},
    ],
)
def test_notebook_fix_changes_only_the_edited_cells_source(tmp_path, layout):
    layout = dict(layout)
    crlf, string_source = layout.pop("crlf", False), layout.pop("string_source", False)
    cells = json.loads(json.dumps(NOTEBOOK_CELLS))
    if string_source:
        for cell in cells:
            cell["source"] = "".join(cell["source"])
    book = {"cells": cells, "metadata": {"version": 1.5e-3}, "nbformat": 4, "nbformat_minor": 5}
    text = json.dumps(book, **layout).replace("1.5e-3", "1.50E-03")  # a number json would not write
    text = text.replace("\n", "\r\n") if crlf else text
    path = tmp_path / "nb.ipynb"
    path.write_bytes(text.encode())
    fix_in_process(path, "--fix")
    fixed = path.read_bytes().decode()
    expected = json.loads(text)
    code = "".join(expected["cells"][2]["source"])
    code = code.replace('"dwn_proj"', '"down_proj"').replace(', "v_proj", "v_proj"', ', "v_proj"')
    assert "".join(json.loads(fixed)["cells"][2]["source"]) == code
    expected["cells"][2]["source"] = json.loads(fixed)["cells"][2]["source"]
    assert json.loads(fixed) == expected
    # byte for byte outside the edited cell's source
    head = text.index('"cfg = LoraConfig')
    assert fixed[:head] == text[:head]
    tail = text.index('v_proj\\"])') + len('v_proj\\"])')
    assert fixed.endswith(text[tail:])


# --- the tokenizer-free reading of plain strings and flat displays --------------------------
_PIECES = st.sampled_from(['"', "'", "\\", "\n", "\r", "a", "q_proj", " ", "#", ",", "é", "{"])
# Two in three entries and gaps are of the shapes the fast reading takes, one anything nearby.
_CLEAN_ENTRY = st.builds(
    lambda prefix, quote, body: f"{prefix}{quote}{body}{quote}",
    st.sampled_from(["", "r", "u", "U"]),
    st.sampled_from(['"', "'"]),
    st.sampled_from(["q_proj", "", "a'b", 'a"b', "é", "#x", "a,b", "a\\nb", "a\\"]),
)
_ANY_ENTRY = st.builds(
    lambda prefix, quote, body: f"{prefix}{quote}{body}{quote}",
    st.sampled_from(["", "r", "R", "u", "U", "b", "f", "rb", "ur"]),
    st.sampled_from(['"', "'", '"""']),
    st.lists(_PIECES, max_size=4).map("".join),
)
_ENTRY = st.one_of(_CLEAN_ENTRY, _CLEAN_ENTRY, _ANY_ENTRY)
_CLEAN_GAP = st.sampled_from(["", " ", "\n    ", "\t", "\r\n", "\f"])
_ANY_GAP = st.lists(
    st.sampled_from([" ", "\t", "\n", "\r", "\f", "\\\n", "# c\n", "\x0b", "\xa0"]), max_size=2
).map("".join)
_GAP = st.one_of(_CLEAN_GAP, _CLEAN_GAP, _ANY_GAP)


@settings(max_examples=400, deadline=None)
@given(
    opening=st.sampled_from("[({"),
    closing=st.sampled_from(["matching", "matching", "]", ")", "}"]),
    entries=st.lists(st.tuples(_GAP, _ENTRY, _GAP), max_size=4),
    separators=st.lists(st.sampled_from([",", ", ", ",\n", " ,", ""]), min_size=4, max_size=4),
    trailing=st.sampled_from(["", ","]),
)
def test_fast_display_reads_as_the_tokenizer(opening, closing, entries, separators, trailing):
    """Where the tokenizer-free reading accepts a display, the tokenizer reads the same values
    and quotes from it (and where it refuses one, the tokenizer decides as before)."""
    parts = [before + entry + after for before, entry, after in entries]
    text = opening + "".join(p + s for p, s in zip(parts, separators, strict=False))
    closing = {"[": "]", "(": ")", "{": "}"}[opening] if closing == "matching" else closing
    text = (text.rstrip(",") + trailing if parts else text) + closing
    fast = fixes._fast_display(text)
    if fast is not None:
        values = [value for value, _ in fast]
        assert fixes._tokenized_display(text, values) == [quote for _, quote in fast]
        assert fixes._display(text, values[:-1]) == fixes._tokenized_display(text, values[:-1])
    for _, entry, _ in entries:
        plain = fixes._fast_string(entry)
        if plain is not None:
            assert fixes._tokenized_string(entry) == plain


def test_fast_reading_takes_the_common_shapes():
    assert fixes._fast_display("[\n    \"q_proj\",\n    'v_proj',\n]") == [
        ("q_proj", '"'),
        ("v_proj", "'"),
    ]
    assert fixes._fast_string('r"lm_head"') == ("lm_head", '"')
    assert fixes._fast_display('["q_proj"  # attention\n]') is None  # a comment: tokenizer
    assert fixes._fast_display('["q_" "proj"]') is None  # implicit concatenation: tokenizer
    for escaped in ('"a\\nb"', "'a\\nb'", 'r"a\\"', "u'\\''"):  # escapes: tokenizer
        assert fixes._fast_string(escaped) is None
        assert fixes._fast_display(f"[{escaped}]") is None
