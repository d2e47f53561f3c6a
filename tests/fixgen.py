"""Hypothesis strategies for training scripts in every layout a fix must survive.

Shared by the property test (tests/test_fix_properties.py) and ``make fuzz``. A script is built
from parts: a header naming the model, filler (comments, form feeds, blank lines, non-ASCII
identifiers and strings, f-strings, tab-indented blocks) and configs whose ``target_modules`` is a
list/tuple display (entries quoted either way, raw, implicitly concatenated or f-strings; comments
after entries and on lines of their own; trailing commas or not; one line or one entry per line),
a binding used once or twice, ``**dict(...)``, a plain string or a computed ``"a,b".split(",")``.
Every comment is unique, so the test can tell which ones survived.
"""

from __future__ import annotations

import re

from hypothesis import strategies as st

MODELS = {
    "meta-llama/Llama-3.1-8B": {
        "good": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
        "bad": ["dwn_proj", "q_prj", "up_prj", "gate_prj", "lm_head", "embed_tokens", "é_proj"],
    },
    "gpt2": {
        "good": ["c_attn", "c_proj", "c_fc"],
        "bad": ["q_proj", "v_proj", "k_proj", "o_proj", "c_atn", "lm_head", "wte"],
    },
}
COMMENT = "# note é"


def _comment() -> str:
    return COMMENT  # numbered once the script is complete


@st.composite
def entry(draw, model: str) -> str:
    """One target name written as a Python string literal (mostly plain)."""
    names = MODELS[model]
    name = draw(st.sampled_from(names["good"] + names["bad"]))
    quote = draw(st.sampled_from(['"', "'"]))
    form = draw(st.sampled_from(["plain"] * 8 + ["raw", "concat", "fstring", "triple"]))
    if form == "raw":
        return f"r{quote}{name}{quote}"
    if form == "concat" and len(name) > 2:
        return f"{quote}{name[:2]}{quote} {quote}{name[2:]}{quote}"
    if form == "fstring":
        return f"f{quote}{name}{quote}"
    if form == "triple":
        return f"{quote * 3}{name}{quote * 3}"
    return f"{quote}{name}{quote}"


@st.composite
def display(draw, model: str, indent: str) -> str:
    """A list (or tuple) display of 1–6 entries in one of many layouts."""
    entries = draw(st.lists(entry(model), min_size=1, max_size=6))
    opening, closing = draw(st.sampled_from([("[", "]")] * 4 + [("(", ")")]))
    if opening == "(" and len(entries) == 1:
        entries.append(entries[0])
    trailing = draw(st.booleans())
    if not draw(st.booleans()):  # one line
        sep = draw(st.sampled_from([", ", ",", " , ", ",\t"]))
        return opening + sep.join(entries) + ("," if trailing else "") + closing
    inner = indent + draw(st.sampled_from(["    ", "\t", "  "]))
    lines = [opening]
    for i, text in enumerate(entries):
        if draw(st.integers(0, 4)) == 0:
            lines.append(f"{inner}{_comment()}")
        if draw(st.integers(0, 6)) == 0:
            lines.append("")
        last = i == len(entries) - 1
        comma = "" if last and not trailing else ","
        comment = f"  {_comment()}" if draw(st.booleans()) else ""
        lines.append(f"{inner}{text}{comma}{comment}")
    if draw(st.booleans()):
        lines[-1] += closing
    else:
        lines.append(indent + closing)
    return "\n".join(lines)


@st.composite
def config(draw, model: str, indent: str, number: int) -> str:
    """Statements defining one PEFT config (the target given in one of several ways)."""
    form = draw(
        st.sampled_from(["inline"] * 5 + ["binding", "shared", "dict", "string", "split", "call"])
    )
    value = draw(display(model, indent))
    name = f"TARGETS_{number}"
    if form == "string":
        value = draw(st.sampled_from(['"q_proj"', "'c_attn'", '"q_proj,v_proj"', '"dwn_proj"']))
    elif form == "split":
        value = '"q_proj,v_proj".split(",")'
    extra = draw(st.sampled_from(["", ", r=8", ', task_type="CAUSAL_LM"', ", lora_alpha=16"]))
    before = ""
    if form in ("binding", "shared"):
        before = f"{indent}{name} = {value}\n"
        if form == "shared":
            before += f"{indent}print({name})\n"
        value = name
    if form == "dict":
        call = f"LoraConfig(**dict(target_modules={value}{extra}))"
    elif form == "call":  # parenthesised, one keyword per line, comments between
        call = (
            f"LoraConfig(\n{indent}    {_comment()}\n{indent}    target_modules={value},"
            f"  {_comment()}\n{indent}    r=8{extra}\n{indent})"
        )
    else:
        call = f"LoraConfig(target_modules={value}{extra})"
    return f"{before}{indent}cfg_{number} = {call}\n"


FILLER = [
    "",
    "\f",
    "\f# section é",
    'données = "é ünïcödé 𝔘"',
    'message = f"{données}!"',
    "if True:\n\tx_tab = 1",
    'z = "a\\tb"  # tab escape',
    "λ = lambda v: v  # non-ASCII identifier",
]


@st.composite
def filler(draw) -> str:
    lines = draw(st.lists(st.sampled_from(FILLER), max_size=3))
    return "".join(line + "\n" for line in lines)


@st.composite
def script(draw) -> dict:
    """{"text", "newline", "bom", "mode"}: a script, before line endings and BOM are applied."""
    model = draw(st.sampled_from(sorted(MODELS)))
    header = f"from peft import LoraConfig  # lorlint: model={model}\n"
    body = draw(filler())
    for number in range(draw(st.integers(1, 3))):
        if draw(st.integers(0, 3)) == 0:
            unit = draw(st.sampled_from(["    ", "\t"]))
            body += f"def build_{number}():\n{draw(config(model, unit, number))}{unit}return 1\n"
        else:
            body += draw(config(model, "", number))
        body += draw(filler())
    numbers = iter(range(10_000))
    text = re.sub(COMMENT, lambda m: f"# note {next(numbers)} é", header + body)
    if draw(st.booleans()):
        text = text.rstrip("\n")  # no final line break
    return {
        "text": text,
        "newline": draw(st.sampled_from(["\n", "\r\n", "\r"])),
        "bom": draw(st.booleans()),
        "mode": draw(st.sampled_from([0o644, 0o600, 0o755])),
    }


def encode(case: dict) -> bytes:
    text = case["text"].replace("\n", case["newline"])
    return ("\ufeff" if case["bom"] else "").encode() + text.encode("utf-8")
