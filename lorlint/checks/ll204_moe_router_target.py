"""LL204 moe-router-target: an MoE router is adapted (``["gate"]`` hits the router, not gate_proj)."""

from __future__ import annotations

from lorlint.checks import Context, rule
from lorlint.checks.targets import counted, entries, stable
from lorlint.models.table import LayerTable


def routers(table: LayerTable) -> set[str]:
    """Modules that route tokens to experts: a ``gate``/``router`` beside an ``experts`` module."""
    names = {m.name for m in table.modules}
    out = set()
    for m in table.modules:
        parent = m.name.rpartition(".")[0]
        if "router" in m.cls.lower() or (
            m.leaf in ("gate", "router") and f"{parent}.experts" in names
        ):
            out.add(m.name)
    return out


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
    yield (
        f'the targets adapt the MoE router "{leaf}" in {counted(ctx, len(hit))} layers of {ctx.model_label()} '
        "(a router picks experts; adapting it destabilises routing and leaves the experts "
        "untouched); target the expert projections instead",
        span,
    )
