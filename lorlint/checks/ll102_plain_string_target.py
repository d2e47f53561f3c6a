"""LL102 plain-string-target: ``target_modules="q_proj"`` is a regex over full names: it adapts nothing."""

from __future__ import annotations

from lorlint import fixes
from lorlint.checks import Context, rule
from lorlint.checks.targets import REGEX_CHARS
from lorlint.models import bounded
from lorlint.models.match import ALL_LINEAR, modules_matching_entry


@rule(
    "LL102",
    "plain-string-target",
    "error",
    "target_modules is a plain string, not a list",
    fixes=("safe",),
)
def check(ctx: Context):
    value = ctx.site.keywords.get("target_modules")
    if value is None or not isinstance(value.value, str):
        return
    text = value.value
    if text.lower() == ALL_LINEAR or REGEX_CHARS.search(text):
        return
    if ctx.table is not None and any(bounded.fullmatch(text, m.name) for m in ctx.table.modules):
        return  # a full dotted module name: PEFT matches it exactly
    names = [part.strip() for part in text.split(",") if part.strip()]
    listed = fixes.list_literal(names, value.quote)
    fix = None
    if ctx.table is not None and all(modules_matching_entry(ctx.table, n) for n in names):
        fix = fixes.string_to_list(value, names, f"Use the list form {listed}", "safe")
    yield (
        f'target_modules="{text}" is a regex over the full module name, so it matches no module; '
        f"use the list form target_modules={listed}",
        value.span,
        fix,
    )
