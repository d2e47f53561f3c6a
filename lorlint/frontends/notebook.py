"""Jupyter front end: a notebook's code cells linted as one module, findings mapped back to cells.

Names defined in an earlier cell resolve in a later one. Each cell is first transformed the way
IPython's ``TransformerManager`` does (IPython/core/inputtransformer2.py): a ``%%`` cell magic
takes the whole cell; ``!cmd``, ``%magic`` and the other escapes (``?``, ``,``, ``;``, ``/``) at
the start of any logical line, indented ones included, become one statement together with their
``\\``-continued lines; ``x = !cmd`` and ``x = %magic`` become an assignment from a call;
``obj?`` is help. Replacements keep every row, so positions stay exact. A cell that still does not
parse (``ast``, top-level ``await`` allowed, as IPython compiles it) is left out and reported on
its own; every other cell is linted. Cells are numbered from 1 among *all* cells, markdown
included, as ruff reports them.

Fixes are written into the JSON text itself, inside the string tokens of the edited cell's
``source``: every other byte of the file — other cells, outputs, escapes, number formats,
separators, line endings, indentation — stays as it was, whatever tool wrote the notebook.
"""

from __future__ import annotations

import ast
import bisect
import json
import re
from itertools import repeat

from lorlint.frontends import handoff, jsontext

ESCAPES = ("!", "%", "?", ",", ";", "/")  # IPython's ESCAPE_SINGLES (!!, ?? and %% start so too)
# HelpEnd's target: a dotted name, optionally with %/%% or [index], then ? or ??.
HELP_END = re.compile(r"%{0,2}(?!\d)[\w*]+(\.(?!\d)[\w*]+|\[-?[0-9]+\])*\?\??$")
ASSIGNED_ESCAPE = re.compile(r"(?:!|%\w)")
# What any of the transforms below acts on (a line starting with an escape, ``= !cmd`` / ``=
# %magic``, a ``?``), found anywhere: a cell without one is Python as it is.
TRANSFORMED = re.compile(r"^\s*[!%?,;/]|\?|=\s*(?:!|%\w)", re.MULTILINE)


class NotebookError(ValueError):
    """The file is not a notebook lorlint can read (the reason is user-facing)."""


class Notebook:
    def __init__(
        self,
        data: dict,
        source: str,
        line_map: list[tuple[int, int]] | None = None,
        cell_lines: dict[int, list[str]] | None = None,
        blanked: set[int] | None = None,
        broken: dict[int, tuple[int, int, str]] | None = None,
    ):
        self.data = data
        self.source = source  # the code cells joined, magics blanked
        self.line_map = [] if line_map is None else line_map  # module row-1 → (cell, row)
        self.cell_lines = {} if cell_lines is None else cell_lines  # cell → its source lines
        # module rows (1-based) IPython rewrote
        self.blanked = set() if blanked is None else blanked
        self.broken = {} if broken is None else broken  # cell → (row, col, why)

    def leave_out(self, cell: int, row: int, col: int, why: str) -> None:
        """Blank a cell that does not parse, so the others are still linted."""
        self.broken[cell] = (row, col, why)
        lines = self.source.split("\n")
        for i, (number, _) in enumerate(self.line_map):
            if number == cell:
                lines[i] = ""
                self.blanked.add(i + 1)
        self.source = "\n".join(lines)

    def locate(self, row: int) -> tuple[int, int]:
        """Module row → (cell number, row within the cell)."""
        if 0 < row <= len(self.line_map):
            return self.line_map[row - 1]
        return (0, row)


def _cell_text(cell: dict, number: int) -> str:
    source = cell.get("source", "")
    if isinstance(source, list) and all(isinstance(s, str) for s in source):
        return "".join(source)
    if isinstance(source, str):
        return source
    raise NotebookError(f"cell {number}: `source` is neither a string nor a list of strings")


