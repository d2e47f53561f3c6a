"""Output formats of ``lorlint check``: full, concise and json (ruff's keys)."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

from lorlint.checks import RULES, Diagnostic

COLORS = {"error": "\033[31m", "warning": "\033[33m", "info": "\033[36m"}
BOLD, RESET = "\033[1m", "\033[0m"


def use_color(stream) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    return bool(os.environ.get("FORCE_COLOR")) or (hasattr(stream, "isatty") and stream.isatty())


def concise(diags: list[Diagnostic]) -> str:
    return "\n".join(f"{d.path}:{d.span.row}:{d.span.col}: {d.code} {d.message}" for d in diags)


def full(diags: list[Diagnostic], sources: dict[str, str], color: bool) -> str:
    out = []
    for d in diags:
        sev = d.severity
        head = f"{d.path}:{d.span.row}:{d.span.col}: {d.code} [{d.name}] {sev}"
        if color:
            head = f"{BOLD}{d.path}:{d.span.row}:{d.span.col}:{RESET} {COLORS[sev]}{BOLD}{d.code}"
            head += f"{RESET} [{d.name}] {COLORS[sev]}{sev}{RESET}"
        out.append(head)
        out.append(f"  {d.message}")
        lines = sources.get(d.path, "").splitlines()
        if 0 < d.span.row <= len(lines):
            line = lines[d.span.row - 1]
            gutter = f"{d.span.row:>4} | "
            end = d.span.end_col if d.span.end_row == d.span.row else len(line) + 1
            width = max(end - d.span.col, 1)
            caret = " " * (len(gutter) + d.span.col - 1) + "^" * width
            out.append(gutter + line)
            out.append(f"{COLORS[sev]}{caret}{RESET}" if color else caret)
        out.append("")
    return "\n".join(out).rstrip("\n")


def as_json(diags: list[Diagnostic]) -> str:
    items = []
    for d in diags:
        items.append(
            {
                "code": d.code,
                "name": d.name,
                "severity": d.severity,
                "message": d.message,
                "filename": str(Path(d.path).resolve()),
                "location": {"row": d.span.row, "column": d.span.col},
                "end_location": {"row": d.span.end_row, "column": d.span.end_col},
                "fix": d.fix,
                "noqa_row": d.span.row,
                "url": RULES[d.code].url,
                "model": d.model,
            }
        )
    return json.dumps(items, indent=2)


def statistics(diags: list[Diagnostic]) -> str:
    counts = Counter(d.code for d in diags)
    return "\n".join(f"{n:>5}\t{code}\t[{RULES[code].name}]" for code, n in sorted(counts.items()))


def summary(diags: list[Diagnostic], files: int) -> str:
    if not diags:
        return f"All checks passed! ({files} file{'s' * (files != 1)})"
    by = Counter(d.severity for d in diags)
    parts = [f"{by[s]} {s}{'s' * (by[s] != 1)}" for s in ("error", "warning", "info") if by[s]]
    n = len(diags)
    return f"Found {n} finding{'s' * (n != 1)} ({', '.join(parts)}) in {files} file{'s' * (files != 1)}."
