"""LL401 kbit-prepare-after-peft: ``prepare_model_for_kbit_training`` on a model that already
carries the adapter. PEFT's function sets ``requires_grad=False`` on every parameter it is given,
the LoRA weights included (peft/utils/other.py; trl#3926), so nothing trains: 0 trainable
parameters in that order, > 0 in the other (tests/test_qlora_proofs.py).

The safe fix moves the prepare statement above the wrapping one where that is provably all it
changes (lorlint/frontends/moves.py); elsewhere the message says what to move."""

from __future__ import annotations

from lorlint.checks import Context, rule
from lorlint.checks.flow import PREPARE, on_wrapped, step_span
from lorlint.fixes import Move
from lorlint.site import Span


@rule(
    "LL401",
    "kbit-prepare-after-peft",
    "error",
    "prepare_model_for_kbit_training after get_peft_model: every parameter frozen",
    fixes=("safe",),
    sites="both",
)
def check(ctx: Context):
    for wrapped, step in on_wrapped(ctx.site):
        if step.call in PREPARE:
            yield (
                f"{step.call}() after {wrapped.call} (line {wrapped.row}) sets "
                f"requires_grad=False on every parameter, the LoRA weights included: nothing "
                f"trains (0 trainable parameters); move it before {wrapped.call} (line "
                f"{wrapped.row}), onto the base model",
                step_span(step),
                _fix(ctx, wrapped, step),
            )
            return


def _fix(ctx: Context, wrapped, step) -> Move | None:
    move = step.detail.get("move")
    if move is None or move["row"] != wrapped.row or ctx.site.path.endswith(".ipynb"):
        return None
    return Move(
        "safe",
        f"Move {step.call}() before {wrapped.call} (line {wrapped.row})",
        move["row"],
        Span(*move["cut"]),
        move["seen"],
    )
