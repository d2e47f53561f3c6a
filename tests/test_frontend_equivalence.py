"""Speed changed nothing: the stdlib-ast front end finds what the libcst one found, and parsing
only the statements that matter finds what parsing the whole file finds.

Two oracles, on the fixtures, the real-world set (tests/realworld/, when present) and generated
scripts: ``reference_frontend`` (the libcst front end as it was before issue #12) and
``extract_sites(..., reduce=False)`` (the whole module parsed and analysed). Sites are compared
whole: every keyword value and element with its span, binding and use count, the model, loader,
task, quantization and statement rows. The diagnostics of the fixtures are pinned separately by
tests/test_fixtures.py.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import reference_frontend
from helpers import REPO
from hypothesis import HealthCheck, example, given, settings
from scriptgen import script

from lorlint.frontends.names import file_kind
from lorlint.frontends.notebook import load
from lorlint.frontends.python import PythonSyntaxError, extract_sites


def _python_texts() -> list[tuple[str, str]]:
    roots = [REPO / "fixtures", REPO / "tests" / "realworld"]
    out = []
    for root in roots:
        for path in sorted(root.rglob("*")):
            kind = file_kind(path.name)
            if kind not in ("python", "notebook") or path.name == "syntax_error.py":
                continue
            text = path.read_text(encoding="utf-8")
            if kind == "notebook":
                text = load(text).source
            out.append((str(path.relative_to(REPO)), text))
    return out


CORPUS = _python_texts()


def _reference(path: str, text: str):
    try:
        return reference_frontend.extract_sites(path, text)
    except Exception as err:  # the old parser's failures: compared by kind only
        return type(err).__name__


def _new(path: str, text: str, reduce: bool = True):
    try:
        return extract_sites(path, text, reduce=reduce)
    except PythonSyntaxError:
        return "ParserSyntaxError"


def _agree(reduced, whole) -> bool:
    """Equal, or the whole file has a syntax error in a statement no site can involve: the
    reduced front end never parses that statement, so the file's findings are still reported."""
    if whole == "ParserSyntaxError" and isinstance(reduced, list):
        return reduced == [] or all(site.span for site in reduced)
    return reduced == whole


LINK_FIELDS = ("model", "model_span", "model_origin", "loader", "task", "quantized")
LINK_FIELDS += ("quant_skip_modules", "applied_with")


def _lost(old, new, ambiguous: bool = False) -> list[str]:
    """What the libcst front end resolved that the new one does not: the same sites at the same
    spans, every keyword it knew equal (or, with ``ambiguous``, unknown: assigned differently in
    branches), every model link it made the same. Gains (a model followed through a function,
    a value through a parameter) are not losses."""
    if not isinstance(old, list):
        return []  # it could not parse the file
    if not isinstance(new, list):
        return [f"no sites: {new}"]
    lost = []
    by_span = {(s.span, s.callee): s for s in new}
    for site in old:
        mine = by_span.get((site.span, site.callee))
        if mine is None:
            lost.append(f"site {site.callee} at {site.span}")
            continue
        for key, value in site.keywords.items():
            now = mine.keywords.get(key)
            if value.known and not _same(value, now) and not (ambiguous and not now.known):
                lost.append(f"{site.span.row}: {key}={value.value!r} is now {now}")
        for name in LINK_FIELDS:
            before, after = getattr(site, name), getattr(mine, name)
            if (
                before not in (None, "")
                and before != after
                and not (ambiguous and after in (None, ""))
            ):
                lost.append(f"{site.span.row}: {name} {before!r} is now {after!r}")
    return lost


def _same(old, new) -> bool:
    """The same value at the same spans (a fix may now be refused where several assignments
    reach: being more careful is not a loss). A list split from a string (``T.split(",")``, never
    editable) now points at the string and each entry inside it, where the fix goes: a move on
    purpose, so only its value is compared."""
    if new is None or old.value != new.value:
        return False
    if old.elements is None and new.elements is not None and not new.editable:
        return True
    if old.span != new.span:
        return False
    if new.editable and not old.editable:
        return False
    known = {e.span for e in old.elements or []}
    # pieces of a split string inside a concatenation (``T + U``, T split): new, never editable
    mine = [e for e in new.elements or [] if e.editable or e.span in known]
    pairs = zip(old.elements or [], mine, strict=False)
    return len(old.elements or []) == len(mine) and all(_same(a, b) for a, b in pairs)


@pytest.mark.parametrize(("path", "text"), CORPUS, ids=[p for p, _ in CORPUS])
def test_everything_the_libcst_front_end_resolved_still_resolves(path, text):
    assert _lost(_reference(path, text), _new(path, text)) == []


