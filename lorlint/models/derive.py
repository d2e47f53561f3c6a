"""A hub id → the model type it names, or a plain "unknown": never the nearest neighbour.

Used only when no exact source (local directory, Hugging Face cache, bundled index, download) has
the model's config.json. Two steps, most specific first:

1. the **alias table**: families whose hub names differ from their model type
   (``Llama-3.2-11B-Vision`` → ``mllama``, ``gemma-3-270m`` → ``gemma3_text``, ``Qwen2.5-7B`` →
   ``qwen2``), Unsloth's converted checkpoints, and names known to be traps (remote-code models
   named like a transformers type) → unknown;
2. transformers' own **model-type vocabulary** (from the catalog index, no transformers import):
   the longest run of name tokens that spells a model type (``Qwen3-Next-80B`` → ``qwen3_next``),
   accepted only when nothing in the name contradicts it — a version right after it
   (``deberta-v3``, ``Qwen2.5``), a word lorlint does not know (``mamba-codestral``), a
   modality (``-Vision``) or MoE marker (``-A3B``, ``8x7B``) the type does not have (a MoE
   marker moves to the type's ``_moe`` sibling when transformers has one), or two architectures.

Whatever is not placed this way is unknown: LL901 names what was tried and how to declare it.
"""

from __future__ import annotations

import re
from functools import lru_cache

from lorlint.models import catalog

# Quantized / converted mirrors: the same architecture as the original.
_QUANT_SUFFIX = re.compile(
    r"([-_.](unsloth[-_])?(bnb[-_])?(4|8)bit|[-_.](awq|gptq|gguf|exl2|mlx|fp8|int4|int8|"
    r"nf4|w4a16|w8a8)([-_.].*)?)+$",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"\d+(?:\.\d+)?[bmk](?![a-z])|[a-z0-9]+")
SIZE = re.compile(r"^(\d+(\.\d+)?[bm]|e\d+b|\d+x\d+(\.\d+)?b|a\d+(\.\d+)?[bm]|\d+k)$")
DATE = re.compile(r"^\d{4,}$")
VERSION = re.compile(r"^(\d{1,3}|v\d+[a-z]?)$")
MOE_MARKER = re.compile(r"^(a\d+(\.\d+)?[bm]|\d+x\d+(\.\d+)?b|\d+e|moe)$")
MODALITY = frozenset(
    {"vl", "vision", "visual", "omni", "audio", "speech", "asr", "tts", "video", "image", "mm"}
)
# Words that follow a model type in hub names without changing the architecture.
HARMLESS = frozenset(
    {
        "instruct", "chat", "it", "pt", "base", "hf", "coder", "code", "math", "sft", "dpo",
        "orpo", "rl", "rlhf", "preview", "tiny", "small", "medium", "large", "xl", "xxl", "mini",
        "nano", "micro", "giant", "huge", "uncased", "cased", "multilingual", "deduped", "turbo",
        "lite", "thinking", "reasoning", "plus", "pro", "flash", "distilled", "deep", "latest",
        "research", "original", "mnli", "squad",
    }
)  # fmt: skip
# Types that are parts of a composite model (a tower, a text half): not what a hub id names.
_PART_SUFFIXES = ("_text", "_text_model", "_vision_model", "_encoder", "_decoder", "_qformer",
                  "_vqgan", "_vision_encoder", "_audio_encoder")  # fmt: skip

