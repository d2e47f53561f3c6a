"""Issue #12's shortcuts over layer tables give what the module-by-module reading gives, on every
catalogued table: the table format that keeps a repeated block once (``LayerTable.to_json`` /
``from_json``), ``block_parts`` read per template, and the matcher's plain-list, plain
``modules_to_save`` and wrappable-module shortcuts."""

from __future__ import annotations

import functools
import json
import os
import re

import pytest

from lorlint.models import catalog, layerkinds, match
from lorlint.models.layerkinds import (
    KINDS,
    BlockParts,
    Part,
    _ancestors,
    _attention_owners,
    _in_attention,
    expert_parameters,
    hybrid_mixers,
    routers,
    tower_of,
)
from lorlint.models.summary import split_block
from lorlint.models.table import LayerTable, Module


def _stored_tables() -> list[tuple[str, dict]]:
    """(where, JSON data) of every table the catalog holds: per-type packs and index entries."""
    out = []
    for model_type in sorted(catalog.raw_index()["types"]):
        for key, text in (catalog._pack(model_type) or {"tables": {}})["tables"].items():
            out.append((f"{model_type}/{key}", json.loads(text)))
    for entry in sorted(catalog.raw_index()["entries"]):
        for key, text in (catalog._entry_pack(entry) or {"tables": {}})["tables"].items():
            out.append((f"entry {entry}/{key}", json.loads(text)))
    return out


STORED = _stored_tables()
# Every table with LORLINT_SWEEP=all (make sweep, about 2 minutes); otherwise every sixth, per-type
# and bundled-index ones alike.
SAMPLE = STORED if os.environ.get("LORLINT_SWEEP") else STORED[::6]


def _plain(table: LayerTable) -> dict:
    """The table as the format before templates wrote it: one row per module."""
    data = table.to_json()
    classes = data["classes"]
    index = {c: i for i, c in enumerate(classes)}
    rows = []
    for m in table.modules:
        row: list = [m.name, index[m.cls], m.kind, list(m.shape), m.params]
        if m.own_params or m.groups != 1:
            row.append([[p, list(s)] for p, s in m.own_params])
        if m.groups != 1:
            row.append(m.groups)
        rows.append(row)
    data["modules"] = rows
    data.pop("templates", None)
    return data


def test_the_catalog_keeps_repeated_blocks_once():
    assert len(STORED) > 1500
    assert sum("templates" in data for _, data in STORED) > 0.9 * len(STORED)


def test_every_catalogued_table_reads_as_its_plain_rows():
    """Decoding the stored form and decoding one row per module give the same modules (every
    field, in order), and writing them gives the stored form back."""
    for where, data in SAMPLE:
        table = LayerTable.from_json(data)
        plain = LayerTable.from_json(_plain(table))
        assert [m._key() for m in table.modules] == [m._key() for m in plain.modules], where
        assert plain.to_json() == data, where


def test_a_run_needs_consecutive_blocks_of_one_stack():
    """Interleaved, out-of-order, zero-padded and lone blocks are kept as rows, exactly."""
    names = [
        "",
        "m",
        "m.layers",
        "m.layers.0",
        "m.layers.0.q",
        "m.layers.1",
        "m.layers.1.q",
        "m.layers.3",
        "m.layers.3.q",
        "m.layers.2",
        "m.layers.2.q",
        "m.layers.2.k",
        "m.layers.02",
        "m.layers.02.q",
        "m.layers.5",
        "m.layers.5.",
        "m.layers.6",
        "m.layers.6.",
        "m.layers.7",
        "m.layers.7.q",
        "m.layers.4.q",
    ]
    modules = [Module(n, "Linear" if n.endswith("q") else "Block", "linear") for n in names]
    table = LayerTable("x", "X", modules)
    data = json.loads(json.dumps(table.to_json()))
    assert LayerTable.from_json(data).modules == modules
    assert [type(item).__name__ for item in data["modules"]].count("dict") == 2


# --- block parts --------------------------------------------------------------------------------
def _block_parts_module_by_module(table: LayerTable) -> BlockParts | None:
    """``block_parts`` as it was before templates (session 5), kept as the reference."""
    stacks: dict[str, set[int]] = {}
    in_blocks = []
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

    def add(kind: str, index: int, full: str, cls: str | None = None) -> Part:
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
            part = add(mixers[mixer], index, m.name, table.get(mixer).cls)
            part.modules.setdefault(rel, m.kind)
        elif m.kind is None and any(len(s) == 3 for _, s in m.own_params):
            part = add("experts", index, m.name, m.cls)
            for p, shape in expert_parameters(m):
                part.parameters.setdefault(f"{rel}.{p}", shape)
                kind_of[f"{m.name}.{p}"] = "experts"
        elif m.kind in ("linear", "conv1d_hf"):
            kind = "attention" if _in_attention(m.name, block, attention_owners) else "mlp"
            add(kind, index, m.name).modules.setdefault(rel, m.kind)
    ordered = {k: parts[k] for k in KINDS if k in parts}
    return BlockParts(stack, len(stacks[stack]), ordered, kind_of)


