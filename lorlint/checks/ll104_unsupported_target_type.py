"""LL104 unsupported-target-type: an entry hits modules LoRA cannot wrap (containers, norms, routers)."""

from __future__ import annotations

from lorlint.checks import Context, rule
from lorlint.checks.targets import converted, entries, looks_like_pattern
from lorlint.models.match import can_wrap, modules_matching_entry
from lorlint.models.methods import method_name, modelled


@rule("LL104", "unsupported-target-type", "error", "a target matches modules LoRA cannot wrap")
def check(ctx: Context):
    if ctx.table is None or not modelled(ctx.site.peft_type):
        return
    for element in entries(ctx):
        if looks_like_pattern(element.value) or converted(ctx, element.value):
            continue
        hits = modules_matching_entry(ctx.table, element.value)
        peft_type = ctx.site.peft_type
        bad = [m for m in hits if not can_wrap(m, peft_type)]
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
            hint = "its weights are parameters: use target_parameters=" + str(
                [f"{first.leaf}.{p}" for p in params]
            )
        else:
            hint = "remove it"
        yield (
            f'"{element.value}" matches {len(bad)} {first.cls} module(s) that {method} cannot '
            f"wrap; PEFT raises 'Target module ... not supported'; {hint}",
            element.span,
        )
