"""LL201 attention-only: the targets cover only attention projections, not the MLP or experts."""

from __future__ import annotations

from lorlint import fixes
from lorlint.checks import Context, rule
from lorlint.checks.targets import block_linear_leaves, quoted, tower_of
from lorlint.models.match import MOE_TARGET_MODULE_MAPPING
from lorlint.models.summary import split_block

ATTENTION_MARKERS = ("attn", "attention")
# The QLoRA finding is about low-rank adapters on linear weights: LoRA, and AdaLoRA (LoRA whose
# rank is budgeted per matrix). Other methods (IA3's scaling vectors, LN-tuning's norms, ...) are
# not what the paper measured: the rule says nothing about them.
METHODS = ("LORA", "ADALORA")
# Each config tool's own switch for every Linear (lorlint/models/llama_factory.py, axolotl.py).
# (advice for a dense model, for an MoE model whose experts PEFT converts from their v4 names).
TOOL_ADVICE = {
    "llama-factory": ("set lora_target: all (every Linear but lm_head)", "set lora_target: {0}"),
    "axolotl": ("set lora_target_linear: true", "set lora_target_modules: {1}"),
}


def is_attention(name: str) -> bool:
    block = split_block(name)
    rel = block[2] if block else name
    return any(marker in rel.lower() for marker in ATTENTION_MARKERS)


def expert_targets(ctx: Context) -> tuple[list[str], list[str]]:
    """(target_modules names, target_parameters) that adapt fused MoE experts, if any.

    For families PEFT converts (Mixtral, Qwen-MoE, DeepSeek, ...) the old per-expert names work
    in target_modules; otherwise the 3-D expert weights need target_parameters."""
    stacks = [
        m for m in ctx.table.modules
        if split_block(m.name) and not tower_of(m.name)
        and any(len(shape) == 3 for _, shape in m.own_params)
    ]  # fmt: skip
    if not stacks:
        return [], []
    family = ctx.table.meta.get("moe_conversion")
    if family in MOE_TARGET_MODULE_MAPPING:
        return [n for n in MOE_TARGET_MODULE_MAPPING[family] if n != "gate"], []
    leaf = stacks[0].name.split(".")[-2:]
    owner = ".".join(leaf) if len(leaf) == 2 else stacks[0].leaf
    return [], [f"{owner}.{p}" for p, shape in stacks[0].own_params if len(shape) == 3]


@rule(
    "LL201",
    "attention-only",
    "warning",
    "targets cover only the attention projections",
    fixes=("unsafe",),
)
def check(ctx: Context):
    result = ctx.adapted
    if result is None or not result.modules or ctx.site.peft_type not in METHODS:
        return
    if result.parameters or not all(is_attention(n) for n in result.modules):
        return
    linears = block_linear_leaves(ctx)
    mlp = [n for n in linears if any(not is_attention(m.name) for m in _named(ctx, n))]
    experts, expert_params = expert_targets(ctx)
    if not mlp and not experts and not expert_params:
        return  # nothing but attention to adapt
    value = ctx.site.keywords.get("target_modules")
    span = value.span if value is not None else ctx.site.span
    what = "PEFT's default targets" if result.defaulted else "the targets"
    full = linears + [e for e in experts if e not in linears]
    fix = None
    if value is not None and not expert_params:
        message = "Target every block linear: "
        if value.elements is not None:
            fix = fixes.rewrite_list(value, full, message, "unsafe")
        else:
            message += fixes.list_literal(full, value.quote)
            fix = fixes.string_to_list(value, full, message, "unsafe")
    advice = f"use target_modules={quoted(full)}"
    advice += (
        f" with target_parameters={quoted(expert_params)}" if expert_params else ' or "all-linear"'
    )
    if ctx.site.kind in TOOL_ADVICE and not expert_params:
        everything, listed = TOOL_ADVICE[ctx.site.kind]
        advice = listed.format(",".join(full), quoted(full)) if experts else everything
        fix = None
    if ctx.site.kind == "torchtune":
        advice = "set apply_lora_to_mlp: true (torchtune's MLP is w1/w2/w3)"
    flag = ctx.site.keywords.get("finetune_mlp_modules")
    if ctx.site.kind == "unsloth" and flag is not None and flag.value is False:
        advice, span, fix = "set finetune_mlp_modules=True (Unsloth's MLP switch)", flag.span, None
    yield (
        f"{what} adapt only attention projections of {ctx.model_label()}; the QLoRA paper found "
        f"adapters on all linear layers of the block are needed to match full fine-tuning: {advice}",
        span,
        fix,
    )


def _named(ctx: Context, leaf: str):
    return [m for m in ctx.table.modules if m.leaf == leaf and split_block(m.name)]
