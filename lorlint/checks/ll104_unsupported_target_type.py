"""LL104 unsupported-target-type: an entry hits modules LoRA cannot wrap (containers, norms,
routers, depthwise convolutions at this rank) or names a parameter (fused MoE experts)."""

from __future__ import annotations

from lorlint.checks import Context, rule
from lorlint.checks.targets import (
    converted,
    entries,
    expert_parameters_named,
    expert_suffix,
    expert_weights_text,
    looks_like_pattern,
    quoted,
)
from lorlint.models.match import can_wrap, entry_matches, unwrappable_matching_entry
from lorlint.models.methods import method_name, modelled


@rule("LL104", "unsupported-target-type", "error", "a target matches modules LoRA cannot wrap")
def check(ctx: Context):
    if ctx.table is None or not modelled(ctx.site.peft_type):
        return
    yield from _groups_error(ctx)
    for element in entries(ctx):
        if looks_like_pattern(element.value) or converted(ctx, element.value):
            continue
        qualified = "." in element.value  # ``experts.down_proj``: a bare name is LL101's
        named = qualified and ctx.result is not None  # (Unsloth adds MoE experts itself)
        params = expert_parameters_named(ctx, element.value) if named else []
        if params:
            yield _parameter_message(ctx, element.value, params), element.span
            continue
        peft_type = ctx.site.peft_type
        bad = unwrappable_matching_entry(ctx.table, element.value, peft_type)
        if not bad:
            continue
        first = bad[0]
        prefix = first.name + "."
        children = sorted(
            {
                m.leaf
                for m in ctx.table.modules
                if m.name.startswith(prefix) and can_wrap(m, peft_type)
            }
        )
        params = [p for p, shape in first.own_params if len(shape) >= 2]
        method = method_name(peft_type)
        if can_wrap(first, "LORA"):
            hint = f"LoRA can wrap it, {method} cannot: remove it or use LoraConfig"
        elif children:
            hint = "target its layers instead: " + ", ".join(f'"{c}"' for c in children)
        elif params:
            hint = "its weights are parameters: use target_parameters=" + quoted(
                [f"{first.leaf}.{p}" for p in params]
            )
        else:
            hint = "remove it"
        yield (
            f'"{element.value}" matches {len(bad)} {first.cls} module(s) that {method} cannot '
            f"wrap; PEFT raises 'Target module ... not supported'; {hint}",
            element.span,
        )


def _parameter_message(ctx: Context, entry: str, params: list[str]) -> str:
    """An entry that names fused expert weights: ``target_modules`` reaches modules only."""
    outcome = "; PEFT skips it silently" if ctx.result.ok else "; PEFT raises (no entry matches)"
    return (
        f'"{entry}" names {expert_weights_text(ctx, params)}, not a module: target_modules '
        f"reaches modules only{outcome}; adapt the experts with "
        f"target_parameters={quoted([expert_suffix(params[0])])}"
    )


def _groups_error(ctx: Context):
    """PEFT's conv ``groups`` limit: a depthwise convolution adapted at a rank it does not divide."""
    error = ctx.result.error if ctx.result is not None else None
    if error is None or error.kind != "conv-groups":
        return
    name = error.modules[0]
    spans = [e.span for e in entries(ctx) if entry_matches(e.value, name)]
    value = ctx.site.keywords.get("target_modules")
    span = spans[0] if spans else (value.span if value is not None else ctx.site.span)
    yield (
        f"{name} is a depthwise convolution: PEFT raises '{error.message}'; remove "
        f'"{name.rpartition(".")[2]}" from the targets',
        span,
    )
