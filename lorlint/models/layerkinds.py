"""What each part of a model's blocks is: attention, MLP, routed experts, or a hybrid block.

Read from the layer table alone (no torch). A hybrid block — Mamba, linear attention, a short
convolution — is recognised by its structure: a block submodule that owns a depthwise ``Conv1d``
(groups > 1) beside its projections, which attention and MLPs never do; its class name only
labels it. Routed experts are modules LoRA cannot wrap whose own weights are 3-D
(experts × in × out): transformers 5 fuses them into ``nn.Parameter`` stacks.
"""

from __future__ import annotations

import functools
import re
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import TypeVar

from lorlint.models.summary import split_block
from lorlint.models.table import LayerTable, Module

ATTENTION_MARKERS = ("attn", "attention")
TOWER_MARKERS = ("visual", "vision_tower", "vision_model", "multi_modal_projector", "vision_embed")
# Display order of the kinds.
KINDS = ("attention", "linear-attn", "mamba", "conv", "mlp", "experts")
HYBRID_KINDS = ("linear-attn", "mamba", "conv")
T = TypeVar("T")


@functools.lru_cache(maxsize=1 << 16)
def tower_of(name: str) -> str | None:
    """The vision tower or projector a module belongs to (``model.visual``), if any (cached: the
    rules ask about the same names for every site)."""
    parts = name.split(".")
    for i, part in enumerate(parts):
        if part in TOWER_MARKERS:
            return ".".join(parts[: i + 1])
    return None


def hybrid_kind(cls: str) -> str:
    """``mamba`` / ``conv`` / ``linear-attn`` for a hybrid block's class (a label only)."""
    if re.search(r"Mamba|Mixer", cls):
        return "mamba"
    if "Conv" in cls:
        return "conv"
    return "linear-attn"


@dataclass
class Part:
    """One kind of block part across the layers of the main block stack."""

    kind: str  # one of KINDS
    classes: list[str] = field(default_factory=list)  # class names of its containers
    layers: set[int] = field(default_factory=set)  # layers that have it
    adapted: set[int] = field(default_factory=set)  # layers where something of it is adapted
    modules: dict[str, str] = field(default_factory=dict)  # wrappable: relative name → LoRA kind
    parameters: dict[str, tuple[int, ...]] = field(default_factory=dict)  # experts: rel → shape

    def linears(self) -> list[str]:
        """Relative names of its Linear / Conv1D modules (what ``"all-linear"`` takes)."""
        return [rel for rel, kind in self.modules.items() if kind in ("linear", "conv1d_hf")]


@dataclass
class BlockParts:
    """The parts of one model's main block stack (``model.layers``)."""

    stack: str
    layers: int
    parts: dict[str, Part]
    kind_of: dict[str, str]  # full module or ``module.param`` name → kind

    def get(self, kind: str) -> Part | None:
        return self.parts.get(kind)

    def hybrid(self) -> list[Part]:
        return [self.parts[k] for k in HYBRID_KINDS if k in self.parts]


def once_per_table(compute: Callable[[LayerTable], T]) -> Callable[[LayerTable], T]:
    """``compute(table)`` computed once per table object (the rules ask for every site of every
    file that loads the model, and tables are shared); callers must not change the result."""
    results: dict[int, tuple[weakref.ref, T]] = {}

    def cached(table: LayerTable) -> T:
        found = results.get(id(table))
        if found is not None and found[0]() is table:
            return found[1]
        value = compute(table)
        key = id(table)
        results[key] = (weakref.ref(table, lambda _, key=key: results.pop(key, None)), value)
        return value

    return functools.wraps(compute)(cached)


@once_per_table
def hybrid_mixers(table: LayerTable) -> dict[str, str]:
    """Full name → kind of every hybrid block container (the owner of a depthwise conv); once per
    table (callers must not change it)."""
    out: dict[str, str] = {}
    for m in table.modules:
        if m.kind == "conv1d" and m.groups > 1 and split_block(m.name):
            owner = table.get(m.name.rpartition(".")[0])
            if owner is not None and split_block(owner.name) and not tower_of(owner.name):
                out[owner.name] = hybrid_kind(owner.cls)
    return out


def expert_stacks(table: LayerTable) -> list[Module]:
    """Modules of the blocks holding routed experts as 3-D parameters (``mlp.experts``)."""
    return [
        m
        for m in table.modules
        if m.kind is None
        and split_block(m.name)
        and not tower_of(m.name)
        and any(len(shape) == 3 for _, shape in m.own_params)
    ]


