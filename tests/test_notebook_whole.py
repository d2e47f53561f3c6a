"""A small notebook's cells checked by one parse of the module they make (``notebook.load``): the
same module text, rows, rewritten rows and left-out cells as parsing each cell on its own, and
the tree handed to the Python front end is ``ast.parse`` of that text."""

from __future__ import annotations

import ast
import json

import pytest
from helpers import REPO
from hypothesis import example, given, settings
from hypothesis import strategies as st

from lorlint.frontends import handoff, notebook

CELLS = [
    "x = 1", "if x:", "    pass", "else:", "    y = 2", "@dec", "def f():\n    return 1",
    "class C:\n    pass", "z = (", ")", "w = 1 + \\", "\\", "'''", "s = '''a\nb'''", "# c", "",
    "    # indented comment", "await g()", "async with a:\n    pass", "from __future__ import x",
    "!pip install peft", "%%bash\nls", "a = !ls", "f?", "v = 1\r", "\ufeffu = 1", "t = [\n  1,",
    "]", "    q = 3", "lambda: (yield)", "x = 1; y = 2", "\tif t:\n\t  pass", "n = 0\x00",
    "x = 1 \\\n", "\\\n", "\x0c", "\x0cif x:\n\x0c  pass", "   ", "u = '\\", "#\\",
]  # fmt: skip


def _notebook(cells: list[str]) -> str:
    return json.dumps(
        {"cells": [{"cell_type": "code", "source": cell} for cell in cells], "nbformat": 4}
    )


def _by_cell(text: str, monkeypatch) -> notebook.Notebook:
    with monkeypatch.context() as patched:
        patched.setattr(handoff, "analysed_whole", lambda text: False)
        return notebook.load(text)


def _same(text: str, monkeypatch) -> None:
    found = notebook.load(text)
    tree = handoff.take(found.source)
    reference = _by_cell(text, monkeypatch)
    for field in ("source", "line_map", "cell_lines", "blanked", "broken"):
        assert getattr(found, field) == getattr(reference, field), field
    if tree is not None:
        assert not found.broken
        assert ast.dump(tree) == ast.dump(ast.parse(found.source))


@settings(max_examples=400, deadline=None)
@given(st.lists(st.lists(st.sampled_from(CELLS), max_size=3).map("\n".join), max_size=6))
@example(["x = 1\n@dec", "def f():\n    return 1"])  # a decorator and what it decorates apart
@example(["a = 1\rb = (", ")"])  # Python's rows are not the cells' rows
@example(["y = 2 \\", "z = 3", "\\", "w = 4"])  # continued into the next cell
@example(["\\\n"])  # alone, the end of the file comes right after the backslash
def test_generated_notebooks_as_by_cell(cells):
    with pytest.MonkeyPatch.context() as monkeypatch:
        _same(_notebook(cells), monkeypatch)


def test_corpus_notebooks_as_by_cell(monkeypatch):
    paths = sorted([*REPO.glob("fixtures/**/*.ipynb"), *REPO.glob("tests/realworld/**/*.ipynb")])
    parsed_whole = 0
    for path in paths:
        text = path.read_text(encoding="utf-8")
        _same(text, monkeypatch)
        parsed_whole += handoff.take(notebook.load(text).source) is not None
    assert parsed_whole >= len(paths) // 2


def test_a_statement_across_cells_leaves_the_cells_to_their_own_parse(monkeypatch):
    text = _notebook(["if x:", "    pass", "y = 1"])
    found = notebook.load(text)
    assert handoff.take(found.source) is None
    assert sorted(found.broken) == [1, 2]
