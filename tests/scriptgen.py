"""A hypothesis strategy for training scripts that stress the Python front end.

Scripts mix the constructs real fine-tuning code uses (imports under aliases, target lists bound
to names and rebuilt, argparse and dataclass defaults, models loaded, wrapped and applied,
trainers) with what makes name resolution and the reduction hard: the same names rebound in
functions, classes, loops, comprehensions and branches; ``global``, ``del``, parameters;
decorators; code-like text inside strings and comments; backslash continuations; semicolons;
unrelated functions around it all. Every script is valid Python.
"""

from __future__ import annotations

import textwrap

from hypothesis import strategies as st

IMPORTS = [
    "from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training",
    "from peft import LoraConfig as LC",
    "import peft",
    "import peft as pf",
    "from transformers import AutoModelForCausalLM, BitsAndBytesConfig",
    "import transformers as tf",
    "from trl import SFTTrainer",
    "import os",
    "import argparse",
    "from dataclasses import dataclass, field",
    "from unsloth import FastLanguageModel",
]

NAMES = ["T", "U", "model", "base", "cfg", "MODEL_ID", "kw", "bnb"]

STATEMENTS = [
    'T = ["q_proj", "v_proj"]',
    "T = ['q_proj',  # query\n     'k_proj']",
    'T = "q_proj,v_proj".split(",")',
    'T += ["o_proj"]',
    'T, U = ["q_proj"], ["v_proj"]',
    'U = T + ["gate_proj"]',
    'U = [*T, "up_proj"]',
    'T: list = ["dwn_proj"]',
    'U = ("q_proj", "v_proj",)',
    'MODEL_ID = "meta-llama/Llama-3.1-8B"',
    'MODEL_ID = os.environ.get("MODEL", "gpt2")',
    'MODEL_ID = f"{MODEL_ID}"',
    "bnb = BitsAndBytesConfig(load_in_4bit=True)",
    "model = AutoModelForCausalLM.from_pretrained(MODEL_ID, quantization_config=bnb)",
    'model = AutoModelForCausalLM.from_pretrained("gpt2", load_in_8bit=True)',
    'base = tf.AutoModelForSequenceClassification.from_pretrained("roberta-base")',
    'model, tok = FastLanguageModel.from_pretrained(model_name="unsloth/llama-3-8b")',
    "model = prepare_model_for_kbit_training(model)",
    "cfg = LoraConfig(target_modules=T, r=8)",
    'cfg = LC(target_modules=["c_attn"], lora_alpha=16)',
    "cfg = pf.LoraConfig(target_modules=U)",
    "kw = dict(r=4, target_modules=T)",
    "cfg = LoraConfig(**kw)",
    "cfg = peft.LoraConfig(target_modules=T + U, layers_to_transform=list(range(0, 4)))",
    "model = get_peft_model(model, cfg)",
    "base = get_peft_model(base, LoraConfig(target_modules=T))",
    'SFTTrainer(model="Qwen/Qwen2.5-7B", peft_config=LoraConfig(target_modules="all-linear"))',
    "trainer = SFTTrainer(model=model, peft_config=cfg)",
    "model = FastLanguageModel.get_peft_model(model, r=16, target_modules=T)",
    "p = argparse.ArgumentParser()",
    'p.add_argument("--lora-r", type=int, default=32)',
    'p.add_argument("--targets", default=U)',
    "args = p.parse_args()",
    "cfg = LoraConfig(r=args.lora_r, target_modules=args.targets)",
    "print(T, model)",
    "del U",
    "for T in [['a']]: pass",
    "squares = [T for T in range(3)]",
    "handler = lambda model: model",
    "x = 1; T = ['w1', 'w2']",
    "y = (1 +\n     2)",
    "z = 1 + \\\n    2",
    '"""A docstring.\n\ndef fake():\n    LoraConfig(target_modules=["not_real"])\n"""',
    "# cfg = LoraConfig(target_modules=['commented'])",
    's = "model = LoraConfig(T)"',
    "import os, peft",
    # models and values through functions, methods, wrappers and classes (issue #11)
    "def setup_model(name=MODEL_ID):\n    m = AutoModelForCausalLM.from_pretrained(name)\n"
    "    return m, None",
    "model, tok = setup_model()",
    'model, tok = setup_model("Qwen/Qwen2.5-7B")',
    "def setup_lora(model, targets=T):\n    cfg = LoraConfig(target_modules=targets)\n"
    "    return get_peft_model(model, cfg)",
    "model = setup_lora(model)",
    "base = setup_lora(base, U)",
    'model = AutoModelForCausalLM.from_pretrained("gpt2").to("cpu")',
    "model = model.cuda()",
    "model.config.use_cache = False",
    "model.eval()",
    "class Runner:\n    def __init__(self):\n"
    '        self.model = AutoModelForCausalLM.from_pretrained("gpt2", load_in_4bit=True)\n'
    "    def lora(self):\n"
    "        self.model = get_peft_model(self.model, LoraConfig(target_modules=T))",
    'class Settings:\n    TARGETS = ["q_proj", "dwn_proj"]\n    R = 8',
    "cfg = LoraConfig(target_modules=Settings.TARGETS, r=Settings.R)",
    "model = None",
]

BLOCKS = [
    ("def main():", ""),
    ("def setup(model, T=None):", ""),
    ('if __name__ == "__main__":', ""),
    ("for epoch in range(2):", ""),
    ("with open(__file__) as fh:", ""),
    ("try:", "except ImportError:\n    pass"),
    ("if True:", "else:\n    T = ['else_branch']"),
    ("class Job:", ""),
    ("@decorator(\n    1)\ndef wrapped():", ""),
    ("def outer():\n    global T", ""),
]

DATACLASS = (
    "@dataclass\nclass Args:\n    targets: list = field(default_factory=lambda: "
    '["c_attn"])\n    lora_r: int = 8\n    def method(self):\n        return self'
)

FILLER = "def unrelated_{i}(a, b=2):\n    return [a * b, str(a)]\n"


@st.composite
def script(draw) -> str:
    """One generated training script."""
    parts = list(draw(st.lists(st.sampled_from(IMPORTS), min_size=1, max_size=6, unique=True)))
    parts.append("def decorator(x):\n    return lambda f: f")
    if draw(st.booleans()):
        parts.append(DATACLASS)
    for i in range(draw(st.integers(0, 3))):
        parts.append(FILLER.format(i=i))
    for _ in range(draw(st.integers(3, 14))):
        if draw(st.integers(0, 3)) == 0:
            header, tail = draw(st.sampled_from(BLOCKS))
            body = draw(st.lists(st.sampled_from(STATEMENTS), min_size=1, max_size=4))
            inner = "\n".join([*body, "pass"])
            if header.startswith("class"):
                inner = "def method(self):\n" + textwrap.indent(inner, "    ")
            block = header + "\n" + textwrap.indent(inner, "    ")
            parts.append(block + ("\n" + tail if tail else ""))
        else:
            parts.append(draw(st.sampled_from(STATEMENTS)))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = "\n".join(parts) + "\n"
    return text.replace("\n", newline)
