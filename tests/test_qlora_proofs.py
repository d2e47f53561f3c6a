"""Ground truth for the QLoRA setup rules (issue #14), observed with the real libraries on CPU.

Each test runs what a rule claims on a tiny random Llama (saved once, reloaded in 4-bit NF4 by
bitsandbytes on the CPU) and checks the behaviour the rule's message states. If a library changes
its behaviour, the test fails here first and the rule's message or version gate must follow.
"""

from __future__ import annotations

import logging
import warnings

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("peft")
pytest.importorskip("bitsandbytes")

import transformers  # noqa: E402
from peft import (  # noqa: E402
    LoraConfig,
    PeftModel,
    get_peft_model,
    prepare_model_for_kbit_training,
)
from transformers import AutoModelForCausalLM, BitsAndBytesConfig, LlamaConfig  # noqa: E402

transformers.logging.set_verbosity_error()
transformers.utils.logging.disable_progress_bar()
logging.getLogger("bitsandbytes").setLevel(logging.ERROR)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> str:
    """A saved tiny random Llama: every layer name a real one has, 2 layers, width 32."""
    path = tmp_path_factory.mktemp("tiny-llama")
    config = LlamaConfig(
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        vocab_size=128,
    )
    torch.manual_seed(0)
    AutoModelForCausalLM.from_config(config).save_pretrained(path)
    return str(path)


@pytest.fixture(scope="module")
def adapter(tiny, tmp_path_factory) -> str:
    """A saved LoRA adapter for ``tiny``."""
    path = tmp_path_factory.mktemp("adapter")
    get_peft_model(AutoModelForCausalLM.from_pretrained(tiny), _lora()).save_pretrained(path)
    return str(path)


def _lora() -> LoraConfig:
    return LoraConfig(r=4, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM")


def _load_4bit(path: str, **quant) -> torch.nn.Module:
    config = BitsAndBytesConfig(load_in_4bit=True, **quant)
    return AutoModelForCausalLM.from_pretrained(path, quantization_config=config, device_map="cpu")


def _trainable(model) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def _lora_a(model):
    return model.base_model.model.model.layers[0].self_attn.q_proj.lora_A["default"].weight


def _lora_b(model):  # lora_B starts at zero, so lora_A's first gradient is zero: look at B
    return model.base_model.model.model.layers[0].self_attn.q_proj.lora_B["default"].weight


def test_ll401_prepare_after_get_peft_model_freezes_the_adapter(tiny):
    """prepare_model_for_kbit_training sets requires_grad=False on every parameter it sees."""
    right = get_peft_model(prepare_model_for_kbit_training(_load_4bit(tiny)), _lora())
    wrong = prepare_model_for_kbit_training(get_peft_model(_load_4bit(tiny), _lora()))
    assert _trainable(right) == 1024  # 2 layers x (q_proj + v_proj) x r=4 x (32 + 32)
    assert _trainable(wrong) == 0


def test_ll305_from_pretrained_loads_a_frozen_adapter_unless_is_trainable(tiny, adapter):
    frozen = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny), adapter)
    trainable = PeftModel.from_pretrained(
        AutoModelForCausalLM.from_pretrained(tiny), adapter, is_trainable=True
    )
    assert _trainable(frozen) == 0
    assert _trainable(trainable) == 1024
    base = AutoModelForCausalLM.from_pretrained(tiny)
    base.load_adapter(adapter)  # transformers' PeftAdapterMixin: inference mode by default
    assert _trainable(base) == 0
    again = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny), adapter)
    again.load_adapter(adapter, adapter_name="second")  # PeftModel.load_adapter: the same
    assert not _lora_a(again).requires_grad
    assert not any(p.requires_grad for n, p in again.named_parameters() if "second" in n)


