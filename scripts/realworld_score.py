"""Score lorlint on the real-world set: precision, recall and model resolution, with disagreements.

    python scripts/realworld_score.py                  # or: make realworld
    python scripts/realworld_score.py --write-sources  # regenerate tests/realworld/SOURCES.md

Precision is the share of reported findings that a case expects; recall the share of expected
findings that are reported — for LL1xx/LL2xx together (the issue's bar), per family and for all
codes. Only registered rules count; expected codes of rules not built yet are listed as pending.
Resolution is the share of sites whose model a reader can name that got no LL901 of their own
(an LL901 no label expects).
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "realworld"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from harness import (  # noqa: E402
    ROOT,
    compare,
    family,
    lint_case,
    load_cases,
    load_known,
    sources_markdown,
)

from lorlint.checks import load_all  # noqa: E402


def ratio(part: int, whole: int) -> str:
    return f"{100 * part / whole:5.1f} % ({part}/{whole})" if whole else "    n/a (0/0)"


def main(argv: list[str]) -> int:
    cases = load_cases()
    if "--write-sources" in argv:
        (ROOT / "SOURCES.md").write_text(sources_markdown(cases), encoding="utf-8")
        print(f"wrote {ROOT / 'SOURCES.md'}")
        return 0
    registered = set(load_all())
    known = load_known()
    reported, expected, hits = Counter(), Counter(), Counter()  # hits: matched pairs, same code
    nameable = unresolved = 0
    pending: Counter = Counter()
    disagreements = []
    for case in cases:
        result = compare(case, lint_case(case), registered)
        for _, f in result.matched:
            hits[f.code] += 1
            reported[f.code] += 1
            expected[f.code] += 1
        for e in result.missing:
            expected[e.code] += 1
            disagreements.append((case.id, "missing", e.code, e.where, e.why))
        for f in result.extra:
            reported[f.code] += 1
            disagreements.append((case.id, "extra", f.code, f.where, f.message))
        for e in result.pending:
            pending[e.code] += 1
        nameable += case.nameable_sites
        unresolved += min(case.nameable_sites, sum(f.code == "LL901" for f in result.extra))

    def line(label: str, keep) -> str:
        def total(counts: Counter) -> int:
            return sum(v for c, v in counts.items() if keep(c))

        p, r = ratio(total(hits), total(reported)), ratio(total(hits), total(expected))
        return f"  {label:14s} precision {p:22s} recall {r}"

    sites = sum(len(c.sites) for c in cases)
    files = len(cases)
    repos = len({c.meta.get("source") for c in cases})
    print(f"real-world set: {files} files, {repos} repositories, {sites} sites")
    print(line("LL1xx+LL2xx", lambda c: family(c) in ("LL1", "LL2")))
    for fam in ("LL1", "LL2", "LL3", "LL4", "LL6", "LL9"):
        print(line(f"{fam}xx", lambda c, fam=fam: family(c) == fam))
    print(line("all codes", lambda c: True))
    print(
        f"  resolution     {ratio(nameable - unresolved, nameable)} of the sites whose model a reader can name"
    )
    if pending:
        listed = ", ".join(f"{c} ×{n}" for c, n in sorted(pending.items()))
        print(
            f"  pending        {sum(pending.values())} expected findings of rules not registered yet: {listed}"
        )
    if disagreements:
        print(f"\ndisagreements ({len(disagreements)}; * = listed in tests/realworld/KNOWN.toml):")
        for case_id, kind, code, where, text in sorted(disagreements):
            mark = "*" if (kind, code, where) in known.get(case_id, {}) else " "
            print(f" {mark} {case_id}:{where} {kind} {code}  {text[:150]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
