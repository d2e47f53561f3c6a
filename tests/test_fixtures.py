"""Realistic training scripts in fixtures/, each with its expected diagnostics beside it.

``NAME.expected`` holds ``lorlint check --output-format concise`` lines for ``NAME.py``. After a
deliberate message change, regenerate with ``LORLINT_UPDATE_FIXTURES=1 pytest tests/test_fixtures.py``
and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lorlint.engine import Options, ViewCache, lint_path
from lorlint.report.formats import concise

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SCRIPTS = sorted(FIXTURES.glob("*.py"))


def test_fixtures_exist():
    assert len(SCRIPTS) >= 12


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_fixture_diagnostics(script, monkeypatch):
    monkeypatch.chdir(FIXTURES)
    found = lint_path(Path(script.name), Options(), ViewCache(online=False))
    found.sort(key=lambda d: (d.span.row, d.span.col, d.code))
    got = concise(found).strip()
    expected_file = script.with_suffix(".expected")
    if os.environ.get("LORLINT_UPDATE_FIXTURES"):
        expected_file.write_text(got + "\n" if got else "")
    assert got == expected_file.read_text().strip()
