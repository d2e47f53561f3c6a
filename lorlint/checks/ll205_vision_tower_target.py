"""LL205 vision-tower-target: a VLM's vision encoder or projector is adapted too."""

from __future__ import annotations

from lorlint.checks import Context, rule
from lorlint.checks.targets import counted, stable, tower_of
from lorlint.models import llama_factory
from lorlint.models.layerkinds import tower_modules
from lorlint.models.unsloth import vision_overridden, vision_requested


@rule("LL205", "vision-tower-target", "warning", "the targets also adapt the vision tower")
def check(ctx: Context):
    table, result = ctx.table, ctx.adapted
    if result is None or vision_requested(ctx.site) or llama_factory.vision_requested(ctx.site):
        return  # Unsloth's finetune_vision_layers (on by default in FastVisionModel) or
        # LLaMA-Factory's freeze_vision_tower=false asks for it
    towers = tower_modules(table)  # (the adapted modules are the table's)
    if not towers:
        return
    counts: dict[str, int] = {}
    for name in stable(ctx, [n for n in result.modules if n in towers]):
        tower = tower_of(name)
        counts[tower] = counts.get(tower, 0) + 1
    if not counts:
        return
    language = sorted({n.rpartition(".")[2] for n in result.modules if n not in towers})
    n_language = sum(1 for n in result.modules if n not in towers)
    has_lm = any("language_model" in m.name for m in table.modules)
    fix = (
        f'; to adapt only the language model use target_modules=r".*language_model.*\\.'
        f'({"|".join(language)})"'
        if has_lm and language
        else ""
    )
    if vision_overridden(ctx.site):
        fix = (
            '; Unsloth\'s target_modules="all-linear" switches every finetune_* flag on, '
            "overriding finetune_vision_layers=False: leave target_modules out and the flags "
            "choose the layers"
        )
    where = ", ".join(f"{counted(ctx, n)} in {t}" for t, n in sorted(counts.items()))
    value = ctx.site.keywords.get("target_modules")
    yield (
        f"the targets adapt {where} besides {counted(ctx, n_language)} language-model modules of "
        f"{ctx.model_label()}{fix}",
        value.span if value is not None else ctx.site.span,
    )
