"""Build a model from its config on the meta device and record every module: the real layer names.

Imports torch and transformers lazily: only this module does, and only when a table is neither in
the on-disk cache nor in the bundled catalog. Models are built the way transformers loads them:
an Auto class through ``from_config`` (which hands a composite config's text part to a text-only
class, as ``from_pretrained`` does), a concrete class with its own config class reading the dict
(as ``PreTrainedModel.from_pretrained`` does).
"""

from __future__ import annotations

import logging
import warnings
from contextlib import contextmanager

from lorlint.models.table import LayerTable, Module
from lorlint.models.tasks import auto_class

CONV_KINDS = ("conv1d", "conv2d", "conv3d")


class IntrospectionError(Exception):
    """The model could not be built from this config with the installed transformers."""


def _quiet_transformers():
    import transformers

    transformers.logging.set_verbosity_error()
    logging.getLogger("transformers").setLevel(logging.ERROR)
    # transformers imports bitsandbytes where installed; on CPU it logs a missing optional kernel
    logging.getLogger("bitsandbytes").setLevel(logging.ERROR)
    return transformers


def build_config(config: dict, config_class=None):
    """A transformers config object from a config dict; never runs remote code.

    With ``config_class`` (a concrete model class's own), the dict is read the way that class's
    ``from_pretrained`` reads it: its ``base_config_key`` part, else a sub-config of its model
    type, else the whole dict."""
    from transformers import CONFIG_MAPPING

    fields = {k: v for k, v in config.items() if k not in ("task", "auto_map")}
    if config_class is None:
        model_type = config.get("model_type")
        if model_type not in CONFIG_MAPPING:
            raise IntrospectionError(
                f"model_type {model_type!r} is not known to the installed transformers "
                "(a remote-code model: lorlint never sets trust_remote_code)"
            )
        config_class = CONFIG_MAPPING[model_type]
    else:
        fields = class_fields(fields, config_class)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return config_class.from_dict(dict(fields))
    except Exception as err:  # transformers validates configs with many exception types
        raise IntrospectionError(f"cannot read this config: {_short(err)}") from err


def class_fields(fields: dict, config_class) -> dict:
    """The part of a config dict a concrete class's ``from_pretrained`` reads (transformers'
    ``PretrainedConfig.from_pretrained``): its ``base_config_key`` part, else a sub-config of
    its model type, else the whole dict."""
    key = getattr(config_class, "base_config_key", "")
    if key and isinstance(fields.get(key), dict):
        return fields[key]
    if fields.get("model_type") != getattr(config_class, "model_type", None):
        for value in fields.values():
            if isinstance(value, dict) and value.get("model_type") == config_class.model_type:
                fields = value
    return fields


def _other_type(config: dict, config_class) -> str:
    """What a class given another model type's config is told by transformers (it loads the
    config with a warning, and the build may then fail); "" otherwise."""
    if config_class is None:
        return ""
    mine = getattr(config_class, "model_type", None)
    given = class_fields(config, config_class).get("model_type")
    if not mine or not given or given == mine:
        return ""
    return (
        f" from a {given} config, which transformers warns is not supported in a {mine} model "
        "unless the checkpoint shares that architecture"
    )


def model_class(task_or_class: str):
    """The transformers class a task stands for (its Auto class), or the named class itself."""
    import transformers

    name = auto_class(task_or_class)
    try:
        cls = getattr(transformers, name, None)
    except Exception:  # a lazy module whose import fails (a missing optional dependency)
        cls = None
    if cls is None:
        raise IntrospectionError(f"transformers {transformers.__version__} has no class {name!r}")
    # Only model classes: a name read from a file must never instantiate anything else.
    is_auto = name.startswith("AutoModel")
    if not is_auto and not (
        isinstance(cls, type) and issubclass(cls, transformers.PreTrainedModel)
    ):
        raise IntrospectionError(f"{name!r} is not a transformers model class")
    return cls


