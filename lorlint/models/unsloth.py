"""Unsloth's ``get_peft_model``: the ``LoraConfig`` it really builds, from the model and the flags.

Read from Unsloth's source (unslothai/unsloth 015bdef, August 2026; unsloth_zoo release
2026.10.9's ``get_peft_regex``):

- ``FastLanguageModel.from_pretrained`` keeps its own fast path for ``model_type`` llama, mistral,
  gemma, gemma2, qwen2 and qwen3 (unsloth/models/loader.py); every other model, and any model
  loaded in 8 bit, goes through ``FastModel``, and ``FastLanguageModel.get_peft_model`` then
  forwards to ``FastBaseModel.get_peft_model`` with ``finetune_vision_layers=False`` and the other
  flags on (unsloth/models/llama.py, the ``UNSLOTH_USE_NEW_MODEL`` branch).
- The fast path (``FastLlamaModel.get_peft_model``, llama.py): targets default to the seven Llama
  projections; ``embed_tokens`` in ``target_modules`` moves into ``modules_to_save``;
  ``modules_to_save`` may hold only ``lm_head`` and ``embed_tokens`` (else TypeError);
  ``layers_pattern`` is not passed on to ``LoraConfig``. ``lm_head`` in ``target_modules`` moved
  to ``modules_to_save`` too until March 2026 (unsloth #4106); since then it is a LoRA target.
- ``FastModel`` / ``FastVisionModel`` (``FastBaseModel.get_peft_model``, unsloth/models/vision.py):
  ``target_modules=None`` or ``"all-linear"`` (which also switches every ``finetune_*`` flag on)
  becomes the regex of unsloth_zoo's ``get_peft_regex`` (unsloth_zoo/peft_utils.py) built from
  ``finetune_vision_layers`` / ``finetune_language_layers`` / ``finetune_attention_modules`` /
  ``finetune_mlp_modules``; an explicit list goes through the same regex, restricted to its names,
  when a flag is off; otherwise the list or string reaches ``LoraConfig`` as written.

What depends on more than the model and the call is not predicted (``None``): MoE models (Unsloth
adds the experts' ``target_parameters`` itself), Gemma 3n / Gemma 4 (extra vision and audio
branches in the regex, a wrapped Linear), ``finetune_last_n_layers``, and values Unsloth rejects.
"""

from __future__ import annotations

import re
from collections import Counter

from lorlint.models import bounded
from lorlint.models.table import LayerTable, once_per_table
from lorlint.site import UNKNOWN, Site

LLAMA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
FAST_PATH_TYPES = frozenset({"llama", "mistral", "gemma", "gemma2", "qwen2", "qwen3"})
# Names Unsloth's own recipes put in target_modules on purpose (continued pretraining:
# https://unsloth.ai/docs/basics/continued-pretraining): trained, never by accident.
DELIBERATE = frozenset({"embed_tokens", "lm_head"})
FLAGS = ("finetune_vision_layers", "finetune_language_layers", "finetune_attention_modules",
         "finetune_mlp_modules", "finetune_audio_layers")  # fmt: skip
# Families whose regex gets branches of their own (audio / vision embedders, wrapped Linears).
UNMODELLED_FAMILIES = ("gemma3n", "gemma4", "embedding_gemma2", "voxtral")
MAMBA_TYPES = frozenset({"falcon_h1", "mamba", "mamba2", "falcon_mamba", "nemotron_h",
                         "nemotron_h_puzzle"})  # fmt: skip
# nn.Linear and the subclasses known to return a tensor (bitsandbytes' and torch's own).
PLAIN_LINEARS = frozenset(
    {"Linear", "Linear4bit", "Linear8bitLt", "NonDynamicallyQuantizableLinear"}
)
VISION_TAGS = ("vision", "image", "visual", "patch")
LANGUAGE_TAGS = ("language", "text")
ATTENTION_TAGS = ("self_attn", "attention", "attn", "mixer")
MLP_TAGS = ("mlp", "feed_forward", "ffn", "dense", "mixer")


def fast_path(site: Site, table: LayerTable) -> bool:
    """Whether ``FastLanguageModel`` keeps its own fast path for this model."""
    return (
        site.callee.startswith("unsloth.FastLanguageModel")
        and site.loader in (None, "FastLanguageModel")
        and table.model_type in FAST_PATH_TYPES
        and site.quantized != "8bit"
    )


