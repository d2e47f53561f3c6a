"""LL204 moe-router-target: an MoE router is adapted (``["gate"]`` hits the router, not gate_proj)."""

from __future__ import annotations

from lorlint.checks import Context, rule
from lorlint.checks.targets import counted, entries, stable
from lorlint.models.layerkinds import expert_stacks, routers
from lorlint.models.match import entry_matches


@rule("LL204", "moe-router-target", "warning", "an MoE router is targeted")
def check(ctx: Context):
    # A router adapted is as true when PEFT raises only on lora_dropout (LL110 says that part).
    table, result = ctx.table, ctx.once_dropout_is_zero
    if result is None:
        return
    found = routers(table)
    if not found:
        return
    hit = found.intersection(result.modules)
    hit |= {p.rpartition(".")[0] for p in result.parameters} & found
    hit = stable(ctx, hit)
    if not hit:
        return
    example = sorted(hit)[0]
    leaf = example.rpartition(".")[2]
    value = ctx.site.keywords.get("target_modules")
    # the entry naming the router, as written ("gate", "mlp.gate")
    span = next((e.span for e in entries(ctx) if e.span and entry_matches(e.value, example)), None)
    span = span or (value.span if value is not None else ctx.site.span)
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
