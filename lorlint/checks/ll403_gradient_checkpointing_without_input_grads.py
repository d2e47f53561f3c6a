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
checkpoints; ``prepare_model_for_kbit_training`` calls it. The model is trained by a custom loop
(an optimizer over its parameters) or by transformers' ``Trainer``, which at ``train()`` calls
``gradient_checkpointing_enable`` with its arguments' ``gradient_checkpointing_kwargs`` when
``gradient_checkpointing=True`` and enables no input grads (4.57.1's ``_inner_training_loop``; a
real 4.57.1 ``Trainer`` run on a ``get_peft_model`` Llama raises "element 0 of tensors does not
require grad" at its first step). TRL's SFTTrainer is read the same way before TRL 0.20: it
enables input grads only for a model it wraps itself until 0.19.1, and for a ``PeftModel`` passed in
from 0.20.0 (real runs on transformers 4.57.1: 0.19.1 raises, 0.20.0 trains). Other trainers,
``Trainer`` subclasses and Unsloth's models are left alone: DPOTrainer enables input grads whenever
it checkpoints (read in TRL 0.8.6, 0.12.2, 0.19.1, 0.24.0); Unsloth replaces the checkpointing and
patches the trainers (not modelled here)."""

from __future__ import annotations

from lorlint.checks import Context, rule
from lorlint.checks.flow import ADAPTERS, PREPARE, load_step, step_span, steps

FIXED_IN = "5.0"  # transformers: enable_input_require_grads for input_ids models (5.0.0 source)
TRL_FIXED_IN = "0.20"  # SFTTrainer prepares a PeftModel passed in too (0.19.1 / 0.20.0 source)
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
    found = _unfed_checkpointing(ctx.site)
    if found is None:
        return
    transformers = ctx.version("transformers")
    fixed = transformers.at_least(FIXED_IN) if transformers is not None else None
    if fixed:
        return
    enabler, trainer = found
    sft = trainer.detail.get("class") == "SFTTrainer"
    trl = ctx.version("trl") if sft else None
    trl_fixed = trl.at_least(TRL_FIXED_IN) if trl is not None else None
    if trl_fixed:
        return  # TRL 0.20's SFTTrainer enables input grads for a model already wrapped
    if fixed is False:
        when = f"with {transformers.label()} (transformers {FIXED_IN} enables them itself)"
    else:
        when = f"before transformers {FIXED_IN}, which enables them itself"
    if sft:
        when += (
            f", and {trl.label()} (TRL {TRL_FIXED_IN} enables them for a model already wrapped)"
            if trl_fixed is False
            else f", and before TRL {TRL_FIXED_IN}, whose SFTTrainer enables them for a model "
            "already wrapped"
        )
    name = trainer.detail.get("class", "Trainer")
    if enabler is trainer:
        what = (
            f"{name} enables reentrant gradient checkpointing at train() (gradient_checkpointing="
            "True without use_reentrant=False)"
        )
        remedy = (
            f"call model.enable_input_require_grads() before the {name}, or pass "
            'gradient_checkpointing_kwargs={"use_reentrant": False} to the training arguments'
        )
    else:
        what = "gradient_checkpointing_enable() is reentrant"
        remedy = REMEDY
    by = name if trainer.call == "trainer" else "optimizer"
    yield (
        f"{what} and nothing enables input grads on this PEFT model {when}: the checkpointed "
        f"layers' inputs do not require grad, so the LoRA weights in them get no gradient when "
        f'the {by} at line {trainer.row} trains it (backward() raises "element 0 of tensors '
        f'does not require grad" when nothing outside those layers trains); {remedy}',
        step_span(enabler),
    )


def _unfed_checkpointing(site):
    """(the step enabling reentrant checkpointing, the step that trains) when a custom loop or
    transformers' ``Trainer`` trains a PEFT model whose checkpointing nothing feeds input grads;
    None otherwise or when unsure."""
    flow = steps(site)
    if any(s.call in PREPARE or s.call == "enable_input_require_grads" for s in flow):
        return None
    load = load_step(flow)
    if _unsloth(site, flow, load):
        return None  # Unsloth replaces the checkpointing and patches the trainers: not modelled
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
            checkpointing = step if _reentrant(step.detail) else None
            if step.detail.get("use_reentrant") is None:
                return None
        elif step.call == "trainer":
            return _trainer_checkpointing(step, checkpointing) if wrapped else None
        elif step.call == "optimizer":
            return (checkpointing, step) if wrapped and checkpointing is not None else None
    return None


def _trainer_checkpointing(trainer, checkpointing):
    """transformers' ``Trainer`` calls ``gradient_checkpointing_enable`` with its arguments'
    kwargs at ``train()`` when ``gradient_checkpointing=True`` (4.57.1's ``_inner_training_loop``)
    and leaves the model's checkpointing alone otherwise. TRL's trainers (no
    ``gradient_checkpointing`` in the step) enable input grads themselves: None."""
    enabled = trainer.detail.get("gradient_checkpointing")
    if enabled is None:
        return None
    if enabled:
        return (trainer, trainer) if _reentrant(trainer.detail) else None
    return (checkpointing, trainer) if checkpointing is not None else None


def _unsloth(site, flow, load) -> bool:
    """A model loaded or wrapped by Unsloth (``FastLanguageModel``, ``FastModel``...; only its
    ``get_peft_model`` takes ``use_gradient_checkpointing``)."""
    if (site.callee or "").startswith("unsloth.") or (
        load is not None and (load.detail.get("loader") or "").startswith("Fast")
    ):
        return True
    return any("use_gradient_checkpointing" in s.detail for s in flow if s.call in ADAPTERS)


def _reentrant(detail) -> bool:
    return detail.get("use_reentrant") in (True, "default")
