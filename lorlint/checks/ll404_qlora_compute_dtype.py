"""LL404 qlora-compute-dtype: a 4-bit ``BitsAndBytesConfig`` whose compute dtype makes QLoRA slow
or mismatched: no ``bnb_4bit_compute_dtype`` (float32, silently), float16 compute under a bf16
run; and a note where the quantization type is fp4 rather than the QLoRA paper's nf4."""

from __future__ import annotations

from lorlint.checks import Context, rule
from lorlint.checks.setup import keyword_span

# transformers 5.23's BitsAndBytesConfig parameters: any other keyword is ignored (logged at info).
PARAMETERS = ("load_in_8bit", "load_in_4bit", "llm_int8_threshold", "llm_int8_skip_modules",
              "llm_int8_enable_fp32_cpu_offload", "llm_int8_has_fp16_weight",
              "bnb_4bit_compute_dtype", "bnb_4bit_quant_type", "bnb_4bit_use_double_quant",
              "bnb_4bit_quant_storage")  # fmt: skip
COMPUTE = "bnb_4bit_compute_dtype"


@rule(
    "LL404",
    "qlora-compute-dtype",
    "warning",
    "a 4-bit BitsAndBytesConfig computing in float32 (no compute dtype) or float16 under bf16",
    sites="setup",
)
def check(ctx: Context):
    site = ctx.site
    if site.kind != "quant-config" or site.get("load_in_4bit") is not True or site.has("**"):
        return
    dtype = site.facts.get("compute_dtype")
    if dtype == "":  # not passed: transformers' default is torch.float32
        misspelt = [k for k in site.keywords if k not in PARAMETERS and _close(k)]
        if misspelt:
            yield (
                f"{misspelt[0]}= is not a BitsAndBytesConfig parameter: it is ignored and the "
                f"compute dtype stays float32, so every 4-bit matmul runs in float32 "
                f"(bitsandbytes' slow path, with no warning); did you mean {COMPUTE}=?",
                keyword_span(site, misspelt[0]),
            )
        else:
            yield (
                f"no {COMPUTE}: it defaults to torch.float32, so every 4-bit matmul runs in "
                f"float32 (bitsandbytes' slow path, with no warning) even when the model is "
                f"loaded in bfloat16; pass {COMPUTE}=torch.bfloat16 (torch.float16 on GPUs "
                f"without bfloat16)",
                site.span,
            )
    elif dtype == "float16" and site.facts.get("train_precision") == "bf16":
        yield (
            f"{COMPUTE} is float16 while the training arguments set bf16=True: the 4-bit "
            f"matmuls run in float16 inside a bfloat16 run (float16's range overflows where "
            f"bfloat16's does not); pass {COMPUTE}=torch.bfloat16",
            keyword_span(site, COMPUTE),
        )
    quant = site.keywords.get("bnb_4bit_quant_type")
    if quant is None or quant.value == "fp4":
        written = (
            'bnb_4bit_quant_type="fp4"' if quant else 'no bnb_4bit_quant_type: it defaults to "fp4"'
        )
        yield (
            f'{written}, where the QLoRA paper quantizes to 4-bit NormalFloat, "nf4" (suited to '
            f'normally distributed weights): pass bnb_4bit_quant_type="nf4"',
            keyword_span(site, "bnb_4bit_quant_type"),
            None,
            "info",
        )


def _close(keyword: str) -> bool:
    import difflib

    return bool(difflib.get_close_matches(keyword, [COMPUTE], n=1, cutoff=0.8))
