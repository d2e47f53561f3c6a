"""torchtune's own module names: its LoRA builders name layers their way, whatever the model.

A torchtune config (``model._component_: torchtune.models.llama3_1.lora_llama3_1_8b``) is checked
against this table, not against the Hugging Face names of the same model.
"""

from __future__ import annotations

from lorlint.models.resolve import ResolvedModel
from lorlint.models.table import LayerTable, Module
from lorlint.models.view import ModelView

ATTENTION = ("q_proj", "k_proj", "v_proj", "output_proj")
MLP = ("w1", "w2", "w3")
LAYERS = 2


def _table() -> LayerTable:
    linear = ("linear", (64, 64), 64 * 64)
    modules = [Module("", "TransformerDecoder"),
               Module("tok_embeddings", "Embedding", "embedding", (1000, 64), 64_000)]  # fmt: skip
    modules.append(Module("layers", "ModuleList"))
    for i in range(LAYERS):
        block = f"layers.{i}"
        modules += [
            Module(block, "TransformerSelfAttentionLayer"),
            Module(f"{block}.attn", "MultiHeadAttention"),
            *(Module(f"{block}.attn.{n}", "Linear", *linear) for n in ATTENTION),
            Module(f"{block}.mlp", "FeedForward"),
            *(Module(f"{block}.mlp.{n}", "Linear", *linear) for n in MLP),
            Module(f"{block}.sa_norm", "RMSNorm", None, (64,), 64),
            Module(f"{block}.mlp_norm", "RMSNorm", None, (64,), 64),
        ]
    modules += [Module("norm", "RMSNorm", None, (64,), 64),
                Module("output", "Linear", "linear", (64, 1000), 64_000)]  # fmt: skip
    return LayerTable(
        model_type="torchtune",
        architecture="TransformerDecoder",
        modules=modules,
        output_embedding="output",
        children=("tok_embeddings", "layers", "norm", "output"),
        num_hidden_layers=LAYERS,
        transformers_version="",
    )


def torchtune_view(component: str) -> ModelView:
    resolved = ResolvedModel(
        reference=component,
        config={"model_type": "torchtune"},
        source="torchtune",
        location="torchtune's own module names",
    )
    return ModelView(resolved, _table(), "causal-lm", "torchtune")