def _ordered(found: BlockParts | None):
    """Everything of block parts, the order of every dict and list included."""
    if found is None:
        return None
    parts = [
        (
            k,
            p.kind,
            p.classes,
            sorted(p.layers),
            list(p.modules.items()),
            list(p.parameters.items()),
        )
        for k, p in found.parts.items()
    ]
    return found.stack, found.layers, parts, list(found.kind_of.items())


def test_block_parts_per_template_equal_module_by_module_on_every_catalogued_table():
    templated = 0
    for where, data in SAMPLE:
        table = LayerTable.from_json(data)
        templated += bool(layerkinds._template_blocks(table))
        expected = _ordered(_block_parts_module_by_module(table))
        assert _ordered(layerkinds.block_parts(table)) == expected, where
        table.block_runs = ()  # the same table read module by module
        assert _ordered(layerkinds.block_parts.__wrapped__(table)) == expected, where
    assert templated > 0.9 * len(SAMPLE)


def test_routers_attention_owners_and_mixers_per_template_equal_module_by_module():
    for where, data in SAMPLE:
        table = LayerTable.from_json(data)
        found = {
            m.name
            for m in table.modules
            if "router" in m.cls.lower()
            or (
                m.leaf in ("gate", "router")
                and table.get(f"{m.name.rpartition('.')[0]}.experts") is not None
            )
        }
        assert layerkinds.routers(table) == found, where
        owners = {m.name for m in table.modules if layerkinds._attention_class(m.cls)}
        assert layerkinds._attention_owners(table) == owners, where
        stacks = [
            m
            for m in table.modules
            if m.kind is None
            and split_block(m.name)
            and not tower_of(m.name)
            and any(len(shape) == 3 for _, shape in m.own_params)
        ]
        assert layerkinds.expert_stacks(table) == stacks, where
        mixers = {}
        for m in table.modules:
            if m.kind == "conv1d" and m.groups > 1 and split_block(m.name):
                owner = table.get(m.name.rpartition(".")[0])
                if owner is not None and split_block(owner.name) and not tower_of(owner.name):
                    mixers[owner.name] = layerkinds.hybrid_kind(owner.cls)
        assert list(hybrid_mixers(table).items()) == list(mixers.items()), where


def test_coverage_reads_each_names_kind_and_layer_as_split_block_does():
    """``BlockParts.placed`` (what ``coverage`` reads) is ``kind_of`` with each name's
    ``split_block`` index, and the layers ``coverage`` marks adapted are those."""
    for where, data in SAMPLE:
        table = LayerTable.from_json(data)
        found = layerkinds.block_parts(table)
        if found is None:
            continue
        expected = {name: (kind, split_block(name)[1]) for name, kind in found.kind_of.items()}
        assert found.placed == expected, where
        names = [m.name for m in table.modules[::3]]
        params = [name for name in found.kind_of if found.kind_of[name] == "experts"][::2]
        adapted: dict[str, set[int]] = {}
        for name in [*names, *params]:
            if name in found.kind_of:
                adapted.setdefault(found.kind_of[name], set()).add(split_block(name)[1])
        covered = layerkinds.coverage(table, names, params)
        assert {k: p.adapted for k, p in covered.parts.items() if p.adapted} == adapted, where


def test_leaf_positions_names_and_towers_per_template_equal_module_by_module():
    """``positions_with_leaf`` (found per template), ``named_count`` (counted while decoding),
    ``get`` (its index built on first use) and ``tower_modules`` (per template)."""
    for where, data in SAMPLE:
        table = LayerTable.from_json(data)
        by_leaf: dict[str, list[int]] = {}
        for i, m in enumerate(table.modules):
            by_leaf.setdefault(m.leaf, []).append(i)
        for leaf in [*sorted(by_leaf, reverse=True), "0", "1", "", "no_such_leaf"]:
            assert table.positions_with_leaf(leaf) == by_leaf.get(leaf, []), (where, leaf)
        assert table.named_count() == sum(1 for m in table.modules if m.name), where
        by_name = {m.name: m for m in table.modules}
        assert all(table.get(name) is m for name, m in by_name.items()), where
        towers = {m.name for m in table.modules if tower_of(m.name)}
        assert layerkinds.tower_modules(table) == towers, where


def _fields_but_name(m: Module) -> tuple:
    return (m.cls, m.kind, m.shape, m.params, m.own_params, m.groups)


def test_distinct_modules_hold_every_modules_fields_but_its_name():
    """``distinct_modules`` (the modules outside templated blocks and each template's first
    block) is a subsequence of the table holding every module's class, kind, shape, parameters
    and groups; and Unsloth's whole-table tests read from it and the leaf positions answer as
    the module-by-module reading does."""
    from lorlint.models import unsloth

    for where, data in SAMPLE:
        table = LayerTable.from_json(data)
        distinct = table.distinct_modules()
        positions = {id(m): i for i, m in enumerate(table.modules)}
        order = [positions[id(m)] for m in distinct]
        assert order == sorted(set(order)), where
        assert {_fields_but_name(m) for m in distinct} == {
            _fields_but_name(m) for m in table.modules
        }, where
        modules = table.modules
        assert unsloth._is_moe(table) == any(m.name.endswith(".experts") for m in modules), where
        assert unsloth._is_mamba(table) == (
            table.model_type in unsloth.MAMBA_TYPES
            or any(m.name.rpartition(".")[2] in ("mixer", "mamba") for m in modules)
        ), where
        assert unsloth._subclassed_linear(table) == any(
            m.kind == "linear" and m.cls not in unsloth.PLAIN_LINEARS for m in modules
        ), where
    plain = LayerTable("x", "X", [Module("m", "M"), Module("m.a", "Linear", "linear")])
    assert plain.distinct_modules() is plain.modules


