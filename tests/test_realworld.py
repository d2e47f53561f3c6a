"""The real-world regression set: public fine-tuning files with findings judged by PEFT itself.

Each case directory under tests/realworld/cases/ holds one file and its case.toml (source,
commit, license, the sites a reader sees and the findings a correct lorlint reports). Every case
is linted as `lorlint check <case dir> --no-cache` would, offline, and must report exactly the
expected findings of the registered rules: nothing missing, nothing extra. Discrepancies that are
still open (lorlint is wrong; an issue owns the fix) are listed in tests/realworld/KNOWN.toml and
make their case an expected failure — strict, so a fix that removes them fails until the entry is
deleted. Expected codes of rules not registered yet are pending: reported, not compared.
"""

from __future__ import annotations

import re
import sys
import warnings
from collections import Counter
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "realworld"))

from harness import ROOT, compare, lint_case, load_cases, load_known, sources_markdown

from lorlint.checks import load_all

CASES = load_cases()
KNOWN = load_known()
REQUIRED_KEYS = ("file", "source", "path", "commit", "license", "license_file", "tool", "notes")
PERMISSIVE = {
    "MIT",
    "MIT-0",
    "Apache-2.0",
    "BSD-2-Clause",
    "BSD-3-Clause",
    "ISC",
    "Unlicense",
    "CC0-1.0",
}
PERMISSIVE |= {"CC-BY-4.0"}


class KnownDiscrepancy(Exception):
    """Only discrepancies listed in KNOWN.toml remain: the case is an expected failure."""


def _params():
    for case in CASES:
        marks = []
        if case.id in KNOWN:
            reasons = sorted(f"{k} {c} at {w}" for k, c, w in KNOWN[case.id].elements())
            marks.append(
                pytest.mark.xfail(strict=True, raises=KnownDiscrepancy, reason="; ".join(reasons))
            )
        yield pytest.param(case, id=case.id, marks=marks)


@pytest.mark.parametrize("case", list(_params()))
def test_case(case):
    found = lint_case(case)
    result = compare(case, found, set(load_all()))
    seen = result.discrepancies()
    known = KNOWN.get(case.id, Counter())
    new = sorted((seen - known).elements())
    stale = sorted((known - seen).elements())
    messages = {(f.code, f.where): f.message for f in result.extra}
    detail = [f"{k} {c} at {w}: {messages.get((c, w), '')}".rstrip(": ") for k, c, w in new]
    assert not new, f"{case.id}: findings differ from the label:\n  " + "\n  ".join(detail)
    assert not stale or not seen, f"{case.id}: KNOWN.toml lists fixed discrepancies: {stale}"
    if seen:
        raise KnownDiscrepancy(sorted(seen.elements()))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case_metadata(case):
    """Every case says where it comes from, under which license, and what a reader sees."""
    meta = case.meta
    assert re.fullmatch(r"[a-z0-9._-]+--[a-z0-9._-]+--[a-z0-9._-]+", case.id), case.id
    missing = [k for k in REQUIRED_KEYS if not meta.get(k)]
    assert not missing, f"case.toml lacks {missing}"
    assert case.file.is_file(), f"{meta['file']} is not in the case directory"
    assert meta["license"] in PERMISSIVE, meta["license"]
    assert len(meta["commit"]) == 40 and int(meta["commit"], 16) >= 0
    assert meta["source"].startswith("https://github.com/")
    for site in case.sites:
        assert {"line", "model", "verdict"} <= set(site), site
    for finding in meta.get("finding", []):
        assert ("line" in finding) != ("lines" in finding), finding
        assert finding.get("why"), finding


def test_known_entries_name_cases():
    """A KNOWN.toml entry for a case that does not exist is a typo that hides nothing."""
    ids = {c.id for c in CASES}
    assert set(KNOWN) <= ids, sorted(set(KNOWN) - ids)


def test_pending_codes_reported():
    """Expected findings of rules that are not registered yet: listed, so nobody forgets them."""
    registered = set(load_all())
    pending = sorted({f"{e.code}" for c in CASES for e in c.expected if e.code not in registered})
    if pending:
        warnings.warn(f"real-world set: expected codes not registered yet: {pending}", stacklevel=1)


def test_sources_current():
    """SOURCES.md is generated from the cases: regenerate it when a case is added."""
    current = (ROOT / "SOURCES.md").read_text(encoding="utf-8")
    assert current == sources_markdown(CASES), (
        "run: python scripts/realworld_score.py --write-sources"
    )
