"""LL201 attention-only: an explicit target list adapts only attention projections while the blocks
have more to adapt (an MLP, routed experts, hybrid blocks)."""

from __future__ import annotations

from lorlint import fixes
from lorlint.checks import Context, rule
from lorlint.checks.coverage import (
    asks_all_linear,
    conversion_family,
    converted_names,
    kinds_reached,
    parts,
    target_span,
)
from lorlint.checks.targets import quoted
from lorlint.models.layerkinds import HYBRID_KINDS

# The QLoRA finding is about low-rank adapters on linear weights: LoRA, and AdaLoRA (LoRA whose
# rank is budgeted per matrix). Other methods (IA3's scaling vectors, LN-tuning's norms, ...) are
# not what the paper measured: the rule says nothing about them.
METHODS = ("LORA", "ADALORA")
# Each config tool's own switch for every Linear (lorlint/models/llama_factory.py, axolotl.py).
TOOL_ADVICE = {
    "llama-factory": "set lora_target: all (every Linear but lm_head)",
    "axolotl": "set lora_target_linear: true",
}


def leaves(names) -> list[str]:
    out: dict[str, None] = {}
    for name in names:
        out.setdefault(name.rpartition(".")[2], None)
    return list(out)


@rule(
    "LL201",
    "attention-only",
    "warning",
    "targets cover only the attention projections",
    fixes=("unsafe",),
)
def check(ctx: Context):
    if ctx.site.peft_type not in METHODS or asks_all_linear(ctx.site):
        return  # every Linear was asked for: LL209 / LL210 say what "all-linear" cannot reach
    found = parts(ctx)
    if found is None or kinds_reached(ctx, found) != {"attention"}:
        return  # something besides attention is adapted: not attention-only
    frozen = [kind for kind in found.parts if kind != "attention"]
    if not frozen:
        return  # nothing but attention to adapt
    what = "PEFT's default targets" if ctx.adapted.defaulted else "the targets"
    left, advice, fix = [], [], None
    span = target_span(ctx)
    mlp = found.get("mlp")
    if mlp is not None:
        left.append(_mlp_text(ctx, found, mlp))
        text, fix = _mlp_advice(ctx, found, mlp)
        advice.append(text)
    if "experts" in found.parts:
        left.append("the routed experts")
        advice.append("the experts need target_parameters (LL209)")
    hybrid = [kind for kind in HYBRID_KINDS if kind in found.parts]
    if hybrid:
        left.append(f"the {'/'.join(hybrid)} blocks")
        advice.append("add their projections (LL210)")
    flag = ctx.site.keywords.get("finetune_mlp_modules")
    if ctx.site.kind == "unsloth" and flag is not None and flag.value is False:
        advice, span, fix = (
            ["set finetune_mlp_modules=True (Unsloth's MLP switch)"],
            flag.span,
            None,
        )
    yield (
        f"{what} adapt only attention projections of {ctx.model_label()}; {', '.join(left)} "
        "stay frozen, and the QLoRA paper found adapters on all linear layers of the block are "
        f"needed to match full fine-tuning: {'; '.join(advice)}",
        span,
        fix,
    )


def _mlp_text(ctx: Context, found, mlp) -> str:
    where = f", in {len(mlp.layers)} of {found.layers} layers"
    if ctx.view.resolved.source == "torchtune" or not ctx.view.exact:
        where = ""  # a schematic or default-config table: its layer count is not the model's
    return f"the MLP linears ({quoted(leaves(mlp.linears()))}{where})"


def _mlp_advice(ctx: Context, found, mlp):
    """What adapts the dense MLP, in the site's own terms, and the fix when one is safe to offer."""
    attention = leaves(found.get("attention").linears())
    mlp_names = leaves(mlp.linears())
    family = conversion_family(ctx)
    caught = [n for n in mlp_names if family and n in converted_names(family)]
    if caught:
        return (
            f"PEFT converts {quoted(caught)} to the routed experts' target_parameters on "
            f"{ctx.view.model_type}, so the dense layers and shared experts of those names need "
            f"target_parameters={quoted([f'{n}.weight' for n in caught])}",
            None,
        )
    if ctx.site.kind == "torchtune":
        return "set apply_lora_to_mlp: true (torchtune's MLP is w1/w2/w3)", None
    if ctx.site.kind in TOOL_ADVICE:
        return TOOL_ADVICE[ctx.site.kind], None
    full = attention + [n for n in mlp_names if n not in attention]
    advice = f"use target_modules={quoted(full)}"
    if set(found.parts) == {"attention", "mlp"}:
        advice += ' or "all-linear"'
    return advice, _full_list_fix(ctx, full)


def _full_list_fix(ctx: Context, full: list[str]):
    """Unsafe: the list holds every block linear (kept entries stay, others are removed)."""
    value = ctx.site.keywords.get("target_modules")
    if value is None:
        return None
    message = "Target every block linear: "
    if value.elements is not None:
        return fixes.rewrite_list(value, full, message, "unsafe")
    listed = message + fixes.list_literal(full, value.quote)
    return fixes.string_to_list(value, full, listed, "unsafe")
