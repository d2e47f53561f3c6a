"""Models and values through real code (issue #11): each case a minimal reproduction of what real
fine-tuning scripts do between loading a model and applying a config to it."""

from __future__ import annotations

import textwrap

from helpers import run_cli, write

from lorlint.frontends import python
from lorlint.frontends.python import extract_sites
from lorlint.site import SETUP_KINDS, UNKNOWN
from lorlint.sitecache import CACHE_DIRNAME

HEAD = """
from peft import LoraConfig, PeftModel, get_peft_model, prepare_model_for_kbit_training
from transformers import AutoModelForCausalLM, BitsAndBytesConfig, HfArgumentParser
from trl import SFTTrainer
from dataclasses import dataclass, field
"""


def sites(code: str, path: str = "t.py"):
    """The PEFT config sites (setup sites, issue #14, are tested in test_qlora_rules.py)."""
    found = extract_sites(path, textwrap.dedent(HEAD) + textwrap.dedent(code))
    return [s for s in found if s.kind not in SETUP_KINDS]


def one(code: str, path: str = "t.py"):
    found = sites(code, path)
    assert len(found) == 1, found
    return found[0]


def test_model_moved_and_switched_mode_between_load_and_config():
    site = one(
        """
        model = AutoModelForCausalLM.from_pretrained("gpt2", load_in_8bit=True).to("cuda")
        model.config.use_cache = False
        model = model.cuda()
        model.eval()
        model = get_peft_model(model.train(), LoraConfig(target_modules=["c_attn"]))
        """
    )
    assert (site.model, site.quantized, site.loader) == ("gpt2", "8bit", "AutoModelForCausalLM")


def test_model_loaded_in_one_function_and_adapted_in_another():
    site = one(
        """
        def setup_model(name):
            model = AutoModelForCausalLM.from_pretrained(name)
            tokenizer = None
            return model, tokenizer

        def setup_lora(model, rank=8):
            config = LoraConfig(r=rank, target_modules=["q_proj", "v_proj"])
            return get_peft_model(model, config)

        def main():
            model, tok = setup_model("meta-llama/Llama-3.1-8B")
            model = setup_lora(model, rank=16)
            return model
        """
    )
    assert site.model == "meta-llama/Llama-3.1-8B" and site.loader == "AutoModelForCausalLM"
    assert site.get("r") == 16  # the parameter, as the only call passes it


def test_a_parameter_nobody_in_the_file_passes_holds_its_default():
    """``fire.Fire(train)``-style entry points: the default is what runs without the flag."""
    site = one(
        """
        def train(model_name: str = "mistralai/Mistral-7B-v0.1", r: int = 4):
            model = AutoModelForCausalLM.from_pretrained(model_name)
            model = get_peft_model(model, LoraConfig(r=r, target_modules=["q_proj"]))
        """
    )
    assert site.model == "mistralai/Mistral-7B-v0.1" and site.get("r") == 4


def test_calls_that_disagree_about_a_parameter_leave_it_unknown():
    found = sites(
        """
        def make(model, targets):
            return get_peft_model(model, LoraConfig(target_modules=targets))

        make(AutoModelForCausalLM.from_pretrained("gpt2"), ["c_attn"])
        make(AutoModelForCausalLM.from_pretrained("gpt2"), ["c_proj"])
        """
    )
    (site,) = found
    assert site.get("target_modules") is UNKNOWN and site.model == "gpt2"


def test_methods_share_the_model_through_self():
    site = one(
        """
        class Finetuner:
            def __init__(self, model_id):
                self.model = AutoModelForCausalLM.from_pretrained(
                    model_id, quantization_config=BitsAndBytesConfig(load_in_4bit=True)
                )

            def add_lora(self):
                self.model = prepare_model_for_kbit_training(self.model)
                self.model = get_peft_model(self.model, LoraConfig(target_modules=["q_proj"]))

        Finetuner("Qwen/Qwen2.5-7B").add_lora()
        """
    )
    assert (site.model, site.quantized) == ("Qwen/Qwen2.5-7B", "4bit")