# (organisation or None, pattern over the normalised name, model type or None = known unknown,
# where it comes from). First match wins; patterns see tokens joined by "-", lower case.
ALIASES: list[tuple[str | None, str, str | None, str]] = [
    # Unsloth converted these checkpoints' weights to another layout (their own names pass).
    ("unsloth", r"^phi-3-(mini|medium)-(4k|128k)-instruct$", "mistral",
     "Unsloth converted Phi-3 mini and medium to Mistral type models (unsloth.ai/blog/phi3)"),
    ("unsloth", r"^phi-4$", "llama",
     "Unsloth converted Phi-4 to Llama's architecture (unsloth.ai/blog/phi4)"),
    ("unsloth", r"^phi-3-5-mini-instruct$", "llama",
     "Unsloth's Llama-layout Phi-3.5-mini (bundled index since lorlint 0.1)"),
    ("unsloth", r"^phi", None,
     "Unsloth converts some Phi checkpoints to the Llama/Mistral layout; not known for this one"),
    # Meta Llama
    (None, r"^(llama-3-2|llama-guard-3)-\d+b-vision", "mllama", "Llama 3.2 Vision is mllama"),
    (None, r"^llama-4(-|$)", "llama4", "Llama 4 is llama4"),
    (None, r"^(meta-)?llama-(2|3|3-1|3-2|3-3)-", "llama", "Llama 2 / 3.x text models"),
    (None, r"^llama-guard-3-(1b|8b)", "llama", "Llama Guard 3 text models"),
    (None, r"^(code|tiny)llama(-|$)", "llama", "CodeLlama and TinyLlama are Llama"),
    (None, r"^smollm2?-", "llama", "SmolLM and SmolLM2 are Llama"),
    # Qwen
    (None, r"^qwen1-5-moe", "qwen2_moe", "Qwen1.5-MoE is qwen2_moe"),
    (None, r"^qwen2-57b-a14b", "qwen2_moe", "Qwen2-57B-A14B is qwen2_moe"),
    (None, r"^qwen(1-5|2-5)(-coder|-math)?-[\d.]+b(-|$)", "qwen2", "Qwen1.5 / Qwen2.5 text"),
    (None, r"^qwq-32b", "qwen2", "QwQ-32B is qwen2"),
    (None, r"^qwen3-omni", "qwen3_omni_moe", "Qwen3-Omni is qwen3_omni_moe"),
    # DeepSeek
    (None, r"^deepseek-r1-distill-qwen", "qwen2", "R1 distills into Qwen2.5"),
    (None, r"^deepseek-r1-distill-llama", "llama", "R1 distills into Llama"),
    (None, r"^deepseek-r1(-\d+)?$", "deepseek_v3", "DeepSeek-R1 is deepseek_v3"),
    (None, r"^deepseek-v3-1(-|$)", "deepseek_v3", "DeepSeek-V3.1 is deepseek_v3"),
    (None, r"^deepseek-(coder|llm|math)-[\d.]+b", "llama", "DeepSeek's first models are Llama"),
    (None, r"^deepseek-coder-v2", "deepseek_v2", "DeepSeek-Coder-V2 is deepseek_v2"),
    # Google
    (None, r"^gemma-3-(270m|1b)(-|$)", "gemma3_text", "Gemma 3 270M and 1B are text-only"),
    (None, r"^gemma-1-1-", "gemma", "Gemma 1.1 is gemma"),
    (None, r"^codegemma-", "gemma", "CodeGemma is gemma"),
    (None, r"^paligemma-?2(-|$)", "paligemma", "PaliGemma 2 is paligemma"),
    ("google", r"^txgemma-(2b|9b|27b)-(predict|chat)$", "gemma2", "TxGemma is built on Gemma 2"),
    ("google", r"^medgemma-(1-5-)?4b-(it|pt)$", "gemma3",
     "MedGemma 4B (and 1.5 4B) is the Gemma 3 vision-language model"),
    (None, r"^t5-v1-1-", "t5", "T5 v1.1 is t5"),
    (None, r"^byt5-", "t5", "ByT5 is t5"),
    (None, r"^mt0-", "mt5", "mT0 is mt5"),
    # Microsoft
    (None, r"^phi-(1|1-5|2)(-|$)", "phi", "Phi-1, 1.5 and 2 are phi"),
    (None, r"^phi-3-5-moe", "phimoe", "Phi-3.5-MoE is phimoe"),
    (None, r"^phi-(3|3-5)-(vision|small)", None, "a remote-code Phi-3 variant"),
    (None, r"^phi-(3|3-5)-(mini|medium)", "phi3", "Phi-3 / 3.5 mini and medium are phi3"),
    (None, r"^phi-4-multimodal", "phi4_multimodal", "Phi-4-multimodal"),
    (None, r"^phi-4-mini-flash", None, "a remote-code Phi-4 variant"),
    (None, r"^phi-4(-mini|-reasoning)?(-|$)", "phi3", "Phi-4, Phi-4-mini and Phi-4-reasoning"),
    (None, r"^deberta-v3-", "deberta-v2", "DeBERTa-v3 is deberta-v2"),
    # Mistral
    (None, r"^mistral-small-3-[12]-", "mistral3", "Mistral Small 3.1 / 3.2 are mistral3"),
    ("mistral-community", r"^pixtral", "llava", "Pixtral in the transformers format is llava"),
    (None, r"^pixtral", None, "Pixtral outside mistral-community is not in transformers' format"),
    # Others
    (None, r"^bloomz(-|$)", "bloom", "BLOOMZ is bloom"),
    (None, r"^pythia-", "gpt_neox", "Pythia is gpt_neox"),
    (None, r"^starcoder(base)?(-|$)", "gpt_bigcode", "StarCoder is gpt_bigcode"),
    (None, r"^llava-1-5-", "llava", "LLaVA 1.5 is llava"),
    (None, r"^llava-v1-6-", "llava_next", "LLaVA 1.6 is llava_next"),
    (None, r"^granite-4-0-", "granitemoehybrid", "Granite 4.0 is granitemoehybrid"),
    (None, r"^granite-3-[0-3]-[\d.]+b-a\d+m", "granitemoe", "Granite 3.x MoE"),
    (None, r"^granite-3-[0-3]-[\d.]+b-", "granite", "Granite 3.x dense"),
    (None, r"^smolvlm2?(-|$)", "smolvlm", "SmolVLM and SmolVLM2 are smolvlm"),
    (None, r"^glm-4-9b(-chat)?-hf$", "glm", "GLM-4-9B in the transformers format is glm"),
    (None, r"^glm-4-9b-0414", "glm4", "GLM-4-0414 is glm4"),
    (None, r"^(glm-4-9b|chatglm)", None, "a remote-code ChatGLM model"),
    (None, r"^glm-4-5v", "glm4v_moe", "GLM-4.5V is glm4v_moe"),
    (None, r"^glm-4-(5|6)(-air)?(-|$)", "glm4_moe", "GLM-4.5 / 4.6 are glm4_moe"),
    (None, r"^olmo-[\d.]+b(?!.*-hf$)", None, "OLMo v1 outside the -hf repos is remote code"),
]  # fmt: skip
# Regex characters that end a pattern's literal opening.
_META = frozenset("\\.^$*+?{}[]()|")


