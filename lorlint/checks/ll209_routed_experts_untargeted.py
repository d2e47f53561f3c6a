"""LL209 routed-experts-untargeted: the model keeps routed experts as fused parameters and the
config adapts none of them (neither ``target_parameters`` nor PEFT's MoE conversion)."""

from __future__ import annotations

from math import prod

from lorlint.checks import Context, rule
from lorlint.checks.coverage import (
    conversion_family,
    converted_names,
    fused_rank_patterns,
    kinds_reached,
    parts,
    spec_numbers,
    target_span,
)
from lorlint.checks.targets import counts_note, literal, quoted
from lorlint.models.layerkinds import expert_stacks
from lorlint.models.summary import human, split_block

TOOL_KEYS = {"axolotl": "lora_target_parameters"}


def shape_text(shape: tuple[int, ...]) -> str:
    return "×".join(str(d) for d in shape)


@rule(
    "LL209",
    "routed-experts-untargeted",
    "warning",
    "the routed experts are not adapted",
)
def check(ctx: Context):
    if ctx.site.peft_type != "LORA":
        return  # target_parameters is LoRA's; other methods cannot reach the experts
    found = parts(ctx)
    if found is None:
        return
    experts = found.get("experts")
    if experts is None or experts.adapted:
        return
    stacks = [m for m in expert_stacks(ctx.table) if split_block(m.name)[0] == found.stack]
    frozen = sum(prod(s) for m in stacks for _, s in m.own_params if len(s) == 3)
    weights = ", ".join(f"{rel} {shape_text(s)}" for rel, s in experts.parameters.items())
    names = list(experts.parameters)
    numbers = spec_numbers(ctx)
    if numbers is None:
        return  # the advice's rank_pattern / alpha_pattern need the config's rank and alpha
    r, alpha = numbers
    ranks, alphas = fused_rank_patterns(names, r, alpha)
    key = TOOL_KEYS.get(ctx.site.kind, "target_parameters")
    advice = f"add {key}={quoted(names)}"
    if ranks:
        advice += f" with rank_pattern={literal(ranks)} and alpha_pattern={literal(alphas)}, as "
        advice += "PEFT's own MoE "
        advice += "conversion sets for a fused pair"
    family = conversion_family(ctx)
    if family:
        advice += (
            f", or add {quoted(converted_names(family))} to target_modules (PEFT converts them "
            "to those parameters itself)"
        )
    dropout = ctx.spec.lora_dropout if ctx.spec is not None else None
    if dropout != 0:
        advice += "; target parameters need lora_dropout=0 (PEFT raises otherwise)"
    yield (
        f"the routed experts of {ctx.model_label()} are not adapted: {len(names)} expert "
        f"weights per MoE layer ({weights}) stay frozen in {len(experts.layers)} of "
        f"{found.layers} layers, {human(frozen)} of {human(ctx.table.total_params)} parameters"
        f"{counts_note(ctx)}{_reach(ctx, found)}; {advice}",
        target_span(ctx),
    )


def _reach(ctx: Context, found) -> str:
    """What the config reaches instead: the dense MLP / shared experts, or nothing of the MLP."""
    spec_targets = ctx.spec.target_modules if ctx.spec is not None else None
    mlp = found.get("mlp")
    if isinstance(spec_targets, str) and spec_targets.lower() == "all-linear":
        return ' ("all-linear" takes Linear layers only; the experts are parameters)'
    if mlp is not None and mlp.adapted:
        return "; the MLP names reach only the dense MLP and shared-expert layers"
    if "mlp" not in kinds_reached(ctx, found):
        return "; no MLP weight is adapted at all"
    return ""
