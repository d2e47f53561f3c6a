"""Helpers LL201, LL209 and LL210 share: which kinds of block parts PEFT's adapter reaches.

Together they never call a config "attention only" when experts or hybrid blocks are adapted, and
never stay silent when they are not: LL201 reports an explicit list that reaches attention only
(and gives the dense MLP's names), LL209 the routed experts left frozen, LL210 the Mamba /
linear-attention blocks left frozen — also under "all-linear", which LL201 leaves to them.
"""

from __future__ import annotations

from lorlint import fixes
from lorlint.checks import Context
from lorlint.models.layerkinds import BlockParts, coverage, is_attention
from lorlint.models.match import MOE_FUSED_TARGETS, MOE_TARGET_MODULE_MAPPING
from lorlint.site import Span


def parts(ctx: Context) -> BlockParts | None:
    """Block parts with what PEFT adapts (None: unknown, PEFT raises, or no blocks); computed once
    per site for the three rules."""
    if "coverage" not in ctx.shared:
        result = ctx.adapted
        found = None
        if result is not None and (result.modules or result.parameters):
            found = coverage(ctx.table, result.modules, result.parameters)
        ctx.shared["coverage"] = found
    return ctx.shared["coverage"]


def kinds_reached(ctx: Context, found: BlockParts) -> set[str]:
    """Kinds of every adapted module and parameter. Outside the main block stack, attention counts
    as attention — a vision tower's (LL205 speaks about towers) and an encoder-decoder's other
    stack's (Whisper's decoder self- and cross-attention) — and anything else as ``other``."""
    result = ctx.adapted
    names = [*result.modules, *result.parameters]
    kinds = set(map(found.kind_of.get, names))  # (no kind is None: None marks the others)
    if None in kinds:
        kinds.discard(None)
        for name in names:
            if name not in found.kind_of:
                kinds.add("attention" if is_attention(ctx.table, name) else "other")
    return kinds


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


def spec_numbers(ctx: Context) -> tuple[int, int] | None:
    """The config's rank and alpha (PEFT's defaults when absent); None when not known."""
    if not ctx.site.rank_known:
        return None
    spec = ctx.spec
    return (spec.r, spec.lora_alpha) if spec is not None else (8, 8)


def asks_all_linear(site) -> bool:
    """The config asks for every Linear: ``"all-linear"`` (LLaMA-Factory's ``all`` reads as it),
    or axolotl's ``lora_target_linear: true``."""
    target = site.get("target_modules")
    return (isinstance(target, str) and target.lower() == "all-linear") or (
        site.get("lora_target_linear") is True
    )


def target_span(ctx: Context) -> Span:
    """Where the targets are written: ``target_modules``, axolotl's ``lora_target_linear``, or
    the config itself."""
    for key in ("target_modules", "lora_target_linear"):
        value = ctx.site.keywords.get(key)
        if value is not None and value.span is not None:
            return value.span
    return ctx.site.span


def extend_list_fix(ctx: Context, names: list[str], message: str):
    """Unsafe: ``names`` appended to the ``target_modules`` list display (entries kept)."""
    value = ctx.site.keywords.get("target_modules")
    if value is None or value.elements is None or not isinstance(value.value, list):
        return None
    current = [v for v in value.value if isinstance(v, str)]
    wanted = current + [n for n in names if n not in current]
    return fixes.rewrite_list(value, wanted, f"{message}: ", "unsafe")
