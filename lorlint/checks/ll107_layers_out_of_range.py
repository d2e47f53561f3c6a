"""LL107 layers-out-of-range: ``layers_to_transform`` beyond the model's layers, or a dead pattern."""

from __future__ import annotations

import re

from lorlint.checks import Context, rule
from lorlint.checks.targets import entries
from lorlint.models import bounded
from lorlint.models.match import entry_matches, layer_index_of


@rule(
    "LL107",
    "layers-out-of-range",
    "error",
    "layers_to_transform or layers_pattern selects no layer",
)
def check(ctx: Context):
    site, table = ctx.site, ctx.table
    value = site.keywords.get("layers_to_transform")
    if table is None or value is None or not value.known or value.value is None:
        return
    requested = [value.value] if isinstance(value.value, int) else value.value
    if not isinstance(requested, list) or not all(isinstance(i, int) for i in requested):
        return  # not indices PEFT can use; no range to check
    pattern = site.get("layers_pattern")
    if pattern is not None and not isinstance(pattern, (str, list)):
        return
    patterns = [pattern] if isinstance(pattern, str) else (pattern or [])
    pattern_span = site.keywords["layers_pattern"].span if patterns else value.span

    wrapped = [rf"(?:^|.*?\.){p}\.\d+\." for p in patterns]
    for p, regex in zip(patterns, wrapped, strict=True):
        try:
            re.compile(regex)
        except re.error as err:
            yield (
                f"layers_pattern {p!r} is not a valid regular expression ({err.msg}): "
                "get_peft_model raises re.error when it reads a targeted module's layer index",
                pattern_span,
            )
            return

    def found(p: str) -> bool:
        regex = wrapped[patterns.index(p)]
        return any(bounded.match(regex, m.name) for m in table.modules)

    if patterns and not any(found(p) for p in patterns):  # PEFT tries each; one is enough
        shown = patterns[0] if len(patterns) == 1 else patterns
        yield (
            f"layers_pattern {shown!r} matches no module path of {ctx.model_label()}",
            pattern_span,
        )
        return
    targets = [e.value for e in entries(ctx)] or None
    candidates = [
        m.name
        for m in table.modules
        if m.name and (targets is None or any(entry_matches(t, m.name) for t in targets))
    ]
    available = {layer_index_of(n, pattern) for n in candidates} - {None}
    if not available:
        yield (
            f"layers_to_transform={value.value!r}: no targeted module of {ctx.model_label()} has a "
            "layer index PEFT can read (a bare base model has no prefix before its layer stack; "
            "peft#2155)",
            value.span,
        )
        return
    missing = [i for i in requested if i not in available]
    if missing and ctx.view.exact:  # a default config's layer count is not the model's
        yield (
            f"layers_to_transform has {missing} but {ctx.model_label()} has layers "
            f"{min(available)}–{max(available)}",
            value.span,
        )
