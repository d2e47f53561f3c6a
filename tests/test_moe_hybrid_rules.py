"""LL110, LL111, LL112, LL201, LL209, LL210, LL211, LL212 proven against PEFT itself.

For the model types of issue #13 (and other Mamba hybrids), built on the meta device, and a
battery of configs, each rule fires exactly when PEFT's real adapter shows what the rule says:
the routed experts' parameters untouched (LL209), no module of a hybrid block wrapped (LL210),
PEFT raising its ParamWrapper-dropout, Mamba or fused-pair error (LL110, LL111, LL112), PEFT's
tied-weight warning (LL211), dense layers of a converted name left unwrapped (LL212). The
ground truth is read from the torch model PEFT adapted, not from lorlint's layer table.
"""

from __future__ import annotations

import re
import warnings
from functools import cache

import pytest

pytest.importorskip("peft")

from modern import ISSUE_TYPES, MORE_HYBRIDS, config_of, task_of

from lorlint.checks import RULES, Context, load_all
from lorlint.engine import spec_for
from lorlint.frontends.python import extract_sites
from lorlint.models.introspect import build_model, introspect
from lorlint.models.match import match
from lorlint.models.resolve import ResolvedModel
from lorlint.models.view import ModelView

load_all()
LLAMA = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
MODEL_TYPES = sorted(set(ISSUE_TYPES) | set(MORE_HYBRIDS))


@cache
def _view(model_type: str) -> ModelView:
    config, task = config_of(model_type), task_of(model_type)
    resolved = ResolvedModel(model_type, config, "class", model_type)
    return ModelView(resolved, introspect(config, task), task)


def findings(model_type: str, spec: dict) -> dict[str, list[tuple]]:
    """Rule code → findings of every rule on ``LoraConfig(**spec)`` for this model."""
    source = (
        "from peft import LoraConfig\nLoraConfig("
        + ", ".join(f"{k}={v!r}" for k, v in {"r": 4, "lora_alpha": 8, **spec}.items())
        + ")\n"
    )
    (site,) = extract_sites("t.py", source)
    view = _view(model_type)
    target = spec_for(site)
    target.via_get_peft_model = False
    ctx = Context(site, view, target, match(view.table, target))
    return {code: list(rule.check(ctx)) for code, rule in RULES.items() if rule.check}


class Truth:
    """What PEFT really did: the adapted torch model, its error and warnings."""

    def __init__(self, model_type: str, spec: dict):
        from peft import LoraConfig, inject_adapter_in_model

        self.config = LoraConfig(r=4, lora_alpha=8, **spec)
        self.listed = (
            list(spec.get("target_modules") or [])
            if not isinstance(spec.get("target_modules"), str)
            else []
        )
        self.model = build_model(config_of(model_type), task_of(model_type))
        self.error: Exception | None = None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                inject_adapter_in_model(self.config, self.model)
            except Exception as err:  # PEFT's own errors are part of the truth
                self.error = err
        self.warnings = [str(w.message) for w in caught]

    def modules(self):
        from peft.tuners.lora import ParamWrapper
        from peft.tuners.tuners_utils import BaseTunerLayer

        for name, module in self.model.named_modules():
            if isinstance(module, BaseTunerLayer) and ".base_layer" not in name:
                yield name.replace(".base_layer", ""), module, isinstance(module, ParamWrapper)

    def adapted_parameters(self) -> set[str]:
        out = set()
        for name, module, is_param in self.modules():
            if is_param:
                out.add(f"{name}.{module.parameter_name}")
        for name, module in self.model.named_modules():  # nested ParamWrappers
            if type(module).__name__ == "ParamWrapper":
                out.add(f"{name.replace('.base_layer', '')}.{module.parameter_name}")
        return out

    def adapted_modules(self) -> set[str]:
        return {name for name, _, is_param in self.modules() if not is_param}


def expert_weights(model) -> set[str]:
    """3-D parameters of modules that are not Linear/Conv/Embedding: fused routed experts."""
    import torch

    plain = (torch.nn.Linear, torch.nn.Conv1d, torch.nn.Embedding)
    return {
        f"{name}.{p}".replace(".base_layer", "")
        for name, module in model.named_modules()
        if not isinstance(module, plain) and "lora_" not in name
        for p, t in module.named_parameters(recurse=False)
        if t.dim() == 3
    }


