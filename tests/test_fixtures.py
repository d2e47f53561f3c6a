"""Realistic training scripts in fixtures/, each with its expected diagnostics beside it.

``NAME.expected`` holds ``lorlint check --output-format concise`` lines for ``NAME.py`` (and for
the notebooks, YAML configs and adapter configs beside them). After a
deliberate message change, regenerate with ``LORLINT_UPDATE_FIXTURES=1 pytest tests/test_fixtures.py``
and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lorlint.engine import Options, ViewCache, lint_path
from lorlint.frontends.names import file_kind
from lorlint.report.formats import concise

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SCRIPTS = sorted(p for p in FIXTURES.rglob("*") if p.is_file() and file_kind(p.name))


def test_fixtures_exist():
    kinds = [file_kind(p.name) for p in SCRIPTS]
    assert kinds.count("python") >= 12
    assert {"notebook", "yaml", "adapter"} <= set(kinds)


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_fixture_diagnostics(script, monkeypatch):
    monkeypatch.chdir(FIXTURES)
    relative = script.relative_to(FIXTURES)
    found = lint_path(relative, Options(), ViewCache(online=False))
    found.sort(key=lambda d: (d.span.row, d.span.col, d.code))
    got = concise(found).strip()
    expected_file = script.with_suffix(".expected")
    if os.environ.get("LORLINT_UPDATE_FIXTURES"):
        expected_file.write_text(got + "\n" if got else "")
    assert got == expected_file.read_text().strip()
