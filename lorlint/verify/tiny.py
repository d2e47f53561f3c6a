"""Shrink a config to a tiny model that keeps every module name and the block structure.

Sizes go in as keyword arguments to the config class, so fields derived from them (per-layer
``layer_types``, head dims, rope sections) are recomputed; fields that only restate the old sizes
are dropped. Head counts keep their GQA ratio; fused layouts (Phi-3's ``qkv_proj``, Falcon's
``query_key_value``) keep theirs because only the sizes change.
"""

from __future__ import annotations

import copy

LAYERS = 2
HIDDEN = 64
HEADS = 4
FFN = 128

# Fields that restate sizes or checkpoint bookkeeping: recomputed by the class, or irrelevant.
DERIVED = {
    "layer_types",
    "architectures",
    "auto_map",
    "torch_dtype",
    "dtype",
    "transformers_version",
    "_name_or_path",
    "task",
    "max_window_layers",
    "quantization_config",
    "mlp_only_layers",
    "sliding_window_pattern",
}
LAYER_KEYS = ("num_hidden_layers", "n_layer", "n_layers", "num_layers", "encoder_layers",
              "decoder_layers", "num_decoder_layers", "depth")  # fmt: skip
HIDDEN_KEYS = ("hidden_size", "n_embd", "d_model", "dim", "embed_dim")
FFN_KEYS = ("intermediate_size", "ffn_dim", "d_ff", "n_inner", "hidden_dim", "encoder_ffn_dim",
            "decoder_ffn_dim")  # fmt: skip
HEAD_KEYS = ("num_attention_heads", "n_head", "n_heads", "num_heads", "encoder_attention_heads",
             "decoder_attention_heads")  # fmt: skip
KV_KEYS = ("num_key_value_heads", "num_kv_heads")
MOE = {
    "num_local_experts": 4,
    "num_experts": 4,
    "n_routed_experts": 4,
    "num_experts_per_tok": 2,
    "experts_per_token": 2,
    "moe_intermediate_size": 64,
    "shared_expert_intermediate_size": FFN,
    "n_group": 1,
    "topk_group": 1,
    "first_k_dense_replace": 1,
    "q_lora_rank": 32,
    "kv_lora_rank": 16,
    "qk_rope_head_dim": 8,
    "qk_nope_head_dim": 8,
    "v_head_dim": 16,
}


MROPE_TYPES = {"qwen2_vl", "qwen2_5_vl"}


def _shrink_part(part: dict, hidden: int = HIDDEN) -> dict:
    out = {k: v for k, v in part.items() if k not in DERIVED}
    heads_before = next((out[k] for k in HEAD_KEYS if isinstance(out.get(k), int)), None)
    for key in LAYER_KEYS:
        if key in out:
            out[key] = LAYERS
    for key in HIDDEN_KEYS:
        if key in out:
            out[key] = hidden
    for key in FFN_KEYS:
        if key in out and isinstance(out[key], int):
            out[key] = FFN
    for key in HEAD_KEYS:
        if key in out and isinstance(out[key], int):
            out[key] = HEADS
    for key in KV_KEYS:
        if isinstance(out.get(key), int) and heads_before:
            ratio = max(1, heads_before // max(out[key], 1))
            out[key] = max(1, HEADS // ratio)
    if "head_dim" in out:
        out["head_dim"] = hidden // HEADS
    if "d_kv" in out:
        out["d_kv"] = hidden // HEADS
    if "rotary_dim" in out:
        out["rotary_dim"] = (hidden // HEADS) // 2
    for key, value in MOE.items():
        if key in out:
            out[key] = value
    return out


def shrink(config: dict) -> dict:
    """A tiny copy of a config dict (model_type and structure kept)."""
    out = _shrink_part(copy.deepcopy(config))
    if not any(k in out for k in LAYER_KEYS) and "text_config" not in out:
        out["num_hidden_layers"] = LAYERS
    if not any(k in out for k in HIDDEN_KEYS) and "text_config" not in out:
        out["hidden_size"] = HIDDEN
        out.setdefault("num_attention_heads", HEADS)
        out.setdefault("intermediate_size", FFN)
    if isinstance(out.get("text_config"), dict):
        out["text_config"] = _shrink_part(out["text_config"])
        out["text_config"].setdefault("num_hidden_layers", LAYERS)
        out["text_config"].setdefault("hidden_size", HIDDEN)
        out["text_config"].setdefault("intermediate_size", FFN)
        out["text_config"].setdefault("num_attention_heads", HEADS)
    if out.get("model_type") in MROPE_TYPES and isinstance(out.get("text_config"), dict):
        # multimodal rope splits the head dim in three: the sections must sum to head_dim / 2
        out["text_config"]["rope_parameters"] = {
            "rope_type": "default",
            "rope_theta": 1000000.0,
            "mrope_section": [2, 3, 3],
        }
    if isinstance(out.get("vision_config"), dict):
        vision = _shrink_part(out["vision_config"])
        if "out_hidden_size" in vision:
            vision["out_hidden_size"] = HIDDEN
        if vision.get("model_type") is None and "depth" in vision:
            vision["hidden_size"] = HIDDEN  # Qwen2-VL: the merger's output width
        out["vision_config"] = vision
    return out
