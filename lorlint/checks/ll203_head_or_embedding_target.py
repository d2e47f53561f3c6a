"""LL203 head-or-embedding-target: the output head or an embedding is adapted."""

from __future__ import annotations

from lorlint import fixes
from lorlint.checks import Context, rule
from lorlint.checks.targets import stable
from lorlint.models.table import LayerTable, once_per_table
from lorlint.models.unsloth import deliberate


@rule(
    "LL203",
    "head-or-embedding-target",
    "warning",
    "lm_head or an embedding is targeted",
    fixes=("unsafe",),
)
def check(ctx: Context):
    table, result = ctx.table, ctx.adapted
    if result is None:
        return
    hit = stable(ctx, _heads_and_embeddings(table).intersection(result.modules))
    if not hit:
        return
    value = ctx.site.keywords["target_modules"]
    index = {e.value: i for i, e in enumerate(value.elements or []) if isinstance(e.value, str)}
    for name in sorted(hit):
        leaf = name.rpartition(".")[2]
        if deliberate(ctx.site, leaf):
            continue  # Unsloth's continued-pretraining recipe lists them on purpose
        key = leaf if leaf in index else name
        i = index.get(key)
        span = value.elements[i].span if i is not None else value.span
        fix = fixes.drop_element(value, i, f'Remove "{key}"', "unsafe") if i is not None else None
        role = "output head" if name == table.output_embedding else "embedding"
        tied = " (tied to the input embedding)" if table.tied_embeddings else ""
        yield (
            f'"{name}" is the {role}{tied}: adapting it is rarely intended and makes the '
            "adapter large; to train it fully, list it in modules_to_save instead",
            span,
            fix,
        )


@once_per_table
def _heads_and_embeddings(table: LayerTable) -> frozenset[str]:
    """The embeddings and the output head of a table (once per table: every site asks)."""
    special = {m.name for m in table.modules if m.kind == "embedding"}
    if table.output_embedding:
        special.add(table.output_embedding)
    return frozenset(special)
