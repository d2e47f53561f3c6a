"""The layer table: every module of a model as ``named_modules()`` lists it, without torch.

A table is what the matcher and the rules read. It is built by ``introspect`` (meta device, real
transformers classes), cached on disk as JSON, and bundled in the catalog for torch-free installs.
"""

from __future__ import annotations

import functools
import gc
import json
import re
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from lorlint.site import Record

# LoRA's own layer kinds, in PEFT's dispatch order (peft/tuners/lora/layer.py ``dispatch_default``).
LORA_KINDS = ("embedding", "conv2d", "conv3d", "conv1d", "mha", "linear", "conv1d_hf")
# What PEFT's ``"all-linear"`` takes: ``isinstance(m, (nn.Linear, transformers.Conv1D))``.
ALL_LINEAR_KINDS = ("linear", "conv1d_hf")
T = TypeVar("T")


class Module(Record):
    """One entry of ``named_modules()``.

    A plain class, not a frozen ``@dataclass`` (whose methods are compiled at every start, and
    whose ``import dataclasses`` costs 5-9 ms before the first file is linted); immutable by
    convention, it compares and hashes by value as the dataclass did. With ``__slots__``:
    ``LayerTable._decode`` makes tables of thousands of modules on every run, and an instance
    without a ``__dict__`` whose seven slots are stored one by one costs about a third of one
    with a dict filled by ``update`` (0.13 against 0.40 µs a module)."""

    __slots__ = FIELDS = ("name", "cls", "kind", "shape", "params", "own_params", "groups")

    def __init__(
        self,
        name: str,
        cls: str,
        kind: str | None = None,  # one of LORA_KINDS, or None when LoRA cannot wrap it
        shape: tuple[int, ...] = (),  # (in, out) for linears, (num, dim) for embeddings
        params: int = 0,  # parameters owned directly (recurse=False)
        own_params: tuple[tuple[str, tuple[int, ...]], ...] = (),  # (name, shape): parameters
        groups: int = 1,  # a convolution's groups: LoRA needs the rank divisible by it
    ):
        self.name, self.cls, self.kind, self.shape = name, cls, kind, shape
        self.params, self.own_params, self.groups = params, own_params, groups

    def _key(self) -> tuple:
        return (self.name, self.cls, self.kind, self.shape, self.params, self.own_params,
                self.groups)  # fmt: skip

    def __hash__(self) -> int:
        return hash(self._key())

    @property
    def leaf(self) -> str:
        return self.name.rpartition(".")[2]


