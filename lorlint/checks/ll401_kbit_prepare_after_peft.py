"""LL401 kbit-prepare-after-peft: ``prepare_model_for_kbit_training`` on a model that already
carries the adapter. PEFT's function sets ``requires_grad=False`` on every parameter it is given,
the LoRA weights included (peft/utils/other.py; trl#3926), so nothing trains: 0 trainable
parameters in that order, > 0 in the other (tests/test_qlora_proofs.py)."""

from __future__ import annotations

from lorlint.checks import Context, rule
from lorlint.checks.flow import PREPARE, on_wrapped, step_span


@rule(
    "LL401",
    "kbit-prepare-after-peft",
    "error",
    "prepare_model_for_kbit_training after get_peft_model: every parameter frozen",
    sites="both",
)
def check(ctx: Context):
    for wrapped, step in on_wrapped(ctx.site):
        if step.call in PREPARE:
            yield (
                f"{step.call}() after {wrapped.call} (line {wrapped.row}) sets "
                f"requires_grad=False on every parameter, the LoRA weights included: nothing "
                f"trains (0 trainable parameters); call it on the base model before "
                f"{wrapped.call}",
                step_span(step),
            )
            return
