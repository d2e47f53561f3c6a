"""Notebook cells transformed the way IPython does; a cell that still does not parse is reported
at that cell and every other cell is linted."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lorlint.engine import Options, ViewCache, lint_text
from lorlint.frontends.notebook import parse_problem, transform_cell

LORA = (
    "from peft import LoraConfig\n"
    "# lorlint: model=meta-llama/Llama-3.1-8B\n"
    'config = LoraConfig(target_modules=["q_proj", "v_proj", "up_proj", "dwn_proj"])'
)


def notebook(*cells: str) -> str:
    return json.dumps({
        "cells": [{"cell_type": "code", "source": c, "metadata": {}, "outputs": []} for c in cells],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5,
    })  # fmt: skip


def lint(*cells: str):
    return lint_text("nb.ipynb", notebook(*cells), Options(), ViewCache(online=False))


@pytest.mark.parametrize(
    "cell",
    [
        "!pip install -q peft \\\n    transformers \\\n    trl",  # continued shell line
        "for name in ['a', 'b']:\n    !echo {name}\n    %time x = 1",  # inside a block
        "%%bash\npip install peft\nif [ -d x ]; then echo; fi",  # cell magic
        "\n\n%%capture\n!pip install unsloth",  # cell magic after blank lines
        "LoraConfig?\nLoraConfig??\n?LoraConfig",  # help
        "files = !ls\nenv = %env HOME",  # assignment from a command or a magic
        "import asyncio\nawait asyncio.sleep(0)",  # top-level await
        "/print 1\n,print a b\n;print c",  # autocall escapes
    ],
)
def test_ipython_syntax_does_not_drop_the_notebook(cell):
    assert parse_problem(transform_cell(cell.split("\n"))) is None
    assert [(d.code, d.cell) for d in lint(cell, LORA)] == [("LL101", 2)]


def test_rows_are_kept():
    lines = ["x = 1", "!pip install a \\", "  b", "y = 2"]
    assert transform_cell(lines) == ["x = 1", "pass", "", "y = 2"]


def test_strings_and_comments_are_not_escapes():
    lines = ['doc = """What?', "!not a command", '"""', "x = {", "  '%': 1}  # why?"]
    assert transform_cell(lines) == lines


def test_a_broken_cell_is_reported_at_that_cell_and_the_others_are_linted():
    found = lint("x = 1", "def f(:\n    pass", LORA)
    assert [(d.code, d.cell) for d in found] == [("LL101", 3), ("LL900", 2)]
    broken = found[1]
    assert (broken.span.row, broken.span.col) == (1, 7) and "skipped" in broken.message


def test_a_cell_only_the_python_front_end_rejects_is_left_out_too(monkeypatch):
    """Python's own parser is the first judge; a cell the front end still rejects is left out and
    the notebook linted again, so it drops only itself."""
    import lorlint.engine as engine

    real = engine._parse

    def parse(path, source):
        rows = source.split("\n")
        for row, line in enumerate(rows, 1):
            if "ODD" in line:
                return engine._diag("LL900", "syntax error: odd", path, engine.Span(row, 3, row, 4))
        return real(path, source)

    monkeypatch.setattr(engine, "_parse", parse)
    found = lint("x = 1", "y = ODD", LORA)
    assert [(d.code, d.cell, d.span.row, d.span.col) for d in found] == [
        ("LL101", 3, 3, 68),
        ("LL900", 2, 1, 3),
    ]


def test_a_list_split_from_a_string_in_another_cell_is_reported_at_the_string():
    found = lint(
        'TARGETS = "c_proj,c_attn,q_attn,c_fc,c_proj"  # lora_target_modules',
        "from peft import LoraConfig\n# lorlint: model=gpt2\n"
        'config = LoraConfig(target_modules=TARGETS.split(","), task_type="CAUSAL_LM")',
    )
    assert [(d.code, d.cell, d.span.row, d.span.col) for d in found] == [
        ("LL101", 1, 1, 26),
        ("LL207", 1, 1, 38),
    ]


def _cells() -> list[list[str]]:
    from helpers import REPO

    out = []
    for path in sorted(
        [*REPO.glob("fixtures/**/*.ipynb"), *REPO.glob("tests/realworld/**/*.ipynb")]
    ):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell.get("cell_type") == "code":
                source = cell["source"]
                out.append(("".join(source) if isinstance(source, list) else source).split("\n"))
    return out


PIECES = ["x = 1", "!ls", "  %time f()", "a = !ls", "b = %env", "f?", "s = '''", "'''", "(", ")",
          "# why?", "y = {'%': 1}", "\\", "    z = 2", ",f a", "%%bash", "c = 3 # =!", ";g b",
          "/h c", "\t\x0c;i", "\u2028/j", "e = 5\r"]  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.sampled_from(PIECES), max_size=3).map(" ".join), max_size=6))
def test_a_cell_without_what_ipython_transforms_is_left_as_it_is(lines):
    """The shortcut (no escape, ``?`` or ``= !``/``= %`` anywhere: the cell as it is) agrees
    with the line-by-line transform on generated cells (and the corpus's: below)."""
    from lorlint.frontends.notebook import _transform

    assert transform_cell(lines) == _transform(lines)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.lists(st.sampled_from(PIECES), max_size=3).map(" ".join), max_size=6))
def test_the_test_for_a_transform_is_the_regex(lines):
    from lorlint.frontends.notebook import TRANSFORMED, _may_transform

    assert _may_transform(lines) == (TRANSFORMED.search("\n".join(lines)) is not None)


def test_the_shortcut_agrees_on_every_cell_of_the_corpus():
    from lorlint.frontends.notebook import TRANSFORMED, _transform

    cells = _cells()
    assert sum(TRANSFORMED.search("\n".join(c)) is None for c in cells) > len(cells) // 2
    for cell in cells:
        assert transform_cell(cell) == _transform(cell)
