"""LL201 attention-only: the targets adapt only attention projections, not the blocks' MLP."""

from __future__ import annotations

from lorlint.checks import Context, rule
from lorlint.checks.coverage import (
    conversion_family,
    converted_names,
    extend_list_fix,
    kinds_reached,
    parts,
    target_span,
)
from lorlint.checks.targets import quoted


def leaves(names) -> list[str]:
    out: dict[str, None] = {}
    for name in names:
        out.setdefault(name.rpartition(".")[2], None)
    return list(out)


@rule("LL201", "attention-only", "warning", "targets cover only the attention projections")
def check(ctx: Context):
    found = parts(ctx)
    if found is None or kinds_reached(ctx, found) != {"attention"}:
        return  # experts or hybrid blocks adapted too: not attention-only
    mlp = found.get("mlp")
    if mlp is None:
        return  # no dense MLP: LL209 (routed experts) and LL210 (hybrid blocks) say what is left
    attention = leaves(found.get("attention").linears())
    mlp_names = leaves(mlp.linears())
    what = "PEFT's default targets" if ctx.adapted.defaulted else "the targets"
    family = conversion_family(ctx)
    caught = [n for n in mlp_names if family and n in converted_names(family)]
    fix = None
    if ctx.site.kind == "torchtune":
        advice = "set apply_lora_to_mlp: true (torchtune's MLP is w1/w2/w3)"
    elif caught:
        advice = (
            f"add {quoted(caught)} to target_modules to adapt the routed experts (PEFT converts "
            f"them to target_parameters on {ctx.view.model_type}), and "
            f"target_parameters={quoted([f'{n}.weight' for n in caught])} for the dense layers "
            "and shared experts of the same names, which the conversion leaves out"
        )
    else:
        full = attention + [n for n in mlp_names if n not in attention]
        advice = f"use target_modules={quoted(full)}"
        if set(found.parts) == {"attention", "mlp"}:
            advice += ' or "all-linear"'
        fix = extend_list_fix(ctx, full, "Target every block linear")
    where = f", in {len(mlp.layers)} of {found.layers} layers"
    if ctx.view.resolved.source == "torchtune":
        where = ""  # a schematic table of the builder's names: its layer count is not the model's
    yield (
        f"{what} adapt only attention projections of {ctx.model_label()}; the MLP linears "
        f"({quoted(mlp_names)}{where}) stay frozen, and the QLoRA paper found adapters on "
        f"all linear layers of the block are needed to match full fine-tuning: {advice}",
        target_span(ctx),
        fix,
    )
