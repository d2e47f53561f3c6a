"""LL105 exclude-modules-problem: ``exclude_modules`` matches nothing, or excludes every target."""

from __future__ import annotations

import re

from lorlint.checks import Context, rule
from lorlint.models import bounded
from lorlint.models.match import entry_matches


def _excluded_by(exclude, names: list[str]) -> list[str]:
    if isinstance(exclude, str):
        try:
            return [n for n in names if bounded.fullmatch(exclude, n)]
        except re.error:
            return []
    return [n for n in names if any(entry_matches(e, n) for e in exclude)]


@rule("LL105", "exclude-modules-problem", "error", "exclude_modules matches nothing or everything")
def check(ctx: Context):
    value = ctx.site.keywords.get("exclude_modules")
    if ctx.table is None or value is None or not value.known or not value.value:
        return
    names = [m.name for m in ctx.table.modules if m.name]
    # "matches nothing" needs the model's own names: a default config can lack optional parts a
    # checkpoint has (Gemma 4 E4B's vision and audio towers), which exclude_modules often names
    if ctx.view.exact and not _excluded_by(value.value, names):
        yield (
            f"exclude_modules={value.value!r} matches no module of {ctx.model_label()}: "
            "nothing is excluded (PEFT only warns)",
            value.span,
        )
        return
    error = ctx.result.error if ctx.result is not None else None
    if error is not None and error.kind in ("all-excluded", "nothing-targeted"):
        yield (
            "exclude_modules excludes every module target_modules selects: "
            f"get_peft_model raises '{error.message}'",
            value.span,
        )
