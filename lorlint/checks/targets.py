"""Helpers the target rules share: the entries of ``target_modules`` and what each one hits."""

from __future__ import annotations

import re
from collections.abc import Iterator

from lorlint.checks import Context
from lorlint.models.layerkinds import expert_stacks, tower_of
from lorlint.models.match import (
    ALL_LINEAR,
    MOE_TARGET_MODULE_MAPPING,
    entry_matches,
    modules_matching_entry,
)
from lorlint.site import Value

REGEX_CHARS = re.compile(r"[\\^$*+?{}\[\]|()]")
# Other architectures' names → what each family calls the same projection.
EQUIVALENTS = {
    "gpt2": {"q_proj": "c_attn", "k_proj": "c_attn", "v_proj": "c_attn", "o_proj": "c_proj",
             "gate_proj": "c_fc", "up_proj": "c_fc", "down_proj": "c_proj"},
    "phi3": {"q_proj": "qkv_proj", "k_proj": "qkv_proj", "v_proj": "qkv_proj",
             "gate_proj": "gate_up_proj", "up_proj": "gate_up_proj"},
    "falcon": {"q_proj": "query_key_value", "k_proj": "query_key_value",
               "v_proj": "query_key_value", "o_proj": "dense", "up_proj": "dense_h_to_4h",
               "down_proj": "dense_4h_to_h"},
    "bert": {"q_proj": "query", "k_proj": "key", "v_proj": "value", "o_proj": "output.dense"},
    "t5": {"q_proj": "q", "k_proj": "k", "v_proj": "v", "o_proj": "o", "gate_proj": "wi_0",
           "up_proj": "wi_1", "down_proj": "wo"},
}  # fmt: skip
EQUIVALENTS["gpt_neox"] = EQUIVALENTS["bloom"] = EQUIVALENTS["falcon"]
EQUIVALENTS["roberta"] = EQUIVALENTS["bert"]
EQUIVALENTS["torchtune"] = {"o_proj": "output_proj", "out_proj": "output_proj",
                            "gate_proj": "w1", "down_proj": "w2", "up_proj": "w3"}  # fmt: skip


def converted(ctx: Context, entry: str) -> bool:
    """PEFT rewrote this v4 MoE name to a target parameter (transformers 5 fused experts)."""
    return ctx.result is not None and entry in ctx.result.converted


def entries(ctx: Context) -> Iterator[Value]:
    """Known string entries of a list/tuple/set ``target_modules``, each with its own span."""
    value = ctx.site.keywords.get("target_modules")
    if value is None or value.elements is None:
        if value is not None and isinstance(value.value, (list, tuple, set)):
            for item in value.value:  # computed (a split, a call): no literal to edit
                if isinstance(item, str):
                    yield Value(item, value.span, editable=False)
        return
    for element in value.elements:
        if isinstance(element.value, str):
            yield element


def looks_like_pattern(entry: str) -> bool:
    return bool(REGEX_CHARS.search(entry)) or entry.lower().replace("_", "-") == ALL_LINEAR


def _adaptable_leaves(ctx: Context) -> list[str]:
    return sorted({m.leaf for m in ctx.table.modules if m.kind and m.name})


def close_names(entry: str, ctx: Context, n: int = 3) -> list[str]:
    import difflib  # only for an entry that matches nothing

    return difflib.get_close_matches(entry, _adaptable_leaves(ctx), n=n, cutoff=0.75)


def prefixed_names(entry: str, ctx: Context, n: int = 3) -> list[str]:
    """Real names that extend the entry (T5 v1.0's ``wi`` → v1.1's ``wi_0``, ``wi_1``)."""
    return [leaf for leaf in _adaptable_leaves(ctx) if leaf.startswith(entry)][:n]


# transformers 5 renamed BERT-style attention in ViT and its kin to q/k/v_proj.
RENAMED = {"query": "q_proj", "key": "k_proj", "value": "v_proj"}


def equivalent(entry: str, ctx: Context) -> str | None:
    mapping = EQUIVALENTS.get(ctx.view.model_type, RENAMED)
    name = mapping.get(entry)
    if name and ctx.table is not None and modules_matching_entry(ctx.table, name):
        return name
    return None


def block_linear_leaves(ctx: Context) -> list[str]:
    """Linear leaf names inside the repeated (language) blocks, in model order."""
    from lorlint.models.summary import split_block

    seen: dict[str, None] = {}
    for m in ctx.table.modules:
        if m.kind in ("linear", "conv1d_hf") and split_block(m.name) and not tower_of(m.name):
            seen.setdefault(m.leaf, None)
    return list(seen)


def quoted(names) -> str:
    return "[" + ", ".join(f'"{n}"' for n in names) + "]"


def counted(ctx: Context, n: int) -> str:
    """A count from the layer table: "about N" when the table comes from a default config."""
    return str(n) if ctx.view is None or ctx.view.exact else f"about {n}"


def counts_note(ctx: Context) -> str:
    """Said after counts read from a default config: the names are exact, the numbers not."""
    if ctx.view is None or ctx.view.exact:
        return ""
    return f" (layer counts from {ctx.view.model_type}'s default config)"


def stable(ctx: Context, names) -> set[str]:
    """The names that exist in every layout of the architecture (all of them for an exact view):
    a finding about a module being adapted is made only for those."""
    return {n for n in names if ctx.view is None or ctx.view.name_is_stable(n)}


def literal(value) -> str:
    """A Python literal with double quotes (dicts of rank patterns, lists of names)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    return repr(value)


# v4 expert projection names → the fused parameter transformers 5 keeps them in (PEFT's own
# conversion vocabulary, every family; the router's ``gate`` left out).
FUSED_EXPERT_NAMES = {
    old: new
    for family in MOE_TARGET_MODULE_MAPPING.values()
    for old, new in family.items()
    if old != "gate"
}


def expert_suffix(name: str) -> str:
    """``model.layers.0.mlp.experts.down_proj`` → ``experts.down_proj``: a target_parameters entry
    precise enough as a suffix."""
    return ".".join(name.split(".")[-2:])


def expert_weights_text(ctx: Context, params: list[str]) -> str:
    """``the fused expert weight mlp.experts.down_proj (32×2880×2880, in 24 layers)``."""
    from lorlint.models.summary import split_block

    owner, _, leaf = params[0].rpartition(".")
    shape = "×".join(str(d) for d in dict(ctx.table.get(owner).own_params)[leaf])
    rel = split_block(params[0])[2] if split_block(params[0]) else params[0]
    return f"the fused expert weight {rel} ({shape}, in {len(params)} layers)"


def expert_parameters_named(ctx: Context, entry: str) -> list[str]:
    """Full ``module.param`` names of fused expert weights that a list entry names: the
    parameter itself (``experts.down_proj``), or a v4 projection name now fused into one
    (``gate_proj`` → ``experts.gate_up_proj``). Empty when the entry names a real module."""
    if modules_matching_entry(ctx.table, entry):
        return []
    found = []
    fused = FUSED_EXPERT_NAMES.get(entry.rpartition(".")[2])
    for stack in expert_stacks(ctx.table):
        for param, shape in stack.own_params:
            full = f"{stack.name}.{param}"
            if len(shape) == 3 and (entry_matches(entry, full) or param == fused):
                found.append(full)
    return found
