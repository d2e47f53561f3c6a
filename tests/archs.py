"""Architectures the tests build: every bundled model type, shrunk to a few layers for speed."""

from __future__ import annotations

import copy

from lorlint.models import catalog
from lorlint.models.index_data import CONFIGS

LAYER_FIELDS = (
    "num_hidden_layers",
    "n_layer",
    "n_layers",
    "num_layers",
    "encoder_layers",
    "decoder_layers",
)


def shrink(config: dict, layers: int = 3) -> dict:
    """Fewer blocks, same names: layer counts only (sizes stay, the meta device makes them free)."""
    out = copy.deepcopy(config)
    for part in (out, out.get("text_config"), out.get("vision_config")):
        if not part:
            continue
        for key in LAYER_FIELDS:
            if key in part:
                part[key] = layers
        if "depth" in part:
            part["depth"] = 2
    if not any(key in out for key in LAYER_FIELDS) and "text_config" not in out:
        out["num_hidden_layers"] = layers
    if out.get("model_type") == "t5":
        out["num_decoder_layers"] = layers
    if out.get("model_type") == "deepseek_v3":
        out["first_k_dense_replace"] = 1
    return out


def one_per_model_type() -> dict[str, tuple[dict, str]]:
    """model_type → (shrunk config, task), the first bundled config of each type."""
    out: dict[str, tuple[dict, str]] = {}
    for config in CONFIGS.values():
        model_type = config["model_type"]
        if model_type not in out:
            task = config.get("task") or catalog.natural_task(model_type)
            out[model_type] = (shrink(config), task)
    return out


ARCHS = one_per_model_type()
