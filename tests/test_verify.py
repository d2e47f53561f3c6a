"""``lorlint verify`` on tiny random models, 4-bit NF4 on the CPU, against real PEFT training."""

from __future__ import annotations

import json
import textwrap

import pytest

pytest.importorskip("peft")
pytest.importorskip("bitsandbytes")

from lorlint.cli import main

# (model id, loader, task_type, target_modules): good configs for the architectures the issue names
GOOD = {
    "llama": ("meta-llama/Llama-3.1-8B", "AutoModelForCausalLM", "CAUSAL_LM", '"all-linear"'),
    "mistral": ("mistralai/Mistral-7B-v0.1", "AutoModelForCausalLM", "CAUSAL_LM",
                '["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]'),
    "qwen2": ("Qwen/Qwen2.5-7B-Instruct", "AutoModelForCausalLM", "CAUSAL_LM", '"all-linear"'),
    "gemma2": ("google/gemma-2-2b", "AutoModelForCausalLM", "CAUSAL_LM", '"all-linear"'),
    "phi3": ("microsoft/Phi-3-mini-4k-instruct", "AutoModelForCausalLM", "CAUSAL_LM",
             '["qkv_proj", "o_proj", "gate_up_proj", "down_proj"]'),
    "gpt2": ("gpt2", "GPT2LMHeadModel", "CAUSAL_LM", '["c_attn", "c_proj", "c_fc"]'),
    "gpt_neox": ("EleutherAI/pythia-70m", "AutoModelForCausalLM", "CAUSAL_LM",
                 '["query_key_value", "dense", "dense_h_to_4h", "dense_4h_to_h"]'),
    "falcon": ("tiiuae/falcon-7b", "AutoModelForCausalLM", "CAUSAL_LM",
               '["query_key_value", "dense", "dense_h_to_4h", "dense_4h_to_h"]'),
    "t5": ("google/flan-t5-small", "AutoModelForSeq2SeqLM", "SEQ_2_SEQ_LM",
           '["q", "k", "v", "o", "wi_0", "wi_1", "wo"]'),
    "bert": ("bert-base-uncased", "AutoModelForSequenceClassification", "SEQ_CLS",
             '["query", "key", "value", "dense"]'),
}  # fmt: skip


def script(model: str, loader: str, task_type: str, targets: str, quant: bool = True) -> str:
    # QLoRA classification keeps the new head out of 4-bit so modules_to_save can train it.
    skip = ', llm_int8_skip_modules=["classifier"]' if task_type == "SEQ_CLS" else ""
    q = f", quantization_config=BitsAndBytesConfig(load_in_4bit=True{skip})" if quant else ""
    return textwrap.dedent(
        f"""\
        from peft import LoraConfig, get_peft_model
        from transformers import {loader}, BitsAndBytesConfig

        model = {loader}.from_pretrained("{model}"{q})
        config = LoraConfig(r=8, lora_alpha=16, target_modules={targets}, task_type="{task_type}")
        model = get_peft_model(model, config)
        """
    )


def verify(capsys, *args):
    code = main(["verify", *args, "--tiny", "--device", "cpu", "--format", "json"])
    out = capsys.readouterr().out
    return code, json.loads(out)


def test_good_configs_pass_in_4bit(tmp_path, capsys):
    for arch, parts in GOOD.items():
        (tmp_path / f"{arch}.py").write_text(script(*parts))
    code, data = verify(capsys, str(tmp_path))
    by_file = {s["filename"].rsplit("/", 1)[1][:-3]: s for s in data["sites"]}
    failures = {k: s["reason"] for k, s in by_file.items() if s["status"] != "pass"}
    assert not failures, failures
    assert code == 0 and data["ok"] and set(by_file) == set(GOOD)
    for arch, site in by_file.items():
        if arch == "falcon":  # FalconLinear subclasses nn.Linear: bitsandbytes leaves it alone
            assert site["quantization"] is None and site["full_precision_linears"] > 0
            assert any("this is LoRA, not QLoRA" in n for n in site["notes"])
            continue
        assert site["quantization"] == "nf4" and site["quantized_modules"] > 0, arch
        assert site["predicted_matches_actual"] and site["grads_ok"] and site["params_changed"]
        assert site["trainable_params"] > 0 and site["loss_before"] is not None


