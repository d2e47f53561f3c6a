"""LL112 incomplete-fused-expert-pair: one half of a fused MoE expert pair is targeted.

transformers 5 fuses the experts' ``w1``/``w3`` (``gate_proj``/``up_proj``) into one
``gate_up_proj`` parameter; PEFT's conversion of v4 names cannot adapt half of it and raises."""

from __future__ import annotations

import re
from functools import cache

from lorlint.checks import Context, rule
from lorlint.checks.coverage import extend_list_fix
from lorlint.checks.targets import entries
from lorlint.models.match import MOE_FUSED_TARGETS


@cache  # compiled on first use: few configs target one half of a fused pair
def _message() -> re.Pattern:
    return re.compile(r"Cannot convert PEFT target\(s\) (?P<present>.+) without also targeting "
                      r"(?P<missing>.+) because they are fused into (?P<fused>\w+)\.")  # fmt: skip


@rule(
    "LL112",
    "incomplete-fused-expert-pair",
    "error",
    "one half of a fused expert pair targeted",
    fixes=("unsafe",),
)
def check(ctx: Context):
    error = ctx.result.error if ctx.result is not None else None
    if error is None or error.kind != "moe-fused":
        return
    parsed = _message().match(error.message)
    present = parsed.group("present").split(", ")
    missing = parsed.group("missing").split(", ")
    spans = [e.span for e in entries(ctx) if e.value.rpartition(".")[2] in present]
    value = ctx.site.keywords.get("target_modules")
    span = spans[0] if spans else (value.span if value is not None else ctx.site.span)
    family = ctx.table.meta.get("moe_conversion")
    pair = MOE_FUSED_TARGETS.get(family, {}).get(parsed.group("fused"), present + missing)
    fix = extend_list_fix(ctx, missing, "Target both halves of the fused pair")
    yield (
        f"get_peft_model raises on {ctx.view.model_type}: '{error.message}' (transformers 5 keeps "
        f"the experts' {' and '.join(pair)} as one parameter); add "
        f"{', '.join(repr(m) for m in missing)} to adapt it, or drop {', '.join(map(repr, present))}",
        span,
        fix,
    )
