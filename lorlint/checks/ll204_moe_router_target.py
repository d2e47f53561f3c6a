"""LL204 moe-router-target: an MoE router is adapted (``["gate"]`` hits the router, not gate_proj)."""

from __future__ import annotations

from lorlint.checks import Context, rule
from lorlint.checks.targets import counted, entries, stable
from lorlint.models.layerkinds import expert_stacks, routers


@rule("LL204", "moe-router-target", "warning", "an MoE router is targeted")
def check(ctx: Context):
    table, result = ctx.table, ctx.adapted
    if result is None:
        return
    found = routers(table)
    if not found:
        return
    hit = found & set(result.modules)
    hit |= {p.rpartition(".")[0] for p in result.parameters} & found
    hit = stable(ctx, hit)
    if not hit:
        return
    spans = {e.value: e.span for e in entries(ctx)}
    example = sorted(hit)[0]
    leaf = example.rpartition(".")[2]
    value = ctx.site.keywords.get("target_modules")
    span = spans.get(leaf) or (value.span if value is not None else ctx.site.span)
    owners = {p.rpartition(".")[0] for p in result.parameters}
    experts = {m.name for m in expert_stacks(table)} & owners
    why = "adapting it destabilises routing"
    advice = "target the expert projections instead"
    if experts:  # the experts are adapted too: the router is extra
        advice = "leave it out"
        spec = ctx.spec.target_modules if ctx.spec is not None else None
        if isinstance(spec, str) and leaf in result.converted:
            advice = (
                f'PEFT\'s MoE conversion adds "{leaf}" for a string target: list the linears '
                "instead"
            )
    else:
        why += " and leaves the experts untouched"
    yield (
        f'the targets adapt the MoE router "{leaf}" in {counted(ctx, len(hit))} layers of '
        f"{ctx.model_label()} (a router picks experts; {why}); {advice}",
        span,
    )