def test_branches_that_agree_keep_the_model_and_branches_that_disagree_lose_what_differs():
    site = one(
        """
        base = AutoModelForCausalLM.from_pretrained("gpt2")
        if resume:
            model = PeftModel.from_pretrained(base, "checkpoint")
        else:
            model = get_peft_model(base, LoraConfig(target_modules=["c_attn"]))
        """
    )
    assert site.model == "gpt2"
    site = one(
        """
        if quantize:
            model = AutoModelForCausalLM.from_pretrained("gpt2", load_in_4bit=True)
        else:
            model = AutoModelForCausalLM.from_pretrained("gpt2")
        model = get_peft_model(model, LoraConfig(target_modules=["c_attn"]))
        """
    )
    assert site.model == "gpt2" and site.quantized is None  # 4-bit or not: not known
    site = one(
        """
        if small:
            model = AutoModelForCausalLM.from_pretrained("gpt2")
        else:
            model = AutoModelForCausalLM.from_pretrained("meta-llama/Llama-3.1-8B")
        model = get_peft_model(model, LoraConfig(target_modules=["c_attn"]))
        """
    )
    assert site.model is None and site.loader == "AutoModelForCausalLM"


def test_an_if_arm_a_constant_flag_rules_out_assigns_nothing():
    code = """
        use_flash_attention = False
        model = AutoModelForCausalLM.from_pretrained("gpt2")
        if use_flash_attention:
            model = upcast_layer_for_flash_attention(model)
        if not use_flash_attention:
            pass
        else:
            model = patch(model)
        model = get_peft_model(model, LoraConfig(target_modules=["c_attn"]))
        """
    assert one(code).model == "gpt2"
    # a flag a run can change (a CLI default, a flag assigned twice) rules nothing out
    for flag in ("args.use_flash_attention", "use_flash_attention"):
        changed = code.replace("if use_flash_attention:", f"if {flag}:")
        changed = changed.replace(
            "use_flash_attention = False",
            "use_flash_attention = False\n"
            "        if again:\n            use_flash_attention = True",
        )
        assert one(changed).model is None, flag


def test_values_assigned_in_branches():
    site = one(
        """
        if wide:
            targets = ["q_proj", "v_proj"]
        else:
            targets = ["q_proj"]
        LoraConfig(target_modules=targets)
        """
    )
    assert site.get("target_modules") is UNKNOWN
    site = one(
        """
        try:
            targets = ["q_proj", "v_proj"]
        except ImportError:
            targets = ["q_proj", "v_proj"]
        LoraConfig(target_modules=targets)
        """
    )
    assert site.get("target_modules") == ["q_proj", "v_proj"]
    assert not site.keywords["target_modules"].editable  # a fix would edit one of the two


def test_an_assignment_overwritten_later_in_the_same_block_does_not_reach_past_it():
    code = """
        if __name__ == "__main__":
            targets = ["q_proj"]
            if wide:
                targets = ["q_proj", "k_proj"]
            targets = ["q_proj", "v_proj"]
        LoraConfig(target_modules=targets)
        """
    assert one(code).get("target_modules") == ["q_proj", "v_proj"]
    # a loop or a ``try`` between them may skip the overwrite: both reach
    for head in ("for step in steps:", "try:"):
        tail = "\n        except ImportError:\n            pass" if head == "try:" else ""
        code = f"""
        {head}
            targets = ["q_proj"]
            targets = ["q_proj", "v_proj"]{tail}
        LoraConfig(target_modules=targets)
        """
        assert one(code).get("target_modules") is UNKNOWN, head


def test_an_optional_config_reaches_the_trainer():
    site = one(
        """
        model = AutoModelForCausalLM.from_pretrained("mistralai/Mistral-7B-v0.1")
        if use_peft:
            peft_config = LoraConfig(target_modules=["q_proj"])
        else:
            peft_config = None
        SFTTrainer(model=model, peft_config=peft_config)
        """
    )
    assert site.applied_with == "SFTTrainer" and site.model == "mistralai/Mistral-7B-v0.1"