def _scan(line: str, state: list) -> None:
    """Advance ``state`` = [bracket depth, open triple quote or None] over one line."""
    i, n = 0, len(line)
    while i < n:
        quote = state[1]
        if quote:
            end = line.find(quote, i)
            if end < 0:
                return
            state[1], i = None, end + 3
            continue
        ch = line[i]
        if ch == "#":
            return
        if ch in "\"'":
            if line.startswith(ch * 3, i):
                state[1], i = ch * 3, i + 3
                continue
            end = i + 1
            while end < n and line[end] != ch:
                end += 2 if line[end] == "\\" else 1
            i = end + 1
            continue
        if ch in "([{":
            state[0] += 1
        elif ch in ")]}":
            state[0] = max(state[0] - 1, 0)
        i += 1


def _continued_end(lines: list[str], start: int) -> int:
    """IPython's ``find_end_of_continued_line``: the last row of a ``\\``-continued line."""
    end = start
    while end + 1 < len(lines) and lines[end].endswith("\\"):
        end += 1
    return end


def _assignment_from_escape(code: str) -> str | None:
    """``x = !cmd`` / ``x = %magic``: the target (IPython's SystemAssign / MagicAssign)."""
    depth = 0
    for i, ch in enumerate(code):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "=" and depth == 0:
            if code[i + 1 : i + 2] == "=" or (i and code[i - 1] in "=!<>+-*/%&|^@:"):
                return None
            rest = code[i + 1 :].lstrip()
            if ASSIGNED_ESCAPE.match(rest) and code[:i].strip():
                return code[:i].rstrip()
            return None
    return None


def transform_cell(lines: list[str]) -> list[str]:
    """The cell as IPython hands it to Python, row for row (see the module docstring)."""
    if not _may_transform(lines):
        return list(lines)
    return _transform(lines)


def _may_transform(lines: list[str]) -> bool:
    """Whether ``TRANSFORMED`` finds something in the cell: without a ``?``, ``!`` or ``%``, only
    a row whose first character after spaces is ``,``, ``;`` or ``/`` (a test on each row's
    start, not a regex tried at every character)."""
    text = "\n".join(lines)
    if "?" in text or "!" in text or "%" in text:
        return TRANSFORMED.search(text) is not None
    return any(line.lstrip()[:1] in (",", ";", "/") for line in lines)


def _transform(lines: list[str]) -> list[str]:
    first = next((line for line in lines if line.strip()), "")
    if first.lstrip().startswith("%%"):  # cell_magic (after leading_empty_lines/leading_indent)
        return [""] * len(lines)
    out = list(lines)
    state: list = [0, None]
    row = 0
    while row < len(lines):
        line = lines[row]
        at_start = state[0] == 0 and state[1] is None
        code = line.lstrip()
        indent = line[: len(line) - len(code)]
        if at_start and code:
            end = _continued_end(lines, row)
            target = _assignment_from_escape(code)
            if code.startswith(ESCAPES) or target is not None:
                replacement = "pass" if target is None else f"{target} = get_ipython().getoutput()"
                out[row : end + 1] = [indent + replacement] + [""] * (end - row)
                row = end + 1
                continue
            after = list(state)
            _scan(line, after)
            help_line = after == [0, None] and not code.startswith("#")
            if help_line and HELP_END.search(code.split("#")[0].rstrip()):
                out[row] = indent + "pass"
                row += 1
                continue
        _scan(line, state)
        row += 1
    return out


def _parse(code: str) -> ast.Module:
    """Code cells as IPython's kernel parses them (top-level ``await`` allowed): one cell, or
    the cells joined, which ``_whole_tree`` must parse exactly as each cell is."""
    return compile(code, "<cells>", "exec", ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)


def parse_problem(lines: list[str]) -> tuple[int, int, str] | None:
    """(row, column, message) when the transformed cell is not Python (top-level await is)."""
    try:
        _parse("\n".join(lines))
    except SyntaxError as err:
        return err.lineno or 1, err.offset or 1, err.msg
    except (ValueError, RecursionError, MemoryError) as err:
        return 1, 1, str(err) or type(err).__name__
    return None


