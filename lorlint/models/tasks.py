"""How scripts load models: tasks, their transformers Auto classes, and per-family defaults."""

# How a script loads the model → the transformers Auto class that builds the same module tree.
TASK_AUTO_CLASS = {
    "causal-lm": "AutoModelForCausalLM",
    "seq2seq-lm": "AutoModelForSeq2SeqLM",
    "seq-cls": "AutoModelForSequenceClassification",
    "token-cls": "AutoModelForTokenClassification",
    "question-answering": "AutoModelForQuestionAnswering",
    "masked-lm": "AutoModelForMaskedLM",
    "image-text-to-text": "AutoModelForImageTextToText",
    "vision2seq": "AutoModelForVision2Seq",
    "base": "AutoModel",
}
ENCODER_TYPES = {"bert", "roberta", "xlm-roberta", "deberta", "deberta-v2", "distilbert", "electra"}
SEQ2SEQ_TYPES = {"t5", "mt5", "bart", "mbart", "pegasus", "marian", "longt5", "umt5"}
