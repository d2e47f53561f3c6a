"""LL103 regex-matches-nothing: a regex target that full-matches no module name."""

from __future__ import annotations

import re

from lorlint.checks import Context, rule
from lorlint.checks.targets import REGEX_CHARS
from lorlint.models import bounded


@rule("LL103", "regex-matches-nothing", "error", "a regex target_modules matches no module")
def check(ctx: Context):
    value = ctx.site.keywords.get("target_modules")
    error = ctx.result.error if ctx.result is not None else None
    if error is not None and error.kind == "too-costly":  # any of the config's regexes
        written = [
            part.span
            for v in ctx.site.keywords.values()
            for part in [v, *(v.elements or [])]
            if isinstance(part.value, str) and repr(part.value) in error.message
        ]
        yield error.message, written[0] if written else None
        return
    if ctx.table is None or value is None or not isinstance(value.value, str):
        return
    pattern = value.value
    if not REGEX_CHARS.search(pattern):
        return
    try:
        re.compile(pattern)
    except re.error as err:
        yield f"target_modules is not a valid regular expression: {err}", value.span
        return
    names = [m.name for m in ctx.table.modules if m.name] + ctx.view.other_layout_names()
    if not any(bounded.fullmatch(pattern, name) for name in names):
        example = next((m.name for m in ctx.table.modules if m.kind == "linear"), "")
        yield (
            f"the regex {pattern!r} full-matches no module name of {ctx.model_label()}; "
            f"PEFT matches it against full dotted names such as {example!r}",
            value.span,
        )
