"""Output formats of ``lorlint check``: full, concise and json (ruff's keys)."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

from lorlint.checks import RULES, Diagnostic
from lorlint.textpos import split_lines

COLORS = {"error": "\033[31m", "warning": "\033[33m", "info": "\033[36m"}
BOLD, RESET = "\033[1m", "\033[0m"


def use_color(stream) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    return bool(os.environ.get("FORCE_COLOR")) or (hasattr(stream, "isatty") and stream.isatty())


def _mark(d: Diagnostic) -> str:
    """ruff's ``[*]``: a safe fix is available."""
    return " [*]" if d.fix is not None and d.fix.applicability == "safe" else ""


def where(d: Diagnostic) -> str:
    """``path:row:col``, or ``notebook.ipynb:cell 3:row:col`` as ruff writes notebook findings."""
    cell = f"cell {d.cell}:" if d.cell is not None else ""
    return f"{d.path}:{cell}{d.span.row}:{d.span.col}"


def _fix_line(d: Diagnostic) -> str | None:
    """``fix (safe): Replace "dwn_proj" with "down_proj"`` for --show-fixes."""
    return f"fix ({d.fix.applicability}): {d.fix.message}" if d.fix is not None else None


def concise(diags: list[Diagnostic], show_fixes: bool = False) -> str:
    lines = []
    for d in diags:
        lines.append(f"{where(d)}: {d.code}{_mark(d)} {d.message}")
        if show_fixes and d.fix is not None:
            lines.append(f"  {_fix_line(d)}")
    return "\n".join(lines)


def full(
    diags: list[Diagnostic], sources: dict[str, str], color: bool, show_fixes: bool = False
) -> str:
    out = []
    rows: dict[str, list[str]] = {}  # each file's rows, split once (not once per finding)
    for d in diags:
        sev = d.severity
        head = f"{where(d)}: {d.code}{_mark(d)} [{d.name}] {sev}"
        if color:
            head = f"{BOLD}{where(d)}:{RESET} {COLORS[sev]}{BOLD}{d.code}"
            head += f"{RESET}{_mark(d)} [{d.name}] {COLORS[sev]}{sev}{RESET}"
        out.append(head)
        out.append(f"  {d.message}")
        lines = rows.get(d.path)
        if lines is None:
            lines = rows[d.path] = split_lines(sources.get(d.path, ""))
        line = d.source_line
        if line is None and 0 < d.span.row <= len(lines):
            line = lines[d.span.row - 1]
        if line is not None:
            gutter = f"{d.span.row:>4} | "
            end = d.span.end_col if d.span.end_row == d.span.row else len(line) + 1
            width = max(end - d.span.col, 1)
            caret = " " * (len(gutter) + d.span.col - 1) + "^" * width
            out.append(gutter + line)
            out.append(f"{COLORS[sev]}{caret}{RESET}" if color else caret)
        if show_fixes and d.fix is not None:
            out.append(f"  {_fix_line(d)}")
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
                "fix": d.fix.to_json() if d.fix else None,
                "cell": d.cell,
                "noqa_row": d.span.row,
                "url": RULES[d.code].url,
                "model": d.model,
            }
        )
    return json.dumps(items, indent=2)


def statistics(diags: list[Diagnostic]) -> str:
    counts = Counter(d.code for d in diags)
    return "\n".join(f"{n:>5}\t{code}\t[{RULES[code].name}]" for code, n in sorted(counts.items()))


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


def summary(diags: list[Diagnostic], fixed: int | None = None) -> str:
    """ruff's last line, counting findings (lorlint has severities, so not "errors"):
    ``Found 2 findings (1 error, 1 warning).``; after --fix ``Found 3 findings (2 fixed, 1
    remaining).``; ``All checks passed!`` when nothing is left."""
    if fixed:
        total = fixed + len(diags)
        return f"Found {_plural(total, 'finding')} ({fixed} fixed, {len(diags)} remaining)."
    if not diags:
        return "All checks passed!"
    by = Counter(d.severity for d in diags)
    parts = [_plural(by[s], s) for s in ("error", "warning", "info") if by[s]]
    return f"Found {_plural(len(diags), 'finding')} ({', '.join(parts)})."