@contextmanager
def _no_torch_init():
    """torch's ``nn.init`` functions as no-ops: on the meta device they compute nothing, but
    calling them is half of a build's time. transformers' own init (and weight tying) still runs."""
    import torch

    names = [n for n in dir(torch.nn.init) if n.endswith("_") and not n.startswith("_")]
    saved = {n: getattr(torch.nn.init, n) for n in names}
    try:
        for name in names:
            setattr(torch.nn.init, name, lambda tensor, *args, **kwargs: tensor)
        yield
    finally:
        for name, fn in saved.items():
            setattr(torch.nn.init, name, fn)


MAX_LAYERS = 1024  # the deepest released models have ~200 blocks; a build is linear in them


def _too_deep(config, path: str = "") -> str | None:
    """The first ``*layers*`` count above MAX_LAYERS, nested configs included: building such a
    model would take minutes and gigabytes, and no real checkpoint has one."""
    if not isinstance(config, dict):
        return None
    for key, value in config.items():
        name = f"{path}{key}"
        if isinstance(value, dict):
            found = _too_deep(value, f"{name}.")
            if found:
                return found
        elif isinstance(key, str) and "layer" in key and type(value) is int and value > MAX_LAYERS:
            return f"{name}={value}"
    return None


def build_model(config: dict, task_or_class: str):
    """Instantiate the model on the meta device (no memory, no weights)."""
    deep = _too_deep(config)
    if deep:
        raise IntrospectionError(f"not built: {deep} is more than {MAX_LAYERS} layers")
    import torch

    _quiet_transformers()
    cls = model_class(task_or_class)
    is_auto = cls.__name__.startswith("AutoModel")
    cfg = build_config(config, None if is_auto else getattr(cls, "config_class", None))
    try:
        with torch.device("meta"), warnings.catch_warnings(), _no_torch_init():
            warnings.simplefilter("ignore")
            if is_auto:
                return cls.from_config(cfg)
            return cls(cfg)
    except Exception as err:  # transformers raises many kinds here
        other = "" if is_auto else _other_type(config, getattr(cls, "config_class", None))
        raise IntrospectionError(f"cannot build {cls.__name__}{other}: {_short(err)}") from err


def _short(err: Exception) -> str:
    """One line of an exception: transformers' "Unrecognized configuration class" lists ~300."""
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    if "Unrecognized configuration class" in text:
        return text.split(" for this kind of AutoModel")[0].replace(
            "Unrecognized configuration class", "no class for"
        )
    return text if len(text) <= 200 else text[:197] + "..."


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
    """Sizes as plain ints: a few models keep a size as a 0-d tensor (inkling_mm_model)."""
    if kind == "linear":
        dims = (module.in_features, module.out_features)
    elif kind == "conv1d_hf":
        dims = tuple(module.weight.shape)  # (in, out): Conv1D stores the weight transposed
    elif kind == "embedding":
        dims = (module.num_embeddings, module.embedding_dim)
    elif kind in ("conv1d", "conv2d", "conv3d"):
        dims = (module.in_channels, module.out_channels, *module.kernel_size)
    elif kind == "mha":
        dims = (module.embed_dim, module.embed_dim)
    else:
        return ()
    return tuple(int(d) for d in dims)


def input_embeddings_error(model) -> str | None:
    """The error PEFT hits asking for the input embeddings, if any.

    Every adapter injection checks tied weights first (peft ``BaseTuner._check_tied_modules`` →
    ``_get_module_names_tied_with_embedding``): when the model keeps ``_tied_weights_keys`` as a
    dict and ties are not switched off, it calls ``get_input_embeddings()``, which some models do
    not implement (granite_speech5_ctc, pp_doclayout_v3, pp_formulanet): PEFT then raises."""
    config = getattr(model, "config", None)
    if config is not None and getattr(config, "tie_word_embeddings", None) is False:
        return None
    if not isinstance(getattr(model, "_tied_weights_keys", None), dict):
        return None
    if not hasattr(model, "get_input_embeddings"):
        return (
            "The supplied model implements `_tied_weights_keys` as a dict but doesn't implement "
            "'get_input_embeddings' so we can't determine which weights are tied to embeddings."
        )
    try:
        model.get_input_embeddings()
    except NotImplementedError as err:
        return str(err)
    except Exception:
        return None
    return None


