"""How scripts load models: lorlint's task names and the transformers Auto class behind each.

A task is how a script loads the model (``AutoModelForCausalLM`` → ``causal-lm``): it decides the
model class, hence the head and sometimes the whole module tree (Llama 4 as a causal LM is the
text model alone). The common Auto classes have a short task name; any other Auto class is its own
task name (``AutoModelForObjectDetection``).
"""

from __future__ import annotations

# The tasks the catalog holds a table for (whenever transformers maps the model type to them).
TASK_AUTO_CLASS = {
    "causal-lm": "AutoModelForCausalLM",
    "seq2seq-lm": "AutoModelForSeq2SeqLM",
    "image-text-to-text": "AutoModelForImageTextToText",
    "multimodal-lm": "AutoModelForMultimodalLM",
    "speech-seq2seq": "AutoModelForSpeechSeq2Seq",
    "seq-cls": "AutoModelForSequenceClassification",
    "token-cls": "AutoModelForTokenClassification",
    "question-answering": "AutoModelForQuestionAnswering",
    "masked-lm": "AutoModelForMaskedLM",
    "ctc": "AutoModelForCTC",
    "image-cls": "AutoModelForImageClassification",
    "audio-cls": "AutoModelForAudioClassification",
    "base": "AutoModel",
}
# Older names of the same loaders: transformers 5 dropped AutoModelForVision2Seq for
# AutoModelForImageTextToText, which maps the same classes.
TASK_ALIASES = {"vision2seq": "image-text-to-text"}
AUTO_CLASS_ALIASES = {"AutoModelForVision2Seq": "image-text-to-text"}
# When nothing says how a model is loaded, the task it is most often fine-tuned as, in order:
# encoder-decoders generate, encoders classify, decoders and VLMs generate text, speech and vision
# encoders do their own task. The catalog generator picks the first one transformers maps.
NATURAL_ORDER = (
    "seq2seq-lm",
    "speech-seq2seq",
    "encoder:seq-cls",  # a masked-LM encoder (BERT) is fine-tuned for classification
    "causal-lm",
    "image-text-to-text",
    "multimodal-lm",
    "ctc",
    "image-cls",
    "audio-cls",
    "seq-cls",
    "base",
)


def auto_class(task: str) -> str:
    """The Auto class of a task (a short name, or an Auto class name standing for itself)."""
    task = TASK_ALIASES.get(task, task)
    return TASK_AUTO_CLASS.get(task, task)


def task_of_auto_class(name: str) -> str | None:
    """The task an Auto class loads for, or None when ``name`` is not an Auto model class."""
    if name in AUTO_CLASS_ALIASES:
        return AUTO_CLASS_ALIASES[name]
    for task, cls in TASK_AUTO_CLASS.items():
        if cls == name:
            return task
    return name if name.startswith("AutoModelFor") else None


def is_task(name: str) -> bool:
    """A task name lorlint knows (short, alias, or an Auto class name)."""
    return name in TASK_AUTO_CLASS or name in TASK_ALIASES or name.startswith("AutoModelFor")


def canonical_task(task: str) -> str:
    return TASK_ALIASES.get(task, task_of_auto_class(task) or task)
