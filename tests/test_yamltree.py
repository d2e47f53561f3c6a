"""libyaml changes nothing: ``yamltree.compose`` gives PyYAML's pure-Python tree (every node's
type, tag, value, style and marks) or PyYAML's own error, on every YAML and JSON file of the
fixtures and the real-world set, on altered copies of them, and on the texts where the two
scanners are known to differ; and the config front ends find the same sites with it as without.
"""

from __future__ import annotations

import random

import pytest
import yaml
from helpers import REPO

from lorlint.frontends import configs, yamltree

ROOTS = [REPO / "fixtures", REPO / "tests" / "realworld"]
CORPUS = [
    (str(path.relative_to(REPO)), path.read_text(encoding="utf-8"))
    for root in ROOTS
    for path in sorted(root.rglob("*"))
    if path.suffix in (".yml", ".yaml", ".json")
    and path.is_file()
    and ".lorlint_cache" not in path.parts  # a manual run's cache, not a config
]
needs_libyaml = pytest.mark.skipif(yamltree.FAST_LOADER is None, reason="libyaml not installed")


def _tree(node, seen=None):
    """Everything a node holds, aliases as the index of the node they repeat."""
    seen = {} if seen is None else seen
    if node is None:
        return None
    if id(node) in seen:
        return ("alias", seen[id(node)])
    seen[id(node)] = len(seen)

    def mark(m):
        return (m.name, m.index, m.line, m.column)

    # flow_style of a block sequence at its key's indentation differs (None / False); unread
    flow = None if isinstance(node, yaml.SequenceNode) else getattr(node, "flow_style", None)
    head = (type(node).__name__, node.tag, mark(node.start_mark), mark(node.end_mark), flow)
    if isinstance(node, yaml.ScalarNode):
        return (*head, node.style, node.value)
    if isinstance(node, yaml.SequenceNode):
        return (*head, [_tree(child, seen) for child in node.value])
    return (*head, [(_tree(k, seen), _tree(v, seen)) for k, v in node.value])


def _outcome(compose, text):
    try:
        return _tree(compose(text))
    except yaml.YAMLError as err:
        return (type(err).__name__, str(err))
    except RecursionError:
        return "RecursionError"


def _altered(text: str, seed: int) -> list[str]:
    """Copies that end elsewhere, lose lines or gain a character where YAML is touchy."""
    rnd, lines = random.Random(seed), text.splitlines(keepends=True)
    out = [text.rstrip("\n"), text.replace("\n", "\r\n"), text.replace("\n", "\r")]
    for _ in range(8):
        a, b = sorted(rnd.randrange(len(lines) + 1) for _ in range(2))
        out.append("".join(lines[:a] + lines[b:]))
        out.append(text[: rnd.randrange(len(text) + 1)])
        at = rnd.randrange(len(text) + 1)
        inserted = rnd.choice([":", "- ", "[", "]", "{", "}", ",", "&a ", "*a", "'", '"', "#",
                               "\n", "|", ">", "!!str ", "\x85", "\u2028", "\n  ", ": "])  # fmt: skip
        out.append(text[:at] + inserted + text[at:])
    return out


KNOWN_DIFFERENCES = [
    "a: 1\nb: [x, y]",  # no final line break: libyaml's marks move to a line of its own
    "a:\n  - x\n  -",
    "a: 1\rb: 2",
    "x: \u2028y: 2",
    "a: b\n\tc: d\n",  # a tab PyYAML refuses
    "k: ab\ufeffc\n",  # PyYAML's columns skip a byte order mark
    '{"a": n?ull}',  # a ? inside a plain scalar in a flow collection
    "[a:]",
    "{a: , b: 1}",  # empty values in flow collections
    "x: {a: }\n",
    '{"a":\n}',
    "[" * 100 + "]" * 100,  # deeper than the fast path goes
    "a:\n" + "".join(" " * i + "a:\n" for i in range(1, 200)),
    "a: 1\n---\nb: 2\n",  # two documents: PyYAML's error
    "a: [1, 2\n",
]


@pytest.mark.parametrize("name,text", CORPUS, ids=[name for name, _ in CORPUS])
def test_same_tree_as_pyyaml(name, text):
    for seed, variant in enumerate([text, *_altered(text, len(text))]):
        expected = _outcome(yamltree.pyyaml_compose, variant)
        assert _outcome(yamltree.compose, variant) == expected, (name, seed, variant[:200])


@pytest.mark.parametrize("text", KNOWN_DIFFERENCES)
def test_known_differences_give_pyyaml_tree(text):
    assert _outcome(yamltree.compose, text) == _outcome(yamltree.pyyaml_compose, text)


@needs_libyaml
def test_the_real_files_take_libyaml(monkeypatch):
    """Not a test that cannot fail: every file of the corpus is composed by libyaml alone."""

    def refused(text):
        raise AssertionError("fell back to PyYAML")

    monkeypatch.setattr(yamltree, "pyyaml_compose", refused)
    for name, text in CORPUS:
        assert yamltree.compose(text) is not None, name


def _sites(name: str, text: str):
    try:
        read = configs.adapter_sites if name.endswith(".json") else configs.yaml_sites
        return read(name, text)
    except configs.ConfigError as err:
        return str(err)


@needs_libyaml
def test_same_sites_without_libyaml(monkeypatch):
    with_libyaml = [_sites(name, text) for name, text in CORPUS]
    monkeypatch.setattr(yamltree, "FAST_LOADER", None)
    assert [_sites(name, text) for name, text in CORPUS] == with_libyaml
    assert any(with_libyaml)
