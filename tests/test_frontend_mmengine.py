"""xtuner / mmengine configs: ``lora=dict(type=LoraConfig, ...)`` with the model in the LLM dict."""

from __future__ import annotations

import textwrap

from lorlint.engine import Options, ViewCache, lint_text
from lorlint.frontends.mmengine import mentions_config, sites

CONFIG = textwrap.dedent("""
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig
    from xtuner.model import SupervisedFinetune

    pretrained_model_name_or_path = "meta-llama/Llama-3.1-8B"
    targets = ["q_proj", "v_proj", "dwn_proj"]

    model = dict(
        type=SupervisedFinetune,
        llm=dict(
            type=AutoModelForCausalLM.from_pretrained,
            pretrained_model_name_or_path=pretrained_model_name_or_path,
            quantization_config=dict(type=BitsAndBytesConfig, load_in_4bit=True),
        ),
        lora=dict(type=LoraConfig, r=64, lora_alpha=16, target_modules=targets),
    )
""")


def test_a_lora_dict_is_a_site_with_the_config_s_model():
    assert mentions_config(CONFIG)
    (site,) = sites("cfg.py", CONFIG)
    assert site.callee == "peft.LoraConfig" and site.kind == "xtuner"
    assert site.model == "meta-llama/Llama-3.1-8B" and site.quantized == "4bit"
    value = site.keywords["target_modules"]
    assert value.value == ["q_proj", "v_proj", "dwn_proj"] and value.bound_to == "targets"
    assert (value.elements[2].span.row, value.elements[2].span.col) == (7, 32)


def test_findings_point_into_the_config():
    found = lint_text("cfg.py", CONFIG, Options(), ViewCache(online=False))
    assert sorted(d.code for d in found) == ["LL101", "LL201"]


def test_omitted_targets_are_xtuner_s_all_linear_names():
    """xtuner fills target_modules with every nn.Linear leaf but lm_head: not attention-only."""
    source = CONFIG.replace(", target_modules=targets", "")
    assert lint_text("cfg.py", source, Options(), ViewCache(online=False)) == []


def test_a_dict_of_another_type_is_not_a_site():
    assert sites("cfg.py", "from peft import LoraConfig\nx = dict(type=list, r=8)\n") == []


def test_calls_in_ast_walks_order():
    """One walk lists the calls in the order ``ast.walk`` gives them (the first model key and
    the last quantization flag found are read in that order)."""
    import ast

    from helpers import REPO

    from lorlint.frontends.mmengine import _calls

    for path in sorted((REPO / "tests" / "realworld").rglob("*.py"))[:30]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        assert _calls(tree) == [n for n in ast.walk(tree) if isinstance(n, ast.Call)], path


def test_the_python_front_end_s_tree_is_parsed_once(monkeypatch):
    """The Python front end analyses the config whole and hands its tree to mmengine's, which
    then reads the same sites as from a parse of its own."""
    import ast

    from lorlint.engine import _parse

    expected = sites("cfg.py", CONFIG)
    parsed = []
    real_parse = ast.parse
    monkeypatch.setattr(ast, "parse", lambda text, *a, **k: parsed.append(1) or real_parse(text))
    found = [s for s in _parse("cfg.py", CONFIG) if s.kind == "xtuner"]
    assert len(parsed) == 1
    assert [(s.callee, s.span, s.keywords) for s in found] == [
        (s.callee, s.span, s.keywords) for s in expected
    ]