SCHEMA_KEYS = {"filename", "row", "model", "source", "device", "quantization", "quantized_modules",
               "attached", "missing_targets", "predicted_matches_actual", "trainable_params",
               "loss_before", "loss_after", "grads_ok", "params_changed", "peak_memory_bytes",
               "seconds", "status", "reason"}  # fmt: skip


def test_a_misspelled_entry_fails_though_peft_accepts_it(tmp_path, capsys):
    targets = '["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "dwn_proj"]'
    path = tmp_path / "typo.py"
    path.write_text(script("meta-llama/Llama-3.1-8B", "AutoModelForCausalLM", "CAUSAL_LM", targets))
    code, data = verify(capsys, str(path))
    site = data["sites"][0]
    assert code == 1 and not data["ok"]
    assert set(site) >= SCHEMA_KEYS
    assert site["status"] == "fail" and site["missing_targets"] == ["dwn_proj"]
    assert "attached nowhere" in site["reason"]
    assert site["predicted_matches_actual"] and site["grads_ok"]  # PEFT itself trained the rest
    assert len(site["attached"]) == 2 * 6


def test_an_all_wrong_list_fails_with_peft_text(tmp_path, capsys):
    path = tmp_path / "gpt2.py"
    path.write_text(script("gpt2", "GPT2LMHeadModel", "CAUSAL_LM", '["q_proj", "v_proj"]', False))
    code, data = verify(capsys, str(path))
    site = data["sites"][0]
    assert code == 1 and site["status"] == "fail"
    assert "not found in the base model" in site["reason"]
    assert site["quantization"] is None and site["predicted_matches_actual"]


def test_text_output_and_steps(tmp_path, capsys, monkeypatch):
    import sys

    path = tmp_path / "ok.py"
    path.write_text(script(*GOOD["llama"]))
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # progress is drawn on terminals only
    code = main(["verify", str(path), "--tiny", "--device", "cpu", "--steps", "3"])
    out = capsys.readouterr()
    assert code == 0
    assert "PASS" in out.out and "(= lorlint's prediction)" in out.out
    assert "1 passed, 0 failed, 0 skipped" in out.out
    assert "step 3/3" in out.err and out.err.endswith("\r\033[K")  # erased at the end
    monkeypatch.undo()
    main(["verify", str(path), "--tiny", "--device", "cpu"])
    assert capsys.readouterr().err == ""  # nothing in CI logs


def test_nothing_to_verify_is_exit_2(tmp_path, capsys):
    (tmp_path / "empty.py").write_text("x = 1\n")
    assert main(["verify", str(tmp_path), "--tiny", "--device", "cpu"]) == 2
    assert "no PEFT configs found" in capsys.readouterr().err
    (tmp_path / "nomodel.py").write_text(
        "from peft import LoraConfig\nLoraConfig(target_modules='all-linear')\n"
    )
    assert main(["verify", str(tmp_path), "--tiny", "--device", "cpu"]) == 2
    assert "could not be determined" in capsys.readouterr().err


def test_missing_extra_is_exit_2(tmp_path, capsys, monkeypatch):
    import importlib.util

    from lorlint.commands import verify as verify_command

    real = importlib.util.find_spec
    monkeypatch.setattr(
        verify_command.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "bitsandbytes" else real(name, *a),
    )
    assert main(["verify", str(tmp_path)]) == 2
    assert 'pip install "lorlint[verify]"' in capsys.readouterr().err


def test_real_weights_from_a_local_directory(tmp_path, capsys):
    """--weights auto loads weights found on disk (a saved checkpoint), here quantized to 4-bit."""
    import torch
    from transformers import AutoModelForCausalLM, LlamaConfig

    torch.manual_seed(0)
    config = LlamaConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, vocab_size=256)  # fmt: skip
    AutoModelForCausalLM.from_config(config).save_pretrained(tmp_path / "ckpt")
    path = tmp_path / "train.py"
    path.write_text(script("./ckpt", "AutoModelForCausalLM", "CAUSAL_LM", '"all-linear"'))
    code = main(["verify", str(path), "--device", "cpu", "--format", "json"])
    site = json.loads(capsys.readouterr().out)["sites"][0]
    assert code == 0, site["reason"]
    assert "real weights" in site["notes"] and site["source"].startswith("local config.json")
    assert site["quantization"] == "nf4" and len(site["attached"]) == 2 * 7


