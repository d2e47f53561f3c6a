"""Logical lines found at C speed agree with Python's own tokenizer, including PEP 701 f-strings."""

from __future__ import annotations

import ast
import io
import re
import sys
import sysconfig
import tokenize
import warnings
from bisect import bisect_right
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lorlint.frontends.pyscan import ScanError, logical_lines
from lorlint.textpos import line_starts


def statement_rows(text: str) -> list[int]:
    """Rows where a statement starts, per ``tokenize``."""
    rows, expect = [], True
    skip = (tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING)
    for tok in tokenize.generate_tokens(io.StringIO(text, newline=None).readline):
        if tok.type in skip:
            continue
        if tok.type == tokenize.NEWLINE:
            expect = True
        elif tok.type == tokenize.ENDMARKER:
            break
        elif expect:
            rows.append(tok.start[0])
            expect = False
    return rows


def scanned_rows(text: str) -> list[int]:
    lines = logical_lines(text)
    starts = line_starts(text)
    return [
        bisect_right(starts, lines.code[i]) for i in range(len(lines.starts)) if lines.is_code(i)
    ]


TRICKY = [
    "x = 1\ny = 2\n",
    "x = (1,\n     2)\ny = [\n  3,  # ) ] }\n]\n",
    's = """\ndef f():\n    pass\n"""\nt = 1\n',
    "s = '''a\n'b'\n'''\n",
    "x = 1 + \\\n    2\ny = 3\n",
    "if x:\n    y = {'a': (1, [2,\n 3])}\nelse:\n    pass\n",
    "x = 'a\\'b'  # comment with ' and (\ny = 2\n",
    "x = r'\\'' + rb\"\\\\\" + Rb'(' + BR')'\nz = 1\n",
    "x = f'{a}' + f\"{b!r:>{w}}\" + f'{{literal}}'\ny = 2\n",
    "x = f'''{\n  a\n}'''\ny = 2\n",
    "x = 1\ry = (\r2)\rz = 3\r",
    "x = 1\r\ny = (\r\n2)\r\n",
    "\fx = 1\n\ty = 2\n",
    "x = 1",
    "def f(a,\n      b):\n    return a\n",
    "@dec(\n  1)\nclass C: pass\n",
    "x = '\\N{DASH}' + f'\\N{EM DASH}{x}'\ny = 1\n",
    "é = 'ü'\nß = (\n'€')\n",
    "x = [" + "(" * 20 + "1" + ")" * 20 + "]\ny = 2\n",
]


@pytest.mark.parametrize("text", TRICKY)
def test_tricky_texts_split_as_python_does(text):
    assert scanned_rows(text) == statement_rows(text)


