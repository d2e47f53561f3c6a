"""Every rule has a page with ruff's sections, and the page's examples behave as it says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lorlint.checks import load_all
from lorlint.engine import Options, ViewCache, lint_source

RULES = load_all()
PAGES = Path(__file__).resolve().parents[1] / "rules"
SECTIONS = (
    "## What it does",
    "## Why is this bad?",
    "## Example",
    "## Use instead",
    "## Fix safety",
)


def _page(code: str) -> str:
    rule = RULES[code]
    return (PAGES / f"{code}-{rule.name}.md").read_text(encoding="utf-8")


def _block(page: str, heading: str) -> str:
    section = page.split(heading, 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, f"no python example under {heading}"
    return match.group(1)


# Rules that are silent with the installed libraries (transformers 5 fixed what LL403 reports):
# their examples are linted as where no version is installed, as the page describes.
NOT_INSTALLED = {"LL403": "transformers"}


@pytest.fixture(autouse=True)
def _versions_for_the_page(request, monkeypatch):
    from lorlint import versions

    code = getattr(request.node, "callspec", None) and request.node.callspec.params.get("code")
    package = NOT_INSTALLED.get(code)
    if package is not None:
        real = versions.installed
        monkeypatch.setattr(versions, "installed", lambda n: None if n == package else real(n))


def _codes(source: str, code: str) -> set[str]:
    found = lint_source("example.py", source, Options(), ViewCache(online=False))
    codes = {d.code for d in found}
    return codes if code == "LL901" else codes - {"LL901"}


def test_every_page_belongs_to_a_rule():
    names = {f"{c}-{r.name}.md" for c, r in RULES.items()}
    assert {p.name for p in PAGES.glob("LL*.md")} == names


@pytest.mark.parametrize("code", sorted(RULES))
def test_page_has_rule_sections(code):
    page = _page(code)
    assert page.startswith(f"# {code} {RULES[code].name}\n")
    assert f"**Severity:** {RULES[code].severity}" in page
    for heading in SECTIONS:
        assert heading in page, heading


def _retired(code: str) -> bool:
    return "**Status:** retired" in _page(code)


@pytest.mark.parametrize("code", sorted(RULES))
def test_bad_example_raises_exactly_this_rule(code):
    """A retired rule's page shows what it no longer reports: nothing at all."""
    found = _codes(_block(_page(code), "## Example"), code)
    assert found == (set() if _retired(code) else {code})


@pytest.mark.parametrize("code", sorted(RULES))
def test_good_example_is_clean(code):
    found = _codes(_block(_page(code), "## Use instead"), code)
    assert code not in found if _retired(code) else found == set()


def test_a_retired_rule_reports_nothing():
    assert all(RULES[code].check is None for code in RULES if _retired(code))


def test_ll209_on_moe_gives_the_experts_and_its_advice_adapts_them():
    from lorlint.engine import spec_for
    from lorlint.frontends.python import extract_sites
    from lorlint.models.match import match
    from lorlint.models.view import load_view

    source = (
        "from peft import LoraConfig\n# lorlint: model=mistralai/Mixtral-8x7B-v0.1\n"
        'LoraConfig(target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM")\n'
    )
    found = lint_source("t.py", source, Options(), ViewCache(online=False))
    assert [x.code for x in found] == ["LL201", "LL209"]
    message = found[1].message
    assert 'target_parameters=["mlp.experts.gate_up_proj", "mlp.experts.down_proj"]' in message
    assert 'rank_pattern={".*\\\\.gate_up_proj": 16}' in message
    assert '"w1", "w3", "w2"' in message  # the names PEFT converts on Mixtral
    advised = source.replace(
        '"v_proj"]',
        '"v_proj"], target_parameters=["mlp.experts.gate_up_proj", "mlp.experts.down_proj"], '
        'rank_pattern={r".*\\.gate_up_proj": 16}, alpha_pattern={r".*\\.gate_up_proj": 16}',
    )
    (site,) = extract_sites("t.py", advised)
    result = match(load_view("mistralai/Mixtral-8x7B-v0.1").table, spec_for(site))
    assert result.ok and len(result.parameters) == 2 * 32  # gate_up_proj and down_proj per layer
    assert lint_source("t.py", advised, Options(), ViewCache(online=False)) == []


@pytest.mark.parametrize("code", sorted(RULES))
def test_header_is_generated_from_the_registry(code):
    """`python scripts/gen_rule_headers.py` writes it; a page that differs is stale."""
    from lorlint.report.pages import header

    assert header(RULES[code]) in _page(code).split("\n")[:4]


@pytest.mark.parametrize("code", sorted(RULES))
def test_fix_safety_text_agrees_with_the_registry(code):
    from lorlint.report.pages import section

    text = section(_page(code), "Fix safety")
    fixes = RULES[code].fixes
    assert text.startswith(("No automatic fix", "No fix")) == (not fixes), text
    for applicability in fixes:
        assert re.search(rf"\b{applicability}\b", text, re.IGNORECASE), applicability


def _all_fixes():
    """Every fix lorlint yields on the fixtures and on every page's examples, by rule."""
    from lorlint.engine import lint_path

    found: dict[str, set[str]] = {}
    views = ViewCache(online=False)
    options = Options(cache_root=None)
    diagnostics = []
    for path in sorted((PAGES.parent / "fixtures").rglob("*")):
        if path.is_file() and not path.name.endswith(".expected"):
            diagnostics += lint_path(path, options, views)
    for code in RULES:
        for heading in ("## Example", "## Use instead"):
            diagnostics += lint_source("example.py", _block(_page(code), heading), options, views)
    for d in diagnostics:
        if d.fix is not None:
            found.setdefault(d.code, set()).add(d.fix.applicability)
    return found


def test_declared_fixes_are_the_fixes_rules_yield():
    """A rule yields only fixes of the applicabilities it declares, and each is seen somewhere."""
    seen = _all_fixes()
    for code, rule in RULES.items():
        assert seen.get(code, set()) <= set(rule.fixes), (code, seen.get(code))
    assert {c: set(r.fixes) for c, r in RULES.items() if r.fixes} == {
        c: seen.get(c, set()) for c, r in RULES.items() if r.fixes
    }


def test_header_generator_check_mode_passes():
    import subprocess
    import sys

    script = PAGES.parent / "scripts" / "gen_rule_headers.py"
    proc = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