def flags(site: Site) -> dict[str, bool] | None:
    """The ``finetune_*`` flags as ``FastBaseModel.get_peft_model`` sees them (None: unknown)."""
    language_model = site.callee.startswith("unsloth.FastLanguageModel")
    out = {name: True for name in FLAGS}
    out["finetune_audio_layers"] = False
    out["finetune_vision_layers"] = not language_model  # FastLanguageModel forwards False
    for name in FLAGS:
        if site.has(name):
            value = site.get(name)
            if not isinstance(value, bool):
                return None
            out[name] = value
    if site.get("target_modules") == "all-linear":
        out = dict.fromkeys(FLAGS, True)
    return out


def vision_requested(site: Site) -> bool:
    """``FastModel`` / ``FastVisionModel`` with ``finetune_vision_layers`` on (its default): the
    vision tower is adapted on purpose. An explicit ``finetune_vision_layers=False`` that
    ``target_modules="all-linear"`` overrides was not a request for it."""
    if not site.callee.startswith(("unsloth.FastModel", "unsloth.FastVisionModel")):
        return False
    if site.has("finetune_vision_layers"):
        return site.get("finetune_vision_layers") is not False
    chosen = flags(site)
    return chosen is not None and chosen["finetune_vision_layers"]


def vision_overridden(site: Site) -> bool:
    """``finetune_vision_layers=False`` written, but ``target_modules="all-linear"`` switches every
    ``finetune_*`` flag on (``FastBaseModel.get_peft_model``): the vision tower is adapted."""
    return (
        site.callee.startswith(("unsloth.FastModel", "unsloth.FastVisionModel"))
        and site.get("finetune_vision_layers") is False
        and site.get("target_modules") == "all-linear"
    )


@once_per_table
def _is_mamba(table: LayerTable) -> bool:
    """A Mamba model type, or a module whose last name component is ``mixer`` or ``mamba``."""
    return table.model_type in MAMBA_TYPES or any(
        table.positions_with_leaf(leaf) for leaf in ("mixer", "mamba")
    )


@once_per_table
def _is_moe(table: LayerTable) -> bool:
    """A module whose name ends in ``.experts``."""
    modules = table.modules
    return any("." in modules[i].name for i in table.positions_with_leaf("experts"))


@once_per_table
def _subclassed_linear(table: LayerTable) -> bool:
    """An nn.Linear subclass whose forward may return a tuple: Unsloth skips such a model."""
    return any(m.kind == "linear" and m.cls not in PLAIN_LINEARS for m in table.distinct_modules())


def resolve(site: Site, table: LayerTable, targets, values: dict):
    """(target_modules, keyword values) of the ``LoraConfig`` Unsloth builds, or None when it
    depends on what lorlint does not model. ``targets`` is the call's value (None: omitted)."""
    if _is_moe(table) and values.get("target_parameters") is None:
        return None
    if site.get("finetune_last_n_layers") is not None:
        return None
    if table.model_type.startswith(UNMODELLED_FAMILIES) or _is_mamba(table):
        return None
    if _subclassed_linear(table):
        return None
    values = {**values, "r": values.get("r", 16), "lora_alpha": values.get("lora_alpha", 16)}
    if fast_path(site, table):
        return _fast_path(targets, values)
    return _base_model(site, table, targets, values)


def _fast_path(targets, values: dict):
    targets = LLAMA_TARGETS if targets is None else targets
    if not isinstance(targets, (list, tuple)):
        return None  # a string is iterated letter by letter there
    saved = list(values.get("modules_to_save") or [])
    kept = []
    for name in targets:
        if name == "embed_tokens":
            saved.append(name)
        else:
            kept.append(name)
    if any(name not in DELIBERATE for name in saved) or "task_type" in values:
        return None  # TypeError: "Only 'lm_head' and 'embed_tokens' is allowed." / task_type twice
    values = {k: v for k, v in values.items() if k != "layers_pattern"}
    values["modules_to_save"] = sorted(set(saved)) if saved else None
    values["task_type"] = "CAUSAL_LM"
    return kept, values


