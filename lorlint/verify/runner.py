"""Verify one site for real: build the model, quantize as the script does, apply the site's PEFT
config with ``get_peft_model``, take optimizer steps on a synthetic batch, and compare what
attached with lorlint's static prediction.

Imports torch, transformers, peft and bitsandbytes; only ``lorlint verify`` loads this module.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import math
import resource
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from lorlint.engine import spec_for
from lorlint.models.introspect import build_config, introspect, model_class
from lorlint.models.match import match
from lorlint.models.summary import trainable_params
from lorlint.models.view import ModelView
from lorlint.site import UNKNOWN, Site, Step
from lorlint.verify.tiny import shrink

UNSLOTH_DEFAULTS = {
    "r": 16,
    "lora_alpha": 16,
    "lora_dropout": 0.0,
    "bias": "none",
    "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
}
WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
                "pytorch_model.bin.index.json")  # fmt: skip


@dataclass
class VerifyOptions:
    device: str = "auto"  # auto | cuda | cpu
    weights: str = "auto"  # auto | random
    tiny: bool = False
    qlora: bool | None = None  # None: as the script loads it
    steps: int = 1
    trust_remote_code: bool = False
    seed: int = 0


@dataclass
class SiteResult:
    filename: str
    row: int
    model: str | None
    source: str | None = None
    device: str | None = None
    quantization: str | None = None
    quantize_requested: bool = False
    quantized_modules: int = 0
    full_precision_linears: int = 0
    attached: list[str] = field(default_factory=list)
    attached_parameters: list[str] = field(default_factory=list)
    missing_targets: list[str] = field(default_factory=list)
    predicted: list[str] = field(default_factory=list)
    predicted_matches_actual: bool = False
    trainable_params: int = 0
    predicted_trainable_params: int = 0
    total_params: int = 0
    loss_before: float | None = None
    loss_after: float | None = None
    grads_ok: bool = False
    params_changed: bool = False
    frozen_unchanged: bool = False
    peak_memory_bytes: int = 0
    load_seconds: float = 0.0
    step_seconds: float = 0.0
    seconds: float = 0.0
    status: str = "skipped"  # pass | fail | skipped
    reason: str = ""
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        return dataclasses.asdict(self)


class Skip(Exception):
    """This site cannot be verified (and why)."""


def pick_device(requested: str) -> str:
    import torch

    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested == "cuda" and not torch.cuda.is_available():
        raise Skip("--device cuda: no CUDA device is available")
    return requested


def _weights_dir(view: ModelView) -> str | None:
    """A local directory or Hugging Face cache snapshot that holds the model's weights."""
    location = view.resolved.location
    if view.resolved.source in ("local", "hf-cache") and location:
        directory = Path(location).parent
        if any((directory / name).is_file() for name in WEIGHT_FILES):
            return str(directory)
    return None


def peft_config_for(site: Site):
    """The site's full PEFT config: every keyword the static pass resolved."""
    import peft

    notes = []
    if site.kind == "torchtune":
        raise Skip("torchtune builds its own modules: verify runs PEFT configs")
    if site.kind == "unsloth":
        cls, values = peft.LoraConfig, dict(UNSLOTH_DEFAULTS)
    elif site.callee.startswith("peft."):
        cls, values = getattr(peft, site.callee.rpartition(".")[2]), {}
    else:  # axolotl, LLaMA-Factory, oumi: their keys are already mapped to LoraConfig's
        cls, values = peft.LoraConfig, {}
    accepted = {f.name for f in dataclasses.fields(cls)}
    for name, value in site.keywords.items():
        if name == "**":
            raise Skip("a **kwargs expansion could not be resolved statically")
        if value.value is UNKNOWN:
            if name in ("target_modules", "exclude_modules", "layers_to_transform", "r"):
                raise Skip(f"{name} could not be resolved statically")
            notes.append(f"{name} unknown statically: PEFT's default used")
            continue
        if name not in accepted:
            notes.append(f"{name} is not a {cls.__name__} field: ignored")
            continue
        values[name] = list(value.value) if isinstance(value.value, tuple) else value.value
    if isinstance(values.get("task_type"), str):
        values["task_type"] = values["task_type"].rpartition(".")[2]
    return cls(**values), notes


def _synthetic_batch(model, task: str, device: str):
    import torch

    config = model.config
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    vocab = min(getattr(text, "vocab_size", 1000) or 1000, 32000)
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(4, vocab, (2, 16), generator=g)
    batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
    if task == "seq2seq-lm":
        batch["labels"] = torch.randint(4, vocab, (2, 8), generator=g)
    elif task == "seq-cls":
        batch["labels"] = torch.tensor([0, 1])
    elif task == "token-cls":
        batch["labels"] = torch.randint(0, 2, (2, 16), generator=g)
    elif task == "question-answering":
        batch["start_positions"] = torch.tensor([1, 2])
        batch["end_positions"] = torch.tensor([3, 4])
    elif task != "base":
        batch["labels"] = ids.clone()
    return {k: v.to(device) for k, v in batch.items()}


