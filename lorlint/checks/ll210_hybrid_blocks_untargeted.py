"""LL210 hybrid-blocks-untargeted: the model has Mamba / linear-attention / short-convolution
blocks and the config adapts none of their projections."""

from __future__ import annotations

from lorlint.checks import Context, rule
from lorlint.checks.coverage import extend_list_fix, parts, target_span
from lorlint.checks.ll201_attention_only import METHODS
from lorlint.checks.targets import counts_note, quoted
from lorlint.models.kernel_weights import DIRECT_WEIGHT_READS
from lorlint.models.layerkinds import BlockParts, Part
from lorlint.models.match import MAMBA_INCOMPATIBLE, MAMBA_MODEL_TYPES


@rule(
    "LL210",
    "hybrid-blocks-untargeted",
    "warning",
    "no Mamba / linear-attention block is adapted",
    fixes=("unsafe",),
)
def check(ctx: Context):
    if ctx.site.peft_type not in METHODS:
        return
    found = parts(ctx)
    if found is None:
        return
    hybrid = found.hybrid()
    if not hybrid or any(part.adapted for part in hybrid):
        return
    names = [n for part in hybrid for n in addable(ctx, part) if n]
    names = list(dict.fromkeys(names))
    blocks = "; ".join(_blocks(part, found) for part in hybrid)
    advice = f"add {quoted(names)} to target_modules" if names else "no projection can be adapted"
    left_out = _left_out(ctx, hybrid)
    yield (
        f"{_adapted(found)} of {ctx.model_label()}, but none of its {blocks}{counts_note(ctx)}: "
        f"{advice}{left_out}",
        target_span(ctx),
        extend_list_fix(ctx, names, "Adapt the hybrid blocks") if names else None,
    )


def addable(ctx: Context, part: Part) -> list[str]:
    """Leaf names of a hybrid block's Linear projections that an adapter really reaches: not the
    modules PEFT refuses on its Mamba types, nor those whose weight the mixer reads directly."""
    out = []
    for rel in part.linears():
        leaf = rel.rpartition(".")[2]
        if leaf in MAMBA_INCOMPATIBLE and ctx.view.model_type in MAMBA_MODEL_TYPES:
            continue
        if any(leaf in DIRECT_WEIGHT_READS.get(cls, ()) for cls in part.classes):
            continue
        out.append(leaf)
    return out


def _left_out(ctx: Context, hybrid: list[Part]) -> str:
    dropped = sorted(
        {rel.rpartition(".")[2] for part in hybrid for rel in part.linears()}
        - {n for part in hybrid for n in addable(ctx, part)}
    )
    if not dropped:
        return ""
    why = (
        f"PEFT refuses them on {ctx.view.model_type}"
        if ctx.view.model_type in MAMBA_MODEL_TYPES
        else "the mixer reads their weights directly, bypassing an adapter"
    )
    return f" (not {quoted(dropped)}: {why})"


def _blocks(part: Part, found: BlockParts) -> str:
    return (
        f"{part.kind} blocks in {len(part.layers)} of {found.layers} layers ({'/'.join(part.classes)}: "
        f"{', '.join(rel.rpartition('.')[2] for rel in part.linears())})"
    )


def _adapted(found: BlockParts) -> str:
    """Per block kind: ``the targets adapt attention in 12 of 48 layers, mlp in 48 of 48 layers``."""
    shown = [
        f"{kind} in {len(part.adapted)} of {found.layers} layers"
        for kind, part in found.parts.items()
        if part.adapted
    ]
    return "the targets adapt " + ", ".join(shown)