def test_block_parts_read_module_by_module_where_a_block_is_not_proven():
    """A module outside the run whose name is inside one of its blocks: no template reading."""
    names = ["m", "m.layers", "m.layers.0", "m.layers.0.q", "m.layers.1", "m.layers.1.q"]
    modules = [Module(n, "Linear", "linear") for n in names]
    data = LayerTable("x", "X", modules).to_json()
    data["modules"].append(["m.layers.1.attn", 0, "linear", [], 0])
    table = LayerTable.from_json(data)
    assert table.block_runs and not layerkinds._template_blocks(table)
    assert _ordered(layerkinds.block_parts(table)) == _ordered(_block_parts_module_by_module(table))


# --- matching -----------------------------------------------------------------------------------
def _specs(table: LayerTable) -> list[match.TargetSpec]:
    leaves = sorted({m.leaf for m in table.modules if m.kind and m.name})
    linear = [m.name for m in table.modules if m.kind == "linear"]
    some = leaves[:3]
    dotted = [n.split(".", 1)[-1] for n in linear[:2]]
    regex = r".*\.(" + "|".join(re.escape(leaf) for leaf in some) + ")"
    return [
        match.TargetSpec(target_modules=leaves),
        match.TargetSpec(target_modules=some),
        match.TargetSpec(target_modules=some + dotted + linear[-1:]),
        match.TargetSpec(target_modules="all-linear"),
        match.TargetSpec(target_modules="all-linear", task_type="SEQ_CLS"),
        match.TargetSpec(target_modules=some, modules_to_save=["lm_head", "score", "norm"]),
        match.TargetSpec(target_modules=some, modules_to_save=["lm_.*", "embed_tokens"]),
        match.TargetSpec(target_modules=some, rank_pattern={"q_proj": 4}),
        match.TargetSpec(target_modules=leaves, peft_type="IA3", feedforward_modules=[]),
        match.TargetSpec(target_modules=["nothing_here"]),
        match.TargetSpec(target_modules=some, r=3),
        # the prepared exists test: exclusions (a list, a regex), a regex target, saved names
        match.TargetSpec(target_modules=leaves, exclude_modules=some + dotted),
        match.TargetSpec(target_modules=some, exclude_modules=r".*\.1\..*"),
        match.TargetSpec(target_modules=regex, modules_to_save=["lm_head", "embed_tokens"]),
        match.TargetSpec(target_modules=regex, exclude_modules=some[:1], modules_to_save=["x"]),
        match.TargetSpec(target_modules="all-linear", modules_to_save=["lm_head", "norm"]),
        match.TargetSpec(target_modules=some, peft_type="VERA", exclude_modules=some[1:]),
    ]


def _outcome(result: match.MatchResult):
    error = result.error
    return (
        result.modules,
        result.parameters,
        (error.kind, error.message, error.modules) if error else None,
        result.warnings,
        result.excluded,
        result.rank_pattern,
        result.effective_targets,
    )


@pytest.fixture
def module_by_module(monkeypatch):
    """The matcher with its shortcuts off: every module tested with check_target_module_exists
    and checked with _check_wrappable, as PEFT does."""

    def disable():
        monkeypatch.setattr(match, "_plain_list_hits", lambda table, spec: None)
        monkeypatch.setattr(
            match,
            "_exists_test",
            lambda spec: functools.partial(match.check_target_module_exists, spec),
        )
        monkeypatch.setattr(match, "_passes_wrappable", lambda table, spec: lambda module: False)

    return disable


def test_matching_shortcuts_equal_module_by_module_on_every_catalogued_table(module_by_module):
    tables = [(where, LayerTable.from_json(data)) for where, data in SAMPLE]
    cases = [(where, table, spec) for where, table in tables for spec in _specs(table)]
    fast = [_outcome(match.match(table, spec.replaced())) for _, table, spec in cases]
    module_by_module()
    for (where, table, spec), found in zip(cases, fast, strict=True):
        assert found == _outcome(match.match(table, spec.replaced())), (where, spec)


def test_a_truncated_catalog_file_reads_as_unreadable(tmp_path):
    """A cut gzip stream raises ValueError, as unreadable JSON does (the readers treat both as no
    catalog entry)."""
    whole = catalog.pack_path("llama").read_bytes()
    cut = tmp_path / "llama.json.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ValueError):
        catalog._read_gz(cut)
    assert catalog._read_gz(catalog.pack_path("llama"))["tables"]
