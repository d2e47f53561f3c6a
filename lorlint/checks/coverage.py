"""Helpers LL201, LL209 and LL210 share: which kinds of block parts PEFT's adapter reaches.

The three rules split the work so that together they never call a config "attention only" when
experts or hybrid blocks are adapted, and never stay silent when they are not: LL201 speaks about
the dense MLP, LL209 about routed experts, LL210 about Mamba / linear-attention blocks.
"""

from __future__ import annotations

from lorlint import fixes
from lorlint.checks import Context
from lorlint.fixes import Edit, Fix
from lorlint.models.layerkinds import BlockParts, coverage
from lorlint.models.match import MOE_FUSED_TARGETS, MOE_TARGET_MODULE_MAPPING
from lorlint.site import Span


def parts(ctx: Context) -> BlockParts | None:
    """Block parts with what PEFT adapts (None: unknown, PEFT raises, or no blocks)."""
    result = ctx.adapted
    if result is None or not (result.modules or result.parameters):
        return None
    return coverage(ctx.table, result.modules, result.parameters)


def kinds_reached(ctx: Context, found: BlockParts) -> set[str]:
    """Kinds of every adapted module and parameter; ``other`` for those outside the main blocks."""
    result = ctx.adapted
    names = [*result.modules, *result.parameters]
    return {found.kind_of.get(name, "other") for name in names}


def conversion_family(ctx: Context) -> str | None:
    """The MoE family PEFT converts v4 expert names for on this model (transformers 5), if any."""
    family = ctx.table.meta.get("moe_conversion")
    return family if family in MOE_TARGET_MODULE_MAPPING else None


def converted_names(family: str) -> list[str]:
    """The v4 expert names PEFT rewrites to target parameters (the router's ``gate`` left out)."""
    return [old for old in MOE_TARGET_MODULE_MAPPING[family] if old != "gate"]


def fused_rank_patterns(parameters: list[str], r: int, alpha: int) -> tuple[dict, dict]:
    """The rank/alpha_pattern PEFT's conversion sets for fused expert pairs (``gate_up_proj``:
    twice the rank and alpha, so that each half keeps ``r`` and ``alpha / r``)."""
    fused = {new: len(old) for family in MOE_FUSED_TARGETS.values() for new, old in family.items()}
    ranks, alphas = {}, {}
    for name in parameters:
        leaf = name.rpartition(".")[2]
        if leaf in fused:
            key = rf".*\.{leaf}"
            ranks[key], alphas[key] = r * fused[leaf], alpha * fused[leaf]
    return ranks, alphas


def spec_numbers(ctx: Context) -> tuple[int, int]:
    spec = ctx.spec
    return (spec.r, spec.lora_alpha) if spec is not None else (8, 8)


def target_span(ctx: Context) -> Span:
    value = ctx.site.keywords.get("target_modules")
    return value.span if value is not None and value.span is not None else ctx.site.span


def extend_list_fix(ctx: Context, names: list[str], message: str) -> Fix | None:
    """Unsafe: the ``target_modules`` list literal with ``names`` appended."""
    value = ctx.site.keywords.get("target_modules")
    if value is None or not isinstance(value.value, list):
        return None
    current = [v for v in value.value if isinstance(v, str)]
    if len(current) != len(value.value):
        return None
    quote = next((e.quote for e in (value.elements or [])), value.quote)
    literal = fixes.list_literal(current + [n for n in names if n not in current], quote)
    return fixes.replace(value, literal, f"{message}: {literal}", "unsafe")


def add_keyword_fix(ctx: Context, keyword: str, literal: str, message: str) -> Fix | None:
    """Unsafe: insert ``, keyword=literal`` after ``target_modules=[...]`` in the call itself (not
    through a name, not when the call already passes ``keyword``, PEFT configs in Python only)."""
    value = ctx.site.keywords.get("target_modules")
    if (
        keyword in ctx.site.keywords
        or "**" in ctx.site.keywords
        or ctx.site.kind != "peft-config"
        or not fixes.fixable(value)
        or value.bound_to is not None
    ):
        return None
    end = Span(value.span.end_row, value.span.end_col, value.span.end_row, value.span.end_col)
    return Fix("unsafe", message, (Edit(end, f", {keyword}={literal}"),))
