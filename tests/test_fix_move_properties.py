"""Property test: LL401's fix (move ``prepare_model_for_kbit_training`` above ``get_peft_model``)
is offered exactly where the move is safe, and changes nothing but that move, in any layout.

Scripts are generated with the truth attached: which statement is the prepare, and whether
moving it is safe (lorlint/frontends/moves.py lists the conditions; the generator decides them
from the shapes it wrote, not from lorlint). Python's ``ast`` is the oracle: after ``--fix`` the
module's statements are the original ones with the prepare statement moved before the wrapping
one, every line of the file is one of the original lines (line endings, BOM, mode kept), LL401 is
gone, and a second run is a no-op. Where the move is not safe the file is left as it was.
"""

from __future__ import annotations

import ast
import os
import tempfile
from pathlib import Path
from types import SimpleNamespace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lorlint.commands import check
from lorlint.engine import Options, ViewCache, lint_source
from lorlint.fixes import apply

EXAMPLES = int(os.environ.get("LORLINT_FUZZ_EXAMPLES", "300")) // 3
OPTIONS = Options(selected={"LL401"})
ARGS = SimpleNamespace(fix=True, diff=False, unsafe_fixes=False)

HEAD = (
    "from peft import LoraConfig, PeftModel, get_peft_model, prepare_model_for_kbit_training\n"
    "from transformers import AutoModelForCausalLM\n"
    "cfg = LoraConfig(target_modules=['q_proj'])  # lorlint: model=facebook/opt-125m\n"
)
LOAD = "{x} = AutoModelForCausalLM.from_pretrained('facebook/opt-125m', load_in_4bit=True)\n"
WRAPS = {
    "get_peft_model({x}, cfg)": True,
    "PeftModel.from_pretrained({x}, 'out', is_trainable=True)": True,
    "get_peft_model(model=\n    {x}, peft_config=cfg)": True,
}
# statements between the two: (text, the move stays safe)
BETWEEN = [
    ("{x}.print_trainable_parameters()", True),
    ("# a comment é", True),
    ("", True),
    ("print('wrapped')", False),
    ("{x}.config.use_cache = False", False),
    ("other = {x}", False),
    ("if True:\n{i}    {x}.print_trainable_parameters()", False),
]
# the prepare statement: (text, safe)
PREPARES = [
    ("{x} = prepare_model_for_kbit_training({x})", True),
    ("prepare_model_for_kbit_training({x})", True),
    ("{x} = prepare_model_for_kbit_training({x}, use_gradient_checkpointing=True)  # é", True),
    ("{x} = prepare_model_for_kbit_training(\n{i}    {x},  # the model\n{i}    True,\n{i})", True),
    ("{x} = prepare_model_for_kbit_training({x}); y = 1", False),
    ("other = prepare_model_for_kbit_training({x})", False),
    ("{x} = prepare_model_for_kbit_training({x}, {x}.is_loaded_in_4bit)", False),
    ("{x} = prepare_model_for_kbit_training({x}, use_gradient_checkpointing=flag)", False),
]


@st.composite
def scripts(draw):
    x = draw(st.sampled_from(["model", "m", "modèle"]))
    indent = draw(st.sampled_from(["", "    ", "\t"]))
    wrap = draw(st.sampled_from(sorted(WRAPS)))
    between = draw(st.lists(st.sampled_from(BETWEEN), max_size=3))
    prepare, safe = draw(st.sampled_from(PREPARES))
    safe = safe and all(ok for _, ok in between)

    def line(text: str) -> str:
        text = text.format(x=x, i=indent)
        return "".join(f"{indent}{row}\n" if row else "\n" for row in text.split("\n"))

    body = line(LOAD.rstrip("\n")) + line(f"{x} = {wrap}")
    body += "".join(line(text) for text, _ in between)
    body += line(prepare)
    text = HEAD + (f"def main():\n{body}" if indent else body)
    if draw(st.booleans()):
        text = text[:-1]  # no final line break
    return {
        "text": text,
        "safe": safe,
        "newline": draw(st.sampled_from(["\n", "\r\n", "\r"])),
        "bom": draw(st.booleans()),
    }


def statements(text: str) -> list[str]:
    tree = ast.parse(text)
    body = tree.body[-1].body if isinstance(tree.body[-1], ast.FunctionDef) else tree.body
    return [ast.dump(s) for s in body]


def wrapping_index(text: str) -> int:
    """The index of ``X = get_peft_model(...)`` / ``X = PeftModel.from_pretrained(...)``."""
    tree = ast.parse(text)
    body = tree.body[-1].body if isinstance(tree.body[-1], ast.FunctionDef) else tree.body
    for i, statement in enumerate(body):
        func = getattr(getattr(statement, "value", None), "func", None)
        if isinstance(func, ast.Name) and func.id == "get_peft_model":
            return i
        if isinstance(func, ast.Attribute) and ast.unparse(func) == "PeftModel.from_pretrained":
            return i
    raise AssertionError("no wrapping statement")


def rows(text: str) -> list[str]:
    return [row for row in text.replace("\r\n", "\n").replace("\r", "\n").split("\n") if row]


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(scripts())
def test_ll401_move_is_offered_where_safe_and_moves_only_that(case):
    text = case["text"].replace("\n", case["newline"])
    data = ("\ufeff" if case["bom"] else "").encode() + text.encode("utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "train.py"
        path.write_bytes(data)
        outcome = check._fix_or_refuse(path, OPTIONS, set(), ARGS)
        assert not outcome.error, outcome.error
        if not case["safe"]:
            assert outcome.fixed == 0
            assert [d.code for d in outcome.remaining] == ["LL401"]
            return
        assert outcome.fixed == 1
        assert outcome.remaining == []
        check.write_atomically(path, outcome.text)
        result = path.read_bytes()
        assert result.startswith(b"\xef\xbb\xbf") == case["bom"]
        new = result.decode("utf-8").removeprefix("\ufeff")
        assert case["newline"] not in ("\r", "\n") or "\r\n" not in new
        # the statements, one moved; every line an original line
        before, after = statements(text), statements(new)
        wrap_at = wrapping_index(text)
        assert after == [*before[:wrap_at], before[-1], *before[wrap_at:-1]]
        assert sorted(rows(new)) == sorted(rows(text))
        again = check._fix_or_refuse(path, OPTIONS, set(), ARGS)
        assert again.fixed == 0 and again.remaining == []


def test_move_refuses_a_statement_the_reduction_did_not_show():
    """The reduction blanks ``x = 1`` (no model in it); the move must not jump over it."""
    source = (
        HEAD
        + LOAD.format(x="model")
        + "model = get_peft_model(model, cfg)\n"
        + "x = 1\n"
        + "model = prepare_model_for_kbit_training(model)\n"
    )
    found = lint_source("train.py", source, OPTIONS, ViewCache(online=False))
    assert [d.code for d in found] == ["LL401"]
    assert found[0].fix is None
    assert apply(source, [])[0] == source
