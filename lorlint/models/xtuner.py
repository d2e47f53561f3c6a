"""xtuner's LoRA targets: ``SupervisedFinetune._prepare_for_lora`` (xtuner/model/sft.py, InternLM/
xtuner) replaces an omitted ``target_modules`` with ``find_all_linear_names`` (xtuner/model/
utils.py): the leaf name of every ``nn.Linear``, less ``lm_head`` and ``output_layer``."""

from __future__ import annotations

from lorlint.models.table import LayerTable
from lorlint.site import Site

SKIPPED = ("lm_head", "output_layer")


def resolve(site: Site, table: LayerTable, targets, values: dict):
    """(target_modules, keyword values) xtuner hands to PEFT's ``get_peft_model``."""
    if targets is None:
        leaves = {
            m.name.split(".")[-1]: None for m in table.modules if m.name and m.kind == "linear"
        }
        targets = [leaf for leaf in leaves if leaf not in SKIPPED]
    return targets, values
