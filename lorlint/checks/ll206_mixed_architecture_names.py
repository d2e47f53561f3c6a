"""LL206 mixed-architecture-names: with no model known, names from architectures that never meet."""

from __future__ import annotations

from functools import cache

from lorlint.checks import Context, rule
from lorlint.checks.targets import entries, looks_like_pattern
from lorlint.models import catalog


@rule("LL206", "mixed-architecture-names", "warning", "target names mix architectures' conventions")
def check(ctx: Context):
    if ctx.table is not None:
        return
    names = [e for e in entries(ctx) if not looks_like_pattern(e.value)]
    owners = {e.value: set(_architectures_with_leaf().get(e.value, ())) for e in names}
    known = {n: o for n, o in owners.items() if o}
    if len(known) < 2 or set.intersection(*known.values()):
        return
    first = next(iter(known))
    for element in names:
        other = known.get(element.value)
        if other and not other & known[first]:
            yield (
                f'"{element.value}" ({", ".join(sorted(other)[:3])}) and "{first}" '
                f"({', '.join(sorted(known[first])[:3])}) come from different architectures: "
                "no model has both",
                element.span,
            )
            return


@cache
def _architectures_with_leaf() -> dict[str, frozenset[str]]:
    """Leaf name → the catalogued model types with a module of that name (built once: every
    config with no model known asks about its entries)."""
    found: dict[str, set[str]] = {}
    for model_type, leaves in catalog.leaf_names_by_model_type().items():
        for leaf in leaves:
            found.setdefault(leaf, set()).add(model_type)
    return {leaf: frozenset(types) for leaf, types in found.items()}