@pytest.mark.parametrize(("path", "text"), CORPUS, ids=[p for p, _ in CORPUS])
def test_reduced_text_gives_the_sites_of_the_whole_file(path, text):
    assert _agree(_new(path, text), _new(path, text, reduce=False))


@pytest.mark.parametrize(("path", "text"), CORPUS, ids=[p for p, _ in CORPUS])
def test_small_modules_analysed_whole_give_the_reduced_sites(path, text):
    """By default a module that parses and ``handoff.analysed_whole`` takes is analysed
    whole, a notebook's with the tree its cells' check parsed: the sites of the reduction."""
    if path.endswith(".ipynb"):
        text = load((REPO / path).read_text(encoding="utf-8")).source  # its tree is offered
    assert _new(path, text, reduce=None) == _new(path, text)


@pytest.mark.parametrize(
    "text",
    [
        "from peft import LoraConfig\n\n"
        "def unrelated(x):\n    return x +\n\n"
        'cfg = LoraConfig(target_modules=["q_proj"])\n',
        # The first reduction keeps the returns of the function holding a config; when one does
        # not parse, the reduction starts again from the config's own statements.
        "from peft import LoraConfig\n\n"
        "def build(flag):\n"
        '    cfg = LoraConfig(target_modules=["q_proj"])\n'
        "    if flag:\n        return cfg +\n"
        "    return cfg\n",
    ],
    ids=["unrelated", "anticipated"],
)
def test_syntax_error_outside_the_configs_statements_is_not_read(text):
    assert _new("t.py", text, reduce=False) == "ParserSyntaxError"
    (site,) = _new("t.py", text)
    assert site.get("target_modules") == ["q_proj"]


def test_a_return_inside_a_one_line_branch_is_kept_with_the_others():
    text = (
        "from peft import LoraConfig, get_peft_model\n"
        "from transformers import AutoModelForCausalLM\n"
        'small = AutoModelForCausalLM.from_pretrained("gpt2")\n\n'
        "def load_model(tiny):\n"
        "    if tiny: return small\n"
        '    model = AutoModelForCausalLM.from_pretrained("meta-llama/Llama-3.1-8B")\n'
        "    return model\n\n"
        "model = get_peft_model(load_model(True), LoraConfig())\n"
    )
    (site,) = [s for s in _new("t.py", text) if s.kind == "peft-config"]
    assert site == next(s for s in _new("t.py", text, reduce=False) if s.kind == "peft-config")
    assert site.model is None  # two returns, two models


def _rounds(text: str) -> int:
    """How many reduced texts the analysis of ``text`` parsed."""
    from lorlint.frontends import python

    parsed = []

    def parse(source, *args, **kwargs):
        parsed.append(source)
        return real(source, *args, **kwargs)

    real = python.ast.parse
    python.ast.parse = parse
    try:
        extract_sites("t.py", text)
    finally:
        python.ast.parse = real
    return len(parsed)


def test_what_the_analysis_predictably_asks_for_is_kept_from_the_start():
    """One parse where the analysis follows a model through the function that loads it, a
    trainer's arguments, parameters and their defaults, an environment variable's default and a
    dataclass field read through an alias: the first reduction anticipated them."""
    text = (
        "import os\nfrom dataclasses import dataclass, field\n"
        "from peft import LoraConfig, get_peft_model\n"
        "from transformers import AutoModelForCausalLM, HfArgumentParser, Trainer, "
        "TrainingArguments\n\n"
        'BASE = os.environ.get("BASE", "meta-llama/Llama-3.1-8B")\n'
        "@dataclass\nclass Args:\n    out: str = field(default='out')\n\n"
        "def load_model(name=BASE):\n"
        "    model = AutoModelForCausalLM.from_pretrained(name)\n"
        "    return model\n\n"
        "def main(rank=8):\n"
        "    (args,) = HfArgumentParser((Args,)).parse_args_into_dataclasses()\n"
        "    folder = args.out\n"
        "    model = load_model()\n"
        '    model = get_peft_model(model, LoraConfig(r=rank, target_modules=["q_proj"]))\n'
        "    training_args = TrainingArguments(output_dir=folder, gradient_checkpointing=True)\n"
        "    trainer = Trainer(model, training_args)\n"
        "    model.merge_and_unload()\n"
        "    return trainer\n\n"
        "main()\n"
    )
    assert _rounds(text) == 1
    (site,) = [s for s in _new("t.py", text) if s.kind == "peft-config"]
    assert site == _new("t.py", text, reduce=False)[-1]
    assert site.model == "meta-llama/Llama-3.1-8B" and site.get("r") == 8
    assert [s.call for s in site.flow] == ["load", "get_peft_model", "trainer", "merge_and_unload"]