def test_constants_on_classes_and_nested_dataclasses():
    site = one(
        """
        class Config:
            LORA_TARGET_MODULES = ["q_proj", "v_proj"]
            RANK = 8

        LoraConfig(target_modules=Config.LORA_TARGET_MODULES, r=Config.RANK)
        """
    )
    assert site.get("target_modules") == ["q_proj", "v_proj"] and site.get("r") == 8
    site = one(
        """
        @dataclass
        class LoraArgs:
            target_modules: list = field(default_factory=lambda: ["c_attn"])
            r: int = 32

        @dataclass
        class TrainConfig:
            lora: LoraArgs = field(default_factory=LoraArgs)
            seed: int = 0

        def build(cfg: TrainConfig):
            return LoraConfig(target_modules=cfg.lora.target_modules, r=cfg.lora.r)
        """
    )
    assert site.get("target_modules") == ["c_attn"] and site.get("r") == 32


def test_hf_argument_parser_dataclasses_by_position():
    site = one(
        """
        @dataclass
        class ModelArguments:
            rank: int = 64

        @dataclass
        class LoraArguments:
            rank: int = 16
            modules: list = field(default_factory=lambda: ["q_proj"])

        parser = HfArgumentParser((ModelArguments, LoraArguments))
        model_args, lora_args = parser.parse_args_into_dataclasses()
        LoraConfig(r=lora_args.rank, target_modules=lora_args.modules)
        """
    )
    assert site.get("r") == 16 and site.get("target_modules") == ["q_proj"]


def test_two_models_in_one_file_keep_two_links():
    first, second = sites(
        """
        a = AutoModelForCausalLM.from_pretrained("gpt2").cuda()
        b = AutoModelForCausalLM.from_pretrained("roberta-base", load_in_8bit=True)
        a = get_peft_model(a, LoraConfig(target_modules=["c_attn"]))
        b = get_peft_model(b, LoraConfig(target_modules=["query"]))
        """
    )
    assert (first.model, first.quantized) == ("gpt2", None)
    assert (second.model, second.quantized) == ("roberta-base", "8bit")


def test_constants_imported_from_a_sibling_module(tmp_path):
    write(
        tmp_path / "config.py",
        'TARGETS = ["q_proj", "dwn_proj"]\nMODEL = "meta-llama/Llama-3.1-8B"\n',
    )
    write(tmp_path / "pkg" / "__init__.py", "")
    write(tmp_path / "pkg" / "settings.py", "RANK = 4\n")
    script = write(
        tmp_path / "train.py",
        """
        from peft import LoraConfig, get_peft_model
        from transformers import AutoModelForCausalLM
        from config import TARGETS, MODEL
        from pkg import settings
        from pkg.settings import RANK

        model = AutoModelForCausalLM.from_pretrained(MODEL)
        get_peft_model(model, LoraConfig(target_modules=TARGETS, r=RANK))
        """,
    )
    (site,) = extract_sites(str(script), script.read_text())
    assert site.model == "meta-llama/Llama-3.1-8B" and site.get("r") == 4
    targets = site.keywords["target_modules"]
    assert targets.value == ["q_proj", "dwn_proj"]
    # the literal is in config.py: findings point at the name here, and no fix edits it
    assert all(e.span == targets.span and not e.editable for e in targets.elements)
    assert sorted(site.depends_on) == sorted(
        [str(tmp_path / "config.py"), str(tmp_path / "pkg" / "settings.py")]
    )
    proc = run_cli("check", "train.py", "--output-format", "concise", cwd=tmp_path)
    column = script.read_text().splitlines()[8].index("TARGETS") + 1
    assert f'train.py:9:{column}: LL101 "dwn_proj"' in proc.stdout
    assert not list((tmp_path / CACHE_DIRNAME).rglob("*.json"))  # depends on config.py