def fix_hint(diags: list[Diagnostic], unsafe_enabled: bool = False) -> str:
    """ruff's hint under the summary: ``[*] 1 fixable with `--fix` (2 unsafe fixes available
    with `--fix --unsafe-fixes`).``"""
    safe = sum(1 for d in diags if d.fix and d.fix.applicability == "safe")
    unsafe = sum(1 for d in diags if d.fix and d.fix.applicability == "unsafe")
    if unsafe_enabled:
        safe, unsafe = safe + unsafe, 0
    hidden = f"{unsafe} unsafe fix{'es' * (unsafe != 1)} available with `--fix --unsafe-fixes`"
    command = "`--fix --unsafe-fixes`" if unsafe_enabled else "`--fix`"
    if safe and unsafe:
        return f"[*] {safe} fixable with {command} ({hidden})."
    if safe:
        return f"[*] {safe} fixable with {command}."
    return f"{hidden[0].upper()}{hidden[1:]}." if unsafe else ""


def count(fixed: dict[str, Counter]) -> int:
    return sum(sum(codes.values()) for codes in fixed.values())


def would_fix(fixed: dict[str, Counter]) -> str:
    """After --diff (ruff: ``Would fix 2 errors.``)."""
    n = count(fixed)
    return f"Would fix {_plural(n, 'finding')}." if n else "No findings would be fixed."


def fixed_listing(fixed: dict[str, Counter]) -> str:
    """--show-fixes after --fix, as ruff lists them: per file, ``2 × LL101 (unknown-target-...)``."""
    if not count(fixed):
        return "No findings fixed."
    lines = [f"Fixed {_plural(count(fixed), 'finding')}:"]
    for path in sorted(fixed):
        lines.append(f"- {path}:")
        for code, n in sorted(fixed[path].items()):
            lines.append(f"    {n} × {code} ({RULES[code].name})")
    return "\n".join(lines) + "\n"


# --- CI formats ---------------------------------------------------------------------------------
GITHUB_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}
SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
GITLAB_SEVERITY = {"error": "major", "warning": "minor", "info": "info"}


def _relative(path: str) -> str:
    try:
        return Path(path).resolve().relative_to(Path.cwd()).as_posix()
    except ValueError:
        return Path(path).resolve().as_posix()


def _gh_escape(text: str, prop: bool = False) -> str:
    """GitHub workflow-command escaping (properties also escape ``:`` and ``,``)."""
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def github(diags: list[Diagnostic]) -> str:
    lines = []
    for d in diags:
        props = (
            f"file={_gh_escape(_relative(d.path), True)},line={d.span.row},col={d.span.col},"
            f"endLine={d.span.end_row},endColumn={d.span.end_col},"
            f"title={_gh_escape(f'{d.code} {d.name}', True)}"
        )
        lines.append(f"::{GITHUB_LEVEL[d.severity]} {props}::{_gh_escape(d.message)}")
    return "\n".join(lines)


SARIF_TEXT_LIMIT = 1024  # GitHub code scanning's limit for shortDescription / fullDescription
SARIF_PROBLEM_SEVERITY = {"error": "error", "warning": "warning", "info": "recommendation"}


def _rule_descriptor(code: str) -> dict:
    """``tool.driver.rules[]`` entry: the rule's page as help (text and markdown), so code
    scanning shows its explanation."""
    from lorlint.report.pages import page, section

    rule = RULES[code]
    text = page(code, rule.name)
    what = " ".join(section(text, "What it does").split()) or rule.summary
    why = " ".join(section(text, "Why is this bad?").split())
    help_text = f"{what}\n\nWhy is this bad? {why}" if why else what
    return {
        "id": code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary[:SARIF_TEXT_LIMIT]},
        "fullDescription": {"text": _clip(what)},
        "help": {"text": help_text, "markdown": text or rule.summary},
        "helpUri": rule.url,
        "defaultConfiguration": {"level": SARIF_LEVEL[rule.severity]},
        "properties": {
            "tags": [rule.severity, "lora", "peft"],
            "precision": "very-high",
            "problem.severity": SARIF_PROBLEM_SEVERITY[rule.severity],
        },
    }


def _clip(text: str) -> str:
    return text if len(text) <= SARIF_TEXT_LIMIT else text[: SARIF_TEXT_LIMIT - 3] + "..."


