"""``names.word_search``: the first match that starts a word, as a pattern led by ``\\b`` finds
it (str and bytes), for the pre-filter's and mmengine's patterns (the shell front end's mention
test, which finds its words with ``str.find``, is compared with it in tests/test_shell_lines.py)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from lorlint.frontends import mmengine, names

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
    found, expected = names.word_search(mmengine.MENTION, text), _led(mmengine.MENTION).search(text)
    assert (found and found.span()) == (expected and expected.span())
