"""When a module is analysed whole, and a module's tree parsed by an earlier step, handed to the
Python front end with its text.

A notebook's cells are checked by parsing them as one module (``notebook.load``); when the front
end then analyses that module's text, it takes the tree instead of parsing the text again. The
tree is matched to the very string object it was parsed from, and taken once.
"""

from __future__ import annotations

import ast

# Below this many characters, the Python front end parses and analyses a module whole rather than
# reducing it first (the same sites, by construction: tests/test_frontend_equivalence.py).
WHOLE_BELOW = 24_000
# Where the reduction starts from (``reduce.py``). Substrings one of which every name of
# ``reduce.ROOT_NAMES`` (a site's statement, or one applying it) holds: a few ``str.find`` passes
# find them all (a name without one is searched for on its own).
ROOT_ANCHORS = (
    "Config", "Trainer", "PeftModel", "TrainingArguments", "get_peft_model",
    "inject_adapter_in_model", "load_in_",
)  # fmt: skip
# The calls a model's flow is made of (``flow.py``): lines with one are kept from the start.
FLOW_WORDS = (
    "gradient_checkpointing_enable", "enable_input_require_grads", "merge_and_unload",
    "prepare_model_for_kbit_training", "prepare_model_for_int8_training", "from_pretrained",
    "from_config", "Trainer", "parameters", "load_adapter", "set_adapter", "enable_adapters",
)  # fmt: skip
# A bigger module is analysed whole too unless it holds fewer than one of those words per this
# many characters: the reduction pays only where it drops most of a module (a file of mostly
# unrelated code), and a module that dense in them is one where it keeps much of it (30-66 % of
# the text of real training scripts of 12-52 KB) and costs more than the whole analysis, on top
# of loading the reducer (benchmarks/RESULTS.md, "Front ends (session 8)").
CHARS_PER_WORD = 3_000
_WORDS = tuple(dict.fromkeys(ROOT_ANCHORS + FLOW_WORDS))

_offered: tuple[str, ast.Module] | None = None


def analysed_whole(text: str) -> bool:
    """Whether the Python front end analyses ``text`` whole when it parses (``WHOLE_BELOW``,
    ``CHARS_PER_WORD``): ``str.count`` passes, at memchr speed, and only over a big module."""
    if len(text) <= WHOLE_BELOW:
        return True
    wanted, found = len(text) // CHARS_PER_WORD, 0
    for word in _WORDS:
        found += text.count(word)
        if found >= wanted:
            return True
    return False


def offer(text: str, tree: ast.Module) -> None:
    """``tree`` is ``ast.parse(text)``: the next ``take(text)`` may have it."""
    global _offered
    _offered = (text, tree)


def take(text: str) -> ast.Module | None:
    """The tree offered for this very ``text`` object, once; None otherwise. The offer is read
    once into a local: another thread's offer made meanwhile may be dropped (it parses again),
    never handed over for this text."""
    global _offered
    offered = _offered
    if offered is None or offered[0] is not text:
        return None
    _offered = None
    return offered[1]
