"""axolotl's LoRA targets: what its YAML keys become before PEFT sees them.

Read from axolotl-ai-cloud/axolotl (067b021, July 2026), src/axolotl/loaders/adapter.py
``_build_peft_lora_config``:

- ``target_modules = cfg.lora_target_modules or []``: with neither ``lora_target_modules`` nor
  ``lora_target_linear`` PEFT gets an empty list, not its per-model default.
- ``lora_target_linear: true`` adds ``find_all_linear_names(model)`` to the list: the leaf name of
  every module that is an ``nn.Linear`` (bitsandbytes' included) or has ``Linear`` in its class
  name, less the output embedding (``get_linear_embedding_layers``, src/axolotl/loaders/utils.py:
  ``lm_head``; ``embed_out`` for gpt_neox). A string ``lora_target_modules`` then becomes one list
  entry, matched literally.
- ``lora_target_parameters`` is PEFT's ``target_parameters``; ``lora_exclude_modules`` its
  ``exclude_modules``.
"""

from __future__ import annotations

from lorlint.models.table import LayerTable
from lorlint.site import Site

OUTPUT_EMBEDDING = {"gpt_neox": "embed_out"}


def all_linear_leaves(table: LayerTable) -> list[str]:
    """``find_all_linear_names`` on this model."""
    names: dict[str, None] = {}
    for m in table.modules:
        if not m.name:
            continue
        linear = m.kind == "linear" or (
            "Linear" in m.cls and m.cls != "LlamaLinearScalingRotaryEmbedding"
        )
        if linear:
            names.setdefault(m.name.split(".")[-1], None)
    names.pop(OUTPUT_EMBEDDING.get(table.model_type, "lm_head"), None)
    return list(names)


def resolve(site: Site, table: LayerTable, targets, values: dict):
    """(target_modules, keyword values) axolotl hands to PEFT."""
    targets = targets if targets else []
    if site.get("lora_target_linear") is True:
        written = targets if isinstance(targets, list) else [targets]
        targets = sorted(set(written + all_linear_leaves(table)))
    return targets, values
