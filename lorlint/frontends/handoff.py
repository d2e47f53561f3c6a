"""A module's tree parsed by an earlier step, handed to the Python front end with its text.

A notebook's cells are checked by parsing them as one module (``notebook.load``); when the front
end then analyses that module's text, it takes the tree instead of parsing the text again. The
tree is matched to the very string object it was parsed from, and taken once.
"""

from __future__ import annotations

import ast

# Below this many characters, the Python front end parses and analyses a module whole rather than
# reducing it first (the same sites, by construction: tests/test_frontend_equivalence.py). On the
# real-world set's training scripts (0.2 to 31 KB) the whole module costs 1.5 to 2 times less than
# the reduction's searches and bookkeeping; a big file is likelier to be mostly code no config
# involves, where the reduction wins (the 1,000-function file of benchmarks/bench_scaling.py: 10
# ms reduced, 110 ms whole).
WHOLE_BELOW = 24_000

_offered: tuple[str, ast.Module] | None = None


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