def test_ll305_load_adapter_frozen_until_set_adapter(tiny, adapter):
    """transformers' ``load_adapter`` (PeftAdapterMixin, is_trainable=False by default) calls
    ``requires_grad_(False)`` on every tuner layer: 0 trainable, and ``train()`` does not undo
    it; ``set_adapter`` / ``enable_adapters`` (BaseTunerLayer.set_adapter) and is_trainable=True
    do. PEFT's own ``PeftModel.load_adapter`` leaves the new adapter frozen but inactive: the
    active one keeps training, and ``set_adapter`` makes the new one trainable."""
    for remedy in (None, "set_adapter", "enable_adapters", "is_trainable"):
        model = AutoModelForCausalLM.from_pretrained(tiny)
        model.load_adapter(adapter, is_trainable=remedy == "is_trainable")
        if remedy == "set_adapter":
            model.set_adapter("default")
        elif remedy == "enable_adapters":
            model.enable_adapters()
        model.train()
        assert _trainable(model) == (0 if remedy is None else 1024), remedy
    wrapped = get_peft_model(AutoModelForCausalLM.from_pretrained(tiny), _lora())
    wrapped.load_adapter(adapter, adapter_name="second")
    assert wrapped.active_adapter == "default" and _trainable(wrapped) == 1024
    wrapped.set_adapter("second")
    trainable = {n for n, p in wrapped.named_parameters() if p.requires_grad}
    assert len(trainable) == 8 and all(".second." in n for n in trainable)


def test_ll402_prepare_on_an_unquantized_model_upcasts_to_float32(tiny):
    model = AutoModelForCausalLM.from_pretrained(tiny, dtype=torch.bfloat16)
    assert {p.dtype for p in model.parameters()} == {torch.bfloat16}
    before = sum(p.numel() * p.element_size() for p in model.parameters())
    model = prepare_model_for_kbit_training(model)
    assert {p.dtype for p in model.parameters()} == {torch.float32}
    assert sum(p.numel() * p.element_size() for p in model.parameters()) == 2 * before
    # ... and enables no gradient checkpointing: PEFT does that only for quantized models
    assert not model.is_gradient_checkpointing


def test_ll402_prepare_keeps_4bit_weights_quantized(tiny):
    model = prepare_model_for_kbit_training(_load_4bit(tiny))
    q_proj = model.model.layers[0].self_attn.q_proj
    assert type(q_proj.weight).__name__ == "Params4bit"
    assert q_proj.weight.dtype == torch.uint8


@pytest.mark.parametrize("kwarg", ["load_in_4bit", "load_in_8bit"])
@pytest.mark.parametrize("value", [True, False])
def test_ll409_transformers_5_raises_on_the_removed_kwargs(tiny, kwarg, value):
    assert int(transformers.__version__.split(".")[0]) >= 5
    with pytest.raises(TypeError, match=f"unexpected keyword argument '{kwarg}'"):
        AutoModelForCausalLM.from_pretrained(tiny, **{kwarg: value})


def test_ll409_the_fix_loads_in_4bit(tiny):
    model = AutoModelForCausalLM.from_pretrained(
        tiny, quantization_config=BitsAndBytesConfig(load_in_4bit=True), device_map="cpu"
    )
    assert model.is_loaded_in_4bit


def test_ll404_default_compute_dtype_is_float32_without_a_warning(tiny, caplog):
    assert BitsAndBytesConfig(load_in_4bit=True).bnb_4bit_compute_dtype == torch.float32
    assert BitsAndBytesConfig(load_in_4bit=True).bnb_4bit_quant_type == "fp4"  # not nf4
    model = _load_4bit(tiny)
    q_proj = model.model.layers[0].self_attn.q_proj
    assert q_proj.compute_dtype == torch.float32
    assert q_proj.weight.quant_type == "fp4"
    model.train()  # training: the path a fine-tuning run takes
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.WARNING):
        warnings.simplefilter("always")
        x = torch.randn(2, 3, 32, dtype=torch.bfloat16, requires_grad=True)
        out = q_proj(x)
    assert out.dtype == torch.bfloat16
    assert q_proj.compute_dtype == torch.float32  # bf16 inputs still computed in float32
    assert not [w for w in caught if "compute" in str(w.message)]
    assert "compute_dtype" not in caplog.text  # bitsandbytes says nothing (its PR 2077 is open)


def test_ll404_a_misspelt_compute_dtype_keyword_is_ignored():
    config = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_compute_type=torch.bfloat16)
    assert config.bnb_4bit_compute_dtype == torch.float32


def test_ll404_the_fix_sets_the_compute_dtype(tiny):
    model = _load_4bit(tiny, bnb_4bit_compute_dtype=torch.bfloat16, bnb_4bit_quant_type="nf4")
    q_proj = model.model.layers[0].self_attn.q_proj
    assert q_proj.compute_dtype == torch.bfloat16
    assert q_proj.weight.quant_type == "nf4"


