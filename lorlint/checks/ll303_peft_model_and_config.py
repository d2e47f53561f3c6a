"""LL303 peft-model-and-config: a model get_peft_model already wrapped, handed to a TRL trainer
together with ``peft_config=``. TRL 0.27 raises (trl PR 4713); before, the trainer merged the
adapter away and trained a new one (0.22-0.26), wrapped the model twice (0.20-0.21) or ignored
``peft_config`` (up to 0.19) — read in TRL's sft_trainer.py at each tag."""

from __future__ import annotations

from lorlint.checks import Context, rule
from lorlint.checks.flow import on_wrapped, step_span

RAISES_FROM = "0.27"  # trl PR 4713 (bb5cd8a): "Disallow PeftModel + peft_config in trainers"


@rule(
    "LL303",
    "peft-model-and-config",
    "error",
    "a model get_peft_model already wrapped, passed to a TRL trainer with peft_config",
    sites="both",
)
def check(ctx: Context):
    for wrapped, step in on_wrapped(ctx.site):
        if step.call == "trainer" and step.detail.get("peft_config"):
            yield from _finding(ctx, wrapped, step)
            return


def _finding(ctx: Context, wrapped, trainer):
    what = (
        f"{trainer.detail.get('class') or 'the trainer'} gets a model {wrapped.call} already "
        f"wrapped (line {wrapped.row}), and peft_config= as well"
    )
    trl = ctx.version("trl")
    raises = trl.at_least(RAISES_FROM) if trl is not None else None
    span = step_span(trainer)
    if raises:
        yield (
            f'{what}: {trl.label()} raises ValueError ("You passed a `PeftModel` instance together '
            f'with a `peft_config`"); pass the base model with peft_config, or drop peft_config',
            span,
        )
    elif raises is False:
        yield (
            f"{what}: TRL {RAISES_FROM} raises on it, and {trl.label()} merges, re-wraps or "
            f"ignores the first adapter; pass the base model with peft_config, or drop peft_config",
            span,
            None,
            "warning",
        )
    else:
        yield (
            f"{what}: TRL {RAISES_FROM} and later raise ValueError; earlier versions merge the "
            f"adapter away and train a new one (0.22-0.26), wrap it twice (0.20-0.21) or ignore "
            f"peft_config; pass the base model with peft_config, or drop peft_config",
            span,
        )
