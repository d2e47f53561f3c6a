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
from collections.abc import Callable, Iterable, Iterator

from lorlint.models.summary import split_block
from lorlint.models.table import LayerTable, Module, once_per_table

ATTENTION_MARKERS = ("attn", "attention")
TOWER_MARKERS = ("visual", "vision_tower", "vision_model", "multi_modal_projector", "vision_embed")
# Display order of the kinds.
KINDS = ("attention", "linear-attn", "mamba", "conv", "mlp", "experts")
HYBRID_KINDS = ("linear-attn", "mamba", "conv")


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


class Part:
    """One kind of block part across the layers of the main block stack."""

    def __init__(
        self,
        kind: str,
        classes: list[str] | None = None,
        layers: set[int] | None = None,
        adapted: set[int] | None = None,
        modules: dict[str, str] | None = None,
        parameters: dict[str, tuple[int, ...]] | None = None,
    ):
        self.kind = kind  # one of KINDS
        self.classes = [] if classes is None else classes  # class names of its containers
        self.layers = set() if layers is None else layers  # layers that have it
        self.adapted = set() if adapted is None else adapted  # layers where something is adapted
        self.modules = {} if modules is None else modules  # wrappable: relative name → LoRA kind
        self.parameters = {} if parameters is None else parameters  # experts: rel → shape

    def linears(self) -> list[str]:
        """Relative names of its Linear / Conv1D modules (what ``"all-linear"`` takes)."""
        return [rel for rel, kind in self.modules.items() if kind in ("linear", "conv1d_hf")]


class BlockParts:
    """The parts of one model's main block stack (``model.layers``)."""

    def __init__(
        self,
        stack: str,
        layers: int,
        parts: dict[str, Part],
        kind_of: dict[str, str],
        placed: dict[str, tuple[str, int]] | None = None,
    ):
        self.stack = stack
        self.layers = layers
        self.parts = parts
        self.kind_of = kind_of  # full module or ``module.param`` name → kind
        # the same names → (kind, block index): what ``coverage`` reads (a name's index is its
        # ``split_block`` index), kept once per table
        self.placed = {} if placed is None else placed

    def get(self, kind: str) -> Part | None:
        return self.parts.get(kind)

    def hybrid(self) -> list[Part]:
        return [self.parts[k] for k in HYBRID_KINDS if k in self.parts]


@once_per_table
def hybrid_mixers(table: LayerTable) -> dict[str, str]:
    """Full name → kind of every hybrid block container (the owner of a depthwise conv); once per
    table (callers must not change it)."""
    out: dict[str, str] = {}
    modules = table.modules
    for i in _special_modules(table)[0]:
        owner = table.get(modules[i].name.rpartition(".")[0])
        out[owner.name] = hybrid_kind(owner.cls)
    return out


@once_per_table
def _special_modules(table: LayerTable) -> tuple[list[int], ...]:
    """Positions of (depthwise convs owned by a block submodule — ``hybrid_mixers``; routers;
    modules of an attention class; modules in a vision tower; routed expert stacks) as
    ``_positions_where`` finds them, in one walk over the table; once per table (callers must not
    change them)."""

    def owned(m: Module) -> bool:  # a depthwise conv whose owner is a block submodule
        if m.kind == "conv1d" and m.groups > 1 and split_block(m.name):
            owner = table.get(m.name.rpartition(".")[0])
            return owner is not None and bool(split_block(owner.name)) and not tower_of(owner.name)
        return False

    # (the owner is the conv's parent: inside its block, or the block's own module, which never
    # is a block submodule: what _positions_where may read)
    def routes(m: Module) -> bool:
        parent, _, leaf = m.name.rpartition(".")
        return "router" in m.cls.lower() or (
            leaf in ("gate", "router") and table.get(f"{parent}.experts") is not None
        )

    def experts(m: Module) -> bool:
        return (
            m.kind is None
            and bool(m.own_params)
            and bool(split_block(m.name))
            and not tower_of(m.name)
            and any(len(shape) == 3 for _, shape in m.own_params)
        )

    # (a name's tower or block: a templated block's copies differ only in the block index, which
    # is never a tower marker, and the stack's name has none: _template_blocks)
    return _positions_where(
        table,
        (
            owned,
            routes,
            lambda m: _attention_class(m.cls),
            lambda m: tower_of(m.name) is not None,
            experts,
        ),
    )


def _special_names(table: LayerTable, which: int) -> list[str]:
    modules = table.modules
    return [modules[i].name for i in _special_modules(table)[which]]


@once_per_table
def tower_modules(table: LayerTable) -> frozenset[str]:
    """Names of the modules inside a vision tower or projector (``tower_of``); once per table
    (callers must not change it)."""
    return frozenset(_special_names(table, 3))


