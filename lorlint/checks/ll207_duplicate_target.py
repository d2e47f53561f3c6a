"""LL207 duplicate-target: the same entry listed twice."""

from __future__ import annotations

from lorlint.checks import Context, rule
from lorlint.checks.targets import entries


@rule("LL207", "duplicate-target", "warning", "a target_modules entry is listed twice")
def check(ctx: Context):
    seen: set[str] = set()
    for element in entries(ctx):
        if element.value in seen:
            yield f'"{element.value}" is listed twice in target_modules', element.span
        seen.add(element.value)
