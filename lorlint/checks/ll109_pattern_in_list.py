"""LL109 pattern-in-list: a regex or ``"all-linear"`` written as a list entry is matched literally."""

from __future__ import annotations

from lorlint.checks import Context, rule
from lorlint.checks.targets import entries, looks_like_pattern
from lorlint.models.match import ALL_LINEAR


@rule("LL109", "pattern-in-list", "error", "a list entry is written as a regex or as all-linear")
def check(ctx: Context):
    value = ctx.site.keywords.get("target_modules")
    if isinstance(value.value if value else None, str):
        text = value.value
        if text.lower() != ALL_LINEAR and text.lower().replace("_", "-") == ALL_LINEAR:
            yield (
                f'"{text}" is not PEFT\'s shorthand: only "all-linear" (with a hyphen) is',
                value.span,
            )
        return
    for element in entries(ctx):
        entry = element.value
        if not looks_like_pattern(entry):
            continue
        if entry.lower().replace("_", "-") == ALL_LINEAR:
            message = (
                f'["{entry}"] is a list: PEFT looks for a module named "{entry}"; '
                'write target_modules="all-linear" (a string)'
            )
        else:
            message = (
                f'"{entry}" is a regex inside a list: PEFT matches list entries literally '
                "(exact name or .-suffix), so it adapts nothing; pass the regex as the whole "
                "string target_modules, or list the names"
            )
        yield message, element.span
