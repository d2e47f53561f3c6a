"""LL403 gradient-checkpointing-without-input-grads: reentrant gradient checkpointing on a model
trained through PEFT, with nothing making the embeddings' output require grad. torch's reentrant
``checkpoint`` records no graph for a segment whose inputs do not require grad, and with the base
frozen they do not: the LoRA weights inside get no gradient (peft#1142; observed in
tests/test_qlora_proofs.py with transformers 4.57.1's checkpointing, replayed).

Where the input grads come from (read in the libraries' source): transformers 4.x's
``gradient_checkpointing_enable`` defaults to ``use_reentrant=True`` and calls
``enable_input_require_grads()`` only for adapters loaded through its own PEFT integration;
transformers 5.0 calls it for every model whose main input is ``input_ids`` (and defaults to
``use_reentrant=False``); ``PeftModel`` calls it when wrapping an unquantized model that already
checkpoints; ``prepare_model_for_kbit_training`` calls it. The rule reads a custom loop (an
optimizer over the model's parameters) only: a ``Trainer`` enables checkpointing again with its
own arguments' ``gradient_checkpointing_kwargs``, and TRL's trainers enable input grads."""

from __future__ import annotations

from lorlint.checks import Context, rule
from lorlint.checks.flow import ADAPTERS, PREPARE, load_step, step_span, steps

FIXED_IN = "5.0"  # transformers: enable_input_require_grads for input_ids models (5.0.0 source)
REMEDY = (
    "call model.enable_input_require_grads() after it, or pass "
    'gradient_checkpointing_kwargs={"use_reentrant": False}'
)


@rule(
    "LL403",
    "gradient-checkpointing-without-input-grads",
    "warning",
    "reentrant gradient checkpointing on a PEFT model without input grads: LoRA gets no gradient",
    sites="both",
)
def check(ctx: Context):
    transformers = ctx.version("transformers")
    fixed = transformers.at_least(FIXED_IN) if transformers is not None else None
    if fixed:
        return
    found = _unfed_checkpointing(ctx.site)
    if found is None:
        return
    if fixed is False:
        when = f"with {transformers.label()} (transformers {FIXED_IN} enables them itself)"
    else:
        when = f"before transformers {FIXED_IN}, which enables them itself"
    yield (
        f"gradient_checkpointing_enable() is reentrant and nothing enables input grads on this "
        f"PEFT model {when}: the checkpointed layers' inputs do not require grad, so the LoRA "
        f"weights in them get no gradient when the optimizer at line {found[1].row} trains "
        f"it; {REMEDY}",
        step_span(found[0]),
    )


def _unfed_checkpointing(site):
    """(the checkpointing step, the optimizer step) when a custom loop trains a PEFT model whose
    reentrant checkpointing nothing feeds input grads; None otherwise or when unsure."""
    flow = steps(site)
    if any(s.call in PREPARE or s.call == "enable_input_require_grads" for s in flow):
        return None
    load = load_step(flow)
    quantization = load.detail.get("quantization") if load is not None else None
    wrapped, checkpointing = False, None
    for step in flow:
        if step.conditional:
            return None  # a branch, loop or try: which calls run is not known
        if step.call in ADAPTERS:
            if checkpointing is not None and quantization not in ("4bit", "8bit"):
                return None  # PeftModel enables input grads (or may: quantization unknown)
            wrapped = True
        elif step.call == "merge_and_unload":
            wrapped = False
        elif step.call == "gradient_checkpointing_enable":
            checkpointing = step if step.detail.get("use_reentrant") in (True, "default") else None
            if step.detail.get("use_reentrant") is None:
                return None
        elif step.call == "trainer":
            return None
        elif step.call == "optimizer":
            return (checkpointing, step) if wrapped and checkpointing is not None else None
    return None
