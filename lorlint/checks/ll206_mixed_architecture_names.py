"""LL206 mixed-architecture-names: with no model known, names from architectures that never meet."""

from __future__ import annotations

from functools import lru_cache

from lorlint.checks import Context, rule
from lorlint.checks.targets import entries, looks_like_pattern
from lorlint.models import catalog


@rule("LL206", "mixed-architecture-names", "warning", "target names mix architectures' conventions")
def check(ctx: Context):
    if ctx.table is not None:
        return
    names = [e for e in entries(ctx) if not looks_like_pattern(e.value)]
    if len(names) < 2:
        return  # names from two architectures take two entries
    owners = {e.value: set(_owners(e.value)) for e in names}
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


@lru_cache(maxsize=4096)
def _owners(leaf: str) -> frozenset[str]:
    """The architectures that have a module named ``leaf`` (once per name and process: the
    same names come back in config after config)."""
    return catalog.leaf_owners(leaf)