def test_prepare_after_get_peft_model_is_replayed_with_ll401s_verdict(tmp_path, capsys):
    """verify calls prepare_model_for_kbit_training where the script does: after get_peft_model
    it freezes the adapter (0 trainable parameters, fail), before it the run trains (pass);
    `lorlint check` says LL401 on exactly the first."""
    from lorlint.engine import Options, ViewCache, lint_source

    good = script(*GOOD["llama"]).replace(
        "import LoraConfig, get_peft_model", "import LoraConfig, get_peft_model, prepare_model_for_kbit_training"
    )  # fmt: skip
    prepare = "model = prepare_model_for_kbit_training(model)\n"
    scripts = {
        "after": good + prepare,
        "before": good.replace("model = get_peft_model", prepare + "model = get_peft_model"),
    }
    for name, text in scripts.items():
        (tmp_path / f"{name}.py").write_text(text)
    code, data = verify(capsys, str(tmp_path))
    by_file = {s["filename"].rsplit("/", 1)[1][:-3]: s for s in data["sites"]}
    assert code == 1
    assert by_file["after"]["status"] == "fail" and by_file["after"]["trainable_params"] == 0
    assert "froze every parameter" in by_file["after"]["reason"]
    assert by_file["before"]["status"] == "pass" and by_file["before"]["trainable_params"] > 0
    for name, text in scripts.items():
        codes = {d.code for d in lint_source("t.py", text, Options(), ViewCache(online=False))}
        assert ("LL401" in codes) == (name == "after")


def test_an_adapter_loaded_frozen_is_replayed_with_ll305s_verdict(tmp_path, capsys):
    """verify builds an adapter PeftModel.from_pretrained loads from its saved adapter_config.json,
    in PEFT's inference mode when is_trainable=True is missing: 0 trainable parameters where
    `lorlint check` says LL305; and where LL401 applies too (prepare_model_for_kbit_training after
    the load) it fails for that, as LL401 says, whatever is_trainable says."""
    from peft import LoraConfig

    from lorlint.engine import Options, ViewCache, lint_source

    LoraConfig(r=8, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM").save_pretrained(
        str(tmp_path / "adapter")
    )
    head = textwrap.dedent("""\
        from peft import PeftModel, prepare_model_for_kbit_training
        from transformers import AutoModelForCausalLM, BitsAndBytesConfig, Trainer

        base = AutoModelForCausalLM.from_pretrained(
            "meta-llama/Llama-3.1-8B", quantization_config=BitsAndBytesConfig(load_in_4bit=True)
        )
        """)
    prepare = "model = prepare_model_for_kbit_training(model)\n"
    train = "trainer = Trainer(model=model, train_dataset=data)\n"
    scripts = {}
    for trainable in (False, True):
        load = 'model = PeftModel.from_pretrained(base, "adapter"{})\n'.format(
            ", is_trainable=True" if trainable else ""
        )
        scripts[f"t{int(trainable)}_plain"] = head + load + train
        scripts[f"t{int(trainable)}_prepare"] = head + load + prepare + train
    scripts["inference"] = head + 'model = PeftModel.from_pretrained(base, "adapter")\n'
    for name, text in scripts.items():
        (tmp_path / f"{name}.py").write_text(text)
    code, data = verify(capsys, str(tmp_path))
    by_file = {
        s["filename"].rsplit("/", 1)[1][:-3]: s
        for s in data["sites"]
        if s["filename"].endswith(".py")
    }
    del scripts["inference"]  # loaded, not trained: not verify's question
    assert code == 1 and set(by_file) == set(scripts)
    for name, text in scripts.items():
        codes = {d.code for d in lint_source("t.py", text, Options(), ViewCache(online=False))}
        site = by_file[name]
        assert ("LL305" in codes) == name.startswith("t0"), codes
        assert ("LL401" in codes) == name.endswith("prepare"), codes
        expect_fail = bool(codes & {"LL305", "LL401"})
        assert site["status"] == ("fail" if expect_fail else "pass"), (name, site["reason"])
        assert (site["trainable_params"] == 0) == expect_fail
        if "LL305" in codes:
            assert "loaded without is_trainable=True (line 7)" in site["reason"]