def test_ll601_merging_into_4bit_weights_warns_about_rounding(tiny):
    model = get_peft_model(_load_4bit(tiny), _lora())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.merge_and_unload()
    assert any("rounding errors" in str(w.message) for w in caught)


def _lora_grads_after_backward(model) -> bool:
    model.train()
    ids = torch.tensor([[1, 2, 3, 4]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "None of the inputs have requires_grad=True"
        loss = model(input_ids=ids, labels=ids).loss
    if not loss.requires_grad:  # backward() would raise: the graph holds no trainable tensor
        return False
    loss.backward()
    grad = _lora_b(model).grad
    return grad is not None and bool(grad.abs().sum() > 0)


def _checkpoint_as_transformers_4(model) -> None:
    """What ``gradient_checkpointing_enable()`` does in transformers 4.x (4.57.1's source): torch's
    reentrant checkpoint on every layer, and ``enable_input_require_grads()`` only for adapters
    loaded through transformers' own PEFT integration."""
    import functools

    from torch.utils.checkpoint import checkpoint

    func = functools.partial(checkpoint, use_reentrant=True)
    model._set_gradient_checkpointing(enable=True, gradient_checkpointing_func=func)


def test_ll403_reentrant_checkpointing_without_input_grads_trains_nothing(tiny):
    """Checkpointing switched on after get_peft_model (a Trainer does it at train()): nothing
    makes the embeddings' output require grad, so reentrant checkpoints cut the graph."""
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(tiny), _lora())
    _checkpoint_as_transformers_4(model.base_model.model)
    assert not _lora_grads_after_backward(model)
    # a 4-bit model is never given input grads by PEFT, whatever the order
    base = _load_4bit(tiny)
    _checkpoint_as_transformers_4(base)
    assert not _lora_grads_after_backward(get_peft_model(base, _lora()))


def test_ll403_peft_enables_input_grads_when_checkpointing_came_first(tiny):
    """PeftModel.__init__ calls enable_input_require_grads() on an unquantized model that already
    checkpoints (peft_model.py, _prepare_model_for_gradient_checkpointing)."""
    model = AutoModelForCausalLM.from_pretrained(tiny)
    _checkpoint_as_transformers_4(model)
    assert _lora_grads_after_backward(get_peft_model(model, _lora()))


def test_ll403_each_remedy_gives_the_adapter_gradients(tiny):
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(tiny), _lora())
    _checkpoint_as_transformers_4(model.base_model.model)
    model.enable_input_require_grads()
    assert _lora_grads_after_backward(model)
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(tiny), _lora())
    model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    assert _lora_grads_after_backward(model)
    model = prepare_model_for_kbit_training(_load_4bit(tiny))  # reentrant, input grads enabled
    assert _lora_grads_after_backward(get_peft_model(model, _lora()))


def test_ll403_transformers_5_enables_input_grads_itself(tiny):
    """From transformers 5.0, gradient_checkpointing_enable calls enable_input_require_grads for
    every model whose main input is input_ids, even with use_reentrant=True: no LL403 there."""
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(tiny), _lora())
    model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": True})
    assert _lora_grads_after_backward(model)


def test_ll403_trainer_checkpointing_raises_at_the_first_backward(tiny):
    """transformers 4.57.1's Trainer, at train() with gradient_checkpointing=True, calls
    ``self.model.gradient_checkpointing_enable(gradient_checkpointing_kwargs=args...)`` on the
    PeftModel (which forwards it to the transformers model) and nothing else: replayed here, the
    loss of a model whose only trainable weights sit in checkpointed layers has no graph, so the
    training step's backward() raises (a real 4.57.1 Trainer run raises the same error)."""
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(tiny), _lora())
    _checkpoint_as_transformers_4(model.base_model.model)  # gradient_checkpointing_kwargs=None
    model.train()
    ids = torch.tensor([[1, 2, 3, 4]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loss = model(input_ids=ids, labels=ids).loss
    with pytest.raises(RuntimeError, match="element 0 of tensors does not require grad"):
        loss.backward()
    # LL403's remedies in the Trainer's terms: input grads first, or non-reentrant kwargs
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(tiny), _lora())
    model.enable_input_require_grads()
    _checkpoint_as_transformers_4(model.base_model.model)
    assert _lora_grads_after_backward(model)
