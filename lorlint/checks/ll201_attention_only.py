"""LL201 attention-only: the targets cover only attention projections, not the MLP."""

from __future__ import annotations

from lorlint import fixes
from lorlint.checks import Context, rule
from lorlint.checks.targets import block_linear_leaves, quoted
from lorlint.models.summary import split_block

ATTENTION_MARKERS = ("attn", "attention")


def is_attention(name: str) -> bool:
    block = split_block(name)
    rel = block[2] if block else name
    return any(marker in rel.lower() for marker in ATTENTION_MARKERS)


@rule("LL201", "attention-only", "warning", "targets cover only the attention projections")
def check(ctx: Context):
    result, table = ctx.result, ctx.table
    if table is None or result is None or not result.ok or not result.modules:
        return
    if result.parameters or not all(is_attention(n) for n in result.modules):
        return
    linears = [m.name for m in table.modules if m.kind in ("linear", "conv1d_hf")]
    if all(is_attention(n) for n in linears if split_block(n)):
        return  # nothing but attention to adapt
    value = ctx.site.keywords.get("target_modules")
    span = value.span if value is not None else ctx.site.span
    what = "PEFT's default targets" if result.defaulted else "the targets"
    full = block_linear_leaves(ctx)
    fix = None
    if value is not None:
        quote = next((e.quote for e in (value.elements or [])), value.quote)
        literal = fixes.list_literal(full, quote)
        fix = fixes.replace(value, literal, f"Target every block linear: {literal}", "unsafe")
    advice = f'use target_modules={quoted(full)} or "all-linear"'
    if ctx.site.kind == "torchtune":
        advice = "set apply_lora_to_mlp: true (torchtune's MLP is w1/w2/w3)"
    yield (
        f"{what} adapt only attention projections of {ctx.model_label()}; the QLoRA paper found "
        f"adapters on all linear layers of the block are needed to match full fine-tuning: {advice}",
        span,
        fix,
    )