def test_a_sibling_module_is_parsed_once_per_run_and_read_as_it_ends(tmp_path, monkeypatch):
    write(
        tmp_path / "config.py",
        """
        TARGETS = ["q_proj"]
        TARGETS = ["q_proj", "v_proj"]  # the module's last word
        if wide:
            RANK = 16
        else:
            RANK = 8
        from defaults import ALPHA
        """,
    )
    write(tmp_path / "defaults.py", "ALPHA = 32\n")
    code = """
        from peft import LoraConfig
        from config import TARGETS, RANK, ALPHA
        LoraConfig(target_modules=TARGETS, r=RANK, lora_alpha=ALPHA)
        """
    scripts = [write(tmp_path / f"train{i}.py", code) for i in range(3)]
    parsed = []
    original = python.analyse
    monkeypatch.setattr(
        python, "analyse", lambda path, *a, **k: parsed.append(path) or original(path, *a, **k)
    )
    for script in scripts:
        (site,) = extract_sites(str(script), script.read_text())
        assert site.get("target_modules") == ["q_proj", "v_proj"]
        assert site.get("r") is UNKNOWN  # branches disagree
        assert site.get("lora_alpha") == 32  # through config.py's own import
        assert sorted(site.depends_on) == [str(tmp_path / n) for n in ("config.py", "defaults.py")]
    for name in ("config.py", "defaults.py"):
        assert parsed.count(str(tmp_path / name)) == 1
    write(tmp_path / "config.py", 'TARGETS = ["k_proj"]\n')  # edited (the language server)
    (site,) = extract_sites(str(scripts[0]), scripts[0].read_text())
    assert (
        site.get("target_modules") == ["k_proj"] and parsed.count(str(tmp_path / "config.py")) == 2
    )


def test_modules_outside_the_scripts_directory_are_not_read(tmp_path):
    write(tmp_path / "config.py", 'TARGETS = ["q_proj"]\n')
    script = write(
        tmp_path / "sub" / "train.py",
        "from peft import LoraConfig\nfrom config import TARGETS\nLoraConfig(target_modules=TARGETS)\n",
    )
    (site,) = extract_sites(str(script), script.read_text())
    assert site.get("target_modules") is UNKNOWN and site.depends_on == []


def test_the_flow_of_calls_on_the_model():
    site = one(
        """
        model = AutoModelForCausalLM.from_pretrained(
            "meta-llama/Llama-3.1-8B", quantization_config=BitsAndBytesConfig(load_in_4bit=True)
        )
        model.gradient_checkpointing_enable()
        model = get_peft_model(model, LoraConfig(target_modules=["q_proj"]))
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=True)
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
        trainer = SFTTrainer(model=model, train_dataset=data)
        merged = model.merge_and_unload()

        model = AutoModelForCausalLM.from_pretrained("meta-llama/Llama-3.1-8B")
        model = PeftModel.from_pretrained(model, "out")
        model.merge_and_unload()
        """
    )
    assert [(s.call, s.detail) for s in site.flow] == [
        (
            "load",
            {
                "loader": "AutoModelForCausalLM",
                "quantized": "4bit",
                "quantization": "4bit",
                "dtype": "",
            },
        ),
        ("gradient_checkpointing_enable", {"use_reentrant": "default"}),
        ("get_peft_model", {}),
        (
            "prepare_model_for_kbit_training",
            {
                "use_gradient_checkpointing": True,
                "move": {  # LL401's fix: these lines, above row 11
                    "row": 11,
                    "cut": [12, 1, 13, 1],
                    "seen": 'model = get_peft_model(model, LoraConfig(target_modules=["q_proj"]))\n'
                    "model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=True)\n",
                },
            },
        ),
        ("optimizer", {"class": "AdamW"}),
        (  # no args: the trainer's defaults, which leave checkpointing off
            "trainer",
            {
                "class": "SFTTrainer",
                "peft_config": False,
                "gradient_checkpointing": False,
                "use_reentrant": None,
            },
        ),
        ("merge_and_unload", {}),
    ]
    assert [s.row for s in site.flow] == sorted(s.row for s in site.flow)