@once_per_table
def expert_stacks(table: LayerTable) -> list[Module]:
    """Modules of the blocks holding routed experts as 3-D parameters (``mlp.experts``); once per
    table (callers must not change it)."""
    modules = table.modules
    return [modules[i] for i in _special_modules(table)[4]]


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
    return frozenset(_special_names(table, 1))


@once_per_table
def _attention_owners(table: LayerTable) -> frozenset[str]:
    """Names of the modules whose class is an attention class (``is_attention``'s containers)."""
    return frozenset(_special_names(table, 2))


def _positions_where(
    table: LayerTable, hits: tuple[Callable[[Module], bool], ...]
) -> tuple[list[int], ...]:
    """Per test of ``hits``, the positions of the modules it accepts, in table order. A test may
    read only the module and (but for a block's own module) the modules inside its block: a
    templated block (``_template_blocks``) is tested once per template, its copies take the same
    answers."""
    modules = table.modules
    per_template: dict[tuple[str, int], list[tuple[list[int], list[int]]]] = {}
    outs: tuple[list[int], ...] = tuple([] for _ in hits)
    tests = list(zip(hits, outs, strict=True))
    for i, found in _items(table):
        if found is None:
            for hit, out in tests:
                if hit(modules[i]):
                    out.append(i)
            continue
        stack, _, template, end = found
        offsets = per_template.get((stack, template))
        if offsets is None:
            offsets = per_template[(stack, template)] = [
                (out, where)
                for hit, out in tests
                if (where := [j - i for j in range(i, end) if hit(modules[j])])
            ]
        for out, where in offsets:  # (most templates have none: nothing per block for nothing)
            out.extend([i + offset for offset in where])
    return outs


@once_per_table
def _items(table: LayerTable) -> list[tuple[int, tuple[str, int, int, int] | None]]:
    """``_walk`` over the table's templated blocks, as a list kept per table (every reading of
    the table per template walks it; callers must not change it)."""
    return list(_walk(table.modules, _template_blocks(table)))


def _walk(
    modules: list[Module], blocks: dict[int, tuple[str, int, int, int]]
) -> Iterator[tuple[int, tuple[str, int, int, int] | None]]:
    """(position, None) for each module in table order, but (its start, the block) for a block
    of ``blocks`` (by start position, its end last), whose modules are then skipped."""
    i = 0
    while i < len(modules):
        found = blocks.get(i)
        yield i, found
        i = found[3] if found is not None else i + 1


# What one module adds to its part: (kind, container class or None, relative name, LoRA kind for
# ``Part.modules`` or None, expert parameters).
_Effect = tuple[str, str | None, str, str | None, tuple[tuple[str, tuple[int, ...]], ...]]