def parse_json(text: str):
    try:
        return jsontext.loads(text)
    except jsontext.JSONTextError as err:
        raise NotebookError(str(err)) from err


def load(text: str) -> Notebook:
    """The notebook's code cells as one module. One the Python front end analyses whole
    (``handoff.analysed_whole``) is parsed whole, which checks every cell at once when no
    statement runs across cells (``_whole_tree``) and hands the tree to the Python front end;
    otherwise, or when it does not parse, each cell is parsed on its own."""
    data = parse_json(text)
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise NotebookError("not a notebook: no `cells` list")
    notebook = Notebook(data=data, source="")
    cells: dict[int, list[str]] = {}  # cell number → its rows as Python sees them
    for number, cell in enumerate(data["cells"], 1):
        if not isinstance(cell, dict):
            raise NotebookError(f"cell {number} is not an object")
        if cell.get("cell_type") != "code":
            continue
        lines = _cell_text(cell, number).split("\n")
        notebook.cell_lines[number] = lines
        cells[number] = transform_cell(lines)
    _assemble(notebook, cells)
    tree = _whole_tree(notebook, cells) if handoff.analysed_whole(notebook.source) else None
    if tree is not None:
        handoff.offer(notebook.source, tree)
        return notebook
    for number, transformed in cells.items():
        problem = parse_problem(transformed)
        if problem is not None:  # left out and reported on its own; the other cells are linted
            notebook.broken[number] = problem
            cells[number] = [""] * len(transformed)
    if notebook.broken:
        _assemble(notebook, cells)
    return notebook


def _assemble(notebook: Notebook, cells: dict[int, list[str]]) -> None:
    """The module text of the cells, its rows' places in them, and the rows IPython rewrote."""
    chunks: list[str] = []
    notebook.line_map, notebook.blanked = [], set()
    for number, transformed in cells.items():
        lines = notebook.cell_lines[number]
        if transformed != lines:
            start = len(chunks)
            for row, (line, written) in enumerate(zip(transformed, lines, strict=True), 1):
                if line != written:
                    notebook.blanked.add(start + row)
        chunks += transformed
        notebook.line_map += zip(repeat(number), range(1, len(transformed) + 1))
    notebook.source = "\n".join(chunks) + "\n"


def _ends_in_backslash(rows: list[str]) -> bool:
    """Whether the cell's text ends in ``\\`` or ``\\`` and a line break."""
    if rows and not rows[-1] and len(rows) > 1:
        return rows[-2].endswith("\\")
    return bool(rows) and rows[-1].endswith("\\")


def _whole_tree(notebook: Notebook, cells: dict[int, list[str]]) -> ast.Module | None:
    """The module's tree, when it parses and every cell would parse on its own: each top-level
    statement (with its decorators) lies within one cell, and no cell ends in a backslash, on
    its last row or on the row before an empty last one: alone, the tokenizer meets the end of
    the file right after it ("unexpected EOF"), while joined, the continuation runs on into the
    next row. The tokenizer's state (brackets, strings, indentation) is then that of a fresh
    start at each cell's first statement. None when that is not certain (``\\r``, which Python
    also reads as a line break, a byte order mark): each cell is parsed on its own then."""
    source = notebook.source
    if "\r" in source or source.startswith("\ufeff"):
        return None
    if any(_ends_in_backslash(rows) for rows in cells.values()):
        return None
    try:
        tree = _parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    cell_of = notebook.line_map
    for statement in tree.body:
        first = min(
            [statement.lineno] + [d.lineno for d in getattr(statement, "decorator_list", ())]
        )
        last = statement.end_lineno or statement.lineno
        if cell_of[first - 1][0] != cell_of[last - 1][0]:
            return None
    return tree