EXAMPLES = int(os.environ.get("LORLINT_FRONTEND_EXAMPLES", "60"))  # `make fuzz`: 2,000


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(script())
@example(  # a split string concatenated with a list: the split pieces are new elements
    'import peft\nT = ["q_proj","v_proj"]\nif __name__ == "__main__":\n'
    '    T, U = ["q_proj"], ["v_proj"]\ndef main():\n    T = "q_proj,v_proj".split(",")\n'
    "    cfg = peft.LoraConfig(target_modules=T + U, r=8)\n"
)
@example(  # a statement between get_peft_model and prepare: LL401's move reads it, reduced too
    "from peft import get_peft_model, prepare_model_for_kbit_training\n"
    'if __name__ == "__main__":\n    model = get_peft_model(model, cfg)\n'
    '    U = ("q_proj", "v_proj",)\n    model = prepare_model_for_kbit_training(model)\n'
)
def test_generated_scripts_agree_three_ways(text):
    reduced = _new("gen.py", text)
    assert reduced == _new("gen.py", text, reduce=False)
    branches = any(word in text for word in ("if ", "else:", "try:", "for ", "with "))
    assert _lost(_reference("gen.py", text), reduced, ambiguous=branches) == []


def test_the_corpus_is_not_empty():
    assert len(CORPUS) >= 14
    assert sum(len(s) for p, t in CORPUS if isinstance(s := _new(p, t), list)) >= 14


def test_a_big_file_is_reduced_to_what_matters(tmp_path):
    """16,000 unrelated functions around one config: the parsed text is a few statements."""
    from lorlint.frontends.pyscan import logical_lines
    from lorlint.frontends.reduce import Reducer

    body = "".join(f"def f{i}(x):\n    return [x, {i}]\n" for i in range(16_000))
    text = (
        "from peft import LoraConfig\nTARGETS = ['q_proj']\n"
        + body
        + "cfg = LoraConfig(target_modules=TARGETS)\n"
    )
    reducer = Reducer(logical_lines(text))
    reducer.grow()
    reduced = reducer.render().text
    assert reduced.count("\n") == text.count("\n")
    assert len(reduced.replace("\n", "")) < 100
    (site,) = extract_sites("big.py", text)
    assert site.get("target_modules") == ["q_proj"] and site.span.row == 32_003


def test_pep701_fstrings_in_a_kept_statement_are_unknown_not_an_error():
    text = (
        "from peft import LoraConfig\nd = {'k': 'q_proj'}\nT = ['v_proj']\n"
        'name = f"{d["k"]}"\n'
        'cfg = LoraConfig(target_modules=[name, "x" f"{d["k"]}"], r=8)\n'
        "LoraConfig(target_modules=T)\n"
    )
    first, second = extract_sites("t.py", text)
    assert first.get("r") == 8
    assert second.get("target_modules") == ["v_proj"]
    elements = first.keywords["target_modules"].elements
    if __import__("sys").version_info < (3, 12):
        assert [e.known for e in elements] == [False, False]
    else:
        assert [e.value for e in elements] == ["q_proj", "xq_proj"]


def test_names_read_inside_a_neutralized_fstring_still_count_as_uses():
    text = (
        "from peft import LoraConfig\nT = ['q_proj']\n"
        'print(f"{T["x"]}")\n'
        "LoraConfig(target_modules=T)\n"
    )
    (site,) = extract_sites("t.py", text)
    assert site.keywords["target_modules"].bound_uses >= 2


def test_corpus_files_exist():
    assert Path(REPO / "fixtures").is_dir()


def test_which_modules_are_analysed_whole():
    """Small modules, and big ones as dense in what the reduction starts from as training scripts
    are, are analysed whole; a big module of mostly other code (benchmarks/bench_scaling.py's
    files) is reduced."""
    from lorlint.frontends import handoff

    config = "from peft import LoraConfig\ncfg = LoraConfig()\n"
    unrelated = "def f(x):\n    return [x * 2, str(x)]\n" * 1_000  # 36,000 characters
    assert handoff.analysed_whole(config + unrelated[: handoff.WHOLE_BELOW - len(config)])
    assert not handoff.analysed_whole(config + unrelated)
    assert not handoff.analysed_whole("x = 1\n" * handoff.WHOLE_BELOW)
    dense = config + "model = AutoModel.from_pretrained(name)\n" * 800  # 1 per 41 characters
    assert len(dense) > handoff.WHOLE_BELOW and handoff.analysed_whole(dense)
    words = "m.parameters()\n" * 10  # ten words of handoff.FLOW_WORDS
    sparse = words + "x = 1\n" * ((10 * handoff.CHARS_PER_WORD - len(words)) // 6)
    assert len(sparse) == 10 * handoff.CHARS_PER_WORD and handoff.analysed_whole(sparse)
    assert not handoff.analysed_whole(sparse + "x = 1\n" * (handoff.CHARS_PER_WORD // 6))