class LayerTable:
    """Every module of one model class built from one config, plus what PEFT asks of the model."""

    def __init__(
        self,
        model_type: str,
        architecture: str,
        modules: list[Module],
        output_embedding: str | None = None,
        children: tuple[str, ...] = (),
        num_hidden_layers: int | None = None,
        tied_embeddings: bool = False,
        transformers_version: str = "",
        is_pretrained_model: bool = True,
        meta: dict | None = None,
    ):
        self.model_type = model_type
        self.architecture = architecture  # the class that was built, e.g. "LlamaForCausalLM"
        self.modules = modules
        self.output_embedding = output_embedding  # ``get_output_embeddings()``: not all-linear's
        self.children = children  # top-level child names (PEFT's SEQ_CLS head lookup uses getattr)
        self.num_hidden_layers = num_hidden_layers
        self.tied_embeddings = tied_embeddings
        self.transformers_version = transformers_version
        self.is_pretrained_model = is_pretrained_model
        self.meta = {} if meta is None else meta
        # Built on first use: most tables are never asked for a module by name (5 of the 41 the
        # real-world set loads), and a leaf's positions are found per template (_leaf_index).
        self._by_name: dict[str, Module] | None = None
        self._leaf_positions: dict[str, list[int]] | None = None
        self._leaf_plan: tuple[dict[str, list[int]], dict[str, list[tuple[list[int], list[int]]]]]
        self._leaf_plan = ({}, {})
        self._named: int | None = None
        self._distinct: list[Module] | None = None
        # Blocks decoded from one template (from_json): (stack, [(index, template, start, end)])
        # per run, positions in ``modules``; what is computed per block can be computed per
        # template (layerkinds.block_parts). Empty for a table built any other way.
        self.block_runs: tuple[tuple[str, list[tuple[int, int, int, int]]], ...] = ()

    def get(self, name: str) -> Module | None:
        if self._by_name is None:
            self._by_name = {m.name: m for m in self.modules}
        return self._by_name.get(name)

    def positions_with_leaf(self, leaf: str) -> list[int]:
        """Positions in ``modules`` of the modules whose last name component is ``leaf``, in
        table order (a target entry can only hit modules whose leaf is the entry's own last
        component; positions sort without a key). Found on first use of each leaf; callers must
        not change the list."""
        if self._leaf_positions is None:
            self._leaf_positions = self._leaf_index()
        found = self._leaf_positions.get(leaf)
        if found is None:
            outside, inside = self._leaf_plan
            found = list(outside.get(leaf, ()))
            per_template = inside.get(leaf, ())
            for starts, offsets in per_template:
                found.extend([start + offset for start in starts for offset in offsets])
            if len(per_template) > 1 or (per_template and leaf in outside):
                found.sort()  # interleaved: several templates, or modules outside the blocks
            self._leaf_positions[leaf] = found
        return found

    def _leaf_index(self) -> dict[str, list[int]]:
        """The leaf index of a table built module by module: every leaf's positions at once.
        For blocks decoded from a template (``block_runs``) the index starts empty and
        ``_leaf_plan`` holds what answers a leaf in a few steps: the positions, by leaf, of the
        modules outside those blocks and of the blocks' own modules (``stack.7``: leaf ``7``),
        and per leaf, (the start of each block of a template, the template's offsets of the
        modules with that leaf). A copy's module at an offset has the first copy's leaf there:
        its name is the block's name and the template's same relative name (``from_json``)."""
        modules = self.modules
        if not self.block_runs:
            index: dict[str, list[int]] = {}
            for i, m in enumerate(modules):
                index.setdefault(m.name.rpartition(".")[2], []).append(i)  # m.leaf, inline
            self._leaf_plan = ({}, {})
            return index
        blocks: dict[int, int] = {}  # start → end
        starts: dict[int, list[int]] = {}  # template → its blocks' starts
        template_leaves: dict[int, dict[str, list[int]]] = {}
        for _, run in self.block_runs:
            for _, template, start, end in run:
                blocks[start] = end
                starts.setdefault(template, []).append(start)
                if template not in template_leaves:
                    offsets: dict[str, list[int]] = {}
                    for j in range(start + 1, end):
                        offsets.setdefault(modules[j].name.rpartition(".")[2], []).append(j - start)
                    template_leaves[template] = offsets
        outside: dict[str, list[int]] = {}
        i = 0
        while i < len(modules):
            outside.setdefault(modules[i].name.rpartition(".")[2], []).append(i)
            i = blocks.get(i, i + 1)
        inside: dict[str, list[tuple[list[int], list[int]]]] = {}
        for template, offsets in template_leaves.items():
            for leaf, where in offsets.items():
                inside.setdefault(leaf, []).append((starts[template], where))
        self._leaf_plan = (outside, inside)
        return {}

    def distinct_modules(self) -> list[Module]:
        """The modules outside the blocks decoded from a template (``block_runs``) and the first
        block of each template, in table order: every module of the table has the class, kind,
        shape, parameters and groups of one of them (a later copy's module those of the first
        copy's at its offset), so a test that reads no name answers for the whole table on
        them. Once per table; callers must not change the list."""
        if self._distinct is None:
            modules = self.modules
            later: dict[int, int] = {}  # a template's later blocks: start → end
            seen: set[int] = set()
            for _, run in self.block_runs:
                for _, template, start, end in run:
                    if template in seen:
                        later[start] = end
                    seen.add(template)
            if not later:
                self._distinct = modules
            else:
                out: list[Module] = []
                i = 0
                for start, end in sorted(later.items()):
                    out += modules[i:start]
                    i = end
                self._distinct = out + modules[i:]
        return self._distinct

    def named_count(self) -> int:
        """How many modules have a name (all but the model itself, ``""``)."""
        if self._named is None:
            self._named = sum(1 for m in self.modules if m.name)
        return self._named

    def names(self) -> list[str]:
        return [m.name for m in self.modules]

    @property
    def total_params(self) -> int:
        return sum(m.params for m in self.modules)

    # --- serialisation: compact, class names interned, a repeated block kept once -------------
    def to_json(self) -> dict:
        """The table as JSON data. ``modules`` lists, in table order, rows (``[name, class index,
        kind, shape, params, (own params, (groups))]``) and runs of consecutive blocks (``{"stack":
        "model.layers", "first": 0, "blocks": [template index per block]}``). A template is one
        block's rows, the block's own module first, the others named relative to it: a stack of
        identical blocks is kept once, so the catalog and the cache are decoded in a fraction of
        the time (``from_json``). The data is a function of the modules alone."""
        classes: list[str] = []
        index: dict[str, int] = {}

        def row(m: Module, name: str) -> list:
            if m.cls not in index:
                index[m.cls] = len(classes)
                classes.append(m.cls)
            out: list = [name, index[m.cls], m.kind, list(m.shape), m.params]
            if m.own_params or m.groups != 1:
                out.append([[p, list(s)] for p, s in m.own_params])
            if m.groups != 1:
                out.append(m.groups)
            return out

        items: list = []
        templates: list[list] = []
        known: dict[str, int] = {}  # a template's JSON text → its index
        modules = self.modules
        i = 0
        while i < len(modules):
            run = _block_run(modules, i)
            if run is None:
                items.append(row(modules[i], modules[i].name))
                i += 1
                continue
            prefix, first, bounds = run
            blocks = []
            for start, end in bounds:
                cut = len(modules[start].name) + 1
                rows = [row(modules[start], "")]
                rows += [row(m, m.name[cut:]) for m in modules[start + 1 : end]]
                text = json.dumps(rows)
                if text not in known:
                    known[text] = len(templates)
                    templates.append(rows)
                blocks.append(known[text])
            items.append({"stack": prefix, "first": first, "blocks": blocks})
            i = bounds[-1][1]
        data = {
            "model_type": self.model_type,
            "architecture": self.architecture,
            "output_embedding": self.output_embedding,
            "children": list(self.children),
            "num_hidden_layers": self.num_hidden_layers,
            "tied_embeddings": self.tied_embeddings,
            "transformers_version": self.transformers_version,
            "is_pretrained_model": self.is_pretrained_model,
            "meta": self.meta,
            "classes": classes,
            "modules": items,
        }
        if templates:
            data["templates"] = templates
        return data

    @classmethod
    def from_json(cls, data: dict) -> LayerTable:
        """The table of ``to_json``'s data (plain rows only, as older writers wrote, included).

        With the cyclic garbage collector paused, as the Python front end does: a table is
        thousands of new objects at once, none in a cycle, and a collection started on the way
        would walk them all for nothing. Pausing only delays that walk to the next allocation
        after it, though: where the process keeps its long-lived objects out of collections
        (``tables_out_of_collections``), the new table joins them."""
        enabled = gc.isenabled()
        gc.disable()
        try:
            return cls._decode(data)
        finally:
            if enabled:
                gc.enable()
            if _FREEZE_DECODED[0]:
                gc.freeze()

    @classmethod
    def _decode(cls, data: dict) -> LayerTable:
        classes = data["classes"]
        modules: list[Module] = []
        add = modules.append
        new = object.__new__
        # per template: its rows as (the name after the block's, then the other attributes)
        templates = [
            [
                (f".{name}" if i else "", *rest)
                for i, (name, *rest) in enumerate(_fields(row, classes) for row in rows)
            ]
            for rows in data.get("templates", ())
        ]
        runs: list[tuple[str, list[tuple[int, int, int, int]]]] = []
        unnamed = 0  # (a block's modules all have a name: ``stack.N`` and below)
        for item in data["modules"]:
            if type(item) is not dict:
                # Module(...) without its __init__ (a call and keyword parsing per module):
                # tables hold thousands of modules, decoded on every run.
                module = new(Module)
                (module.name, module.cls, module.kind, module.shape, module.params,
                 module.own_params, module.groups) = _fields(item, classes)  # fmt: skip
                add(module)
                unnamed += not item[0]
                continue
            prefix, first = item["stack"], item["first"]
            run = []
            runs.append((prefix, run))
            for offset, template in enumerate(item["blocks"]):
                index, start = first + offset, len(modules)
                base = f"{prefix}.{index}"
                # (shared immutable values: the block's other copies')
                for suffix, class_name, kind, shape, params, own, groups in templates[template]:
                    module = new(Module)
                    module.name = base + suffix
                    module.cls = class_name
                    module.kind = kind
                    module.shape = shape
                    module.params = params
                    module.own_params = own
                    module.groups = groups
                    add(module)
                run.append((index, template, start, len(modules)))
        table = cls(
            model_type=data["model_type"],
            architecture=data["architecture"],
            modules=modules,
            output_embedding=data.get("output_embedding"),
            children=tuple(data.get("children", ())),
            num_hidden_layers=data.get("num_hidden_layers"),
            tied_embeddings=data.get("tied_embeddings", False),
            transformers_version=data.get("transformers_version", ""),
            is_pretrained_model=data.get("is_pretrained_model", True),
            meta=data.get("meta", {}),
        )
        table.block_runs = tuple(runs)
        table._named = len(modules) - unnamed
        return table