def table_from_model(model, model_type: str | None = None) -> LayerTable:
    """The layer table of a built model; its model type is the one the model's config reports
    (PEFT looks its default targets up by it: Llama 4 as a causal LM is ``llama4_text``)."""
    import torch
    import transformers

    try:
        from transformers.pytorch_utils import Conv1D
    except ImportError:  # pragma: no cover
        Conv1D = None
    output = None
    if hasattr(model, "get_output_embeddings"):
        try:
            output = model.get_output_embeddings()
        except NotImplementedError:
            output = None
    output_name = None
    modules = []
    seen: set[int] = set()  # tied weights are one parameter under two modules: count it once
    for name, module in model.named_modules():
        kind = _kind(module, torch.nn, Conv1D)
        own = tuple(
            (p, tuple(int(d) for d in t.shape)) for p, t in module.named_parameters(recurse=False)
        )
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
                params=int(sum(t.numel() for t in fresh)),
                own_params=own,
                groups=int(getattr(module, "groups", 1)) if kind in CONV_KINDS else 1,
            )
        )
    cfg = model.config
    built_type = getattr(cfg, "model_type", None) or model_type or ""
    text_cfg = cfg
    if hasattr(cfg, "get_text_config"):
        try:
            text_cfg = cfg.get_text_config()
        except Exception:  # ambiguous composite configs (several text parts)
            text_cfg = cfg
    layers = getattr(text_cfg, "num_hidden_layers", None) or getattr(text_cfg, "num_layers", None)
    tied = bool(
        getattr(text_cfg, "tie_word_embeddings", False)
        or getattr(cfg, "tie_word_embeddings", False)
    )
    meta = {"moe_conversion": moe_conversion_family(built_type)}
    embeddings_error = input_embeddings_error(model)
    if embeddings_error:
        meta["peft_error"] = embeddings_error
    return LayerTable(
        model_type=built_type,
        architecture=type(model).__name__,
        modules=modules,
        output_embedding=output_name,
        children=tuple(name for name, _ in model.named_children()),
        num_hidden_layers=int(layers) if isinstance(layers, int) else None,
        tied_embeddings=tied,
        transformers_version=transformers.__version__,
        is_pretrained_model=isinstance(model, transformers.PreTrainedModel),
        meta=meta,
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


LAYER_COUNTS = ("num_hidden_layers", "num_layers", "n_layer", "n_layers", "encoder_layers",
                "decoder_layers", "num_decoder_layers", "depth")  # fmt: skip


def fewer_layers(config: dict, layers: int) -> dict:
    """The config with at most ``layers`` blocks per stack (top level and sub-configs), per-layer
    lists cut to match: the same names, far fewer modules (for sweeps and layout variants)."""
    import copy

    out = copy.deepcopy(config)
    for part in [out, *(v for v in out.values() if isinstance(v, dict) and "model_type" in v)]:
        for key in LAYER_COUNTS:
            count = part.get(key)
            if isinstance(count, int) and not isinstance(count, bool) and count > layers:
                part[key] = layers
                for name, value in list(part.items()):
                    if isinstance(value, list) and len(value) == count:
                        part[name] = value[:layers]
    return out


def introspect(config: dict, task_or_class: str) -> LayerTable:
    """The layer table of ``config`` loaded through ``task_or_class`` (a task or a class name)."""
    model = build_model(config, task_or_class)
    return table_from_model(model, config.get("model_type"))
