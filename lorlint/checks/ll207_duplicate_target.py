"""LL207 duplicate-target: the same entry listed twice."""

from __future__ import annotations

from lorlint import fixes
from lorlint.checks import Context, rule


@rule(
    "LL207",
    "duplicate-target",
    "warning",
    "a target_modules entry is listed twice",
    fixes=("safe",),
)
def check(ctx: Context):
    value = ctx.site.keywords.get("target_modules")
    if value is None or value.elements is None:
        return
    seen: set[str] = set()
    for i, element in enumerate(value.elements):
        if not isinstance(element.value, str):
            continue
        if element.value in seen:
            fix = fixes.drop_element(value, i, f'Remove the second "{element.value}"', "safe")
            yield f'"{element.value}" is listed twice in target_modules', element.span, fix
        seen.add(element.value)
