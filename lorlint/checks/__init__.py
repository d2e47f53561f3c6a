"""Rules: pure functions from a site and its model view to diagnostics. No I/O, no parsing.

Each rule lives in ``lorlint/checks/llXXX_name.py``, its page in ``rules/LLXXX-name.md`` and its
examples are tested from that page (tests/test_rule_pages.py).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

from lorlint.fixes import Fix
from lorlint.models.match import MatchResult, TargetSpec
from lorlint.models.view import ModelView
from lorlint.site import Record, Site, Span

SEVERITIES = ("info", "warning", "error")


class Diagnostic(Record):
    """One finding. ``cell``: in a notebook, the 1-based cell (``span``'s rows are then within
    it); ``source_line``: the reported line, where it is not the file's own line.

    Findings compare by value (``Record``; unhashable: the engine places them in notebooks'
    cells). This module's classes are plain, not ``@dataclass`` (which
    compiles each class's methods at every start, ~0.5 ms a class before the first file is
    linted); nothing compares or prints a ``Context`` or a ``Rule``."""

    __slots__ = ("cell", "code", "fix", "message", "model", "name", "path", "severity",
                 "source_line", "span")  # fmt: skip
    FIELDS = ("code", "name", "severity", "message", "path", "span", "model", "fix", "cell",
              "source_line")  # fmt: skip

    def __init__(
        self,
        code: str,
        name: str,
        severity: str,
        message: str,
        path: str,
        span: Span,
        model: str | None = None,
        fix: Fix | None = None,
        cell: int | None = None,
        source_line: str | None = None,
    ):
        self.code, self.name, self.severity, self.message = code, name, severity, message
        self.path, self.span, self.model, self.fix = path, span, model, fix
        self.cell, self.source_line = cell, source_line


class Context:
    """What a rule sees: the site, the model view (or None) and PEFT's match of the whole spec."""

    __slots__ = ("result", "shared", "site", "spec", "view")

    def __init__(
        self,
        site: Site,
        view: ModelView | None = None,
        spec: TargetSpec | None = None,
        result: MatchResult | None = None,
    ):
        self.site, self.view, self.spec, self.result = site, view, spec, result
        # What helpers several rules share compute once per site (e.g. coverage.parts); read-only.
        self.shared: dict = {}

    @property
    def table(self):
        return self.view.table if self.view is not None else None

    @property
    def adapted(self) -> MatchResult | None:
        """PEFT's match of the whole config when PEFT accepts it (None: unknown, or PEFT raises).

        A result exists only with a layer table, so rules reading it may use ``ctx.table``."""
        return self.result if self.result is not None and self.result.ok else None

    @property
    def once_dropout_is_zero(self) -> MatchResult | None:
        """``adapted``, or where PEFT raises only because ``lora_dropout`` is set while parameters
        are adapted (LL110), the match of the same targets with ``lora_dropout=0``: what the
        config adapts once LL110's fix is applied. None otherwise."""
        if self.adapted is not None or self.result is None or self.spec is None:
            return self.adapted
        if self.result.error is None or self.result.error.kind != "param-dropout":
            return None
        if "once_dropout_is_zero" not in self.shared:
            from lorlint.models.match import match

            fixed = match(self.table, self.spec.replaced(lora_dropout=0.0))
            self.shared["once_dropout_is_zero"] = fixed if fixed.ok else None
        return self.shared["once_dropout_is_zero"]

    def model_label(self) -> str:
        return self.view.describe() if self.view is not None else "the model"

    def version(self, package: str):
        """The version of ``package`` in force for this site's file (lorlint.versions.InForce),
        or None when neither the environment nor the project's pins say."""
        from lorlint.versions import in_force

        return in_force(package, self.site.path)


class Rule:
    """A registered rule (see ``rule``): its code, name, severity, one-line summary and check.

    ``fixes``: the applicabilities of the fixes it may attach ("safe", "unsafe"); () for none
    (rule pages' headers are generated from it: scripts/gen_rule_headers.py). ``retired``: kept
    registered so selectors and noqa comments keep working. ``sites``: those it sees: "config"
    (PEFT configs), "setup" (lorlint.site.SETUP_KINDS) or "both"."""

    __slots__ = ("check", "code", "fixes", "name", "retired", "severity", "sites", "summary")

    def __init__(
        self,
        code: str,
        name: str,
        severity: str,
        summary: str,
        check: Callable[[Context], Iterator[tuple[str, Span]]] | None = None,
        fixes: tuple[str, ...] = (),
        retired: bool = False,
        sites: str = "config",
    ):
        self.code, self.name, self.severity, self.summary = code, name, severity, summary
        self.check, self.fixes, self.retired, self.sites = check, fixes, retired, sites

    @property
    def url(self) -> str:
        return f"https://github.com/lorlint/lorlint/blob/main/rules/{self.code}-{self.name}.md"


RULES: dict[str, Rule] = {}


def rule(
    code: str,
    name: str,
    severity: str,
    summary: str,
    fixes: tuple[str, ...] = (),
    retired: bool = False,
    sites: str = "config",
):
    """Register a rule; the decorated generator yields (message, span), (message, span, fix) or
    (message, span, fix, severity) for a finding milder than the rule's own severity.

    ``fixes`` names the applicabilities of the fixes it may yield (``("safe",)``,
    ``("safe", "unsafe")``); tests/test_rule_pages.py holds every fix it yields to it. ``sites``
    says which sites it sees: PEFT configs ("config"), the setup calls around them
    (``lorlint.site.SETUP_KINDS``: "setup") or both; a setup site has no model view."""
    unknown = set(fixes) - {"safe", "unsafe"}
    if unknown:
        raise ValueError(f"{code}: unknown fix applicability {sorted(unknown)}")
    if sites not in ("config", "setup", "both"):
        raise ValueError(f"{code}: unknown sites {sites!r}")

    def register(fn):
        RULES[code] = Rule(code, name, severity, summary, fn, tuple(fixes), retired, sites)
        return fn

    return register


def by_name_or_code(token: str) -> list[Rule]:
    """``LL101``, ``unknown-target-module``, or a prefix like ``LL1`` / ``LL``."""
    token = token.strip()
    upper = token.upper()
    return [
        r
        for r in RULES.values()
        if r.code.startswith(upper) or r.name == token.lower() or upper == "ALL"
    ]


_imported = False


def import_rules() -> None:
    """Import every rule module (registration happens on import); the package is listed once
    per process (linting calls this for every file)."""
    global _imported
    if not _imported:
        import importlib

        for name in _rule_modules():
            importlib.import_module(f"lorlint.checks.{name}")
        _imported = True


def _rule_modules() -> list[str]:
    """The rule modules' names (``llXXX_name``), in ``pkgutil.iter_modules``'s order: a listing
    of the package's folder (importing ``pkgutil`` and its walk cost 0.8 ms of every run); an
    installation the folder cannot be listed in (a zip) is walked by ``pkgutil``."""
    import lorlint.checks as package

    names = []
    for folder in package.__path__:
        try:
            files = sorted(os.listdir(folder))
        except OSError:
            import pkgutil

            files = [f"{info.name}.py" for info in pkgutil.iter_modules([folder])]
        names += [f[:-3] for f in files if f.startswith("ll") and f.endswith(".py")]
    return list(dict.fromkeys(names))


def load_all() -> dict[str, Rule]:
    """Every rule, by code (its modules imported first)."""
    import_rules()
    return dict(sorted(RULES.items()))