def expert_parameters(module: Module) -> list[tuple[str, tuple[int, ...]]]:
    return [(p, shape) for p, shape in module.own_params if len(shape) == 3]


def _ancestors(name: str) -> Iterable[str]:
    while "." in name:
        name = name.rpartition(".")[0]
        yield name


def is_attention(table: LayerTable, name: str) -> bool:
    """An attention projection: its path says attn/attention, or a container's class does."""
    return _in_attention(name, split_block(name), _attention_owners(table))


def _in_attention(name: str, block: tuple[str, int, str] | None, owners: frozenset[str]) -> bool:
    """``is_attention`` given the name's block and the table's attention containers."""
    rel = block[2] if block else name
    lowered = rel.lower()
    if any(marker in lowered for marker in ATTENTION_MARKERS):
        return True
    if not owners:
        return False
    inside = f"{block[0]}.{block[1]}." if block else None
    for owner in _ancestors(name):
        if inside and not owner.startswith(inside):
            break
        if owner in owners:
            return True
    return False


@functools.lru_cache(maxsize=4096)
def _attention_class(cls: str) -> bool:
    return re.search(r"Attention|Attn", cls) is not None


@once_per_table
def routers(table: LayerTable) -> frozenset[str]:
    """Modules that route tokens to experts: a ``gate``/``router`` beside an ``experts`` module."""
    out = set()
    for m in table.modules:
        parent, _, leaf = m.name.rpartition(".")
        if "router" in m.cls.lower() or (
            leaf in ("gate", "router") and table.get(f"{parent}.experts") is not None
        ):
            out.add(m.name)
    return frozenset(out)


@once_per_table
def _attention_owners(table: LayerTable) -> frozenset[str]:
    """Names of the modules whose class is an attention class (``is_attention``'s containers)."""
    return frozenset(m.name for m in table.modules if _attention_class(m.cls))


@once_per_table
def block_parts(table: LayerTable) -> BlockParts | None:
    """The parts of the model's largest block stack outside vision towers; None without blocks."""
    stacks: dict[str, set[int]] = {}
    in_blocks = []  # (module, its block), read once: both passes below need it
    for m in table.modules:
        block = split_block(m.name)
        if block:
            in_blocks.append((m, block))
            if not tower_of(m.name):
                stacks.setdefault(block[0], set()).add(block[1])
    if not stacks:
        return None
    stack = max(stacks, key=lambda s: len(stacks[s]))
    mixers = hybrid_mixers(table)
    router_names = routers(table)
    attention_owners = _attention_owners(table)
    parts: dict[str, Part] = {}
    kind_of: dict[str, str] = {}

    def add(kind: str, index: int, rel: str, full: str, cls: str | None = None) -> Part:
        part = parts.setdefault(kind, Part(kind))
        part.layers.add(index)
        if cls and cls not in part.classes:
            part.classes.append(cls)
        kind_of[full] = kind
        return part

    for m, block in in_blocks:
        if block[0] != stack or m.name in router_names:
            continue
        _, index, rel = block
        mixer = next((a for a in _ancestors(m.name) if a in mixers), None) if mixers else None
        if mixer is not None and m.kind:
            part = add(mixers[mixer], index, rel, m.name, table.get(mixer).cls)
            part.modules.setdefault(rel, m.kind)
        elif m.kind is None and any(len(s) == 3 for _, s in m.own_params):
            part = add("experts", index, rel, m.name, m.cls)
            for p, shape in expert_parameters(m):
                part.parameters.setdefault(f"{rel}.{p}", shape)
                kind_of[f"{m.name}.{p}"] = "experts"
        elif m.kind in ("linear", "conv1d_hf"):
            kind = "attention" if _in_attention(m.name, block, attention_owners) else "mlp"
            add(kind, index, rel, m.name).modules.setdefault(rel, m.kind)
    ordered = {k: parts[k] for k in KINDS if k in parts}
    return BlockParts(stack, len(stacks[stack]), ordered, kind_of)


def coverage(
    table: LayerTable, modules: Iterable[str], parameters: Iterable[str] = ()
) -> BlockParts | None:
    """Block parts with ``adapted`` filled from PEFT's adapted modules and parameters."""
    shared = block_parts(table)
    if shared is None:
        return None
    parts = replace(shared, parts={k: replace(p, adapted=set()) for k, p in shared.parts.items()})
    for name in [*modules, *parameters]:
        kind = parts.kind_of.get(name)
        block = split_block(name)
        if kind is not None and block:
            parts.parts[kind].adapted.add(block[1])
    return parts