def _base_model(site: Site, table: LayerTable, targets, values: dict):
    chosen = flags(site)
    if chosen is None:
        return None
    if targets is None or targets == "all-linear":
        regex = peft_regex(table, chosen)
        return (regex, values) if regex is not None else None
    scoping = not all(chosen[f] for f in FLAGS[:4])
    if isinstance(targets, (list, tuple)) and (scoping or chosen["finetune_audio_layers"]):
        regex = peft_regex(table, chosen, list(targets))
        return (regex, values) if regex is not None else None
    return targets, values


def peft_regex(table: LayerTable, chosen: dict[str, bool], targets: list[str] | None = None):
    """unsloth_zoo's ``get_peft_regex`` (release 2026.10.9) for this model; None where Unsloth
    raises. Models where it adds branches of its own (Mamba mixers, Gemma 3n / Gemma 4 / Voxtral
    audio, MoE routers) never reach it: ``resolve`` predicts nothing for them."""
    vision, language = chosen["finetune_vision_layers"], chosen["finetune_language_layers"]
    attention, mlp = chosen["finetune_attention_modules"], chosen["finetune_mlp_modules"]
    if not (vision or language or chosen["finetune_audio_layers"]) or not (attention or mlp):
        return None  # "Unsloth: No layers to finetune" / "No modules to finetune"
    linears = [m.name for m in table.modules if m.name and m.kind == "linear"]
    if (
        targets is None
    ):  # a leaf seen once outside the layer stacks (lm_head, a projector) is left out
        counts = Counter(name.rsplit(".")[-1] for name in linears)
        stacked = {name.rsplit(".")[-1] for name in linears if re.search(r"\.\d+\.", name)}
        targets = [leaf for leaf, n in counts.items() if n != 1 or leaf in stacked]
    parts = "|".join((VISION_TAGS if vision else ()) + (LANGUAGE_TAGS if language else ()))
    components = "|".join((ATTENTION_TAGS if attention else ()) + (MLP_TAGS if mlp else ()))
    leaves = "(?:" + "|".join(re.escape(t) for t in targets) + ")"
    if not parts:
        regex = r"(?!x)x"
    else:
        regex = rf".*?(?:{parts}).*?(?:{components}).*?\.{leaves}"
        if language:
            regex = (
                rf"(?:{regex})|(?:\bmodel\.layers\.[\d]{{1,}}(?!.*\.experts\.\d)\..*?"
                rf"(?:{components}).*?\.(?:{leaves}))"
            )
        if not any(map(_compiled(table, regex).fullmatch, linears)):
            regex = (
                r"(?!(?:.*\.)?(?:codec_model|audio_tokenizer|acoustic_tokenizer|semantic_tokenizer)"
                rf"\.).*?(?:{components}).*?\.{leaves}"
            )
    children = {m.name.rpartition(".")[0] for m in table.modules if m.name}
    fullmatch = _compiled(table, regex).fullmatch
    placeholders = [
        m.name for m in table.modules
        if m.name and not m.own_params and m.name not in children and fullmatch(m.name)
    ]  # fmt: skip
    if placeholders:  # parameter-free leaves (Identity) are left out by exact name
        regex = rf"(?!(?:{'|'.join(re.escape(n) for n in placeholders)})$)(?:{regex})"
    if not any(map(_compiled(table, regex).search, linears)):
        return None  # "Unsloth: No layers to finetune?"
    return regex


def _compiled(table: LayerTable, regex: str) -> re.Pattern:
    """``regex`` as unsloth_zoo compiles it (``re.DOTALL``), for matching this table's module
    names: where no name holds a line break, the flag changes no answer, and the pattern PEFT's
    matching then compiles without it (``bounded``) is the one compiled here (a regex of every
    linear leaf of the model takes milliseconds to compile)."""
    return re.compile(regex, re.DOTALL) if _line_break_in_names(table) else bounded.compiled(regex)


@once_per_table
def _line_break_in_names(table: LayerTable) -> bool:
    return any("\n" in m.name for m in table.modules)


def deliberate(site: Site, name: str) -> bool:
    """An embedding or head the Unsloth call names itself in ``target_modules``."""
    value = site.keywords.get("target_modules")
    written = value.value if value is not None and value.value is not UNKNOWN else ()
    return site.kind == "unsloth" and name in DELIBERATE and name in (written or ())