def literal_prefix(pattern: str) -> str:
    """What every name an anchored alias pattern finds starts with ("" for a pattern that is not
    anchored or opens with a group). A name without it is not searched, so most patterns are
    never compiled: compiling all of them cost 2.4 ms of every run that resolves a model."""
    if not pattern.startswith("^"):
        return ""
    end = 1
    while end < len(pattern) and pattern[end] not in _META:
        end += 1
    if end < len(pattern) and pattern[end] in "?*{":
        end -= 1  # a quantifier that allows none: the character before it is optional
    return pattern[1:end]


_ALIASES = [(org, literal_prefix(pattern), pattern, t, note) for org, pattern, t, note in ALIASES]


class Derivation:
    """What the id says about the architecture: a model type, or why it says nothing certain."""

    def __init__(self, model_type: str | None, how: str):
        self.model_type = model_type
        self.how = how  # the alias or the vocabulary match that placed it; or why it could not


def strip_quantization(name: str) -> str:
    """``Qwen2.5-7B-Instruct-bnb-4bit`` → ``Qwen2.5-7B-Instruct``: a mirror's original."""
    return _QUANT_SUFFIX.sub("", name)


def tokens(name: str) -> list[str]:
    """Lower-case name tokens; decimal sizes stay whole (``2.8b``), versions do not (``3.1``)."""
    return _TOKEN.findall(name.lower())


