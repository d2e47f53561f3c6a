"""The scope walk (lorlint/frontends/scopes.py, one stack of nodes and scope markers) records what
the walk it replaced records (tests/reference_scopes.py): every binding of every scope with its
kind, nodes, value, end and order, every read and its scope, every call in source order with its
scope, classes, simple statements, star imports and stored attributes. And the calls whose names
the Python front end works out (``PythonFile.named_calls``) are all those a site's name test can
pick."""

from __future__ import annotations

import ast
import sysconfig
from pathlib import Path

import pytest
import reference_scopes
from test_frontend_equivalence import CORPUS

from lorlint.frontends import python
from lorlint.frontends import scopes as scopes_module
from lorlint.frontends.scopes import Scopes

CONSTRUCTS = """
from os import *
from . import sibling
from .pkg.mod import name as alias
import a.b.c, d as e
x: int = 1
y: int
x += 1
a.b = c.d = 1
del a.b, x
g = (lambda q, *r, s=x, **t: q + s)(1)
h = [n for n in range(3) if (m := n) for p in [n, m]]
k = {key: value for key, value in items() if key}
o = {(n.attr): n for n.attr in items()}
f"{x!r:>{width}} {y=}"
with open(p) as (fh, other), ctx() as fh2:
    pass
for i, (j, *rest) in enumerate(z):
    continue
else:
    pass
try:
    raise ValueError("v")
except ValueError as err:
    print(err)
except (TypeError, KeyError) as group:
    pass
finally:
    pass
match command:
    case [first, *others] if first:
        pass
    case {"key": 1, **remaining}:
        pass
    case Point(x=0, y=yy) | Other(zz) as both:
        pass
    case None:
        pass


@decorator(arg)
class C(Base, metaclass=Meta):
    attr = value
    other = attr

    def method(self, a: A = default, /, b: "B" = 2, *c: C, d: D, **e: E) -> R:
        global gl
        gl = self.attr
        self.x = a

        def inner():
            nonlocal b
            b = 3
            return [b for _ in range(2)]

        return inner


async def coroutine(u):
    async for v in u:
        await v
    async with u as w:
        yield w
"""


def _describe(found: Scopes) -> dict:
    """Everything a walk records, nodes by identity (both walks read the same tree)."""

    def scope_key(scope):
        return None if scope is None else id(scope.node)

    def binding(b):
        return (b.kind, id(b.node), id(b.value), b.index, b.qualified, b.end, id(b.statement),
                id(b.function))  # fmt: skip

    every = list(found.scope_for.values())
    return {
        "scopes": [
            (
                scope_key(s),
                s.kind,
                scope_key(s.parent),
                sorted(s.globals),
                sorted(s.nonlocals),
                [(name, [binding(b) for b in bs]) for name, bs in s.bindings.items()],
            )
            for s in every
        ],
        "scope_for": [(id(node), scope_key(s)) for node, s in found.scope_for.items()],
        "scope_of": sorted((id(node), scope_key(s)) for node, s in found.scope_of.items()),
        "reads": [(name, [id(node) for node in nodes]) for name, nodes in found.reads.items()],
        "calls": [id(call) for call in found.calls],
        "call_scope": [(id(call), scope_key(s)) for call, s in found.call_scope.items()],
        "calls_in": sorted(
            (scope_key(s), [id(call) for call in calls]) for s, calls in found.calls_in.items()
        ),
        "classes": [id(node) for node in found.classes],
        "statements": [id(node) for node in found.statements],
        "star_imports": found.star_imports,
        "stored_attributes": sorted(found.stored_attributes),
    }


def _both(tree: ast.Module, monkeypatch) -> tuple[dict, dict]:
    now = _describe(Scopes(tree))
    with monkeypatch.context() as patched:
        patched.setattr(scopes_module, "_Walker", reference_scopes.ReferenceWalker)
        before = _describe(Scopes(tree))
    return now, before


def _stdlib() -> list[Path]:
    files = sorted(Path(sysconfig.get_paths()["stdlib"]).glob("*.py"))
    return files[:: max(1, len(files) // 60)]


def test_every_construct(monkeypatch):
    now, before = _both(ast.parse(CONSTRUCTS), monkeypatch)
    assert now == before
    assert len(now["scopes"]) == 10 and now["star_imports"] == ["os"]


@pytest.mark.parametrize("path, text", CORPUS, ids=[path for path, _ in CORPUS])
def test_corpus(path, text, monkeypatch):
    try:
        tree = ast.parse(text.removeprefix("\ufeff"))
    except SyntaxError:
        pytest.skip("does not parse")
    now, before = _both(tree, monkeypatch)
    assert now == before


@pytest.mark.parametrize("path", _stdlib(), ids=lambda p: p.name)
def test_stdlib(path, monkeypatch):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    now, before = _both(tree, monkeypatch)
    assert now == before


def test_every_node_type_has_its_fields_read():
    """The fields a node type's children are taken from come from its ASDL signature, for every
    node type the parser makes (the exact but slower test of every field is the fallback)."""
    kinds = [k for k in vars(ast).values() if isinstance(k, type) and issubclass(k, ast.AST)]
    deprecated = {"Num", "Str", "Bytes", "NameConstant", "Ellipsis", "Index", "ExtSlice", "Suite",
                  "Param", "AugLoad", "AugStore"}  # fmt: skip
    for kind in kinds:
        if kind._fields and kind.__name__ not in deprecated:
            assert scopes_module._child_fields(kind) is not None, kind.__name__
    assert scopes_module._child_fields(ast.Compare) == ("left", "comparators")
    assert scopes_module._child_fields(ast.Name) == ()


NAMING = """
import peft, trl as t
from transformers import AutoModelForCausalLM as Loader
from os import path


def inner():
    from peft import get_peft_model as apply
    return apply(m, c)


transformers = other()
transformers.Trainer(x)
t.SFTTrainer(y)
Loader.from_pretrained("m")
peft.LoraConfig(r=8).to_dict()
path.join(a, b)
print(len(peft))
"""


def _every_named_call(parsed) -> list:
    """Brute force: every call's qualified name, kept when it starts with a site module."""
    out = []
    for call in parsed.scopes.calls:
        name = parsed.qualified(call.func, record=False)
        if name is not None and name.partition(".")[0] in python.SITE_MODULES:
            out.append((call, name))
    return out


@pytest.mark.parametrize("text", [NAMING, NAMING + "from transformers import *\nTrainer(z)\n"])
def test_named_calls_are_those_a_site_can_name(text):
    parsed = python.PythonFile("t.py", text, ast.parse(text))
    named = parsed.named_calls()
    assert named == _every_named_call(parsed)
    assert len(named) == (7 if "*" in text else 5)


@pytest.mark.parametrize("path, text", CORPUS, ids=[path for path, _ in CORPUS])
def test_named_calls_on_the_corpus(path, text):
    try:
        tree = ast.parse(text.removeprefix("\ufeff"))
    except SyntaxError:
        pytest.skip("does not parse")
    parsed = python.PythonFile(path, text.removeprefix("\ufeff"), tree)
    assert parsed.named_calls() == _every_named_call(parsed)
