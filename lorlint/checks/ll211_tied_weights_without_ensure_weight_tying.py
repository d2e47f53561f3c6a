"""LL211 tied-weights-without-ensure-weight-tying: an adapter or a trained copy on a tied
embedding / LM head without ``ensure_weight_tying=True``: PEFT warns, and the two tied layers
are then trained apart."""

from __future__ import annotations

from lorlint.checks import Context, rule
from lorlint.models.match import EMBEDDING_LAYER_NAMES, tied_with_embedding
from lorlint.versions import installed, older_than

ENSURE_SINCE = "0.18.0"  # peft#2803: LoraConfig(ensure_weight_tying=...)


@rule(
    "LL211",
    "tied-weights-without-ensure-weight-tying",
    "warning",
    "a tied embedding or LM head adapted without ensure_weight_tying",
)
def check(ctx: Context):
    result = ctx.adapted
    if result is None or result.tied_warning is None:
        return
    keyword, element = _where(ctx)
    tied = ", ".join(tied_with_embedding(ctx.table))
    what = f'"{element.value}" in {keyword}' if element is not None else f"the {keyword}"
    peft = installed("peft")
    if ctx.site.peft_type not in ("LORA", "ADALORA"):
        advice = (
            "only LoraConfig can keep the adapters tied (ensure_weight_tying); load the model "
            "with tie_word_embeddings=False to train them apart on purpose"
        )
    elif older_than(peft, ENSURE_SINCE):
        advice = (
            f"the installed PEFT {peft} predates ensure_weight_tying (PEFT {ENSURE_SINCE}; "
            "older LoraConfig rejects the keyword): upgrade PEFT, then set "
            "ensure_weight_tying=True"
        )
    else:
        advice = "set ensure_weight_tying=True (PEFT then ties the two adapters)"
    yield (
        f"{ctx.model_label()} ties {tied} to the input embedding (tie_word_embeddings) and "
        f"{what} puts a tied layer in the adapter: PEFT warns '{_first(result.tied_warning)}', "
        f"and the two layers are trained apart; {advice}",
        element.span if element is not None else ctx.site.span,
    )


def _where(ctx: Context):
    """The first keyword and list element naming ``embed_tokens`` / ``lm_head``, as PEFT looks."""
    for keyword in ("modules_to_save", "target_modules"):
        value = ctx.site.keywords.get(keyword)
        if value is None:
            continue
        for element in value.elements or []:
            if isinstance(element.value, str) and (
                element.value.rpartition(".")[2] in EMBEDDING_LAYER_NAMES
            ):
                return keyword, element
        if isinstance(value.value, (list, str)):
            return keyword, None
    return "target_modules", None


def _first(text: str) -> str:
    """The first sentence of PEFT's warning (the rest points to a discussion)."""
    return text.split(". ", 1)[0] + "."
