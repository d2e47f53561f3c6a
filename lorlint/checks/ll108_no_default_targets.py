"""LL108 no-default-targets: ``target_modules`` omitted where PEFT has no default for the model."""

from __future__ import annotations

from lorlint.checks import Context, rule
from lorlint.checks.targets import block_linear_leaves, quoted


@rule("LL108", "no-default-targets", "error", "target_modules omitted and PEFT has no default")
def check(ctx: Context):
    site = ctx.site
    if site.kind != "peft-config" or site.has("target_modules") or site.has("**"):
        return
    if ctx.result is None or ctx.result.error is None:
        return
    if ctx.result.error.kind not in ("no-default", "no-targets"):
        return
    yield (
        f"target_modules is omitted and PEFT has no default for {ctx.view.model_type}: "
        f"get_peft_model raises '{ctx.result.error.message}'; pass "
        f'target_modules={quoted(block_linear_leaves(ctx))} or "all-linear"',
        site.span,
    )
