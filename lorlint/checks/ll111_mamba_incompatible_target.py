"""LL111 mamba-incompatible-target: ``out_proj`` / ``conv1d`` of a Mamba mixer is targeted.

PEFT refuses both on the Mamba model types it lists; on other hybrids PEFT accepts them although
the mixer reads the same weight directly (lorlint/models/kernel_weights.py), so the adapter on it
is bypassed: a warning there."""

from __future__ import annotations

from lorlint.checks import Context, rule
from lorlint.checks.targets import entries, quoted
from lorlint.models.kernel_weights import DIRECT_WEIGHT_READS
from lorlint.models.layerkinds import hybrid_mixers
from lorlint.models.match import MAMBA_MODEL_TYPES, entry_matches


@rule("LL111", "mamba-incompatible-target", "error", "out_proj / conv1d of a Mamba mixer targeted")
def check(ctx: Context):
    if ctx.result is None:
        return
    error = ctx.result.error
    if error is not None and error.kind == "mamba":
        yield _refused(ctx, error)
    elif ctx.result.ok:
        yield from _bypassed(ctx)


def _span_of(ctx: Context, module: str):
    spans = [e.span for e in entries(ctx) if entry_matches(e.value, module)]
    value = ctx.site.keywords.get("target_modules")
    return spans[0] if spans else (value.span if value is not None else ctx.site.span)


def _exclusion(name: str) -> str:
    """``mamba.out_proj``: the mixer-relative name, precise as an exclude_modules entry."""
    return ".".join(name.split(".")[-2:])


def _advice(ctx: Context, module: str) -> str:
    """A list loses the entry; a regex or "all-linear" gets an exclusion."""
    target = ctx.spec.target_modules if ctx.spec is not None else None
    if isinstance(target, str):
        return f"add exclude_modules={quoted([_exclusion(module)])}"
    return f'remove "{module.rpartition(".")[2]}" from target_modules'


def _refused(ctx: Context, error):
    module = error.modules[0]
    return (
        f"get_peft_model raises on {ctx.view.model_type}: '{error.message}'; "
        f"{_advice(ctx, module)} (Mamba "
        "kernels read that weight directly, so an adapter there would be bypassed)",
        _span_of(ctx, module),
    )


def _bypassed(ctx: Context):
    """Other hybrids: PEFT wraps the module, but its mixer reads the weight itself."""
    if ctx.view.model_type in MAMBA_MODEL_TYPES:
        return
    mixers = hybrid_mixers(ctx.table)
    if not mixers:
        return  # no mixer, no module of one adapted
    hits: dict[tuple[str, str], list[str]] = {}
    for name in ctx.result.modules:
        owner, _, leaf = name.rpartition(".")
        mixer = ctx.table.get(owner) if owner in mixers else None
        if mixer is not None and leaf in DIRECT_WEIGHT_READS.get(mixer.cls, ()):
            hits.setdefault((mixer.cls, leaf), []).append(name)
    for (cls, leaf), names in hits.items():
        yield (
            f'"{leaf}" adapts {cls}.{leaf} in {len(names)} layers of {ctx.model_label()}, but '
            f"{cls} reads {leaf}.weight directly in its fused-kernel path (taken in training "
            "when the mamba_ssm kernel is installed, as on CUDA), bypassing the adapter; PEFT "
            f"refuses this module on {', '.join(MAMBA_MODEL_TYPES)} for that reason: "
            f"{_advice(ctx, names[0])}",
            _span_of(ctx, names[0]),
            None,
            "warning",
        )
