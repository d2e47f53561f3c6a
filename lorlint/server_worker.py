"""The language server's worker process: linting and hover content, away from the editor's loop.

``lorlint server`` answers the client from its own process and sends every lint and hover here
(``python -m lorlint.server_worker``, started at first use): a file that makes the parser crash
or hang takes down or stalls only this process, which the server replaces. Everything heavy
(libcst, the rules, model tables) is imported here, so the server itself starts in a fraction of
a second. Requests and results are length-prefixed pickles on the worker's stdin and stdout.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

_views = None  # one ViewCache for the life of the worker: model tables stay warm


@dataclass
class LintJob:
    path: str  # the document's file path (settings, per-file-ignores and relative model paths)
    text: str  # for notebooks: the notebook JSON built from the cells
    overrides: dict  # the editor's settings, as [tool.lorlint] keys


@dataclass
class LintResult:
    diagnostics: list  # lorlint.checks.Diagnostic
    messages: list[str]  # settings problems and warnings, for window/showMessage


def main() -> None:
    """Serve requests until the server closes the pipe."""
    import pickle
    import sys

    requests = sys.stdin.buffer
    results = os.fdopen(os.dup(1), "wb")  # the channel; fd 1 becomes stderr, so nothing that
    os.dup2(2, 1)  # prints (here or in a C library) can corrupt it
    sys.stdout = sys.stderr
    handlers = {"lint": lint, "hover": hover, "warm": warm}
    while True:
        header = requests.read(8)
        if len(header) < 8:
            return
        name, args = pickle.loads(requests.read(int.from_bytes(header, "big")))
        try:
            result = (True, handlers[name](*args))
        except Exception as err:  # reported to the server as this request's failure
            result = (False, f"{type(err).__name__}: {err}"[:500])
        payload = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
        results.write(len(payload).to_bytes(8, "big") + payload)
        results.flush()


def warm() -> bool:
    """Import what linting needs, before the first document arrives."""
    from lorlint import engine  # noqa: F401
    from lorlint.checks import load_all

    load_all()
    return True


def _options(path: str, overrides: dict):
    """Options for a document: project settings (as `lorlint check` finds them), then the
    editor's; messages for the settings that could not be used."""
    from lorlint import config
    from lorlint.commands.check import per_file_ignores, selection
    from lorlint.engine import Options

    start = Path(path).parent
    start = start if start.is_dir() else Path.cwd()
    messages: list[str] = []
    try:
        settings = config.load(start, overrides=[overrides] if overrides else None)
    except config.ConfigError as err:
        messages.append(f"lorlint: {err}; the editor's settings are ignored")
        try:
            settings = config.load(start)
        except config.ConfigError as err2:
            messages.append(f"lorlint: {err2}; using the defaults")
            settings = config.Settings()
    messages.extend(f"lorlint: {w}" for w in settings.warnings)
    empty = type("Args", (), {"select": None, "ignore": None, "extend_select": None})
    try:
        selected = selection(empty, settings)
    except ValueError as err:
        messages.append(f"lorlint: {err}; every rule is on")
        from lorlint.checks import load_all

        selected = set(load_all())
    options = Options(
        model=settings.model,
        model_origin="config",
        online=settings.online,
        selected=selected,
    )
    return options, per_file_ignores(Path(path), settings), messages


def _view_cache(online: bool):
    global _views
    from lorlint.engine import ViewCache

    if _views is None or _views.online != online:
        _views = ViewCache(online)
    return _views


def lint(job: LintJob) -> LintResult:
    from lorlint.engine import lint_text

    options, ignored, messages = _options(job.path, job.overrides)
    found = lint_text(job.path, job.text, options, _view_cache(options.online))
    return LintResult([d for d in found if d.code not in ignored], messages)