def test_the_flow_of_an_adapter_loaded_for_training():
    (site,) = sites(
        """
        base = AutoModelForCausalLM.from_pretrained("gpt2")
        model = PeftModel.from_pretrained(base, "adapter")
        model.enable_input_require_grads()
        get_peft_model(base, LoraConfig(target_modules=["c_attn"]))
        SFTTrainer(model=model, peft_config=None)
        """
    )
    assert [s.call for s in site.flow][:2] == ["load", "PeftModel.from_pretrained"]
    peft_step = next(s for s in site.flow if s.call == "PeftModel.from_pretrained")
    assert peft_step.detail == {"is_trainable": False}


def test_the_flow_of_a_model_passed_to_the_function_that_applies_the_config():
    site = one(
        """
        def add_lora(model):
            model = prepare_model_for_kbit_training(model)
            model.gradient_checkpointing_enable()
            return get_peft_model(model, LoraConfig(target_modules=["c_attn"]))

        model = AutoModelForCausalLM.from_pretrained("gpt2", load_in_4bit=True)
        model = add_lora(model)
        """
    )
    # the load runs first although it sits below the function that applies the config
    assert [s.call for s in site.flow] == [
        "load",
        "prepare_model_for_kbit_training",
        "gradient_checkpointing_enable",
        "get_peft_model",
    ]


def test_the_flow_goes_on_in_the_one_caller_of_the_function_that_applies_the_config():
    code = """
        def load():
            return AutoModelForCausalLM.from_pretrained("gpt2", load_in_4bit=True)

        def add_lora(model):
            model = prepare_model_for_kbit_training(model)
            return get_peft_model(model, LoraConfig(target_modules=["c_attn"]))

        def main():
            model = load()
            model.gradient_checkpointing_enable()
            model = add_lora(model)
            model.enable_input_require_grads()
            SFTTrainer(model=model, train_dataset=data)
        """
    assert [s.call for s in one(code).flow] == [
        "load",
        "gradient_checkpointing_enable",
        "prepare_model_for_kbit_training",
        "get_peft_model",
        "enable_input_require_grads",
        "trainer",
    ]
    # called twice: which call's model goes on is not one answer, so the flow stops there
    twice = code + "\n        def again():\n            add_lora(load())\n"
    assert [s.call for s in one(twice).flow] == [
        "load",
        "prepare_model_for_kbit_training",
        "get_peft_model",
    ]


def test_the_flow_leaves_out_other_arms_and_marks_what_may_not_run():
    (site, _) = sites(
        """
        model = AutoModelForCausalLM.from_pretrained("gpt2")
        if method == "lora":
            model = get_peft_model(model, LoraConfig(target_modules=["c_attn"]))
        elif method == "other":
            model = get_peft_model(model, LoraConfig(target_modules=["c_proj"]))
        with context():
            model.enable_input_require_grads()
        if mask_loss:
            trainer = SFTTrainer(model=model, train_dataset=data)
        else:
            trainer = SFTTrainer(model=model, train_dataset=other)
        """
    )
    assert [(s.call, s.row, s.conditional) for s in site.flow] == [
        ("load", 7, False),
        ("get_peft_model", 9, False),  # the applier; the elif arm's get_peft_model is not here
        ("enable_input_require_grads", 13, False),
        ("trainer", 15, True),
        ("trainer", 17, True),
    ]


def test_a_concrete_class_names_the_architecture_when_the_checkpoint_id_is_a_parameter():
    from lorlint.engine import Options, ViewCache, lint_text

    code = """
    from transformers import LlamaForCausalLM

    def train(base_model: str = ""):
        model = LlamaForCausalLM.from_pretrained(base_model)
        config = LoraConfig(target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM")
        return get_peft_model(model, config)
    """
    site = one(code)
    assert (site.model, site.model_origin, site.loader) == ("LlamaForCausalLM", "class", site.model)
    found = lint_text(
        "t.py", textwrap.dedent(HEAD) + textwrap.dedent(code), Options(), ViewCache(False)
    )
    assert [d.code for d in found] == ["LL201"]
    assert "llama from transformers class: LlamaForCausalLM" in found[0].message


