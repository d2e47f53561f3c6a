"""LLaMA-Factory's LoRA targets: what ``lora_target`` becomes before PEFT sees it.

Read from hiyouga/LLaMA-Factory (ff6d4d1, August 2026):

- ``lora_target`` defaults to ``all`` and is split on commas (``FinetuningArguments.__post_init__``,
  src/llamafactory/hparams/finetuning_args.py); ``all`` is the exact, single entry ``all``.
- ``all`` is ``find_all_linear_modules`` (src/llamafactory/model/model_utils/misc.py): the leaf
  names of modules whose class name contains ``Linear`` but not ``Embedding``, skipping every
  module whose full name contains ``lm_head`` (chatglm also ``output_layer``, internlm2 ``output``).
  Those leaf names then reach PEFT as a list, so a router that is not a Linear class is never hit,
  while a leaf name shared with a skipped module still matches it there.
- Vision-language models registered as ``COMPOSITE_MODELS`` (src/llamafactory/model/model_utils/
  visual.py) go through ``patch_target_modules`` (substring matching, frozen towers and projectors
  removed, full names): not modelled, so no prediction. Nor is ``use_unsloth`` / ``use_llama_pro``.
"""

from __future__ import annotations

from lorlint.models.table import LayerTable
from lorlint.site import Site

ALL = "all-linear"  # how the front end records ``lora_target: all``
COMPOSITE_MODELS = frozenset({
    "dots_ocr", "gemma3", "gemma3n", "gemma4", "glm4v", "glm4v_moe", "glm_ocr", "internvl",
    "interns1", "Keye", "kimi_vl", "llama4", "llava", "llava_next", "llava_next_video", "minicpmv",
    "minicpmv4_6", "minicpmo", "mistral3", "moss_vl", "mllama", "paligemma", "qwen2_audio",
    "qwen2_5_omni_thinker", "qwen2_vl", "qwen2_5_vl", "qwen3_vl", "qwen3_vl_moe",
    "qwen3_omni_moe_thinker", "qwen3_5", "qwen3_5_moe", "video_llava",
})  # fmt: skip
OUTPUT_LAYERS = {"chatglm": "output_layer", "internlm2": "output"}


def all_linear_leaves(table: LayerTable) -> list[str]:
    """``find_all_linear_modules`` on this model (a non-composite one)."""
    forbidden = {"lm_head"}
    if table.model_type in OUTPUT_LAYERS:
        forbidden.add(OUTPUT_LAYERS[table.model_type])
    leaves: dict[str, None] = {}
    for m in table.modules:
        if any(key in m.name for key in forbidden):
            continue
        if "Linear" in m.cls and "Embedding" not in m.cls:
            leaves.setdefault(m.name.split(".")[-1], None)
    return list(leaves)


def resolve(site: Site, table: LayerTable, targets, values: dict):
    """(target_modules, keyword values) LLaMA-Factory hands to PEFT, or None where not modelled."""
    if table.model_type in COMPOSITE_MODELS or site.get("use_unsloth") or site.get("use_llama_pro"):
        return None
    if targets is None or targets == ALL:
        targets = all_linear_leaves(table)
    return targets, {**values, "task_type": "CAUSAL_LM"}
