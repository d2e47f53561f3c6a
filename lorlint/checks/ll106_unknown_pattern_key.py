"""LL106 unknown-pattern-key: rank/alpha_pattern keys or modules_to_save entries that match nothing."""

from __future__ import annotations

import re

from lorlint.checks import Context, rule
from lorlint.models import bounded
from lorlint.models.match import TASK_HEADS, unmatched_pattern_keys


def _saves_nothing(entry: str, names: list[str]) -> bool:
    pattern = rf"(^|.*\.){entry}($|\..*)"
    try:
        re.compile(pattern)
    except re.error:
        return True
    return not any(map(bounded.matcher(pattern), names))


@rule(
    "LL106",
    "unknown-pattern-key",
    "error",
    "a rank/alpha_pattern key or modules_to_save entry matches nothing",
)
def check(ctx: Context):
    if ctx.table is None:
        return
    # keys apply to adapted parameters too (``get_pattern_key`` on ``module.param``)
    targeted = [*ctx.adapted.modules, *ctx.adapted.parameters] if ctx.adapted else None
    for attr in ("rank_pattern", "alpha_pattern"):
        value = ctx.site.keywords.get(attr)
        if value is None or not isinstance(value.value, dict) or targeted is None:
            continue
        others = ctx.view.other_layout_names()
        for key in unmatched_pattern_keys(value.value, targeted):
            if others and not unmatched_pattern_keys({key: 0}, others):
                continue  # another layout of the architecture may adapt a module it matches
            try:
                re.compile(key)
            except re.error as err:
                yield (
                    f"{attr} key {key!r} is not a valid regular expression ({err}): PEFT raises "
                    "re.error when it looks up each module's rank",
                    value.span,
                )
                continue
            yield (
                f"{attr} key {key!r} matches no adapted module of {ctx.model_label()}; "
                "PEFT ignores it (keys are regexes tried as '(.*\\.)?(KEY)$' on adapted modules)",
                value.span,
            )
    value = ctx.site.keywords.get("modules_to_save")
    if value is None or not isinstance(value.value, (list, tuple)):
        return
    names = [m.name for m in ctx.table.modules if m.name] + ctx.view.other_layout_names()
    elements = value.elements or []
    heads = _task_heads(ctx)
    for i, entry in enumerate(value.value):
        if isinstance(entry, str) and entry not in heads and _saves_nothing(entry, names):
            span = elements[i].span if i < len(elements) else value.span
            yield f'modules_to_save entry "{entry}" matches no module of {ctx.model_label()}', span


def _task_heads(ctx: Context) -> tuple[str, ...]:
    """Heads PEFT itself adds to modules_to_save for the task (PeftModelForSequenceClassification
    adds both ``classifier`` and ``score``, whichever the model has; a saved adapter_config.json
    records both): an entry among them is PEFT's own, never the user's mistake."""
    task_type = ctx.site.get("task_type")
    if not isinstance(task_type, str):
        return ()
    return TASK_HEADS.get(task_type.rpartition(".")[2], ())