_FREEZE_DECODED = [False]  # set within tables_out_of_collections


@contextmanager
def tables_out_of_collections() -> Iterator[None]:
    """Within it, each decoded table is moved, with every object alive at that moment, out of the
    cyclic garbage collector's reach (``gc.freeze``), as ``lorlint check`` does with what start-up
    loads (commands/check.py). A table lives as long as the process and holds no cycle; left
    young, its ~500 modules (18,253 for the real-world set's 39 tables, two objects each) are
    walked by the next collections for nothing (7 ms of that run's 0.12 s of checking sites).
    The cost: garbage that only the collector could free (a reference cycle) and exists at that
    moment is never freed, which one pass over the files can afford and a long-lived process
    (the server, ``--watch``) cannot, so it is asked for, never the default."""
    before = _FREEZE_DECODED[0]
    _FREEZE_DECODED[0] = True
    try:
        yield
    finally:
        _FREEZE_DECODED[0] = before


_CONTAINER = re.compile(r"(.+)\.(\d+)")  # a block's own module: ``model.layers.3``


def _block_run(modules: list[Module], i: int) -> tuple[str, int, list[tuple[int, int]]] | None:
    """Two or more consecutive blocks of one stack from ``modules[i]`` on (``model.layers.0``,
    its submodules, ``model.layers.1``, ...): (stack, first index, (start, end) per block)."""
    found = _CONTAINER.fullmatch(modules[i].name)
    if found is None:
        return None
    prefix, first = found.group(1), int(found.group(2))
    if str(first) != found.group(2):  # ``layers.01``: not what the index writes back
        return None
    bounds = []
    start = i
    while start < len(modules) and modules[start].name == f"{prefix}.{first + len(bounds)}":
        inside = modules[start].name + "."
        end = start + 1
        while end < len(modules) and modules[end].name.startswith(inside):
            end += 1
        bounds.append((start, end))
        start = end
    return (prefix, first, bounds) if len(bounds) > 1 else None


def _fields(row: list, classes: list[str]) -> tuple:
    """A row's Module attributes, in ``Module.FIELDS`` order."""
    return (
        row[0],
        classes[row[1]],
        row[2],
        tuple(row[3]),
        row[4],
        tuple((p, tuple(s)) for p, s in row[5]) if len(row) > 5 else (),
        row[6] if len(row) > 6 else 1,
    )


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