def _stdlib_sample(count: int) -> list[Path]:
    root = Path(sysconfig.get_paths()["stdlib"])
    files = sorted(p for p in root.glob("*.py"))
    step = max(1, len(files) // count)
    return files[::step][:count]


def test_stdlib_modules_split_as_python_does():
    """A spread of the standard library (about 2 MB): every statement start, exactly."""
    checked = 0
    for path in _stdlib_sample(120):
        text = path.read_text(encoding="utf-8")
        assert scanned_rows(text) == statement_rows(text), path.name
        checked += 1
    assert checked >= 100


@pytest.mark.parametrize("sample", ["tricky", "stdlib"])
def test_code_starts_after_the_indentation(sample):
    """``Lines.code`` (read from the line's own match) is where its indentation ends."""
    texts = TRICKY if sample == "tricky" else [p.read_text("utf-8") for p in _stdlib_sample(40)]
    for text in texts + [t.replace("\n", "\n \t\f ") for t in texts[:5]]:
        lines = logical_lines(text)
        indent = re.compile(r"[ \t\f]*")
        assert lines.code == [indent.match(text, start).end() for start in lines.starts]


PEP701 = [
    ('x = f"{d["key"]}"\ny = 1\n', True),
    ("x = f'{'\\n'.join(a)}'\ny = 1\n", True),
    ('x = f"{a # comment\n}"\ny = 1\n', True),
    ('x = f"{f"{f"{1}"}"}"\ny = 1\n', True),
    ('x = f"{a}" f"{b["c"]}" "plain"\ny = 1\n', True),
    ('x = f"{a["b"]:>{w}}"\ny = 1\n', True),
    ("x = f'{a}' + f\"{'b'}\"\ny = 1\n", False),
    ('x = f"""{"a"}"""\ny = 1\n', False),
]


@pytest.mark.parametrize("text, newer", PEP701)
def test_pep701_fstrings_are_lexed_and_flagged(text, newer):
    lines = logical_lines(text)
    assert [text[lines.code[i]] for i in range(len(lines.starts))] == ["x", "y"]
    assert bool(lines.newer_fstrings) is newer
    if newer:
        (start, end), *_ = lines.newer_fstrings
        assert text[start] == "f" and text[end - 1] == text[start + 1]
    if sys.version_info >= (3, 12):
        assert scanned_rows(text) == statement_rows(text)


# f-strings of every kind 3.11 and PEP 701 may read apart: nested f-strings, quotes of the same
# kind inside fields, comments, line breaks and backslashes in fields, conversions, format specs
_quote = st.sampled_from(["'", '"', "'''", '"""'])
_leaf = st.sampled_from(
    ["a", "1", "a[0]", "d['k']", 'd["k"]', "a # c\n", "a\n", "'\\n'", "(x:=1)", "'\"'", '"#"']
)
_literal = st.sampled_from(["a", "{{", "}}", "\\", "\\n", "\n", " ", "#", "'", '"'])


def _fstrings(expression):
    spec = st.sampled_from(["", "!r", "=", ":>3", ":{w}"]) | expression.map(
        lambda e: ":{" + e + "}"
    )
    field = st.tuples(expression, spec).map(lambda t: "{" + t[0] + t[1] + "}")
    return st.tuples(
        st.sampled_from(["f", "rf", "F"]), _quote, st.lists(_literal | field, max_size=3)
    ).map(lambda t: t[0] + t[1] + "".join(t[2]) + t[1])


_expression = st.deferred(
    lambda: (
        _leaf
        | _fstrings(_expression)
        | st.tuples(_expression, st.sampled_from([" + ", "[", ")"]), _expression).map("".join)
    )
)


@settings(max_examples=1_000, deadline=None)
@given(_fstrings(_expression))
def test_what_this_python_parses_has_no_newer_fstrings(fstring):
    """The Python front end analyses a small module that parses without its logical lines
    (python.analyse): that is sound only if no f-string of a text this Python parses is one the
    reduction would neutralize (PEP 701 grammar, flagged in ``newer_fstrings``)."""
    text = f"x = {fstring}\ny = 1\n"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(text)
    except (SyntaxError, ValueError):
        return
    try:
        lines = logical_lines(text)
    except ScanError:
        return  # the front end then parses the whole text as it is: the same tree
    assert sys.version_info >= (3, 12) or not lines.newer_fstrings


@pytest.mark.parametrize("text, newer", PEP701)
def test_newer_fstrings_do_not_parse_here(text, newer):
    if newer and sys.version_info < (3, 12):
        with pytest.raises(SyntaxError):
            ast.parse(text)


@pytest.mark.parametrize(
    "text",
    ["x = (1,\n", "x = 'abc\n", 's = """abc\n', "x = f'{a'\n", "x = )\n", "x = 1 \\ 2\n"],
)
def test_what_python_would_not_tokenize_raises(text):
    with pytest.raises(ScanError):
        logical_lines(text)


def test_hostile_lines_stay_linear():
    """Long chains and deep brackets: one pass, no backtracking blow-up."""
    import time

    texts = [
        "x = " + "-" * 100_000 + "1\n",
        "x = a" + ".b" * 50_000 + "\n",
        "x = f" + "()" * 20_000 + "\n",
        "x = " + "(" * 5_000 + ")" * 5_000 + "\n",
        "x = " + "lambda: " * 5_000 + "0\n",
        "x = [" + "'a', " * 50_000 + "]\n",
    ]
    for text in texts:
        start = time.perf_counter()
        lines = logical_lines(text)
        assert len(lines.starts) == 1
        assert time.perf_counter() - start < 5
