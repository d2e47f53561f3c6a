"""What the issue #14 rules read in a model's flow (``Site.flow``, lorlint/frontends/flow.py)."""

from __future__ import annotations

from collections.abc import Iterator

# the step names the front end records, re-exported for the rules
from lorlint.frontends.flow import ADAPTERS as ADAPTERS
from lorlint.frontends.flow import PREPARE as PREPARE
from lorlint.site import Span, Step

TRAINED = ("trainer", "optimizer")
LOAD_ADAPTER = "load_adapter"  # the callee of a ``model.load_adapter(...)`` site


def step_span(step: Step) -> Span:
    """The span of a step's call."""
    return Span(step.row, step.col, step.end_row, step.end_col)


def load_step(flow: list[Step]) -> Step | None:
    return next((s for s in flow if s.call == "load"), None)


def after(site, anchor) -> list[Step]:
    """The steps of ``site.flow`` that start after ``anchor`` (a Step or a Span)."""
    key = (anchor.row, anchor.col)
    return [s for s in site.flow if (s.row, s.col) > key]


def steps(site) -> list[Step]:
    """``site.flow`` with, for an adapter site, its own ``PeftModel.from_pretrained`` step (the
    flow records it only when it can follow the base model the adapter is loaded onto)."""
    if site.kind != "adapter-load" or site.callee == LOAD_ADAPTER:
        return site.flow  # ``model.load_adapter`` is a step of its own flow
    span = site.span
    here = (span.row, span.col)
    flow = [s for s in site.flow if not (s.call in ADAPTERS and (s.row, s.col) == here)]
    trainable = site.get("is_trainable", False) if "**" not in site.keywords else None
    own = Step("PeftModel.from_pretrained", *here, span.end_row, span.end_col,
               {"is_trainable": trainable})  # fmt: skip
    return sorted([*flow, own], key=lambda s: (s.row, s.col))


def on_wrapped(site) -> Iterator[tuple[Step, Step]]:
    """(the call that added the adapter, a later step) for each step taken while the model carries
    an adapter: from ``get_peft_model`` / ``PeftModel.from_pretrained`` to a ``merge_and_unload``."""
    wrapped = None
    for step in steps(site):
        if step.call in ADAPTERS:
            wrapped = step
        elif step.call == "merge_and_unload":
            wrapped = None
        elif wrapped is not None:
            yield wrapped, step