def hybrid_blocks(model) -> set[str]:
    """Modules that own a depthwise Conv1d: Mamba, linear attention, short convolution."""
    import torch

    out = set()
    for name, module in model.named_modules():
        for _, child in module.named_children():
            if isinstance(child, torch.nn.Conv1d) and child.groups > 1:
                out.add(name)
    return out


SPECS: list[dict] = [
    {"target_modules": "all-linear"},
    {"target_modules": LLAMA},
    {"target_modules": LLAMA, "lora_dropout": 0.05},
    {"target_modules": ["q_proj", "v_proj"]},
    {"target_modules": ["q_proj", "v_proj"], "lora_dropout": 0.1},
    {"target_modules": ["q_proj", "k_proj", "v_proj", "o_proj", "out_proj"]},
    {"target_modules": ["gate_proj"]},
    {"target_modules": ["w1", "w3", "w2"]},
    {"target_modules": ["in_proj", "out_proj"]},
    {"target_modules": ["q_proj", "in_proj", "in_proj_qkvz", "in_proj_ba"]},
    {"target_modules": ["q_proj", "experts.down_proj"]},
    {"target_modules": ["q_proj", "lm_head"]},
    {"target_modules": ["q_proj"], "modules_to_save": ["lm_head"]},
    {"target_modules": "all-linear", "exclude_modules": ["mamba.out_proj", "mixer.out_proj"]},
]


def _parameter_specs(model_type: str) -> list[dict]:
    table = _view(model_type).table
    stacks = {
        f"{m.leaf}.{p}"
        for m in table.modules
        if m.kind is None
        for p, s in m.own_params
        if len(s) == 3
    }
    if not stacks:
        return []
    return [
        {"target_modules": ["q_proj"], "target_parameters": sorted(stacks)},
        {"target_modules": ["q_proj"], "target_parameters": sorted(stacks), "lora_dropout": 0.1},
    ]


CASES = [(t, spec) for t in MODEL_TYPES for spec in SPECS + _parameter_specs(t)]


def _raised(truth: Truth, pattern: str) -> bool:
    return truth.error is not None and re.search(pattern, str(truth.error)) is not None


@pytest.mark.parametrize("model_type", MODEL_TYPES)
def test_each_rule_fires_exactly_when_peft_shows_it(model_type):
    wrong = []
    for spec in SPECS + _parameter_specs(model_type):
        truth = Truth(model_type, spec)
        found = findings(model_type, spec)
        ok = truth.error is None
        params, modules = truth.adapted_parameters(), truth.adapted_modules()
        experts = expert_weights(truth.model)
        blocks = hybrid_blocks(truth.model)
        in_blocks = {m for m in modules if any(m.startswith(b + ".") for b in blocks)}
        expect = {
            "LL110": _raised(truth, r"ParamWrapper does not work with lora_dropout"),
            "LL111": _raised(truth, r"incompatible with Mamba-based models"),
            "LL112": _raised(truth, r"^Cannot convert PEFT target\(s\)"),
            "LL209": ok and bool(experts) and not (params & experts),
            "LL210": ok and bool(blocks) and not in_blocks,
            "LL211": ok and any("ensure_weight_tying` is not set" in w for w in truth.warnings),
        }
        for code, want in expect.items():
            got = [f for f in found[code] if len(f) < 4 or f[3] is None]  # error-level LL111
            if bool(got) != want:
                wrong.append((code, spec, want, [f[0][:150] for f in got], str(truth.error)[:120]))
    assert not wrong, "\n".join(map(str, wrong))


def _is_attention(model, name: str) -> bool:
    """Ground truth for 'attention': the path, or the class of a container within the block."""
    if re.search(r"attn|attention", name.split(".layers.")[-1], re.IGNORECASE):
        return True
    parts = name.split(".")
    for i in range(len(parts) - 1, 0, -1):
        owner = model.get_submodule(".".join(parts[:i]))
        if re.search(r"Attention|Attn", type(owner).__name__):
            return True
        if parts[i - 1].isdigit():
            break
    return False


