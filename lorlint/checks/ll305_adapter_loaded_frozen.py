"""LL305 adapter-loaded-frozen: ``PeftModel.from_pretrained(...)`` (or an ``AutoPeftModelFor*``)
without ``is_trainable=True``, whose model is then trained. PEFT loads a saved adapter in
inference mode unless told otherwise: every LoRA weight has ``requires_grad=False`` (peft#282;
observed in tests/test_qlora_proofs.py), and neither transformers' Trainer nor TRL's trainers
turn it back on."""

from __future__ import annotations

from lorlint.checks import Context, rule
from lorlint.checks.flow import ADAPTERS, TRAINED, after
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
