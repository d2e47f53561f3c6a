"""LL302 missing-task-type: no ``task_type``, so get_peft_model returns a plain PeftModel."""

from __future__ import annotations

from lorlint.checks import Context, rule

TASK_TYPES = {
    "causal-lm": "CAUSAL_LM",
    "seq2seq-lm": "SEQ_2_SEQ_LM",
    "seq-cls": "SEQ_CLS",
    "token-cls": "TOKEN_CLS",
    "question-answering": "QUESTION_ANS",
}


@rule("LL302", "missing-task-type", "info", "a LoraConfig without task_type")
def check(ctx: Context):
    site = ctx.site
    if site.kind != "peft-config" or site.has("task_type") or site.has("**"):
        return
    task = site.task or _encoder_decoder_class(site.loader)
    if site.applied_with != "get_peft_model" or task not in TASK_TYPES:
        return
    yield (
        f"no task_type: get_peft_model returns a plain PeftModel for this {site.loader}; pass "
        f'task_type="{TASK_TYPES[task]}"',
        site.span,
    )


def _encoder_decoder_class(loader: str | None) -> str | None:
    """``seq2seq-lm`` for a ``*ForConditionalGeneration`` class transformers maps for a
    sequence-to-sequence task (``WhisperForConditionalGeneration``: speech-seq2seq): only
    encoder-decoder models are, and PEFT's task type for them is SEQ_2_SEQ_LM. Other such
    classes (vision-language models, BART's masked-LM mapping) leave the task unknown."""
    if not loader or not loader.endswith("ForConditionalGeneration"):
        return None
    from lorlint.models.resolve import class_model_type

    found = class_model_type(loader)
    return "seq2seq-lm" if found and found[1] in ("seq2seq-lm", "speech-seq2seq") else None