# --- hover --------------------------------------------------------------------------------------
def hover(job: LintJob, row: int, col: int) -> str | None:
    """Markdown for the thing at (row, col), 1-based: a target entry (the finding's rule and the
    modules it matches) or a model id (architecture, source, block table)."""
    from lorlint import engine
    from lorlint.frontends.names import file_kind
    from lorlint.models.resolve import ModelNotFound

    kind = file_kind(Path(job.path).name) or "python"
    if kind == "notebook":
        return None
    options, ignored, _ = _options(job.path, job.overrides)
    if kind in ("yaml", "adapter"):
        sites = engine._config_sites(job.path, job.text, kind)
    else:
        sites = engine._python_sites(job.path, job.text, options)
    if not isinstance(sites, list):
        return None
    views = _view_cache(options.online)
    for site in sites:
        engine._override_model(site, options)
        view = None
        if site.model:
            view = views.get(site.model, site.task, Path(site.path).resolve().parent, site.loader)
            if isinstance(view, ModelNotFound) or view.table is None:
                view = None
        if site.model_span and _inside(site.model_span, row, col):
            return _model_hover(site.model, view, views)
        target = site.keywords.get("target_modules")
        if target is None or target.span is None or not _inside(target.span, row, col):
            continue
        found = [
            d
            for d in engine.check_site(site, options, views)
            if d.code not in ignored and _inside(d.span, row, col)
        ]
        element = next(
            (e for e in target.elements or [] if e.span and _inside(e.span, row, col)), None
        )
        regex = element is None and target.elements is None and isinstance(target.value, str)
        return _target_hover(element or target, view, found, regex)
    return None


def _inside(span, row: int, col: int) -> bool:
    return (span.row, span.col) <= (row, col) < (span.end_row, span.end_col) or (
        (row, col) == (span.end_row, span.end_col) and span.end_col > 1
    )


def _target_hover(value, view, found, regex: bool) -> str:
    from lorlint.checks import RULES
    from lorlint.models.match import modules_matching_entry
    from lorlint.report.pages import page, section

    parts = []
    for d in found:
        rule = RULES[d.code]
        what = " ".join(section(page(d.code, rule.name), "What it does").split())
        parts.append(
            f"**{d.code} {rule.name}** ({d.severity}): {d.message}\n\n{what}\n\n{rule.url}"
        )
    if view is not None and isinstance(value.value, str):
        entry = value.value
        if not regex:
            modules = modules_matching_entry(view.table, entry)
        elif entry.lower() == "all-linear":
            modules = []  # PEFT's keyword, not a name: `lorlint models` shows what it takes
        else:
            modules = [m for m in view.table.modules if m.name and _fullmatch(entry, m.name)]
        if modules or not regex:
            parts.append(_modules_text(entry, modules, view))
    return "\n\n---\n\n".join(parts) if parts else ""


def _fullmatch(pattern: str, name: str) -> bool:
    import re

    try:
        return re.fullmatch(pattern, name) is not None
    except re.error:
        return False


def _modules_text(entry: str, modules, view) -> str:
    """``q_proj`` → 32 modules: ``self_attn.q_proj`` Linear 4096→4096 × 32."""
    from lorlint.commands.models import _shape
    from lorlint.models.summary import split_block

    if not modules:
        return f"`{entry}` matches no module of {view.describe()}"
    groups: dict[tuple, int] = {}
    for m in modules:
        block = split_block(m.name)
        local = block[2] if block else m.name
        key = (local, m.cls, _shape(m.shape, m.kind))
        groups[key] = groups.get(key, 0) + 1
    count = len(modules)
    lines = [f"`{entry}` → {count} module{'s' * (count != 1)} of {view.describe()}", ""]
    for (local, cls, shape), n in sorted(groups.items(), key=lambda kv: -kv[1])[:12]:
        lines.append(f"- `{local}` {cls} {shape} × {n}")
    if len(groups) > 12:
        lines.append(f"- … {len(groups) - 12} more")
    return "\n".join(lines)


def _model_hover(reference: str, view, views) -> str:
    from lorlint.commands.models import as_text

    if view is None:
        return f"`{reference}`: the base model could not be resolved (see `lorlint models {reference}`)"
    return f"```text\n{as_text(view, None, None, 16)}\n```"


if __name__ == "__main__":
    # run the importable module, not this __main__ copy: results pickle as lorlint.server_worker
    from lorlint.server_worker import main as serve

    serve()
