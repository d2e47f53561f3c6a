"""Jupyter front end: a notebook's code cells linted as one module, findings mapped back to cells.

Names defined in an earlier cell resolve in a later one. IPython magics (``%pip``, ``%%time``),
shell lines (``!pip``) and help lines (``x?``) become blank lines, so rows stay aligned. Cells are
numbered from 1 among *all* cells, markdown included, as ruff reports them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

MAGIC_PREFIXES = ("%", "!")


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

    def locate(self, row: int) -> tuple[int, int]:
        """Module row → (cell number, row within the cell)."""
        if 0 < row <= len(self.line_map):
            return self.line_map[row - 1]
        return (0, row)


def _cell_text(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _blank_magics(lines: list[str]) -> list[str]:
    out, in_cell_magic = [], False
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        if i == 0 and stripped.startswith("%%"):
            in_cell_magic = True  # the whole cell is handed to a magic (%%bash, %%time, ...)
        if in_cell_magic or stripped.startswith(MAGIC_PREFIXES) or stripped.rstrip().endswith("?"):
            out.append("")
        else:
            out.append(line)
    return out


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
        for row, line in enumerate(_blank_magics(lines), 1):
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
