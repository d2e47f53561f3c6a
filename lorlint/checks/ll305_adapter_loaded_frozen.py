"""LL305 adapter-loaded-frozen: ``PeftModel.from_pretrained(...)`` (or an ``AutoPeftModelFor*``)
without ``is_trainable=True``, whose model is then trained. PEFT loads a saved adapter in
inference mode unless told otherwise: every LoRA weight has ``requires_grad=False`` (peft#282;
observed in tests/test_qlora_proofs.py), and neither transformers' Trainer nor TRL's trainers
turn it back on."""

from __future__ import annotations

from lorlint.checks import Context, rule
from lorlint.checks.flow import ADAPTERS, LOAD_ADAPTER, TRAINED, after, load_step
from lorlint.fixes import Edit, Fix
from lorlint.site import Span


@rule(
    "LL305",
    "adapter-loaded-frozen",
    "error",
    "an adapter loaded without is_trainable=True, then trained: it stays frozen",
    fixes=("safe",),
    sites="setup",
)
def check(ctx: Context):
    site = ctx.site
    if site.kind != "adapter-load" or site.has("**"):
        return
    if site.get("is_trainable", False) is not False:
        return  # True, or a value lorlint cannot read
    if site.callee == LOAD_ADAPTER:
        yield from _load_adapter(site)
        return
    for step in after(site, site.span):
        if step.call in ADAPTERS:
            return  # another adapter on it: not this rule's question
        if step.call == "trainer" and step.detail.get("peft_config") is not False:
            return  # a trainer given a peft_config too: LL303
        if step.call in TRAINED:
            what = step.detail.get("class") or step.call
            yield (
                f"the adapter is loaded without is_trainable=True, so PEFT loads it in inference "
                f"mode (requires_grad=False on every LoRA weight), and {what} (line {step.row}) "
                f"trains it: nothing trains; pass is_trainable=True",
                site.span,
                _fix(site),
            )
            return


# What gives a frozen adapter loaded by transformers' load_adapter its gradients back
# (BaseTunerLayer.set_adapter sets requires_grad=True; tests/test_qlora_proofs.py).
REENABLE = ("set_adapter", "enable_adapters", *ADAPTERS)
TRANSFORMERS_TRAINERS = ("Trainer", "Seq2SeqTrainer")  # they leave requires_grad as it is


def _load_adapter(site):
    """``model.load_adapter(path)`` on a model transformers loaded (PeftAdapterMixin: the tuner
    layers are frozen, requires_grad_(False)), then trained by transformers' Trainer or an
    optimizer over its parameters. PEFT's ``PeftModel.load_adapter`` (the model already wraps an
    adapter) is not this: the new adapter stays inactive, the active one trains."""
    load = load_step(site.flow)
    loader = load.detail.get("loader") or "" if load is not None else ""
    if not loader.startswith("Auto") or "Peft" in loader:
        return  # not known to be a transformers model
    here = (site.span.row, site.span.col)
    if any(s.call in ADAPTERS for s in site.flow if (s.row, s.col) < here):
        return  # a PeftModel: PEFT's load_adapter
    for step in after(site, site.span):
        if step.call in REENABLE or step.call == "load_adapter":
            return
        if step.call == "optimizer" or (
            step.call == "trainer" and step.detail.get("class") in TRANSFORMERS_TRAINERS
        ):
            what = step.detail.get("class") or step.call
            yield (
                f"load_adapter() without is_trainable=True loads the adapter in inference mode "
                f"(transformers sets requires_grad=False on every LoRA layer), and {what} (line "
                f"{step.row}) trains the model: nothing trains; pass is_trainable=True",
                site.span,
                _fix(site),
            )
            return
        if step.call in TRAINED:
            return  # another trainer: lorlint has not proven what it does to requires_grad


def _fix(site) -> Fix | None:
    """``is_trainable=False`` becomes ``True``; else ``, is_trainable=True`` after the last
    argument (a call with no comment among its arguments)."""
    if "is_trainable" in site.keywords:
        value = site.keywords["is_trainable"]
        if value.span is None:
            return None
        return Fix("safe", "Pass is_trainable=True", known_edits=(Edit(value.span, "True"),))
    if not site.arguments or not all(a.clean for a in site.arguments):
        return None
    last = site.arguments[-1].span
    at = Edit(Span(last.end_row, last.end_col, last.end_row, last.end_col), ", is_trainable=True")
    return Fix("safe", "Pass is_trainable=True", known_edits=(at,))