def sarif(diags: list[Diagnostic]) -> str:
    from lorlint import __version__

    codes = sorted(RULES)
    index = {code: i for i, code in enumerate(codes)}
    rules = [_rule_descriptor(code) for code in codes]
    results = [
        {
            "ruleId": d.code,
            "ruleIndex": index[d.code],
            "level": SARIF_LEVEL[d.severity],
            "message": {"text": d.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": _relative(d.path), "uriBaseId": "%SRCROOT%"},
                        "region": {
                            "startLine": d.span.row,
                            "startColumn": d.span.col,
                            "endLine": d.span.end_row,
                            "endColumn": d.span.end_col,
                        },
                    }
                }
            ],
        }
        for d in diags
    ]
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "lorlint",
                        "version": __version__,
                        "informationUri": "https://github.com/lorlint/lorlint",
                        "rules": rules,
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"uri": Path.cwd().resolve().as_uri() + "/"}},
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2)


def offending_text(d: Diagnostic, sources: dict[str, str]) -> str:
    """The source text under a finding's span (what it is about, wherever the line moves)."""
    if d.source_line is not None:  # notebooks: the cell's line
        lines = [d.source_line]
        row, end_row = 1, 1
    else:
        lines = split_lines(sources.get(d.path, ""))
        row, end_row = d.span.row, d.span.end_row
    if not 0 < row <= len(lines):
        return ""
    if end_row == row:
        return lines[row - 1][d.span.col - 1 : d.span.end_col - 1]
    chunk = [lines[row - 1][d.span.col - 1 :], *lines[row : end_row - 1]]
    if end_row <= len(lines):
        chunk.append(lines[end_row - 1][: d.span.end_col - 1])
    return "\n".join(chunk)


def gitlab(diags: list[Diagnostic], sources: dict[str, str] | None = None) -> str:
    """GitLab Code Quality report (a JSON list of issues).

    The fingerprint hashes the path, the rule, the offending text and its index among equal
    findings of the file (as ruff does), not the line: inserting lines above a finding keeps it,
    so GitLab does not report a moved finding as fixed and new."""
    import hashlib

    sources = sources or {}
    seen: Counter = Counter()
    items = []
    for d in diags:
        path = _relative(d.path)
        text = offending_text(d, sources)
        key = (path, d.cell, d.code, text)
        index = seen[key]
        seen[key] += 1
        cell = f"cell {d.cell}" if d.cell is not None else ""
        digest = hashlib.md5(
            json.dumps([path, cell, d.code, text, index]).encode(), usedforsecurity=False
        ).hexdigest()
        items.append(
            {
                "description": f"{d.code} {d.message}",
                "check_name": d.code,
                "fingerprint": digest,
                "severity": GITLAB_SEVERITY[d.severity],
                "location": {"path": path, "lines": {"begin": d.span.row, "end": d.span.end_row}},
            }
        )
    return json.dumps(items, indent=2)


def junit(diags: list[Diagnostic]) -> str:
    from xml.etree import ElementTree as ET

    suites = ET.Element("testsuites", name="lorlint", tests=str(max(len(diags), 1)))
    suites.set("failures", str(len(diags)))
    if not diags:
        suite = ET.SubElement(suites, "testsuite", name="lorlint", tests="1", failures="0")
        ET.SubElement(suite, "testcase", name="No errors found", classname="lorlint")
    by_file: dict[str, list[Diagnostic]] = {}
    for d in diags:
        by_file.setdefault(_relative(d.path), []).append(d)
    for path, items in by_file.items():
        suite = ET.SubElement(
            suites, "testsuite", name=path, tests=str(len(items)), failures=str(len(items))
        )
        for d in items:
            case = ET.SubElement(
                suite, "testcase", name=f"org.lorlint.{d.code}", classname=path.removesuffix(".py")
            )
            case.set("line", str(d.span.row))
            case.set("column", str(d.span.col))
            failure = ET.SubElement(case, "failure", message=d.message, type=d.severity)
            failure.text = f"line {d.span.row}, col {d.span.col}, {d.code} {d.message}"
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode")


MACHINE = {"json": as_json, "github": github, "sarif": sarif, "gitlab": gitlab, "junit": junit}
