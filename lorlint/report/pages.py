"""Rule pages (``rules/LLXXX-name.md``): reading them, their sections, and their header line.

The header (severity, fix availability and safety) restates the rule registry, so it is generated
from it (``scripts/gen_rule_headers.py``) and tests/test_rule_pages.py fails when a page differs.
"""

from __future__ import annotations

import re
from pathlib import Path

# Installed wheels carry the pages inside the package; a checkout has them at the top level.
RULES_DIRS = (
    Path(__file__).resolve().parents[1] / "rules",
    Path(__file__).resolve().parents[2] / "rules",
)
HEADER_PREFIX = "**Severity:**"


def page_path(code: str, name: str) -> Path | None:
    for directory in RULES_DIRS:
        path = directory / f"{code}-{name}.md"
        if path.is_file():
            return path
    return None


def page(code: str, name: str) -> str:
    path = page_path(code, name)
    return path.read_text(encoding="utf-8") if path is not None else ""


def header(rule) -> str:
    """``**Severity:** error · **Fix:** sometimes available (safe or unsafe)``, from the registry."""
    # a fix is offered only where the value can be edited in place: never "always"
    fix = f"sometimes available ({' or '.join(rule.fixes)})" if rule.fixes else "none"
    status = " · **Status:** retired (reports nothing)" if rule.retired else ""
    return f"{HEADER_PREFIX} {rule.severity} · **Fix:** {fix}{status}"


def with_header(text: str, rule) -> str:
    """The page with its header line replaced by (or, if absent, given) the generated one."""
    lines = text.split("\n")
    wanted = header(rule)
    for i, line in enumerate(lines):
        if line.startswith(HEADER_PREFIX):
            lines[i] = wanted
            return "\n".join(lines)
    # no header yet: after the title and a blank line
    return "\n".join([*lines[:1], "", wanted, *lines[1:]])


def section(text: str, heading: str) -> str:
    """The body of ``## heading`` (without the heading), or ""."""
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.DOTALL | re.M)
    return match.group(1).strip() if match else ""
