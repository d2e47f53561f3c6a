"""JSON text as the front ends read it: ``json.loads`` with its failures as one-line reasons.

``json.loads`` recurses once per nesting level and refuses integers of more than 4,300 digits with
a long message; both are reasons a file cannot be read, not crashes.
"""

from __future__ import annotations

import json
import re
from functools import cache

MAX_DEPTH = 200  # far beyond any notebook or adapter_config.json


class JSONTextError(ValueError):
    """The text is not JSON lorlint reads (the reason is user-facing)."""


@cache  # compiled on first use: only a text json.loads refuses is measured
def _strings_and_brackets() -> tuple[re.Pattern, re.Pattern]:
    string = re.compile(r'"[^"\\]*(?:\\[\s\S][^"\\]*)*(?:"|\\?\Z)')  # or unterminated
    return string, re.compile(r"[\[\]{}]")


def depth(text: str) -> int:
    """Deepest bracket nesting outside strings. Strings are cut out by a compiled regex first: a
    notebook is mostly strings, and a loop over every character cost seconds on a tree of them."""
    level = peak = 0
    string, bracket_pattern = _strings_and_brackets()
    for bracket in bracket_pattern.findall(string.sub("", text)):
        if bracket in "[{":
            level += 1
            peak = max(peak, level)
        else:
            level -= 1
    return peak


def _nesting(value) -> int:
    """How deep lists and objects nest in a parsed value: for valid JSON, ``depth`` of its text
    (every bracket outside strings opens or closes one), without a pass over the text. ``json``
    makes plain dicts and lists (no subclasses): their types are compared, not tested."""
    peak, stack = 0, [(value, 1)] if type(value) in (dict, list) else []
    push = stack.append
    while stack:
        container, level = stack.pop()
        if level > peak:
            peak = level
        for item in container.values() if type(container) is dict else container:
            kind = type(item)
            if kind is dict or kind is list:
                push((item, level + 1))
    return peak


def loads(text: str):
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        pass  # the reasons below, in their order
    else:
        if _nesting(value) <= MAX_DEPTH:
            return value
    if depth(text) > MAX_DEPTH:
        raise JSONTextError(f"JSON nested deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise JSONTextError(f"invalid JSON: {err.msg} (line {err.lineno})") from err
    except ValueError as err:  # int() refuses integers of more than 4300 digits
        raise JSONTextError("invalid JSON: an integer with more than 4,300 digits") from err
    except RecursionError as err:
        raise JSONTextError("JSON nested too deeply") from err
