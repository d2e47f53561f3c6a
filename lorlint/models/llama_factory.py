"""LLaMA-Factory's LoRA targets: what ``lora_target`` becomes before PEFT sees it.

Read from hiyouga/LLaMA-Factory (ff6d4d1, August 2026):

- ``lora_target`` defaults to ``all`` and is split on commas (``FinetuningArguments.__post_init__``,
  src/llamafactory/hparams/finetuning_args.py); ``all`` is the exact, single entry ``all``.
- ``all`` is ``find_all_linear_modules`` (src/llamafactory/model/model_utils/misc.py): the leaf
  names of modules whose class name contains ``Linear`` but not ``Embedding``, skipping every
  module whose full name contains ``lm_head`` (chatglm also ``output_layer``, internlm2 ``output``).
  Those leaf names then reach PEFT as a list, so a router that is not a Linear class is never hit,
  while a leaf name shared with a skipped module still matches it there.
- Vision-language models registered as composite models (``_register_composite_model`` in
  src/llamafactory/model/model_utils/visual.py) are loaded with AutoModelForImageTextToText when
  transformers maps their config there (``load_class``, src/llamafactory/model/loader.py; other
  loaders: not modelled). ``find_all_linear_modules`` also skips the projector keys, and the
  vision keys while ``freeze_vision_tower`` (default true); ``patch_target_modules`` then turns the
  names into the full names of every module containing one of them as a substring, except those
  containing a frozen part's key (vision tower: ``freeze_vision_tower``; projector:
  ``freeze_multi_modal_projector``, default true; language model: ``freeze_language_model``,
  default false) or a ``lora_conflict_keys`` entry. The keys are those of ff6d4d1.
- ``use_unsloth`` / ``use_llama_pro``: not modelled (no prediction).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from lorlint.models.table import LayerTable
from lorlint.site import Site

ALL = "all-linear"  # how the front end records ``lora_target: all``


# model type → its CompositeModel's keys (substrings of full module names), each a space-separated
# list: projector_keys, vision_model_keys, language_model_keys, lora_conflict_keys.
COMPOSITE_MODELS = {
    "dots_ocr": ("vision_tower.merger", "vision_tower", "model lm_head", "merger"),
    "gemma3": ("multi_modal_projector", "vision_tower", "language_model lm_head", ""),
    "gemma3n": (
        "multi_modal_projector",
        "vision_tower audio_tower",
        "language_model lm_head",
        "timm_model subsample_conv_projection",
    ),
    "gemma4": (
        "model.embed_vision model.embed_audio",
        "vision_tower audio_tower",
        "language_model lm_head",
        "per_layer_projection_norm",
    ),
    "glm4v": (
        "visual.merger",
        "visual.patch_embed visual.blocks",
        "language_model lm_head",
        "patch_embed",
    ),
    "glm4v_moe": (
        "visual.merger",
        "visual.patch_embed visual.blocks",
        "language_model lm_head",
        "patch_embed",
    ),
    "glm_ocr": (
        "visual.merger",
        "visual.patch_embed visual.blocks",
        "language_model lm_head",
        "patch_embed",
    ),
    "interns1": ("multi_modal_projector", "vision_tower", "language_model lm_head", ""),
    "internvl": ("multi_modal_projector", "vision_tower", "language_model lm_head", ""),
    "Keye": (
        "mlp_AR",
        "visual.vision_model.patch_embedding visual.vision_model.encoder",
        "model lm_head",
        "patch_embedding",
    ),
    "kimi_vl": ("multi_modal_projector", "vision_tower", "language_model lm_head", ""),
    "llama4": ("multi_modal_projector", "vision_model", "language_model lm_head", ""),
    "llava": ("multi_modal_projector", "vision_tower", "language_model lm_head", ""),
    "llava_next": ("multi_modal_projector", "vision_tower", "language_model lm_head", ""),
    "llava_next_video": ("multi_modal_projector", "vision_tower", "language_model lm_head", ""),
    "minicpmo": (
        "resampler",
        "vpm apm audio_avg_pooler audio_projection_layer tts",
        "llm",
        "audio_projection_layer",
    ),
    "minicpmv": ("resampler", "vpm", "llm", ""),
    "minicpmv4_6": ("model.merger", "model.vision_tower", "model.language_model lm_head", ""),
    "mistral3": ("model.multi_modal_projector", "vision_tower", "language_model lm_head", ""),
    "mllama": ("multi_modal_projector", "vision_model", "language_model lm_head", ""),
    "moss_vl": (
        "model.visual.merger model.separator_token",
        "model.visual.pos_embed model.visual.patch_embed model.visual.blocks",
        "model.language_model lm_head",
        "patch_embed",
    ),
    "paligemma": ("multi_modal_projector", "vision_tower", "language_model lm_head", ""),
    "qwen2_5_omni_thinker": (
        "visual.merger audio_tower.proj",
        "visual.patch_embed visual.blocks audio_tower",
        "model lm_head",
        "patch_embed",
    ),
    "qwen2_5_vl": (
        "visual.merger",
        "visual.patch_embed visual.blocks",
        "language_model lm_head",
        "patch_embed",
    ),
    "qwen2_audio": ("multi_modal_projector", "audio_tower", "language_model lm_head", ""),
    "qwen2_vl": (
        "visual.merger",
        "visual.patch_embed visual.blocks",
        "language_model lm_head",
        "patch_embed",
    ),
    "qwen3_5": (
        "model.visual.merger",
        "visual.pos_embed visual.patch_embed visual.blocks",
        "language_model lm_head",
        "patch_embed",
    ),
    "qwen3_5_moe": (
        "model.visual.merger",
        "visual.pos_embed visual.patch_embed visual.blocks",
        "language_model lm_head",
        "patch_embed",
    ),
    "qwen3_omni_moe_thinker": (
        "visual.merger audio_tower.proj",
        "visual.pos_embed visual.patch_embed visual.blocks visual.deepstack_merger_list audio_tower",
        "language_model lm_head",
        "patch_embed",
    ),
    "qwen3_vl": (
        "visual.merger",
        "visual.pos_embed visual.patch_embed visual.blocks visual.deepstack_merger_list",
        "language_model lm_head",
        "patch_embed",
    ),
    "qwen3_vl_moe": (
        "visual.merger",
        "visual.pos_embed visual.patch_embed visual.blocks visual.deepstack_merger_list",
        "language_model lm_head",
        "patch_embed",
    ),
    "video_llava": ("multi_modal_projector", "vision_tower", "language_model lm_head", ""),
}
# FinetuningArguments' defaults (src/llamafactory/hparams/finetuning_args.py)
FREEZE_DEFAULTS = {
    "freeze_vision_tower": True,
    "freeze_multi_modal_projector": True,
    "freeze_language_model": False,
}
OUTPUT_LAYERS = {"chatglm": "output_layer", "internlm2": "output"}


def all_linear_leaves(table: LayerTable, freeze_vision_tower: bool = True) -> list[str]:
    """``find_all_linear_modules`` on this model."""
    forbidden = {"lm_head"}
    if table.model_type in OUTPUT_LAYERS:
        forbidden.add(OUTPUT_LAYERS[table.model_type])
    composite = COMPOSITE_MODELS.get(table.model_type)
    if composite is not None:
        forbidden.update(composite[0].split())
        if freeze_vision_tower:
            forbidden.update(composite[1].split())
    leaves: dict[str, None] = {}
    left_out = _contains_any(forbidden)
    for m in table.modules:
        if "Linear" in m.cls and "Embedding" not in m.cls and not left_out(m.name):
            leaves.setdefault(m.name.split(".")[-1], None)
    return list(leaves)


def patch_target_modules(table: LayerTable, targets: list[str], freeze: dict[str, bool]):
    """``patch_target_modules``: a composite model's targets as the full names of the modules
    that contain one of them, frozen parts and conflict keys left out; others' as they are."""
    composite = COMPOSITE_MODELS.get(table.model_type)
    if composite is None:
        return targets
    projector, vision, language, conflict = (keys.split() for keys in composite)
    forbidden = set(conflict)
    for flag, keys in (
        ("freeze_vision_tower", vision),
        ("freeze_multi_modal_projector", projector),
        ("freeze_language_model", language),
    ):
        if freeze[flag]:
            forbidden.update(keys)
    targeted, left_out = _contains_any(targets), _contains_any(forbidden)
    return [m.name for m in table.modules if targeted(m.name) and not left_out(m.name)]