@pytest.mark.parametrize("model_type", MODEL_TYPES)
def test_attention_only_is_never_said_of_experts_or_hybrid_blocks_nor_left_unsaid(model_type):
    """Issue #13's 'done when': LL201/LL209/LL210 never call a config attention-only when experts
    or hybrid blocks are adapted, and never stay silent when only attention is adapted."""
    for spec in SPECS + _parameter_specs(model_type):
        truth = Truth(model_type, spec)
        if truth.error is not None:
            continue
        found = findings(model_type, spec)
        params, modules = truth.adapted_parameters(), truth.adapted_modules()
        blocks = hybrid_blocks(truth.model)
        experts_adapted = bool(params & expert_weights(truth.model))
        hybrid_adapted = any(m.startswith(b + ".") for m in modules for b in blocks)
        if found["LL201"]:
            assert not experts_adapted and not hybrid_adapted, spec
        only_attention = (
            modules and not params and all(_is_attention(truth.model, m) for m in modules)
        )
        if only_attention:
            assert found["LL201"] or found["LL209"] or found["LL210"], spec


def _named_by(model_type: str, spec: dict) -> set[str]:
    """Modules the config names before PEFT's MoE conversion, by PEFT's own matching."""
    from peft import LoraConfig
    from peft.tuners.tuners_utils import (
        _maybe_include_all_linear_layers,
        check_target_module_exists,
    )

    model = build_model(config_of(model_type), task_of(model_type))
    config = _maybe_include_all_linear_layers(LoraConfig(**spec), model)
    return {n for n, _ in model.named_modules() if n and check_target_module_exists(config, n)}


def _converted_names(model_type: str) -> set[str]:
    """The v4 names PEFT's conversion rewrites on this model type (its own tables)."""
    from peft.utils import transformers_weight_conversion as twc
    from transformers.conversion_mapping import get_checkpoint_conversion_mapping

    family = twc._MODEL_TO_CONVERSION_PATTERN.get(model_type)
    if get_checkpoint_conversion_mapping(model_type) is None:
        return set()
    return set(twc._MOE_TARGET_MODULE_MAPPING.get(family, {}))


@pytest.mark.parametrize("model_type", ["deepseek_v3", "qwen3_next", "llama4", "qwen3_moe"])
def test_ll212_fires_when_peft_leaves_modules_of_a_converted_name_unwrapped(model_type):
    import torch

    converted = _converted_names(model_type)
    dense = ["gate_proj.weight", "up_proj.weight", "down_proj.weight"]
    for spec in [*SPECS, {"target_modules": LLAMA, "target_parameters": dense}]:
        truth = Truth(model_type, spec)
        found = findings(model_type, spec)["LL212"]
        if truth.error is not None:
            assert not found, spec
            continue
        left = [
            name
            for name in _named_by(model_type, spec)
            if isinstance(truth.model.get_submodule(name), torch.nn.Linear)
            and name.rpartition(".")[2] in converted
            and name not in truth.adapted_modules()
            and f"{name}.weight" not in truth.adapted_parameters()
        ]
        assert bool(found) == bool(left), (spec, left[:3])


@pytest.mark.parametrize(
    ("model_type", "spec", "code", "words"),
    [
        ("gpt_oss", {"target_modules": "all-linear"}, "LL209", '"all-linear" takes Linear'),
        ("llama4", {"target_modules": LLAMA}, "LL209", "reach only the dense MLP and shared"),
        ("qwen3_next", {"target_modules": LLAMA}, "LL210", "linear-attn blocks in 3 of 4 layers"),
        ("qwen3_moe", {"target_modules": LLAMA, "lora_dropout": 0.05}, "LL110", "converts"),
        ("falcon_h1", {"target_modules": "all-linear"}, "LL111", "exclude_modules="),
        ("deepseek_v3", {"target_modules": ["gate_proj"]}, "LL112", "add 'up_proj'"),
        ("lfm2", {"target_modules": ["q_proj", "lm_head"]}, "LL211", "ensure_weight_tying=True"),
        ("deepseek_v3", {"target_modules": LLAMA}, "LL212", "dense-MLP and shared-expert"),
        ("gpt_oss", {"target_modules": ["q_proj", "experts.down_proj"]}, "LL104", "parameters="),
        ("gpt_oss", {"target_modules": ["q_proj", "down_proj"]}, "LL101", "target_parameters="),
        ("mixtral", {"target_modules": ["q_proj", "v_proj"]}, "LL201", "experts stay frozen"),
    ],
)
def test_each_rule_says_what_to_do(model_type, spec, code, words):
    (finding,) = findings(model_type, spec)[code]
    assert words in finding[0]


