"""LL402 kbit-prepare-unquantized: ``prepare_model_for_kbit_training`` on a model loaded in
float16 / bfloat16 without 4/8-bit quantization. PEFT's function casts every float16 / bfloat16
parameter that is not a ``Params4bit`` to float32 (peft/utils/other.py; peft#1149, observed in
tests/test_qlora_proofs.py), doubling the model's memory, and enables gradient checkpointing only
for quantized models."""

from __future__ import annotations

from lorlint.checks import Context, rule
from lorlint.checks.flow import PREPARE, after, load_step, step_span

HALF = ("bfloat16", "float16")
AUTO_FROM = "5.0"  # transformers 5's from_pretrained defaults dtype to "auto" (4.x: float32)


@rule(
    "LL402",
    "kbit-prepare-unquantized",
    "warning",
    "prepare_model_for_kbit_training on a model loaded without 4/8-bit quantization",
    sites="both",
)
def check(ctx: Context):
    load = load_step(ctx.site.flow)
    if load is None or load.detail.get("quantization") != "":
        return  # quantized, or not known to be unquantized
    prepare = next((s for s in after(ctx.site, load) if s.call in PREPARE), None)
    if prepare is None:
        return
    dtype = _dtype(ctx, load.detail.get("dtype"))
    if dtype is None:
        return
    yield (
        f"{prepare.call}() on a model loaded without 4/8-bit quantization (line {load.row}, "
        f"{dtype}): it casts every {dtype.split(' ')[0]} parameter to float32, doubling the "
        f"model's memory, and turns on gradient checkpointing only for quantized models; call "
        f"model.gradient_checkpointing_enable() and model.enable_input_require_grads() instead",
        step_span(prepare),
    )


def _dtype(ctx: Context, written) -> str | None:
    """How the model's parameters come out in half precision, in words; None when they may not."""
    if written in HALF:
        return written
    if written not in ("auto", ""):
        return None
    view = ctx.view
    if view is None or not view.exact:
        return None
    config = view.resolved.config or {}
    stored = config.get("dtype") or config.get("torch_dtype")
    if stored not in HALF:
        return None
    if written == "auto":
        return f'{stored} from the checkpoint\'s config, dtype="auto"'
    transformers = ctx.version("transformers")
    if transformers is None or not transformers.at_least(AUTO_FROM):
        return None
    return f"{stored}: {transformers.label()} loads the checkpoint's dtype by default"
