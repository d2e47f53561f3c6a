"""Which class oumi loads a Hugging Face model with: it decides the module tree PEFT sees.

Read from oumi-ai/oumi (d8ed077, 2026; the same rule at c42f99d, 2025):
``_get_transformers_model_class`` (src/oumi/builders/models.py) takes the model type's entry of
``get_all_models_map()`` (src/oumi/core/configs/internal/supported_models.py) and otherwise
``transformers.AutoModelForCausalLM``. The map lists a few text models and the vision-language
models oumi supports; every other type — Llama 4 and Gemma 3 among them — is loaded as a causal LM
(``Llama4ForCausalLM``: the text model alone, no vision tower).
"""

from __future__ import annotations

LOADER = "oumi"  # Site.loader of an oumi config: the class follows from the model type

# get_all_models_map(): model type → task of its model_class. default_vlm_class is
# AutoModelForImageTextToText on transformers 5 (AutoModelForVision2Seq before).
_VLM = "image-text-to-text"
MODEL_TASKS = {
    "gpt2": "causal-lm",
    "blip-2": _VLM, "blip": _VLM, "chameleon": _VLM, "idefics": _VLM, "idefics2": _VLM,
    "idefics3": _VLM, "instructblip": _VLM, "llava": _VLM, "mllama": _VLM, "paligemma": _VLM,
    "qwen2_vl": _VLM, "qwen2_5_vl": _VLM, "qwen3_vl": _VLM, "qwen3_vl_moe": _VLM,
    "vipllava": _VLM,
    "molmo": "causal-lm", "phi3_v": "causal-lm", "phi4mm": "causal-lm",
    "internvl": _VLM, "muse_glimmer": _VLM,
}  # fmt: skip


def oumi_task(model_type: str) -> str:
    """The task (Auto class) oumi builds ``model_type`` with."""
    return MODEL_TASKS.get(model_type, "causal-lm")
