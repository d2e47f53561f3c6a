"""The differential sweep: lorlint's matcher against PEFT itself on every buildable model type.

For each model type the catalog holds, built from its default config and loaded through its
natural task, a battery of target specs — ``all-linear``, the first block's own leaf names, a
typo, other architectures' names, a regex, exclusions, ``layers_to_transform=[0]``, MoE
conversion names — goes through ``peft.inject_adapter_in_model`` on the meta device and through
``lorlint.models.match``; the adapted module and parameter sets and raise/no-raise must be equal.

tests/test_sweep.py runs a fixed sample in CI; ``make sweep`` runs every type.
"""

from __future__ import annotations

from peft_oracle import match_outcome_kind, outcome_kind, peft_targets

from lorlint.models import catalog
from lorlint.models.introspect import fewer_layers, introspect
from lorlint.models.match import TargetSpec, match
from lorlint.models.summary import split_block

# A fixed, documented sample for CI: one or two types per family that matters for fine-tuning
# (decoders, MoE, hybrids, VLMs, encoders, encoder-decoders, speech, vision) plus the special
# cases of issue #10 (Llama 4 as a VLM, a model whose get_input_embeddings PEFT cannot call).
SAMPLE = (
    "llama", "mistral", "qwen2", "qwen3", "qwen3_moe", "qwen3_next", "gemma2", "gemma3",
    "gemma3_text", "llama4", "mllama", "phi3", "gpt2", "falcon", "t5", "bart", "bert",
    "modernbert", "vit", "whisper", "wav2vec2", "deepseek_v3", "gpt_oss", "mixtral",
    "granitemoehybrid", "lfm2", "smolvlm", "qwen2_5_vl", "granite_speech5_ctc", "falcon_h1",
    "mamba2",
)  # fmt: skip
OTHER_ARCH_NAMES = (["q_proj", "v_proj"], ["c_attn"], ["query_key_value"], ["query", "value"])
MOE_NAMES = (["w1", "w2", "w3"], ["gate_proj", "up_proj", "down_proj"])


def first_block_leaves(table) -> tuple[list[str], str]:
    """Wrappable leaf names of the first block of the first block stack, and that stack's name."""
    for m in table.modules:
        block = split_block(m.name)
        if block:
            prefix = f"{block[0]}.{block[1]}."
            leaves = [x.leaf for x in table.modules if x.name.startswith(prefix) and x.kind]
            return list(dict.fromkeys(leaves)), block[0].rpartition(".")[2]
    return list(dict.fromkeys(m.leaf for m in table.modules if m.kind and m.name)), "layers"


def specs_for(table) -> list[dict]:
    real, stack = first_block_leaves(table)
    specs: list[dict] = [{"target_modules": "all-linear"}]
    specs += [{"target_modules": names} for names in OTHER_ARCH_NAMES]
    if real:
        specs += [
            {"target_modules": real},
            {"target_modules": [*real[:2], "dwn_proj"]},
            {"target_modules": rf".*\.{real[0]}"},
            {"target_modules": "all-linear", "exclude_modules": [real[0]]},
            {"target_modules": real[:2], "layers_to_transform": [0]},
            {"target_modules": real[:2], "layers_to_transform": [0], "layers_pattern": stack},
        ]
    if any("expert" in m.name for m in table.modules):
        specs += [{"target_modules": names} for names in MOE_NAMES]
        specs += [{"target_modules": [], "target_parameters": ["experts.gate_up_proj"]}]
    return specs


def sweep_config(model_type: str, task: str) -> tuple[dict, object]:
    """The type's default config with four blocks per stack (same names, a fraction of the
    build and injection time), and its table; the default itself if that does not build."""
    from transformers import CONFIG_MAPPING

    try:
        config = fewer_layers(CONFIG_MAPPING[model_type]().to_dict(), 4)
        return config, introspect(config, task)
    except Exception:
        config = {"model_type": model_type}
        return config, introspect(config, task)


def sweep_type(model_type: str) -> list[tuple]:
    """Mismatches (spec, PEFT's outcome, lorlint's) for one model type; [] when equal."""
    task = catalog.natural_task(model_type)
    config, table = sweep_config(model_type, task)
    mismatches = []
    for spec in specs_for(table):
        peft_modules, peft_params, err = peft_targets(config, task, spec)
        ours = match(table, TargetSpec(**spec, via_get_peft_model=False))
        got = (sorted(ours.modules), sorted(ours.parameters), match_outcome_kind(ours))
        want = (peft_modules, peft_params, outcome_kind(err))
        if got != want:
            why = str(err).splitlines()[0][:160] if err else None
            mine = ours.error.message[:160] if ours.error else None
            mismatches.append((spec, want[2], why, got[2], mine, len(want[0]), len(got[0])))
    return mismatches


def buildable_types() -> list[str]:
    return sorted(catalog.raw_index()["types"])
