"""LL301 unsloth-slow-path: dropout or bias that leave Unsloth's fused fast path."""

from __future__ import annotations

from lorlint.checks import Context, rule


@rule("LL301", "unsloth-slow-path", "warning", "Unsloth get_peft_model leaves the fast path")
def check(ctx: Context):
    site = ctx.site
    if site.kind != "unsloth":
        return
    dropout = site.keywords.get("lora_dropout")
    if dropout is not None and isinstance(dropout.value, (int, float)) and dropout.value != 0:
        yield (
            f"lora_dropout={dropout.value} leaves Unsloth's fast path (\"Unsloth: Dropout = 0 is "
            'supported for fast patching"); use lora_dropout=0',
            dropout.span,
        )
    bias = site.keywords.get("bias")
    if bias is not None and isinstance(bias.value, str) and bias.value != "none":
        yield (
            f'bias="{bias.value}" leaves Unsloth\'s fast path; use bias="none"',
            bias.span,
        )
