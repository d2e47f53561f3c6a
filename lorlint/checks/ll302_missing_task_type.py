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
    if site.applied_with != "get_peft_model" or site.task not in TASK_TYPES:
        return
    yield (
        f"no task_type: get_peft_model returns a plain PeftModel for this {site.loader}; pass "
        f'task_type="{TASK_TYPES[site.task]}"',
        site.span,
    )