def test_only_a_transformers_model_class_names_the_architecture():
    for code in (
        "model = AutoModelForCausalLM.from_pretrained(name)",  # an Auto class: the task only
        "from mylib import MyModelForCausalLM\nmodel = MyModelForCausalLM.from_pretrained(name)",
    ):
        site = one(code + "\nget_peft_model(model, LoraConfig(target_modules=['q_proj']))")
        assert site.model is None, code


def _codes(code: str) -> list[str]:
    from lorlint.engine import Options, ViewCache, lint_text

    return [d.code for d in lint_text("t.py", textwrap.dedent(code), Options(), ViewCache(False))]


def test_an_unknown_rank_does_not_stop_the_target_match():
    """``r=script_args.lora_r`` from an undefined object: the targets still decide what PEFT
    adapts; only what needs the numbers (LL209's rank_pattern advice) stays quiet."""
    config = """
    from peft import LoraConfig
    # lorlint: model=Qwen/Qwen3-30B-A3B
    LoraConfig(r={r}, lora_alpha={r}, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM")
    """
    assert _codes(config.format(r=16)) == ["LL201", "LL209"]
    assert _codes(config.format(r="script_args.lora_r")) == ["LL201"]


def test_an_unknown_rank_gives_no_prediction_where_peft_checks_it_on_grouped_convs():
    config = """
    from peft import LoraConfig
    # lorlint: model=state-spaces/mamba-130m-hf
    LoraConfig(r={r}, target_modules=["conv1d", "in_proj"], task_type="CAUSAL_LM")
    """
    assert _codes(config.format(r=8)) == ["LL111"]
    assert _codes(config.format(r="args.r")) == []


def test_an_encoder_decoder_class_gives_the_task_for_a_missing_task_type():
    config = """
    from peft import LoraConfig, get_peft_model
    from transformers import {cls}

    model = {cls}.from_pretrained("{model}")
    model = get_peft_model(model, LoraConfig(target_modules="all-linear"))
    """
    whisper = config.format(cls="WhisperForConditionalGeneration", model="openai/whisper-small")
    assert _codes(whisper) == ["LL302"]
    vlm = config.format(cls="Qwen3VLForConditionalGeneration", model="Qwen/Qwen3-VL-8B-Instruct")
    assert "LL302" not in _codes(vlm)  # a vision-language model: the task type is not implied


def _trainer_step(code: str, reduce: bool = True) -> dict:
    found = extract_sites("t.py", textwrap.dedent(HEAD) + textwrap.dedent(code), reduce=reduce)
    (site,) = [s for s in found if s.kind not in SETUP_KINDS]
    return next(s.detail for s in site.flow if s.call == "trainer")


def test_training_arguments_changed_after_they_are_built_leave_checkpointing_unknown():
    code = """
    from trl import SFTConfig
    model = AutoModelForCausalLM.from_pretrained("gpt2")
    args = SFTConfig(output_dir="out", gradient_checkpointing=True)
    {later}
    trainer = SFTTrainer(model=model, args=args, peft_config=LoraConfig())
    """
    built = {"gradient_checkpointing": True, "use_reentrant": "default"}
    unknown = {"gradient_checkpointing": None, "use_reentrant": None}
    for later, expected in [
        ("pass", built),
        ("args.output_dir = 'elsewhere'", built),
        ("other.gradient_checkpointing = False", built),
        ("args.gradient_checkpointing = False", unknown),
        ("del args.gradient_checkpointing_kwargs", unknown),
        ("if resume:\n        args.gradient_checkpointing += 1", unknown),
        ("flags = [1 for args.gradient_checkpointing in (True, False)]", unknown),
    ]:
        for reduce in (True, False):
            detail = _trainer_step(code.format(later=later), reduce)
            assert {k: detail[k] for k in expected} == expected, (later, reduce)