def _loss(model, batch):
    out = model(**batch)
    loss = getattr(out, "loss", None)
    if loss is None:  # a base model: no head, no loss of its own
        hidden = out[0] if isinstance(out, tuple) else out.last_hidden_state
        loss = hidden.float().pow(2).mean()
    return loss


def _peak_memory(device: str) -> int:
    import torch

    if device == "cuda":
        return int(torch.cuda.max_memory_allocated())
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def build(
    view: ModelView,
    task: str,
    opts: VerifyOptions,
    quantize: bool,
    device: str,
    skip_modules: list[str] | None = None,
):
    """The model as the script would have it, plus the config it was built from."""
    import torch
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()  # our own progress line is enough
    config_dict = shrink(view.resolved.config) if opts.tiny else dict(view.resolved.config)
    cls = model_class(task)
    weights = None if (opts.tiny or opts.weights == "random") else _weights_dir(view)
    compute = torch.bfloat16 if device == "cuda" else torch.float32
    quant = None
    if quantize:
        quant = transformers.BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=compute,
            llm_int8_skip_modules=skip_modules,
        )
    device_map = "auto" if device == "cuda" and weights else device
    kwargs = {"trust_remote_code": opts.trust_remote_code}
    if weights:
        kwargs.update(device_map=device_map, dtype=compute)
        if quant is not None:
            kwargs["quantization_config"] = quant
        return cls.from_pretrained(weights, **kwargs), config_dict, "real"
    torch.manual_seed(opts.seed)
    config = build_config(config_dict)
    _fill_token_ids(config, task)
    model = cls.from_config(config)
    if quant is None:
        return model.to(device), config_dict, "random"
    with tempfile.TemporaryDirectory(prefix="lorlint-verify-") as tmp:
        model.save_pretrained(tmp)
        loaded = cls.from_pretrained(
            tmp, quantization_config=quant, device_map=device, dtype=compute
        )
    return loaded, config_dict, "random"


def _fill_token_ids(config, task: str) -> None:
    """Token ids a random model needs: seq2seq start tokens, a pad id for batched classification."""
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    if getattr(config, "is_encoder_decoder", False) and (
        getattr(config, "decoder_start_token_id", None) is None
    ):
        config.decoder_start_token_id = getattr(config, "pad_token_id", None) or 0
    if task == "seq-cls" and getattr(text, "pad_token_id", None) is None:
        text.pad_token_id = 0
        config.pad_token_id = 0


def verify_site(
    site: Site, view: ModelView, task: str, opts: VerifyOptions, progress
) -> SiteResult:
    """Run one site; never raises (a failure is a result)."""
    started = time.perf_counter()
    result = SiteResult(site.path, site.span.row, view.reference, view.resolved.source_label)
    try:
        _run(site, view, task, opts, result, progress)
    except Skip as why:
        result.status, result.reason = "skipped", str(why)
    except Exception as err:  # a model that cannot be built or stepped is a failed verification
        result.status = "fail"
        result.reason = f"{type(err).__name__}: {err}".strip()[:500]
    result.seconds = round(time.perf_counter() - started, 3)
    return result


def _quiet_imports(progress) -> None:
    """Import the training stack once, without bitsandbytes' optional-kernel notice on CPU."""
    progress("importing torch, transformers, peft, bitsandbytes")
    logging.getLogger("bitsandbytes").setLevel(logging.ERROR)
    import peft  # noqa: F401