# --- writing fixes back into the JSON text ----------------------------------------------------
class _Token:
    """One JSON string token of a cell's source: its raw span and, per decoded character, the
    raw offset where it starts (plus one entry for the closing quote)."""

    def __init__(self, start: int, end: int, text: str, raw_at: list[int]):
        self.start = start
        self.end = end
        self.text = text  # decoded
        self.raw_at = raw_at


def _string_end(text: str, i: int) -> int:
    """Offset after the JSON string starting at ``text[i] == '"'``."""
    i += 1
    while True:
        ch = text[i]
        if ch == "\\":
            i += 2
        elif ch == '"':
            return i + 1
        else:
            i += 1


def _skip_ws(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t\r\n":
        i += 1
    return i


def _value_end(text: str, i: int) -> int:
    """Offset after the JSON value starting at ``i`` (iterative: no recursion on nesting)."""
    depth = 0
    while True:
        ch = text[i]
        if ch == '"':
            i = _string_end(text, i)
        elif ch in "[{":
            depth += 1
            i += 1
        elif ch in "]}":
            depth -= 1
            i += 1
        else:
            i += 1
            while i < len(text) and text[i] not in ',]}" \t\r\n':
                i += 1
        if depth == 0:
            return i
        i = _skip_ws(text, i)
        if text[i] in ",:":
            i = _skip_ws(text, i + 1)


def _members(text: str, i: int):
    """(key, value start, value end) of the object at ``i``."""
    i = _skip_ws(text, i + 1)
    while text[i] != "}":
        key_end = _string_end(text, i)
        key = json.loads(text[i:key_end])
        start = _skip_ws(text, _skip_ws(text, key_end) + 1)
        end = _value_end(text, start)
        yield key, start, end
        i = _skip_ws(text, end)
        if text[i] == ",":
            i = _skip_ws(text, i + 1)


def _items(text: str, i: int):
    """(start, end) of each value of the array at ``i``."""
    i = _skip_ws(text, i + 1)
    while text[i] != "]":
        end = _value_end(text, i)
        yield i, end
        i = _skip_ws(text, end)
        if text[i] == ",":
            i = _skip_ws(text, i + 1)


def _last(members, key: str) -> tuple[int, int] | None:
    found = None
    for name, start, end in members:
        if name == key:
            found = (start, end)  # json.loads keeps the last of repeated keys, and so do we
    return found


def _decode(text: str, start: int, end: int) -> _Token:
    raw_at, out, i = [], [], start + 1
    while i < end - 1:
        ch = text[i]
        if ch != "\\":
            raw_at.append(i)
            out.append(ch)
            i += 1
            continue
        if text[i + 1] != "u":
            raw_at.append(i)
            out.append(json.loads(f'"{text[i : i + 2]}"'))
            i += 2
            continue
        length = 6
        if text[i + 6 : i + 8] == "\\u" and 0xD800 <= int(text[i + 2 : i + 6], 16) < 0xDC00:
            length = 12  # a surrogate pair is one character
        raw_at.append(i)
        out.append(json.loads(f'"{text[i : i + length]}"'))
        i += length
    raw_at.append(end - 1)
    return _Token(start, end, "".join(out), raw_at)


def _source_tokens(text: str, cell: int) -> tuple[list[_Token], str] | None:
    """The string tokens of cell ``cell``'s source and the separator between list items."""
    top = _skip_ws(text, 0)
    cells = _last(_members(text, top), "cells")
    if cells is None:
        return None
    spans = list(_items(text, cells[0]))
    source = _last(_members(text, spans[cell - 1][0]), "source")
    if source is None:
        return None
    start, end = source
    if text[start] == '"':
        return [_decode(text, start, end)], ""
    tokens = [_decode(text, s, e) for s, e in _items(text, start)]
    if len(tokens) > 1:
        separator = text[tokens[0].end : tokens[1].start]
    else:
        opening = text[start + 1 : tokens[0].start] if tokens else ""
        separator = "," + opening if "\n" in opening else ", "
    return tokens, separator


def _escape(text: str, ascii_only: bool) -> str:
    return json.dumps(text, ensure_ascii=ascii_only)[1:-1]


def _edit_cell(text: str, cell: int, start: int, end: int, content: str) -> str:
    """Replace characters [start, end) of a cell's source with ``content``, in the JSON text.

    Only the string tokens holding those characters change, and within them only the edited
    characters; in a list of lines, a line break in ``content`` ends one string and opens the
    next, and a line left empty loses its string."""
    located = _source_tokens(text, cell)
    if not located or not located[0]:
        raise NotebookError(f"cell {cell}: cannot find its source in the file")
    tokens, separator = located
    bounds, total = [], 0
    for token in tokens:
        bounds.append(total)
        total += len(token.text)

    def holding(offset: int) -> int:
        for i, token in enumerate(tokens):
            if bounds[i] <= offset < bounds[i] + len(token.text):
                return i
        return len(tokens) - 1

    first = holding(start) if start < total else len(tokens) - 1
    last = holding(end - 1) if end > start else first
    a, b = start - bounds[first], end - bounds[last]
    t1, t2 = tokens[first], tokens[last]
    ascii_only = text.isascii()
    if separator:
        joiner = '\\n"' + separator + '"'
        middle = joiner.join(_escape(p, ascii_only) for p in content.split("\n"))
    else:
        middle = _escape(content, ascii_only)
    region = text[t1.start : t1.raw_at[a]] + middle + text[t2.raw_at[b] : t2.end]
    lo, hi = t1.start, t2.end
    if separator and not (t1.text[:a] + content + t2.text[b:]) and len(tokens) > 1:
        region = ""
        if last + 1 < len(tokens):
            hi = tokens[last + 1].start
        else:
            lo = tokens[first - 1].end
    return text[:lo] + region + text[hi:]


def apply_edits(text: str, notebook: Notebook, edits: list[tuple[int, int, str]]) -> str:
    """Write edits of the module text (offsets into ``notebook.source``) into the notebook's
    JSON text. Each edit must lie within one cell and leave blanked magic lines alone."""
    module = notebook.source
    row_starts = [0] + [i + 1 for i, ch in enumerate(module) if ch == "\n"]
    line_offsets: dict[int, list[int]] = {}
    for number, lines in notebook.cell_lines.items():
        offsets, at = [], 0
        for line in lines:
            offsets.append(at)
            at += len(line) + 1
        line_offsets[number] = offsets

    def in_cell(offset: int) -> tuple[int, int, int]:
        """(module row, cell, offset in the cell's text) of the character at ``offset``."""
        row = bisect.bisect_right(row_starts, offset)
        cell, cell_row = notebook.line_map[row - 1]
        column = offset - row_starts[row - 1]
        if cell_row == len(notebook.cell_lines[cell]) and column >= len(module_line(row)):
            return row, -1, 0  # the line break that joins two cells
        return row, cell, line_offsets[cell][cell_row - 1] + column

    def module_line(row: int) -> str:
        return module[row_starts[row - 1] : row_starts[row] - 1]

    located = []
    for start, end, content in edits:
        row, cell, cell_start = in_cell(start) if start < len(module) else (0, -1, 0)
        end_row, end_cell, cell_end = (
            in_cell(end - 1) if end > start else (row, cell, cell_start - 1)
        )
        blanked = any(r in notebook.blanked for r in range(row, end_row + 1))
        if cell < 0 or end_cell != cell or blanked:
            raise NotebookError("a fix spans two cells or a magic line; left as is")
        located.append((cell, cell_start, cell_end + 1, content))
    for cell, start, end, content in sorted(located, reverse=True):
        text = _edit_cell(text, cell, start, end, content)
    return text