@lru_cache(maxsize=1)
def _vocabulary() -> dict[str, str]:
    """Squashed spelling (``qwen3next``) → model type, for the types a hub id can name."""
    out: dict[str, str] = {}
    index = catalog.raw_index()
    for model_type in sorted(catalog.model_types()):
        if model_type.endswith(_PART_SUFFIXES):
            continue
        info = index["types"].get(model_type)
        if model_type.endswith("_vision") and (
            info is None or info["natural"] not in ("image-text-to-text", "multimodal-lm")
        ):
            continue
        out.setdefault(re.sub(r"[-_.]", "", model_type.lower()), model_type)
    return out


def _is_moe(model_type: str) -> bool:
    info = catalog.raw_index()["types"].get(model_type)
    return bool(info and info.get("moe"))


def _is_composite(model_type: str) -> bool:
    info = catalog.raw_index()["types"].get(model_type)
    return bool(info and info.get("parts"))


def derive(reference: str) -> Derivation:
    """The model type a hub id names (``org/name``), or None with the reason."""
    org, _, name = reference.strip().rpartition("/")
    name = strip_quantization(name)
    words = tokens(name)
    if not words:
        return Derivation(None, "the name has no words")
    joined, owner = "-".join(words), org.lower()
    for alias_org, prefix, pattern, model_type, note in _ALIASES:
        if alias_org is not None and alias_org != owner:
            continue
        if joined.startswith(prefix) and re.search(pattern, joined):
            return Derivation(model_type, f"alias: {note}")
    return _from_vocabulary(words)


def _from_vocabulary(words: list[str]) -> Derivation:
    vocab = _vocabulary()
    found: list[tuple[int, int, str]] = []
    for start in range(len(words)):
        for end in range(min(len(words), start + 4), start, -1):
            model_type = vocab.get("".join(words[start:end]))
            short = len("".join(words[start:end])) <= 3
            if model_type and (not short or start == 0 or model_type in ("t5", "mt5", "umt5")):
                found.append((start, end, model_type))
                break
    maximal = [f for f in found if not any(o[0] <= f[0] and f[1] <= o[1] and o != f for o in found)]
    if not maximal:
        return Derivation(None, "no model type of transformers in the name")
    start, end, model_type = maximal[0]
    others = sorted({t for _, _, t in maximal[1:] if t != model_type})
    if others and not _is_composite(model_type):
        return Derivation(None, f"the name spells two architectures: {model_type}, {others[0]}")
    rest = words[end:]
    if rest:
        after = rest[0]
        inside = {t for s, e, _ in maximal[1:] for t in words[s:e]}
        if VERSION.match(after) and not SIZE.match(after):
            return Derivation(None, f'"{after}" after "{model_type}" names a version lorlint '
                              "cannot place")  # fmt: skip
        if not (
            SIZE.match(after)
            or DATE.match(after)
            or after in HARMLESS
            or after in MODALITY
            or MOE_MARKER.match(after)
            or after in inside
            or (after in vocab and _is_composite(model_type))  # blip2-opt: its language model
        ):
            return Derivation(None, f'what "{after}" after "{model_type}" means is unknown')
    placed = set(words[start:end])
    modality = [w for w in words if w in MODALITY and w not in placed]
    if modality and not _is_composite(model_type):
        return Derivation(None, f'"{modality[0]}" in the name, but {model_type} is text-only')
    if any(MOE_MARKER.match(w) for w in words) and not _is_moe(model_type):
        vocab_types = set(vocab.values())
        sibling = next(
            (t for t in (f"{model_type}_moe", f"{model_type}moe") if t in vocab_types), None
        )
        if sibling is None or not (_is_moe(sibling) or catalog.unbuildable_reason(sibling)):
            return Derivation(None, f"the name marks a mixture of experts; {model_type} has none")
        return Derivation(sibling, f'the name spells "{model_type}" and marks a mixture of experts')
    return Derivation(model_type, f'the name spells "{model_type}"')
