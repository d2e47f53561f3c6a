"""LL212 conversion-skips-dense-layers: PEFT's MoE conversion takes a name away from the dense
MLP layers and shared experts that carry it too."""

from __future__ import annotations

from lorlint.checks import Context, rule
from lorlint.checks.coverage import target_span
from lorlint.checks.targets import entries, quoted
from lorlint.models.match import entry_matches
from lorlint.models.summary import split_block


@rule("LL212", "conversion-skips-dense-layers", "warning", "MoE conversion skips dense MLP layers")
def check(ctx: Context):
    result = ctx.adapted
    if result is None or not result.converted:
        return
    adapted = set(result.modules) | {p.rpartition(".")[0] for p in result.parameters}
    left: dict[str, list[str]] = {}
    for entry in result.converted:
        for m in ctx.table.modules:
            if m.kind and m.name not in adapted and entry_matches(entry, m.name):
                left.setdefault(entry, []).append(m.name)
    if not left:
        return
    written = [e.value for e in entries(ctx)]  # the user's order; resolved names sorted after
    names = sorted(left, key=lambda n: (written.index(n) if n in written else len(written), n))
    params = sorted({result.converted[n] for n in names})
    skipped = [name for found in left.values() for name in found]
    kinds = sorted({(split_block(n) or ("", 0, n))[2] for n in skipped})
    dropout = ctx.spec.lora_dropout if ctx.spec is not None else None
    note = "" if dropout == 0 else " (target parameters need lora_dropout=0)"
    yield (
        f"{quoted(names)} reach only the routed experts of {ctx.model_label()}: PEFT's MoE "
        f"conversion (transformers 5) turns them into target_parameters={quoted(params)}, so the "
        f"{len(skipped)} dense-MLP and shared-expert modules of the same names "
        f"({', '.join(kinds)}) get no adapter; add "
        f"target_parameters={quoted([f'{n.rpartition(chr(46))[2]}.weight' for n in names])} "
        f"to adapt them{note}",
        target_span(ctx),
    )