def _run(site, view, task, opts, result, progress) -> None:
    _quiet_imports(progress)
    import torch
    from peft import get_peft_model, prepare_model_for_kbit_training
    from peft.tuners.lora import LoraLayer, ParamWrapper

    if view.resolved.remote_code and not opts.trust_remote_code:
        raise Skip("remote-code model: pass --trust-remote-code to build it")
    before, after = replayed_prepare(site)
    frozen = None  # an adapter loaded without is_trainable=True: PEFT's inference mode
    if site.kind == "adapter-load":
        site, frozen = saved_adapter(site)
        result.notes.append("the adapter's saved config, its weights initialised (not loaded)")
    spec = spec_for(site, view.table)
    if spec is None:
        raise Skip("the PEFT config has values lorlint could not resolve statically")
    peft_config, notes = peft_config_for(site)
    if site.kind == "unsloth":  # the targets Unsloth itself passes on (lorlint/models/unsloth.py)
        tm = spec.target_modules
        peft_config.target_modules = tm if isinstance(tm, str) or tm is None else set(tm)
        peft_config.modules_to_save = spec.modules_to_save
        peft_config.layers_pattern = spec.layers_pattern
    result.notes.extend(notes)
    if frozen is not None:
        peft_config.inference_mode = True  # what PeftModel.from_pretrained does without it
    device = result.device = pick_device(opts.device)
    quantize = opts.qlora if opts.qlora is not None else site.quantized == "4bit"
    result.quantize_requested = quantize
    if quantize and device == "cpu":
        result.notes.append("NF4 on the CPU (bitsandbytes), fp32 compute")

    progress(f"loading {view.reference}" + (" (tiny)" if opts.tiny else ""))
    load_start = time.perf_counter()
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    model, config_dict, weights = build(view, task, opts, quantize, device, site.quant_skip_modules)
    result.load_seconds = round(time.perf_counter() - load_start, 3)
    result.notes.append(f"{weights} weights")
    kept = _count_quantized(model, result)
    if quantize and kept:
        result.notes.append(
            f"4-bit requested, but {result.full_precision_linears} linear layers stayed in full "
            f"precision ({', '.join(sorted(kept))})"
            + ("" if result.quantized_modules else ": this is LoRA, not QLoRA")
        )

    # The static prediction, on a meta-device model of exactly this config and class.
    table = introspect(config_dict, task)
    predicted = match(table, spec)
    result.predicted = sorted(predicted.modules)

    progress("applying the PEFT config")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if before:  # the script's own call, in its place: it casts and freezes the base
                model = prepare_model_for_kbit_training(model)
            peft_model = get_peft_model(model, peft_config)
        except Exception as err:
            result.status = "fail"
            result.reason = f"get_peft_model raised: {err}"
            result.predicted_matches_actual = predicted.error is not None
            if predicted.error is None:
                result.reason += " (lorlint predicted success)"
            return
    attached, params = set(), set()
    for name, module in peft_model.base_model.model.named_modules():
        if isinstance(module, ParamWrapper):
            params.add(f"{name.replace('.base_layer', '')}.{module.parameter_name}")
        elif isinstance(module, LoraLayer) and ".base_layer" not in name:
            attached.add(name)
    result.attached = sorted(attached)
    result.attached_parameters = sorted(params)
    result.predicted_matches_actual = (
        predicted.error is None
        and set(predicted.modules) == attached
        and set(predicted.parameters) == params
    )
    result.missing_targets = _missing_targets(site, attached | params, predicted.converted)
    if after is not None:
        prepare_model_for_kbit_training(peft_model)
        result.notes.append(
            f"replayed prepare_model_for_kbit_training after get_peft_model (line {after.row})"
        )
    trainable = [p for p in peft_model.parameters() if p.requires_grad]
    result.trainable_params = sum(p.numel() for p in trainable)
    result.total_params = sum(p.numel() for p in peft_model.parameters())
    result.predicted_trainable_params = trainable_params(
        table, predicted.modules, predicted.parameters, spec.r, predicted.rank_pattern
    )
    if not trainable:  # nothing to step: the optimizer would refuse an empty list
        result.status = "fail"
        result.reason = "no trainable parameters"
        if frozen is not None:
            result.reason += (
                f": the adapter is loaded without is_trainable=True (line {frozen}), in "
                f"inference mode"
            )
        if after is not None:
            result.reason += (
                f"{'; ' if frozen is not None else ': '}prepare_model_for_kbit_training after "
                f"get_peft_model (line {after.row}) froze every parameter, the adapter included"
            )
        return
    _step(peft_model, task, device, opts.steps, result, progress)
    result.peak_memory_bytes = _peak_memory(device)
    _judge(result, predicted)


def saved_adapter(site: Site) -> tuple[Site, int | None]:
    """An adapter ``PeftModel.from_pretrained`` loads, as a PEFT config site: its saved
    ``adapter_config.json`` (next to the script, or from the working directory), and the row of
    the load when it is without ``is_trainable=True`` (PEFT then loads it in inference mode:
    ``config.inference_mode = not is_trainable``, peft_model.py)."""
    from lorlint.engine import _config_sites

    trainable = site.get("is_trainable", False) if "**" not in site.keywords else UNKNOWN
    if not isinstance(trainable, bool):
        raise Skip("is_trainable could not be resolved statically")
    relative = Path(site.facts["adapter_path"])
    for directory in (Path(site.path).parent / relative, relative):
        config = directory / "adapter_config.json"
        if config.is_file():
            break
    else:
        raise Skip(f"no adapter_config.json in {relative}: the saved adapter is not here")
    found = _config_sites(str(config), config.read_text(encoding="utf-8"), "adapter")
    if not isinstance(found, list) or len(found) != 1:
        raise Skip(f"{config} holds no PEFT config lorlint reads")
    saved = found[0]
    replaced = copy.copy(site)  # ``Site`` is a plain class (no ``dataclasses.replace``)
    replaced.kind, replaced.callee, replaced.keywords = saved.kind, saved.callee, saved.keywords
    return replaced, None if trainable else site.span.row


