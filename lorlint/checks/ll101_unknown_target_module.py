"""LL101 unknown-target-module: a list entry matches no module of the resolved model."""

from __future__ import annotations

from lorlint.checks import Context, rule
from lorlint.checks.targets import (
    close_names,
    converted,
    entries,
    equivalent,
    looks_like_pattern,
)
from lorlint.models.match import modules_matching_entry


@rule("LL101", "unknown-target-module", "error", "a target_modules entry matches no module")
def check(ctx: Context):
    if ctx.table is None:
        return
    for element in entries(ctx):
        entry = element.value
        if looks_like_pattern(entry) or converted(ctx, entry):
            continue
        if modules_matching_entry(ctx.table, entry):
            continue
        other = equivalent(entry, ctx)
        if other:
            hint = f'{ctx.view.model_type} calls it "{other}"'
        else:
            close = close_names(entry, ctx)
            hint = f"did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            if not hint:
                hint = "see `lorlint models " + ctx.view.reference + "` for its layer names"
        yield (
            f'"{entry}" matches no module of {ctx.model_label()}{_outcome(ctx)}: {hint}',
            element.span,
        )


def _outcome(ctx: Context) -> str:
    """What PEFT does about it: drop the entry silently, or raise because nothing matched."""
    if ctx.result is None:
        return ""
    if ctx.result.ok:
        return " (PEFT skips it silently)"
    if ctx.result.error.kind == "not-found":
        return " (get_peft_model raises: no entry matches)"
    return ""
