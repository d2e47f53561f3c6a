"""LL110 dropout-with-target-parameters: ``lora_dropout != 0`` while parameters are adapted
(``target_parameters``, or PEFT's own MoE conversion): PEFT's ParamWrapper raises."""

from __future__ import annotations

from lorlint.checks import Context, rule
from lorlint.checks.targets import quoted


@rule(
    "LL110",
    "dropout-with-target-parameters",
    "error",
    "lora_dropout with target_parameters",
)
def check(ctx: Context):
    error = ctx.result.error if ctx.result is not None else None
    if error is None or error.kind != "param-dropout":
        return
    value = ctx.site.keywords.get("lora_dropout")
    how = "target_parameters"
    if ctx.result.converted:
        names = quoted(sorted(ctx.result.converted))
        params = quoted(sorted(set(ctx.result.converted.values())))
        how = f"target parameters: PEFT converts {names} to target_parameters={params}"
        how += f" on {ctx.view.model_type} (transformers 5 fuses the experts)"
    yield (
        f"lora_dropout={ctx.spec.lora_dropout:g} with {how}; get_peft_model raises "
        f"'{error.message}' (dropout cannot be factored out of a parameter's LoRA): set "
        "lora_dropout=0",
        value.span if value is not None and value.span is not None else ctx.site.span,
    )
