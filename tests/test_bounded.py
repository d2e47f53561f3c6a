"""``bounded.fullmatcher`` / ``matcher``: a prepared pattern answers, and fails, as
``bounded.fullmatch`` / ``match`` do, under a deadline and without one."""

import re
from contextlib import nullcontext

import pytest

from lorlint.models import bounded

NAMES = ["model.layers.0.self_attn.q_proj", "lm_head", "q_proj\n", ""]


@pytest.mark.parametrize("pattern", [r".*q_proj", r"(.*\.)?(q_proj)$", r"lm_head|x", r"q.*"])
def test_prepared_patterns_answer_as_the_plain_calls(pattern):
    for deadline in (True, False):
        with bounded.deadline() if deadline else nullcontext():
            full, start = bounded.fullmatcher(pattern), bounded.matcher(pattern)
            for name in NAMES:
                assert _span(full(name)) == _span(bounded.fullmatch(pattern, name))
                assert _span(start(name)) == _span(bounded.match(pattern, name))


def test_a_bad_pattern_raises_when_run_not_when_prepared():
    run = bounded.fullmatcher("(")
    with pytest.raises(re.error):
        run("x")


def test_a_pattern_too_costly_is_reported_and_not_run_again():
    pattern = r"(a+)+$x"
    run = bounded.fullmatcher(pattern)
    with pytest.raises(bounded.TooCostly) as found:  # no deadline: the risky shape is refused
        run("a" * 40)
    assert found.value.pattern == pattern and found.value.reason
    with bounded.deadline(0.05), pytest.raises(bounded.TooCostly) as found:
        run("a" * 40)
    assert found.value.pattern == pattern
    with bounded.deadline(), pytest.raises(bounded.TooCostly):
        run("a")  # once too costly, never run again


def _span(found):
    return None if found is None else found.span()
