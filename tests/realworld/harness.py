"""The real-world set's bookkeeping: read cases, lint them as `lorlint check` does, compare.

Shared by tests/test_realworld.py (one pytest case per case directory) and
scripts/realworld_score.py (precision, recall, resolution). A finding is a ``(code, row, cell)``;
an expected finding gives ``line`` (that row) or ``lines = [first, last]`` (any row in between, for
findings about a whole site), and ``cell`` for notebooks (1-based, every cell counted, as lorlint
reports it; without ``cell`` any cell's row matches).
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent
CASES = ROOT / "cases"
KNOWN = ROOT / "KNOWN.toml"


@dataclass(frozen=True)
class Expected:
    code: str
    first: int
    last: int
    cell: int | None = None
    why: str = ""

    def matches(self, found: Found) -> bool:
        if found.code != self.code or not self.first <= found.row <= self.last:
            return False
        return self.cell is None or self.cell == found.cell

    @property
    def where(self) -> str:
        rows = str(self.first) if self.first == self.last else f"{self.first}-{self.last}"
        return f"cell {self.cell}:{rows}" if self.cell else rows


@dataclass(frozen=True)
class Found:
    code: str
    row: int
    cell: int | None = None
    message: str = ""

    @property
    def where(self) -> str:
        return f"cell {self.cell}:{self.row}" if self.cell else str(self.row)


@dataclass
class Case:
    id: str
    directory: Path
    meta: dict
    sites: list[dict]
    expected: list[Expected]

    @property
    def file(self) -> Path:
        return self.directory / self.meta["file"]

    @property
    def nameable_sites(self) -> int:
        """Sites whose base model a careful reader can name from the file alone."""
        return sum(1 for s in self.sites if s.get("model"))


@dataclass
class Comparison:
    """Expected against reported, for the codes that are registered rules."""

    matched: list[tuple[Expected, Found]] = field(default_factory=list)
    missing: list[Expected] = field(default_factory=list)
    extra: list[Found] = field(default_factory=list)
    pending: list[Expected] = field(default_factory=list)  # codes not registered yet

    def discrepancies(self) -> Counter:
        """``(kind, code, where)`` → how many findings differ from the label there."""
        out = Counter(("missing", e.code, e.where) for e in self.missing)
        return out + Counter(("extra", f.code, f.where) for f in self.extra)


def load_case(directory: Path) -> Case:
    meta = tomllib.loads((directory / "case.toml").read_text(encoding="utf-8"))
    expected = []
    for f in meta.get("finding", []):
        first, last = f["lines"] if "lines" in f else (f["line"], f["line"])
        expected.append(Expected(f["code"], first, last, f.get("cell"), f.get("why", "")))
    return Case(directory.name, directory, meta, meta.get("site", []), expected)


def load_cases() -> list[Case]:
    return [load_case(d) for d in sorted(CASES.iterdir()) if (d / "case.toml").is_file()]


def load_known() -> dict[str, Counter]:
    """KNOWN.toml: the still-open discrepancies, by case id, as ``(kind, code, where)`` counts."""
    if not KNOWN.is_file():
        return {}
    known: dict[str, Counter] = {}
    for entry in tomllib.loads(KNOWN.read_text(encoding="utf-8")).get("known", []):
        where = str(entry["line"])
        if entry.get("cell"):
            where = f"cell {entry['cell']}:{where}"
        key = (entry["kind"], entry["code"], where)
        known.setdefault(entry["case"], Counter())[key] += entry.get("count", 1)
    return known


def lint_case(case: Case) -> list[Found]:
    """What `lorlint check <case dir> --no-cache` reports, offline, with every rule selected."""
    from lorlint.commands.check import discover
    from lorlint.engine import Options, ViewCache, lint_path

    files, _ = discover([str(case.directory)], [])
    views = ViewCache(online=False)
    found = []
    for path in files:
        for d in lint_path(path, Options(cache_root=None), views):
            found.append(Found(d.code, d.span.row, d.cell, d.message))
    return found


def compare(case: Case, found: list[Found], registered: set[str]) -> Comparison:
    """One-to-one: exact rows are paired first, then row ranges, so neither steals the other's."""
    result = Comparison()
    left = list(found)
    wanted = []
    for e in case.expected:
        (wanted if e.code in registered else result.pending).append(e)
    for e in sorted(wanted, key=lambda e: e.last - e.first):
        hit = next((f for f in left if e.matches(f)), None)
        if hit is None:
            result.missing.append(e)
        else:
            left.remove(hit)
            result.matched.append((e, hit))
    result.extra = left
    return result


def family(code: str) -> str:
    """``LL101`` → ``LL1``: the rule families the score is broken down by."""
    return code[:3]


def sources_markdown(cases: list[Case]) -> str:
    """SOURCES.md: every case's repository, path, commit and license (generated, tested)."""
    repos = sorted({c.meta["source"] for c in cases})
    lines = [
        "# Sources of the real-world set",
        "",
        "Generated by `python scripts/realworld_score.py --write-sources` from the cases'",
        "case.toml; tests/test_realworld.py checks it is current.",
        "",
        f"{len(cases)} files from {len(repos)} repositories.",
        "",
        "| case | file | commit | license | tool | model |",
        "|---|---|---|---|---|---|",
    ]
    for c in cases:
        m = c.meta
        url = f"{m['source']}/blob/{m['commit']}/{m['path']}"
        models = ", ".join(sorted({s["model"].split(" (")[0] for s in c.sites if s.get("model")}))
        lines.append(
            f"| {c.id} | [{m['path']}]({url}) | {m['commit'][:10]} | {m['license']} "
            f"({m['license_file']}) | {m['tool']} | {models or '-'} |"
        )
    return "\n".join(lines) + "\n"
