"""Rows as Python counts them: a form feed or U+2028 in a file must not move a fix."""

from __future__ import annotations

import re

from helpers import run_cli
from hypothesis import given
from hypothesis import strategies as st

from lorlint.textpos import line_starts, offset, split_lines


def test_rows_break_only_at_python_line_ends():
    text = "a\fb\nc\u2028d\r\ne\rf\x85g"
    assert split_lines(text) == ["a\fb", "c\u2028d", "e", "f\x85g"]
    assert "".join(split_lines(text, keepends=True)) == text
    starts = line_starts(text)
    assert text[offset(starts, 2, 1) :].startswith("c\u2028d")
    assert text[offset(starts, 4, 3)] == "g"


@given(st.text(alphabet="ab\n\r\f\u2028 ", max_size=30), st.booleans())
def test_split_lines_is_the_row_split_at_python_line_ends(text, keepends):
    """The fast path (no carriage return) and the regex path give Python's rows."""
    pieces = re.split(r"(\r\n|\r|\n)", text)
    rows = [pieces[i] + (pieces[i + 1] if keepends else "") for i in range(0, len(pieces) - 1, 2)]
    if pieces[-1]:
        rows.append(pieces[-1])
    assert split_lines(text, keepends) == rows


def test_form_feed_does_not_shift_a_fix(tmp_path):
    source = (
        "from peft import LoraConfig  # lorlint: model=meta-llama/Llama-3.1-8B\n"
        "\f\n"
        "cfg = LoraConfig(target_modules=[\n"
        '    "q_proj",\n'
        '    "k_proj",\n'
        '    "dwn_proj",\n'
        "])\n"
    )
    path = tmp_path / "t.py"
    path.write_bytes(source.encode())
    run_cli("check", "t.py", "--fix", "--no-cache", cwd=tmp_path)
    assert path.read_bytes().decode() == source.replace('"dwn_proj"', '"down_proj"')


@given(st.text(alphabet="ab\n\r\f\u2028\ufeff ", max_size=30))
def test_line_starts_are_where_rows_start(text):
    """The fast path (no carriage return) and the regex path give every row's start, then the
    end; a byte order mark opening the text is not part of row 1."""
    starts = [1 if text.startswith("\ufeff") else 0]
    starts += [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]
    if starts[-1] != len(text):
        starts.append(len(text))
    assert line_starts(text) == starts
