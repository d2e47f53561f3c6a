"""``names.word_search``: the first match that starts a word, as a pattern led by ``\\b`` finds
it (str and bytes), for the pre-filter's, mmengine's and the shell front end's patterns."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from lorlint.frontends import mmengine, names, shell

PATTERNS = [names._IMPORT, names._MODULE, names._NAME, names._YAML_KEYS, names._COMMAND]
TEXTS = ["import", "peft", "LoraConfig", "xtrl", "trl ", "sft", "_", "a", "é", "1", " ", ".",
         "\n", "lora_target", "train_bash.py", "type=", "= ", "x.", "AutoPeftModelX"]  # fmt: skip


def _led(pattern: re.Pattern) -> re.Pattern:
    return re.compile((b"\\b" if isinstance(pattern.pattern, bytes) else "\\b") + pattern.pattern)


@settings(max_examples=1_000, deadline=None)
@given(st.lists(st.sampled_from(TEXTS), max_size=12).map("".join))
def test_as_a_pattern_led_by_a_word_boundary(text):
    for pattern in PATTERNS:
        data = text.encode()
        found, expected = names.word_search(pattern, data), _led(pattern).search(data)
        assert (found and found.span()) == (expected and expected.span()), pattern
    for pattern in (mmengine.MENTION, shell.MENTION):
        found, expected = names.word_search(pattern, text), _led(pattern).search(text)
        assert (found and found.span()) == (expected and expected.span()), pattern
