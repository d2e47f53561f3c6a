"""LL601 merge-into-quantized: ``merge_and_unload()`` on a model loaded in 4/8-bit or with GPTQ.
PEFT merges LoRA into bitsandbytes weights by dequantizing, adding and quantizing again, and warns
"may get different generations due to rounding errors" (peft/tuners/lora/bnb.py; observed in
tests/test_qlora_proofs.py); on a GPTQ model it raises ValueError (peft/tuners/tuners_utils.py
``_check_merge_allowed``)."""

from __future__ import annotations

from lorlint.checks import Context, rule
from lorlint.checks.flow import after, load_step, step_span

ADVICE = "reload the base model unquantized (dtype=torch.bfloat16), load the adapter on it and merge there"


@rule(
    "LL601",
    "merge-into-quantized",
    "warning",
    "merge_and_unload() on a model loaded in 4/8-bit (rounding) or GPTQ (raises)",
    sites="both",
)
def check(ctx: Context):
    load = load_step(ctx.site.flow)
    if load is None:
        return
    merge = next((s for s in after(ctx.site, load) if s.call == "merge_and_unload"), None)
    if merge is None:
        return
    quantization = load.detail.get("quantization")
    if quantization in ("4bit", "8bit"):
        yield (
            f"merge_and_unload() on a model loaded in {quantization[0]}-bit (line {load.row}): PEFT "
            f"dequantizes each weight, adds the LoRA update and quantizes it again, warning that "
            f"generations may differ (rounding errors); {ADVICE}",
            step_span(merge),
        )
    elif quantization == "gptq":
        yield (
            f"merge_and_unload() on a GPTQ-quantized model (line {load.row}): PEFT raises "
            f'ValueError ("Cannot merge LORA layers when the model is gptq quantized"); {ADVICE}',
            step_span(merge),
        )
