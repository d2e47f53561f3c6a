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
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field

ESCAPES = ("!", "%", "?", ",", ";", "/")  # IPython's ESCAPE_SINGLES (!!, ?? and %% start so too)
# HelpEnd's target: a dotted name, optionally with %/%% or [index], then ? or ??.
HELP_END = re.compile(r"%{0,2}(?!\d)[\w*]+(\.(?!\d)[\w*]+|\[-?[0-9]+\])*\?\??$")
ASSIGNED_ESCAPE = re.compile(r"(?:!|%\w)")


class NotebookError(ValueError):
    """The file is not a notebook lorlint can read (the reason is user-facing)."""


@dataclass
class Notebook:
    data: dict
    source: str  # the code cells joined, magics blanked
    line_map: list[tuple[int, int]] = field(default_factory=list)  # module row-1 → (cell, row)
    cell_lines: dict[int, list[str]] = field(default_factory=dict)  # cell → its source lines
    indent: int | None = 1
    trailing_newline: bool = True
    broken: dict[int, tuple[int, int, str]] = field(default_factory=dict)  # cell → (row, col, why)

    def leave_out(self, cell: int, row: int, col: int, why: str) -> None:
        """Blank a cell that does not parse, so the others are still linted."""
        self.broken[cell] = (row, col, why)
        lines = self.source.split("\n")
        for i, (number, _) in enumerate(self.line_map):
            if number == cell:
                lines[i] = ""
        self.source = "\n".join(lines)

    def locate(self, row: int) -> tuple[int, int]:
        """Module row → (cell number, row within the cell)."""
        if 0 < row <= len(self.line_map):
            return self.line_map[row - 1]
        return (0, row)


def _cell_text(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


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


def parse_problem(lines: list[str]) -> tuple[int, int, str] | None:
    """(row, column, message) when the transformed cell is not Python (top-level await is)."""
    try:
        compile(
            "\n".join(lines), "<cell>", "exec", ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
        )
    except SyntaxError as err:
        return err.lineno or 1, err.offset or 1, err.msg
    except (ValueError, RecursionError, MemoryError) as err:
        return 1, 1, str(err) or type(err).__name__
    return None


def load(text: str) -> Notebook:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise NotebookError(f"invalid JSON: {err.msg} at line {err.lineno}") from err
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise NotebookError("not a notebook: no `cells` list")
    notebook = Notebook(data=data, source="")
    chunks: list[str] = []
    for number, cell in enumerate(data["cells"], 1):
        if not isinstance(cell, dict):
            raise NotebookError(f"cell {number} is not an object")
        if cell.get("cell_type") != "code":
            continue
        lines = _cell_text(cell).split("\n")
        notebook.cell_lines[number] = lines
        transformed = transform_cell(lines)
        problem = parse_problem(transformed)
        if problem is not None:
            notebook.broken[number] = problem
            transformed = [""] * len(lines)
        for row, line in enumerate(transformed, 1):
            chunks.append(line)
            notebook.line_map.append((number, row))
    notebook.source = "\n".join(chunks) + "\n"
    stripped = text.lstrip("{\r\n")
    notebook.indent = len(stripped) - len(stripped.lstrip(" ")) if text.startswith("{\n") else None
    notebook.trailing_newline = text.endswith("\n")
    return notebook


def apply_module_text(notebook: Notebook, new_source: str) -> str:
    """Write a fixed module back into the cells it came from; outputs and layout are kept.

    Only lines that changed are replaced, so blanked magics come back untouched.
    """
    new_lines = new_source.split("\n")
    if len(new_lines) - 1 != len(notebook.line_map):
        raise NotebookError("a fix changed the number of lines; notebooks are fixed line by line")
    cells = notebook.cell_lines
    changed: set[int] = set()
    old_lines = notebook.source.split("\n")
    for i, (cell, row) in enumerate(notebook.line_map):
        if new_lines[i] != old_lines[i]:
            cells[cell][row - 1] = new_lines[i]
            changed.add(cell)
    data = notebook.data
    for number in changed:
        cell = data["cells"][number - 1]
        text = "\n".join(cells[number])
        if isinstance(cell.get("source"), list):
            parts = text.split("\n")
            cell["source"] = [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])
        else:
            cell["source"] = text
    out = json.dumps(data, indent=notebook.indent, ensure_ascii=False)
    return out + ("\n" if notebook.trailing_newline else "")