@once_per_table
def block_parts(table: LayerTable) -> BlockParts | None:
    """The parts of the model's largest block stack outside vision towers; None without blocks.

    A block decoded from a template (``LayerTable.block_runs``, ``_template_blocks``) is read
    once per template: every copy's modules have the same relative names, classes, kinds and
    parameters, and what decides a module's part (its containers, siblings, the routers, hybrid
    mixers and attention classes among them) lies inside its own block, so each copy adds what
    the first one did, under its own index and names."""
    modules = table.modules
    stacks: dict[str, set[int]] = {}
    # (module, its block) read once, both passes below need it; a templated block as (None,
    # (stack, index, template, start, end))
    in_blocks: list[tuple[Module | None, tuple]] = []
    outside_towers: dict[tuple[str, int], bool] = {}  # (stack, template) → has such a module
    for i, found in _items(table):
        if found is None:
            m = modules[i]
            block = split_block(m.name)
            if block:
                in_blocks.append((m, block))
                if not tower_of(m.name):
                    stacks.setdefault(block[0], set()).add(block[1])
            continue
        stack, index, template, end = found
        key = (stack, template)
        if key not in outside_towers:
            names = [m.name for m in modules[i + 1 : end]]
            outside_towers[key] = any(split_block(n) and not tower_of(n) for n in names)
        if outside_towers[key]:
            stacks.setdefault(stack, set()).add(index)
        in_blocks.append((None, (stack, index, template, i, end)))
    if not stacks:
        return None
    stack = max(stacks, key=lambda s: len(stacks[s]))
    mixers = hybrid_mixers(table)
    router_names = routers(table)
    attention_owners = _attention_owners(table)
    parts: dict[str, Part] = {}
    kind_of: dict[str, str] = {}
    placed: dict[str, tuple[str, int]] = {}

    def effect(m: Module, block: tuple[str, int, str]) -> _Effect | None:
        if m.name in router_names:
            return None
        rel = block[2]
        mixer = next((a for a in _ancestors(m.name) if a in mixers), None) if mixers else None
        if mixer is not None and m.kind:
            return mixers[mixer], table.get(mixer).cls, rel, m.kind, ()
        if m.kind is None and m.own_params and any(len(s) == 3 for _, s in m.own_params):
            return "experts", m.cls, rel, None, tuple(expert_parameters(m))
        if m.kind in ("linear", "conv1d_hf"):
            kind = "attention" if _in_attention(m.name, block, attention_owners) else "mlp"
            return kind, None, rel, m.kind, ()
        return None

    def add(found: _Effect, index: int, full: str) -> None:
        kind, cls, rel, lora_kind, parameters = found
        part = parts.get(kind)
        if part is None:
            part = parts[kind] = Part(kind)
        part.layers.add(index)
        if cls and cls not in part.classes:
            part.classes.append(cls)
        kind_of[full] = kind
        placed[full] = (kind, index)
        if lora_kind:
            part.modules.setdefault(rel, lora_kind)
        for p, shape in parameters:
            part.parameters.setdefault(f"{rel}.{p}", shape)
            kind_of[f"{full}.{p}"] = "experts"
            placed[f"{full}.{p}"] = ("experts", index)

    per_template: dict[tuple[str, int], list[tuple[int, _Effect]]] = {}
    template_kinds: dict[tuple[str, int], set[str]] = {}
    for m, block in in_blocks:
        if block[0] != stack:
            continue
        if m is not None:
            found = effect(m, block)
            if found is not None:
                add(found, block[1], m.name)
            continue
        _, index, template, start, end = block
        effects = per_template.get((stack, template))
        if effects is None:  # the template's first block: its modules one by one
            effects = per_template[(stack, template)] = []
            for j in range(start + 1, end):
                inner = split_block(modules[j].name)
                found = effect(modules[j], inner) if inner else None
                if found is not None:
                    effects.append((j - start, found))
                    add(found, index, modules[j].name)
            continue
        # A later copy: what ``add`` puts in a part's classes, modules and parameters the first
        # copy already put there (kept at its first place); only its layer and names are new.
        kinds = template_kinds.get((stack, template))
        if kinds is None:
            kinds = template_kinds[(stack, template)] = {found[0] for _, found in effects}
        at = {}  # kind → (kind, this index)
        for kind in kinds:
            parts[kind].layers.add(index)
            at[kind] = (kind, index)
        for offset, (kind, _, _, _, parameters) in effects:
            full = modules[start + offset].name
            kind_of[full] = kind
            placed[full] = at[kind]
            for p, _ in parameters:  # (only routed experts have parameters)
                kind_of[f"{full}.{p}"] = "experts"
                placed[f"{full}.{p}"] = at["experts"]
    ordered = {k: parts[k] for k in KINDS if k in parts}
    return BlockParts(stack, len(stacks[stack]), ordered, kind_of, placed)


@once_per_table
def _template_blocks(table: LayerTable) -> dict[int, tuple[str, int, int, int]]:
    """The blocks ``block_parts`` may read per template, by start position: (stack, index,
    template, end). Only where it is proven that a copy is classified as the first one is: the
    stack is what ``split_block`` reads from its names (no index inside the stack's own name),
    each (stack, index) is one block, and no module outside the block has a name inside it (then
    every container, sibling and ancestor a module's part depends on is in its own block).
    Empty (every module read one by one) otherwise. Once per table (callers must not change it)."""
    blocks: dict[int, tuple[str, int, int, int]] = {}
    for stack, run in table.block_runs:
        if split_block(f"{stack}.0.x") != (stack, 0, "x"):
            continue
        for index, template, start, end in run:
            blocks[start] = (stack, index, template, end)
    if not blocks:
        return {}
    inside = {(stack, index) for stack, index, _, _ in blocks.values()}
    if len(inside) < len(blocks):
        return {}
    modules = table.modules
    for i, found in _walk(modules, blocks):
        block = split_block(modules[i].name) if found is None else None
        if block and (block[0], block[1]) in inside:
            return {}
    return blocks


def coverage(
    table: LayerTable, modules: Iterable[str], parameters: Iterable[str] = ()
) -> BlockParts | None:
    """Block parts with ``adapted`` filled from PEFT's adapted modules and parameters."""
    shared = block_parts(table)
    if shared is None:
        return None
    # each part with an ``adapted`` of its own (``dataclasses.replace``, without its cost)
    fresh = {
        k: Part(
            p.kind,
            classes=p.classes,
            layers=p.layers,
            adapted=set(),
            modules=p.modules,
            parameters=p.parameters,
        )
        for k, p in shared.parts.items()
    }
    placed = shared.placed
    for names in (modules, parameters):  # (each kind and layer once)
        for kind, index in set(filter(None, map(placed.get, names))):
            fresh[kind].adapted.add(index)
    return BlockParts(shared.stack, shared.layers, fresh, shared.kind_of, placed)
