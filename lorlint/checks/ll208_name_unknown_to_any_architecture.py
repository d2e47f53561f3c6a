"""LL208 name-unknown-to-any-architecture: with no model known, a name no catalogued model has."""

from __future__ import annotations

import difflib
from functools import lru_cache

from lorlint.checks import Context, rule
from lorlint.checks.targets import entries, looks_like_pattern
from lorlint.models import catalog
from lorlint.models.peft_defaults import DEFAULT_TARGET_MODULES


@lru_cache(maxsize=1)
def known_leaves() -> frozenset[str]:
    names: set[str] = set()
    for leaves in catalog.leaf_names_by_model_type().values():
        names |= leaves
    for default in DEFAULT_TARGET_MODULES.values():  # PEFT's own defaults (MPT's Wqkv, ...)
        if isinstance(default, list):
            names.update(default)
    return frozenset(names)


@rule(
    "LL208",
    "name-unknown-to-any-architecture",
    "warning",
    "a target name exists in no catalogued architecture",
)
def check(ctx: Context):
    if ctx.table is not None:
        return
    known = known_leaves()
    for element in entries(ctx):
        entry = element.value
        if looks_like_pattern(entry) or entry.rpartition(".")[2] in known:
            continue
        close = difflib.get_close_matches(entry, sorted(known), n=2, cutoff=0.75)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        yield f'"{entry}" is a module name in no catalogued architecture{hint}', element.span
