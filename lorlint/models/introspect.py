"""Build a model from its config on the meta device and record every module: the real layer names.

Imports torch and transformers lazily: only this module does, and only when a table is neither in
the on-disk cache nor in the bundled catalog.
"""

from __future__ import annotations

import logging
import warnings

from lorlint.models.table import LayerTable, Module
from lorlint.models.tasks import ENCODER_TYPES, SEQ2SEQ_TYPES, TASK_AUTO_CLASS


class IntrospectionError(Exception):
    """The model could not be built from this config with the installed transformers."""


def default_task(model_type: str) -> str:
    """The task a fine-tuning script most often loads this architecture for."""
    if model_type in SEQ2SEQ_TYPES:
        return "seq2seq-lm"
    if model_type in ENCODER_TYPES:
        return "seq-cls"
    try:
        from transformers.models.auto import modeling_auto as ma
    except ImportError:
        return "causal-lm"
    if model_type in ma.MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES and model_type not in (
        "gemma3_text",
    ):
        return "image-text-to-text"
    if model_type in ma.MODEL_FOR_CAUSAL_LM_MAPPING_NAMES:
        return "causal-lm"
    if model_type in ma.MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES:
        return "seq2seq-lm"
    return "base"


def build_config(config: dict):
    """A transformers config object from a config dict; never runs remote code."""
    from transformers import CONFIG_MAPPING

    model_type = config.get("model_type")
    if model_type not in CONFIG_MAPPING:
        raise IntrospectionError(
            f"model_type {model_type!r} is not known to the installed transformers "
            "(a remote-code model: lorlint never sets trust_remote_code)"
        )
    fields = {k: v for k, v in config.items() if k not in ("task", "auto_map")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return CONFIG_MAPPING[model_type].from_dict(fields)


def model_class(task_or_class: str):
    import transformers

    name = TASK_AUTO_CLASS.get(task_or_class, task_or_class)
    cls = getattr(transformers, name, None)
    if cls is None:
        raise IntrospectionError(f"transformers has no class {name!r}")
    return cls


def build_model(config: dict, task_or_class: str):
    """Instantiate the model on the meta device (no memory, no weights)."""
    import torch
    import transformers

    transformers.logging.set_verbosity_error()
    logging.getLogger("transformers").setLevel(logging.ERROR)
    cfg = build_config(config)
    cls = model_class(task_or_class)
    try:
        with torch.device("meta"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if cls.__name__.startswith("Auto"):
                return cls.from_config(cfg)
            return cls(cfg)
    except Exception as err:  # transformers raises many kinds here
        raise IntrospectionError(f"cannot build {cls.__name__} from this config: {err}") from err


def _kind(module, torch_nn, conv1d_hf) -> str | None:
    """LoRA's dispatch (peft/tuners/lora/layer.py ``dispatch_default``), in its order."""
    if isinstance(module, torch_nn.Embedding):
        return "embedding"
    if isinstance(module, torch_nn.Conv2d):
        return "conv2d"
    if isinstance(module, torch_nn.Conv3d):
        return "conv3d"
    if isinstance(module, torch_nn.Conv1d):
        return "conv1d"
    if isinstance(module, torch_nn.MultiheadAttention):
        return "mha"
    if isinstance(module, torch_nn.Linear):
        return "linear"
    if conv1d_hf is not None and isinstance(module, conv1d_hf):
        return "conv1d_hf"
    return None


def _shape(module, kind: str | None) -> tuple[int, ...]:
    if kind == "linear":
        return (module.in_features, module.out_features)
    if kind == "conv1d_hf":
        return tuple(module.weight.shape)  # (in, out): Conv1D stores the weight transposed
    if kind == "embedding":
        return (module.num_embeddings, module.embedding_dim)
    if kind in ("conv1d", "conv2d", "conv3d"):
        return (module.in_channels, module.out_channels, *module.kernel_size)
    if kind == "mha":
        return (module.embed_dim, module.embed_dim)
    return ()


def table_from_model(model, model_type: str) -> LayerTable:
    import torch
    import transformers

    try:
        from transformers.pytorch_utils import Conv1D
    except ImportError:  # pragma: no cover
        Conv1D = None
    output = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    output_name = None
    modules = []
    seen: set[int] = set()  # tied weights are one parameter under two modules: count it once
    for name, module in model.named_modules():
        kind = _kind(module, torch.nn, Conv1D)
        own = tuple((p, tuple(t.shape)) for p, t in module.named_parameters(recurse=False))
        fresh = [t for _, t in module.named_parameters(recurse=False) if id(t) not in seen]
        seen.update(id(t) for t in fresh)
        if output is not None and output_name is None and module is output:
            output_name = name
        modules.append(
            Module(
                name=name,
                cls=type(module).__name__,
                kind=kind,
                shape=_shape(module, kind),
                params=sum(t.numel() for t in fresh),
                own_params=own,
            )
        )
    cfg = model.config
    text_cfg = cfg.get_text_config() if hasattr(cfg, "get_text_config") else cfg
    layers = getattr(text_cfg, "num_hidden_layers", None) or getattr(text_cfg, "num_layers", None)
    tied = bool(
        getattr(text_cfg, "tie_word_embeddings", False)
        or getattr(cfg, "tie_word_embeddings", False)
    )
    return LayerTable(
        model_type=model_type,
        architecture=type(model).__name__,
        modules=modules,
        output_embedding=output_name,
        children=tuple(name for name, _ in model.named_children()),
        num_hidden_layers=layers,
        tied_embeddings=tied,
        transformers_version=transformers.__version__,
        is_pretrained_model=isinstance(model, transformers.PreTrainedModel),
        meta={"moe_conversion": moe_conversion_family(model_type)},
    )


def moe_conversion_family(model_type: str) -> str | None:
    """The v4→v5 MoE family PEFT rewrites targets for (peft ``convert_peft_config_for_transformers``)."""
    try:
        from transformers.conversion_mapping import (
            _MODEL_TO_CONVERSION_PATTERN,
            get_checkpoint_conversion_mapping,
        )
    except ImportError:  # transformers 4: nothing is fused
        return None
    try:
        if get_checkpoint_conversion_mapping(model_type) is None:
            return None
    except Exception:
        return None
    return {**_MODEL_TO_CONVERSION_PATTERN, "mixtral": "mixtral"}.get(model_type)


def introspect(config: dict, task_or_class: str) -> LayerTable:
    """The layer table of ``config`` loaded through ``task_or_class`` (a task or a class name)."""
    model = build_model(config, task_or_class)
    return table_from_model(model, config["model_type"])
