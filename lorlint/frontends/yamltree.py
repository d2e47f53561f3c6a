"""PyYAML's node tree of a YAML text, composed by libyaml where it gives the same tree.

The tools read their configs with PyYAML's safe loader, so the tree lorlint reads — every node,
tag, value, style and mark — must be the one PyYAML's pure-Python composer builds. libyaml
(``yaml.CSafeLoader``) builds it about ten times faster, with PyYAML's own resolver for the tags;
where it differs, it is brought back to PyYAML's, or not used:

- a plain scalar's style is ``""`` in libyaml, ``None`` in PyYAML;
- at the end of a text without a final line break, libyaml adds a line break of its own, so the
  marks there read (next line, column 0); PyYAML's stay on the last line;
- nesting deeper than ``FAST_DEPTH`` (PyYAML's recursive composer may run out of stack where
  libyaml does not): PyYAML composes the text again and fails or succeeds as it does;
- any error: PyYAML composes the text again, so the message and its line and column are PyYAML's;
- where the two scanners are known to differ, PyYAML composes the text: a tab (libyaml accepts
  some that PyYAML refuses), a byte order mark (PyYAML's columns skip it, libyaml's count it), a
  ``?`` (libyaml reads one inside a plain scalar in a flow collection, PyYAML ends the scalar
  there) and a ``:`` right before ``,[]{}`` (likewise);
- an empty value in a flow collection (``{a: }``): PyYAML marks it after the ``:``, libyaml at
  the next token; PyYAML composes the text.

One difference is left, in a field lorlint never reads: a block sequence written at its key's
own indentation has ``flow_style`` None in PyYAML and False in libyaml.

Without libyaml, PyYAML composes every text. tests/test_yamltree.py compares both trees on every
YAML and JSON file of the fixtures and the real-world set, and on altered copies of them.
"""

from __future__ import annotations

import re

import yaml

FAST_LOADER = getattr(yaml, "CSafeLoader", None)
FAST_DEPTH = 64
_SCANNERS_DIFFER = re.compile(r"[\t\ufeff?]|:[,\[\]{}]")
_BREAK = re.compile("\r\n|[\n\r\x85\u2028\u2029]")  # line breaks as PyYAML's reader counts them


def compose(text: str) -> yaml.Node | None:
    """The single document of ``text`` as ``yaml.compose(text, Loader=yaml.SafeLoader)`` gives
    it, raising what it raises."""
    if FAST_LOADER is not None and not _SCANNERS_DIFFER.search(text):
        try:
            root = yaml.compose(text, Loader=FAST_LOADER)
        except (yaml.YAMLError, RecursionError):
            pass  # PyYAML's own error, below
        else:
            if root is None or _as_pyyaml(root, text):
                return root
    return pyyaml_compose(text)


def pyyaml_compose(text: str) -> yaml.Node | None:
    """PyYAML's pure-Python composer: the reference, and the fallback."""
    return yaml.compose(text, Loader=yaml.SafeLoader)


def _as_pyyaml(root: yaml.Node, text: str) -> bool:
    """Make libyaml's tree PyYAML's in place; False where it may differ beyond repair."""
    end, end_mark = len(text), None
    seen: set[int] = set()
    stack = [(root, 1, False)]
    while stack:
        node, depth, in_flow = stack.pop()
        if id(node) in seen:  # an alias: the same node again
            continue
        seen.add(id(node))
        if depth > FAST_DEPTH:
            return False
        if isinstance(node, yaml.ScalarNode):
            node.style = node.style or None
            if in_flow and node.start_mark.index == node.end_mark.index:
                return False  # an empty value in a flow collection: marked elsewhere by each
        else:
            pairs = node.value if isinstance(node, yaml.MappingNode) else [node.value]
            stack.extend((child, depth + 1, node.flow_style) for pair in pairs for child in pair)
        if node.end_mark.index == end:
            end_mark = end_mark or _end_mark(text, node.end_mark)
            node.end_mark = end_mark
            if node.start_mark.index == end:
                node.start_mark = end_mark
    return True


def _end_mark(text: str, mark: yaml.Mark) -> yaml.Mark:
    """PyYAML's mark at the end of ``text``: after its last character, on its last line. Where
    a line feed is the only line break in it (nearly every file), counted without a regex."""
    if not any(other in text for other in "\r\x85\u2028\u2029"):
        lines, last = text.count("\n"), text.rfind("\n") + 1
    else:
        breaks = list(_BREAK.finditer(text))
        lines, last = len(breaks), breaks[-1].end() if breaks else 0
    return yaml.Mark(mark.name, len(text), lines, len(text) - last, None, None)
