"""Line shapes (lorlint/frontends/lineshape.py): bracketed groups flattened in one pass over the
brackets give what marking innermost groups again and again gives, matched or not; string
literals blanked from the first quote on give what a substitution over the whole line gives."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from lorlint.frontends.lineshape import (
    _ANY_STRING,
    _PLAIN_STRING,
    _blank_strings,
    _flatten_innermost,
    _spaces,
    flatten,
)


@settings(max_examples=2_000, deadline=None)
@given(st.text(alphabet="()[]{}ab =\x00", max_size=40))
def test_flatten_as_innermost_groups_again_and_again(text):
    assert flatten(text) == _flatten_innermost(text)


@settings(max_examples=500, deadline=None)
@given(
    st.recursive(
        st.sampled_from(["", "a", "b = c", ", "]),
        lambda inner: st.tuples(
            st.sampled_from(["()", "[]", "{}"]), st.lists(inner, max_size=3)
        ).map(lambda t: t[0][0] + "".join(t[1]) + t[0][1]),
        max_leaves=12,
    )
)
def test_flatten_matched_groups(text):
    line = "x = f" + text + " + y"
    flat = flatten(line)
    assert flat == _flatten_innermost(line)
    assert not any(ch in flat for ch in "()[]{}")


@settings(max_examples=2_000, deadline=None)
@given(st.text(alphabet="'\"\\fFrRbBuUx =#\n", max_size=30))
def test_strings_blanked_from_the_first_quote(text):
    assert _blank_strings(_ANY_STRING, _spaces, text) == _ANY_STRING.sub(_spaces, text)
    assert _blank_strings(_PLAIN_STRING, lambda _: '""', text) == _PLAIN_STRING.sub('""', text)