def replayed_prepare(site: Site) -> tuple[bool, Step | None]:
    """The script's ``prepare_model_for_kbit_training`` calls around ``get_peft_model``, from its
    model's flow: (one before it, the first after it), so verify trains what the script trains
    and reaches LL401's verdict by running it."""
    from lorlint.checks.flow import ADAPTERS, PREPARE, steps

    wrapped, before = False, False
    for step in steps(site):
        if step.call in ADAPTERS:
            wrapped = True
        elif step.call == "merge_and_unload":
            return before, None
        elif step.call in PREPARE:
            if wrapped:
                return before, step
            before = True
    return before, None


def _count_quantized(model, result: SiteResult) -> set[str]:
    """Count 4-bit and full-precision linears; return the classes of those left unquantized."""
    import torch

    try:
        import bitsandbytes as bnb

        four_bit = bnb.nn.Linear4bit
    except Exception:  # no bitsandbytes: nothing can be 4-bit
        four_bit = ()
    output = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    kept: set[str] = set()
    for module in model.modules():
        if four_bit and isinstance(module, four_bit):
            result.quantized_modules += 1
        elif isinstance(module, torch.nn.Linear) and module is not output:
            result.full_precision_linears += 1
            kept.add(type(module).__name__)
    result.quantization = "nf4" if result.quantized_modules else None
    return kept


def _missing_targets(site: Site, hit: set[str], converted: dict[str, str]) -> list[str]:
    """List entries that attached nowhere (PEFT drops them silently when another matched).

    Names PEFT rewrote to ``target_parameters`` (transformers 5 fused MoE experts) count as hits.
    """
    targets = site.get("target_modules")
    if site.kind == "unsloth" and targets is None:
        targets = UNSLOTH_DEFAULTS["target_modules"]
    if not isinstance(targets, (list, tuple, set)):
        return []
    return [
        entry
        for entry in targets
        if isinstance(entry, str)
        and entry not in converted
        and not any(n == entry or n.endswith("." + entry) for n in hit)
    ]


def _step(model, task, device, steps, result: SiteResult, progress) -> None:
    import torch

    model.train()
    batch = _synthetic_batch(model.base_model.model, task, device)
    trainable = {n: p for n, p in model.named_parameters() if p.requires_grad}
    frozen = [(n, p) for n, p in model.named_parameters() if not p.requires_grad][:16]
    frozen_before = {n: p.detach().clone() for n, p in frozen}
    before = {n: p.detach().clone() for n, p in trainable.items()}
    optimizer = torch.optim.AdamW(trainable.values(), lr=1e-3, weight_decay=0.0)
    step_start = time.perf_counter()
    for step in range(max(steps, 1)):
        progress(f"step {step + 1}/{max(steps, 1)}")
        optimizer.zero_grad()
        loss = _loss(model, batch)
        if step == 0:
            result.loss_before = float(loss.detach().float().item())
        loss.backward()
        if step == 0:
            b_grads = [p.grad for n, p in trainable.items() if "lora_B" in n]
            result.grads_ok = bool(b_grads) and all(
                g is not None and bool(torch.isfinite(g).all()) and bool(g.abs().sum() > 0)
                for g in b_grads
            )
        optimizer.step()
    with torch.no_grad():
        result.loss_after = float(_loss(model, batch).detach().float().item())
    result.step_seconds = round(time.perf_counter() - step_start, 3)
    result.params_changed = bool(trainable) and all(
        not torch.equal(before[n], p.detach()) for n, p in trainable.items() if "lora_B" in n
    )
    result.frozen_unchanged = all(torch.equal(frozen_before[n], p.detach()) for n, p in frozen)


def _judge(result: SiteResult, predicted) -> None:
    problems = []
    if not result.predicted_matches_actual:
        only_static = sorted(set(predicted.modules) - set(result.attached))
        only_peft = sorted(set(result.attached) - set(predicted.modules))
        problems.append(
            f"static prediction differs from PEFT: predicted only {only_static[:5]}, "
            f"attached only {only_peft[:5]}"
        )
    if result.missing_targets:
        problems.append(f"target entries attached nowhere: {result.missing_targets}")
    if result.loss_before is None or not math.isfinite(result.loss_before):
        problems.append("loss is not finite")
    if not result.grads_ok:
        problems.append("a lora_B gradient is zero or not finite on the first step")
    if not result.params_changed:
        problems.append("trainable parameters did not change after the step")
    if not result.frozen_unchanged:
        problems.append("frozen base weights changed")
    result.status = "fail" if problems else "pass"
    result.reason = "; ".join(problems)