def _contains_any(keys: Iterable[str]) -> Callable[[str], object]:
    """``any(key in name for key in keys)`` as a function of ``name``: one search of the keys'
    alternation (a match where any key occurs, the empty key everywhere), not a generator per
    module name."""
    keys = list(keys)
    if not keys:
        return lambda name: False
    return re.compile("|".join(re.escape(key) for key in keys)).search


def vision_requested(site: Site) -> bool:
    """``freeze_vision_tower: false``: the vision tower is adapted on purpose."""
    return site.kind == "llama-factory" and site.get("freeze_vision_tower") is False


def _loaded_as_lf_does(table: LayerTable) -> bool:
    """A composite model is modelled only as AutoModelForImageTextToText loads it (LLaMA-Factory's
    first choice where transformers maps the config there)."""
    from lorlint.models import catalog

    built = catalog.type_tasks(table.model_type).get("image-text-to-text")
    return built is not None and built[0] == table.architecture


def resolve(site: Site, table: LayerTable, targets, values: dict):
    """(target_modules, keyword values) LLaMA-Factory hands to PEFT, or None where not modelled."""
    if site.get("use_unsloth") or site.get("use_llama_pro"):
        return None
    freeze = {flag: site.get(flag, default) for flag, default in FREEZE_DEFAULTS.items()}
    if not all(isinstance(v, bool) for v in freeze.values()):
        return None  # a value lorlint cannot read
    if table.model_type in COMPOSITE_MODELS and not _loaded_as_lf_does(table):
        return None
    if targets is None or targets == ALL:
        targets = all_linear_leaves(table, freeze["freeze_vision_tower"])
    elif isinstance(targets, str):
        targets = [targets]
    targets = patch_target_modules(table, list(targets), freeze)
    return targets, {**values, "task_type": "CAUSAL_LM"}