def test_ll111_is_a_warning_where_peft_accepts_a_bypassed_out_proj():
    from lorlint.engine import Options, ViewCache, lint_source

    source = (
        "from peft import LoraConfig\n# lorlint: model=GraniteMoeHybridForCausalLM\n"
        'LoraConfig(target_modules=["q_proj", "in_proj", "out_proj"], task_type="CAUSAL_LM")\n'
    )
    found = lint_source("t.py", source, Options(), ViewCache(online=False))
    (d,) = [d for d in found if d.code == "LL111"]
    assert (
        d.severity == "warning" and "GraniteMoeHybridMambaLayer reads out_proj.weight" in d.message
    )
    assert (d.span.col, d.span.end_col) == (49, 59)  # the "out_proj" entry


def test_ll211_says_when_the_installed_peft_predates_ensure_weight_tying(monkeypatch):
    from lorlint.checks import ll211_tied_weights_without_ensure_weight_tying as ll211

    spec = {"target_modules": ["q_proj", "lm_head"]}
    (current,) = findings("lfm2", spec)["LL211"]
    assert "set ensure_weight_tying=True" in current[0]
    monkeypatch.setattr(ll211, "installed", lambda name: "0.17.1")
    (old,) = findings("lfm2", spec)["LL211"]
    assert "the installed PEFT 0.17.1 predates ensure_weight_tying" in old[0]


def test_tool_configs_carry_target_parameters_and_ensure_weight_tying(tmp_path):
    """axolotl's lora_target_parameters reach LL110; a saved adapter's ensure_weight_tying
    keeps LL211 quiet, as PEFT is."""
    import json

    from helpers import write

    from lorlint.engine import Options, ViewCache, lint_path

    axolotl = write(tmp_path / "axolotl.yml", """\
        base_model: openai/gpt-oss-20b
        adapter: lora
        lora_dropout: 0.05
        lora_target_modules: ["q_proj", "v_proj"]
        lora_target_parameters: ["mlp.experts.gate_up_proj", "mlp.experts.down_proj"]
        """)  # fmt: skip
    adapter = tmp_path / "adapter" / "adapter_config.json"
    config = {"peft_type": "LORA", "base_model_name_or_path": "google/gemma-2-2b",
              "target_modules": "all-linear", "modules_to_save": ["lm_head"],
              "ensure_weight_tying": True, "task_type": "CAUSAL_LM"}  # fmt: skip
    write(adapter, json.dumps(config))

    def codes(path):
        return {d.code for d in lint_path(path, Options(), ViewCache(online=False))}

    assert "LL110" in codes(axolotl)
    assert "LL211" not in codes(adapter)
    config["ensure_weight_tying"] = False
    write(adapter, json.dumps(config))
    assert "LL211" in codes(adapter)


def test_ll204_names_the_router_also_when_peft_raises_only_on_the_dropout():
    """axolotl's Qwen3-Next example lists "mlp.gate" with lora_dropout 0.05: PEFT raises on the
    dropout (LL110); once that is 0 it adapts the router weight, so LL204 says so too, on the
    entry as written."""
    spec = {"target_modules": ["q_proj", "mlp.gate"], "lora_dropout": 0.05}
    found = findings("qwen3_next", spec)
    fixed = Truth("qwen3_next", {**spec, "lora_dropout": 0.0})
    assert _raised(Truth("qwen3_next", spec), r"ParamWrapper does not work with lora_dropout")
    assert fixed.error is None and any(
        p.endswith("mlp.gate.weight") for p in fixed.adapted_parameters()
    )
    assert found["LL110"]
    ((message, span),) = found["LL204"]
    assert 'MoE router "gate"' in message
    assert (span.col, span.end_col) == (57, 67)  # the "mlp.gate" entry
