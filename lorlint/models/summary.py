"""What a target spec does to a model, in numbers: per-block module kinds, trainable parameters, layers.

Shared by ``lorlint models`` and the rules' messages; pure (no torch).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache

from lorlint.models.match import rank_for
from lorlint.models.table import LayerTable, Module

_BLOCK = re.compile(r"^(?P<prefix>.*?)\.(?P<idx>\d+)(?:\.(?P<rest>.*))?$")


class Row:
    """One module kind: the same relative name in every block of one stack (or one module outside)."""

    def __init__(
        self,
        group: str,
        name: str,
        cls: str,
        kind: str | None,
        shape: tuple[int, ...],
        count: int = 0,
        targeted: int = 0,
        layers: list[int] | None = None,
    ):
        self.group = group  # "model.layers" for blocks, "" outside any block
        self.name = name  # relative to the block, or the full name outside
        self.cls = cls
        self.kind = kind
        self.shape = shape
        self.count = count
        self.targeted = targeted
        self.layers = [] if layers is None else layers


@lru_cache(maxsize=1 << 16)
def split_block(name: str) -> tuple[str, int, str] | None:
    """``model.layers.3.mlp.up_proj`` → (``model.layers``, 3, ``mlp.up_proj``).

    Cached: the rules ask about the same module names many times per table."""
    m = _BLOCK.match(name)
    if not m or not m.group("rest"):
        return None
    return m.group("prefix"), int(m.group("idx")), m.group("rest")


def rows(
    table: LayerTable, targeted: Iterable[str] = (), parameters: Iterable[str] = ()
) -> list[Row]:
    """Modules that matter for LoRA (wrappable, or owning parameters), grouped by block position.

    A module holding fused experts (3-D parameters) gives one row per such parameter, of kind
    ``parameter``: ``target_parameters`` reaches them, ``target_modules`` does not."""
    hit, params = set(targeted), set(parameters)
    out: dict[tuple[str, str], Row] = {}

    def add(name: str, cls: str, kind: str | None, shape: tuple[int, ...], adapted: bool) -> None:
        block = split_block(name)
        group, rel, idx = (block[0], block[2], block[1]) if block else ("", name, None)
        row = out.get((group, rel))
        if row is None:
            row = out[(group, rel)] = Row(group, rel, cls, kind, shape)
        row.count += 1
        if idx is not None:
            row.layers.append(idx)
        if adapted:
            row.targeted += 1

    for m in table.modules:
        if not m.name or (m.kind is None and not m.params):
            continue
        stacked = [(p, s) for p, s in m.own_params if len(s) == 3] if m.kind is None else []
        for p, shape in stacked:
            full = f"{m.name}.{p}"
            add(full, m.cls, "parameter", shape, full in params)
        if not stacked:
            shape = m.shape or (m.own_params[0][1] if m.own_params else ())
            add(m.name, m.cls, m.kind, shape, m.name in hit)
    return list(out.values())


def lora_params(module: Module, r: int) -> int:
    """Parameters LoRA adds to one module at rank ``r`` (lora_A + lora_B)."""
    shape = module.shape
    if module.kind in ("linear", "conv1d_hf", "embedding", "mha"):
        return r * (shape[0] + shape[1])
    if module.kind in ("conv1d", "conv2d", "conv3d"):
        kernel = 1
        for k in shape[2:]:
            kernel *= k
        return r * (shape[0] * kernel + shape[1])
    return 0


def parameter_lora_params(shape: tuple[int, ...], r: int) -> int:
    """LoRA on an ``nn.Parameter`` (``target_parameters``): per expert for 3-D expert stacks."""
    if len(shape) == 3:
        return r * shape[0] * (shape[1] + shape[2])
    if len(shape) == 2:
        return r * (shape[0] + shape[1])
    return 0


def trainable_params(
    table: LayerTable,
    modules: Iterable[str],
    parameters: Iterable[str] = (),
    r: int = 16,
    rank_pattern: Mapping[str, int] | None = None,
) -> int:
    total = 0
    for name in modules:
        module = table.get(name)
        if module is not None:
            total += lora_params(module, rank_for(name, r, rank_pattern))
    for full in parameters:
        owner, _, pname = full.rpartition(".")
        module = table.get(owner)
        shapes = dict(module.own_params) if module else {}
        if pname in shapes:
            total += parameter_lora_params(shapes[pname], rank_for(full, r, rank_pattern))
    return total


def layer_coverage(table: LayerTable, targeted: Iterable[str]) -> dict[str, tuple[int, set[int]]]:
    """Per block stack: (number of blocks, indices holding at least one adapted module)."""
    sizes: dict[str, set[int]] = {}
    for m in table.modules:
        block = split_block(m.name)
        if block:
            sizes.setdefault(block[0], set()).add(block[1])
    covered: dict[str, set[int]] = {group: set() for group in sizes}
    for name in targeted:
        block = split_block(name)
        if block and block[0] in covered:
            covered[block[0]].add(block[1])
    return {g: (len(sizes[g]), covered[g]) for g in sizes if len(sizes[g]) > 1}


def human(n: int) -> str:
    for unit, size in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= size:
            return f"{n / size:.2f}{unit}"
    return str(n)


def human_bytes(n: int) -> str:
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"
