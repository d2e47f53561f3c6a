"""JSON text as the front ends read it: ``json.loads`` with its failures as one-line reasons.

``json.loads`` recurses once per nesting level and refuses integers of more than 4,300 digits with
a long message; both are reasons a file cannot be read, not crashes.
"""

from __future__ import annotations

import json

MAX_DEPTH = 200  # far beyond any notebook or adapter_config.json


class JSONTextError(ValueError):
    """The text is not JSON lorlint reads (the reason is user-facing)."""


def depth(text: str) -> int:
    """Deepest bracket nesting outside strings."""
    level = peak = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            level += 1
            peak = max(peak, level)
        elif ch in "]}":
            level -= 1
    return peak


def loads(text: str):
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
