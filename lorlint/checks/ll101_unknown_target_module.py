"""LL101 unknown-target-module: a list entry matches no module of the resolved model."""

from __future__ import annotations

from lorlint import fixes
from lorlint.checks import Context, rule
from lorlint.checks.targets import (
    close_names,
    converted,
    entries,
    equivalent,
    expert_parameters_named,
    expert_suffix,
    expert_weights_text,
    looks_like_pattern,
    prefixed_names,
    quoted,
)
from lorlint.models.match import modules_matching_entry


@rule(
    "LL101",
    "unknown-target-module",
    "error",
    "a target_modules entry matches no module",
    fixes=("safe", "unsafe"),
)
def check(ctx: Context):
    if ctx.table is None:
        return
    for element in entries(ctx):
        entry = element.value
        if looks_like_pattern(entry) or converted(ctx, entry):
            continue
        if modules_matching_entry(ctx.table, entry) or ctx.view.might_have(entry):
            continue  # (or a layout of this architecture other than the default config's has it)
        params = expert_parameters_named(ctx, entry)
        if params and ("." in entry or ctx.result is None):
            continue  # LL104 explains a qualified one; Unsloth adds MoE experts itself
        other = equivalent(entry, ctx)
        fix = None
        bare = entry.rstrip(",")
        if bare != entry and modules_matching_entry(ctx.table, bare):
            hint = (f'"{bare}" with a comma stuck to it: on a command line each word is one entry, '
                    "so separate the names with spaces only")  # fmt: skip
        elif params:
            hint = (
                f"on this model the experts keep it in {expert_weights_text(ctx, params)}, a "
                "parameter target_modules cannot reach: use target_parameters="
                + quoted([expert_suffix(params[0])])
            )
        elif other:
            hint = f'{ctx.view.model_type} calls it "{other}"'
            fix = _translate(ctx)
        else:
            close = close_names(entry, ctx)
            if len(close) == 1:
                message = f'Replace "{entry}" with "{close[0]}"'
                fix = fixes.replace_string(element, close[0], message, "safe")
            close = close or prefixed_names(entry, ctx)
            hint = f"did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            if not hint:
                hint = "see `lorlint models " + ctx.view.reference + "` for its layer names"
        message = f'"{entry}" matches no module of {ctx.model_label()}{_outcome(ctx)}: {hint}'
        yield message, element.span, fix


def _translate(ctx: Context):
    """Unsafe: this architecture's names for the foreign ones, in place, duplicates removed."""
    names: list[str] = []
    renames: dict[str, str] = {}
    for element in entries(ctx):
        entry = element.value
        if modules_matching_entry(ctx.table, entry) or looks_like_pattern(entry):
            new = entry
        else:
            new = renames[entry] = equivalent(entry, ctx) or entry
        if new not in names:
            names.append(new)
    value = ctx.site.keywords["target_modules"]
    message = f"Use {ctx.view.model_type}'s names: "
    return fixes.rewrite_list(value, names, message, "unsafe", renames)


def _outcome(ctx: Context) -> str:
    """What PEFT does about it: drop the entry silently, or raise because nothing matched."""
    if ctx.result is None:
        return ""
    if ctx.result.ok:
        return " (PEFT skips it silently)"
    if ctx.result.error.kind == "not-found":
        return " (get_peft_model raises: no entry matches)"
    return ""
