"""Lint one file: front end → sites → model view → rules → diagnostics, with suppressions applied."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from lorlint.checks import RULES, SEVERITIES, Context, Diagnostic, import_rules, load_all
from lorlint.models import bounded
from lorlint.models.match import TargetSpec, match
from lorlint.models.resolve import ModelNotFound
from lorlint.models.table import LayerTable
from lorlint.models.view import ModelView, load_view
from lorlint.site import SETUP_KINDS, UNKNOWN, Site, Span
from lorlint.sitecache import SiteCache
from lorlint.textpos import split_lines

SPEC_KEYWORDS = (
    "exclude_modules",
    "layers_to_transform",
    "layers_pattern",
    "modules_to_save",
    "target_parameters",
    "rank_pattern",
    "alpha_pattern",
    "task_type",
    "r",
    "lora_alpha",
    "feedforward_modules",
    "ensure_weight_tying",
)
RANK_KEYWORDS = ("r", "lora_alpha")
# Site kinds whose tool builds the PEFT config from the model: lorlint/models/<module>.py.
TOOL_SEMANTICS = {"unsloth": "unsloth", "llama-factory": "llama_factory", "axolotl": "axolotl",
                  "xtuner": "xtuner"}  # fmt: skip
# Config fields that decide matching: a method whose config lacks one rejects it (TypeError).
MATCHING_FIELDS = ("exclude_modules", "layers_to_transform", "layers_pattern", "modules_to_save",
                   "target_parameters", "rank_pattern", "alpha_pattern", "feedforward_modules")  # fmt: skip
NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[\w\-]+(?:[\s,]+[\w\-]+)*))?", re.IGNORECASE)
IGNORE = re.compile(r"#\s*lorlint:\s*ignore\[(?P<codes>[^\]]*)\]")
FILE_NOQA = re.compile(r"#\s*lorlint:\s*noqa\b")
MAX_SITES = 200  # configs checked per file: rules cost milliseconds per config


class Options:
    """What a run asks of every file beyond its text. (A plain class: ``@dataclass`` compiles its
    methods at every start, ~0.5 ms a class, and no code compares or prints options.)"""

    def __init__(
        self,
        model: str | None = None,  # --model / [tool.lorlint] model
        model_origin: str = "cli",
        online: bool = False,
        selected: set[str] | None = None,  # the rules' codes (default: every rule)
        cache_root: Path | None = None,  # where .lorlint_cache lives; None: no cache
    ):
        self.model, self.model_origin, self.online = model, model_origin, online
        self.selected: set[str] = set(load_all()) if selected is None else selected
        self.cache_root = cache_root


class ViewCache:
    """One model view per (reference, loader, task, directory): a script's sites share their model."""

    def __init__(self, online: bool):
        self.online = online
        self._views: dict[tuple, ModelView | ModelNotFound] = {}
        self._directories: dict[str, Path] = {}
        self._real: dict[str, str] = {}  # a path as written → its real path

    def directory_of(self, path: str) -> Path:
        """The resolved directory of a linted file (``Path(path).resolve().parent``), once per
        file (every site of it asks): where its model's relative references are looked up."""
        found = self._directories.get(path)
        if found is None:
            found = self._directories[path] = Path(self._real_path(path)).parent
        return found

    def _real_path(self, path: str) -> str:
        """``os.path.realpath(path)``, each directory on the way resolved once per view cache:
        ``realpath`` asks the system about every component of every file's path again (a file of
        a project's tree: ~40 µs), but a component that is no symbolic link, nor ``.`` or ``..``,
        only joins its parent's real path. (Unlike ``resolve``, a symbolic link loop is not
        reported here: a file under one cannot be read, so is never checked.)"""
        found = self._real.get(path)
        if found is None:
            head, name = os.path.split(path)
            if name in ("", ".", "..") or os.path.islink(path):
                found = os.path.realpath(path)
            else:
                found = os.path.join(self._real_path(head or "."), name)
            self._real[path] = found
        return found

    def get(
        self, reference: str, task: str | None, base_dir: Path, loader: str | None = None
    ) -> ModelView | ModelNotFound:
        """The view of ``reference`` as the script loads it: ``loader`` is the class it loads
        with (a concrete class fixes the architecture and task, an Auto class the task)."""
        key = (reference, loader, task, str(base_dir))
        if key not in self._views and reference.startswith("torchtune:"):
            from lorlint.models.torchtune import torchtune_view

            self._views[key] = torchtune_view(reference.removeprefix("torchtune:"))
        if key not in self._views:
            try:
                self._views[key] = load_view(reference, task, base_dir, self.online, loader)
            except ModelNotFound as err:
                self._views[key] = err
        return self._views[key]


# The front ends each kind of file needs (imported on first use: one script need not load YAML).
FRONT_ENDS = {
    "python": ("python", "mmengine", "shell"),
    "notebook": ("python", "mmengine", "shell", "notebook"),
    "yaml": ("configs",),
    "adapter": ("configs",),
    "shell": ("shell",),
}


def load_linters(kinds: set[str | None]) -> None:
    """Import what linting files of these kinds loads on first use, and read the catalog's index
    every model view reads: done once before worker processes are forked, they share it instead
    of each loading it again. Changes nothing else."""
    import importlib

    from lorlint.models import catalog

    for module in sorted({m for kind in kinds for m in FRONT_ENDS.get(kind, ())}):
        importlib.import_module(f"lorlint.frontends.{module}")
    for module in (*TOOL_SEMANTICS.values(), "torchtune"):
        importlib.import_module(f"lorlint.models.{module}")
    catalog.raw_index()


def spec_for(
    site: Site, table: LayerTable | None = None, rank_optional: bool = False
) -> TargetSpec | None:
    """The PEFT config as PEFT would see it; None when a value that decides matching is Unknown.

    ``rank_optional``: an unknown ``r`` / ``lora_alpha`` is left to PEFT's default instead, as
    they decide which modules are matched only through LoRA's conv ``groups`` limit (``check_site``
    then drops a result that reaches a grouped conv); rules that use the numbers ask
    ``Site.rank_known``. Unsloth builds its LoraConfig from the model itself
    (lorlint/models/unsloth.py): its sites need the layer table."""
    if site.has("**") or not _method_predicted(site):
        return None
    values = {k: site.get(k) for k in SPEC_KEYWORDS if site.has(k)}
    if rank_optional:
        values = {k: v for k, v in values.items() if not (k in RANK_KEYWORDS and v is UNKNOWN)}
    target = site.keywords.get("target_modules")
    targets = target.value if target is not None else None
    if targets is UNKNOWN or any(v is UNKNOWN for v in values.values()):
        return None
    if not _names_or_regex(targets) or not all(_valid(key, value) for key, value in values.items()):
        return None  # not a value PEFT accepts: no prediction (PEFT itself would raise)
    tool = TOOL_SEMANTICS.get(site.kind)
    if tool is not None:  # tools that decide the targets themselves, from the model
        import importlib

        resolve = importlib.import_module(f"lorlint.models.{tool}").resolve
        resolved = resolve(site, table, targets, values) if table is not None else None
        if resolved is None:
            return None
        targets, values = resolved
    task_type = values.pop("task_type", None)
    return TargetSpec(
        target_modules=list(targets) if isinstance(targets, (tuple, set)) else targets,
        task_type=str(task_type).rpartition(".")[2] if task_type else None,
        peft_type=site.peft_type,
        lora_dropout=_dropout(site),
        **{k: v for k, v in values.items() if v is not None},
    )


def _reaches_grouped_conv(table: LayerTable, result) -> bool:
    """Whether PEFT's rank check on grouped convs (``r % groups``) may decide this result: an
    adapted grouped conv, or an error where another rank could have raised on one first."""
    if result.error is not None:
        return any(m.groups > 1 for m in table.distinct_modules())
    return any((m := table.get(name)) is not None and m.groups > 1 for name in result.modules)


def _method_predicted(site: Site) -> bool:
    """Whether lorlint reproduces what this PEFT method adapts for this config.

    Methods other than LoRA each check a string ``target_modules`` with ``layers_*`` and a
    ``layers_pattern`` without ``layers_to_transform`` their own way at config time; those configs
    get no prediction, nor do fields a method's config does not have (PEFT raises TypeError)."""
    from lorlint.models import methods

    peft_type = site.peft_type
    if not methods.predicted(peft_type):
        return False
    if peft_type == "LORA":
        return True
    if any(site.has(k) and not methods.takes(peft_type, k) for k in MATCHING_FIELDS):
        return False
    layered = site.has("layers_to_transform") or site.has("layers_pattern")
    if isinstance(site.get("target_modules"), str) and layered:
        return False
    return not (site.has("layers_pattern") and not site.has("layers_to_transform"))


def _dropout(site: Site) -> float | None:
    """``lora_dropout`` as written (0.0, PEFT's and Unsloth's default, when absent); None when not
    known: it decides only whether PEFT raises on target parameters, not what is matched."""
    value = site.get("lora_dropout", 0.0)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


def _names_or_regex(value) -> bool:
    """None, a str, or a list/tuple/set of str: what PEFT takes for target/exclude modules."""
    if value is None or isinstance(value, str):
        return True
    return isinstance(value, (list, tuple, set)) and all(isinstance(v, str) for v in value)


def _valid(key: str, value) -> bool:
    if value is None:
        return True
    if key in ("exclude_modules", "layers_pattern", "feedforward_modules"):
        return _names_or_regex(value)
    if key in ("modules_to_save", "target_parameters"):
        return isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)
    if key == "layers_to_transform":
        items = value if isinstance(value, (list, tuple)) else [value]
        return all(isinstance(v, int) and not isinstance(v, bool) for v in items)
    if key in ("rank_pattern", "alpha_pattern"):
        return isinstance(value, dict) and all(isinstance(k, str) for k in value)
    if key in ("r", "lora_alpha"):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if key == "ensure_weight_tying":
        return isinstance(value, bool)
    return key != "task_type" or isinstance(value, str)


def _diag(code: str, message: str, path: str, span: Span, model: str | None = None) -> Diagnostic:
    rule = RULES[code]
    return Diagnostic(code, rule.name, rule.severity, message, path, span, model)


def lint_source(path: str, source: str, options: Options, views: ViewCache) -> list[Diagnostic]:
    import_rules()
    sites = _python_sites(path, source, options)
    if isinstance(sites, Diagnostic):
        return [sites]
    return _check_sites(sites, source, options, views)


def _check_sites(
    sites: list[Site], text: str, options: Options, views: ViewCache
) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    seen: set[tuple] = set()  # sites on one model see the same flow: a finding once
    for site in sites[:MAX_SITES]:
        for found in check_site(site, options, views):
            key = (found.code, found.span, found.message)
            if key not in seen:
                seen.add(key)
                out.append(found)
    if len(sites) > MAX_SITES:  # a bound on the work one file can cause
        rest = sites[MAX_SITES]
        message = (
            f"this file has {len(sites):,} PEFT configs and setup calls; lorlint checks the first "
            f"{MAX_SITES} of a file and stopped here ({len(sites) - MAX_SITES:,} not checked)"
        )
        out.append(_diag("LL900", message, rest.path, rest.span))
    bind_fixes(out, text)
    return suppress(out, text, sites)


def bind_fixes(diagnostics: list[Diagnostic], text: str) -> None:
    """Rules propose fixes; only those the text really supports are kept (see lorlint.fixes)."""
    from lorlint import fixes
    from lorlint.textpos import line_starts

    proposed = [d for d in diagnostics if d.fix is not None]
    starts = line_starts(text) if proposed else []
    for d in proposed:
        d.fix = fixes.bind(d.fix, text, starts)


def _python_sites(path: str, source: str, options: Options) -> list[Site] | Diagnostic:
    """Sites of a Python source, from the site cache when it has them."""
    cache = SiteCache(options.cache_root)
    sites = cache.load(source, path)
    if sites is None:
        sites = _parse(path, source)
        # the cache is keyed by this file's text: values read from a sibling module are not
        if not isinstance(sites, Diagnostic) and not any(site.depends_on for site in sites):
            cache.store(source, sites)
    return sites


def _config_sites(path: str, text: str, kind: str) -> list[Site] | Diagnostic:
    """Sites of a YAML tool config or an adapter_config.json, or the LL900 saying why not."""
    from lorlint.frontends import configs

    try:
        if kind == "yaml":
            return configs.yaml_sites(path, text)
        return configs.adapter_sites(path, text)
    except configs.ConfigError as err:
        return _diag("LL900", f"cannot parse: {err}", path, Span(1, 1, 1, 1))


def _override_model(site: Site, options: Options) -> None:
    """--model / [tool.lorlint] model beat the code, a ``# lorlint: model=`` comment beats both."""
    if site.model_origin != "comment" and options.model:
        site.model, site.model_origin = options.model, options.model_origin


def _parse(path: str, source: str) -> list[Site] | Diagnostic:
    """Sites of a Python source, or the LL900 that says why there are none."""
    from lorlint.frontends import mmengine
    from lorlint.frontends.python import PythonSyntaxError, TooComplex, extract_sites

    config = mmengine.mentions_config(source)  # then mmengine's front end takes the tree
    try:
        return (
            extract_sites(path, source, offer_tree=config)
            + (_mmengine_sites(path, source) if config else [])
            + _command_sites(path, source)
        )
    except PythonSyntaxError as err:
        span = Span(err.row, err.col, err.row, err.col + 1)
        detail = err.message if len(err.message) <= 100 else err.message[:97] + "..."
        return _diag("LL900", f"syntax error: {detail}", path, span)
    except TooComplex as err:
        return _diag("LL900", f"cannot parse: {err}", path, Span(1, 1, 1, 1))


def _mmengine_sites(path: str, source: str) -> list[Site]:
    """xtuner / mmengine configs' ``dict(type=LoraConfig, ...)`` (lorlint/frontends/mmengine.py),
    of a source that ``mmengine.mentions_config``."""
    from lorlint.frontends import mmengine
    from lorlint.frontends.python import MODEL_COMMENT

    try:
        found = mmengine.sites(path, source)
    except (SyntaxError, ValueError, RecursionError):  # what libcst accepts but ast does not
        return []
    comment = MODEL_COMMENT.search(source)
    for site in found if comment else ():
        site.model, site.model_origin, site.model_span = comment.group(1), "comment", None
    return found


def _command_sites(path: str, text: str) -> list[Site]:
    """TRL / LLaMA-Factory command lines (lorlint/frontends/shell.py): in a shell script, or in a
    Python file's usage docstring or comments."""
    from lorlint.frontends import shell

    return shell.sites(path, text) if shell.might_have_sites(text) else []


def lint_shell(path: str, text: str, options: Options, views: ViewCache) -> list[Diagnostic]:
    import_rules()
    return _check_sites(_command_sites(path, text), text, options, views)


def sites_of(path: Path, options: Options) -> list[Site]:
    """The sites of one file of any kind, model overrides applied (for ``lorlint verify``)."""
    from lorlint.frontends import notebook
    from lorlint.frontends.names import file_kind
    from lorlint.frontends.source import SourceError, decode_python, read_bytes

    kind = file_kind(path.name)
    try:
        data = read_bytes(path)
        source = decode_python(data) if kind == "python" else data.decode("utf-8")
        if kind in ("yaml", "adapter"):
            sites = _config_sites(str(path), source, kind)
        elif kind == "shell":
            sites = _command_sites(str(path), source)
        else:
            if kind == "notebook":
                source = notebook.load(source).source
            sites = _python_sites(str(path), source, options)
    except (SourceError, UnicodeDecodeError, ValueError):
        return []
    if isinstance(sites, Diagnostic):
        return []
    # verify runs PEFT configs, and adapters PeftModel.from_pretrained loads to train them
    sites = [s for s in sites if s.kind not in SETUP_KINDS or _trains_saved_adapter(s)]
    for site in sites:
        _override_model(site, options)
    return sites


def _trains_saved_adapter(site: Site) -> bool:
    """``PeftModel.from_pretrained(base, "path")`` whose model a trainer or an optimizer then
    trains (an adapter loaded for inference is not verify's question)."""
    from lorlint.checks.flow import TRAINED, after

    return "adapter_path" in site.facts and any(s.call in TRAINED for s in after(site, site.span))


def check_site(site: Site, options: Options, views: ViewCache) -> list[Diagnostic]:
    setup = site.kind in SETUP_KINDS
    if not setup:
        _override_model(site, options)
    ctx = Context(site)
    diagnostics: list[Diagnostic] = []
    if setup:
        pass  # setup rules read the calls themselves; no model, no LL901
    elif site.model:
        view = views.get(site.model, site.task, views.directory_of(site.path), site.loader)
        if isinstance(view, ModelNotFound):
            diagnostics.append(
                _diag("LL901", f"base model {site.model!r}: {view.reason or view}; rules that "
                      "need the model's layer names were skipped", site.path,
                      site.model_span or site.span)
            )  # fmt: skip
        elif view.table is None:
            diagnostics.append(
                _diag("LL901", f"{view.describe()}: no layer table ({view.note}); rules that need "
                      "the model's layer names were skipped", site.path, site.span)
            )  # fmt: skip
        else:
            ctx.view = view
            ctx.spec = spec_for(site, view.table, rank_optional=True)
            ctx.result = match(view.table, ctx.spec) if ctx.spec is not None else None
            unknown_rank = ctx.result is not None and not site.rank_known
            if unknown_rank and _reaches_grouped_conv(view.table, ctx.result):
                ctx.result = None  # the unknown rank decides whether PEFT raises
            ctx.result = view.certain(ctx.spec, ctx.result)
    else:
        diagnostics.append(
            _diag("LL901", "the base model of this config could not be determined: add "
                  "`# lorlint: model=ORG/NAME`, pass --model, or set model in [tool.lorlint]",
                  site.path, site.span)
        )  # fmt: skip
    model = ctx.view.reference if ctx.view else site.model
    found: list[Diagnostic] = []
    try:
        with bounded.deadline():  # a rule's regex never hangs the run (see models/bounded.py)
            _run_rules(ctx, options, model, found)
    except bounded.TooCostly as err:  # the rules still to run say nothing
        from lorlint.models.match import too_costly_message

        message = too_costly_message(err)
        if not any(d.code == "LL103" and "too costly to check" in d.message for d in found):
            span = _pattern_span(site, err.pattern)
            found.append(_diag("LL103", message, site.path, span, model))
    diagnostics.extend(found)
    return [d for d in diagnostics if d.code in options.selected]


def _run_rules(ctx: Context, options: Options, model: str | None, out: list) -> None:
    kind = "setup" if ctx.site.kind in SETUP_KINDS else "config"
    for code, check in _checks_for(frozenset(options.selected), kind, len(RULES)):
        for found in check(ctx):
            message, span = found[0], found[1]
            diagnostic = _diag(code, message, ctx.site.path, span or ctx.site.span, model)
            diagnostic.fix = found[2] if len(found) > 2 else None
            if len(found) > 3 and found[3] in SEVERITIES:  # a rule's milder finding (LL111)
                diagnostic.severity = found[3]
            out.append(diagnostic)


@lru_cache(maxsize=64)
def _checks_for(
    selected: frozenset[str], kind: str, registered: int
) -> tuple[tuple[str, Callable], ...]:
    """(code, check) of the selected rules that see this kind of site, in code order: the same
    for every site of a run, so chosen once (per count of ``registered`` rules: a rule module
    imported later is seen)."""
    return tuple(
        (code, rule.check)
        for code in sorted(selected)
        if (rule := RULES.get(code)) is not None
        and rule.check is not None
        and rule.sites in (kind, "both")
    )


def _pattern_span(site: Site, pattern: str | None) -> Span:
    """Where a too-costly pattern is written (the keyword value holding it), else the call."""
    for value in site.keywords.values():
        for part in [value, *(value.elements or [])]:
            if pattern and part.span and isinstance(part.value, str) and part.value in pattern:
                return part.span
    return site.span


def _codes(text: str | None) -> set[str] | None:
    """Codes or kebab names in a suppression comment; None means every code."""
    if not text:
        return None
    out: set[str] = set()
    for token in re.split(r"[\s,]+", text.strip()):
        for rule in RULES.values():
            if token.upper() == rule.code or token.lower() == rule.name:
                out.add(rule.code)
        if re.fullmatch(r"[A-Z]+\d+", token.upper()):
            out.add(token.upper())
    return out


def suppress(diagnostics: list[Diagnostic], source: str, sites: list[Site]) -> list[Diagnostic]:
    """``# noqa[: codes]`` on the reported row; ``# lorlint: ignore[codes]`` per statement."""
    if not diagnostics or FILE_NOQA.search(source):
        return []
    if not NOQA.search(source) and not IGNORE.search(source):
        return list(diagnostics)  # no comment anywhere suppresses (a line's match is the text's)
    lines = split_lines(source)
    statement_ignores: list[tuple[int, int, set[str] | None]] = []
    for site in sites:
        first, last = site.statement_rows
        for row in range(max(first - 1, 1), last + 1):
            m = IGNORE.search(lines[row - 1]) if row - 1 < len(lines) else None
            if m:
                statement_ignores.append((first, last, _codes(m.group("codes"))))
    kept = []
    for d in diagnostics:
        row = d.span.row
        line = lines[row - 1] if 0 < row <= len(lines) else ""
        m = NOQA.search(line)
        if m:
            codes = _codes(m.group("codes"))
            if codes is None or d.code in codes:
                continue
        if any(
            first <= row <= last and (codes is None or d.code in codes)
            for first, last, codes in statement_ignores
        ):
            continue
        kept.append(d)
    return kept


def lint_path(
    path: Path, options: Options, views: ViewCache, data: bytes | None = None
) -> list[Diagnostic]:
    """Read and lint one file of any kind; unreadable, binary or huge files give LL900."""
    return lint_file(path, options, views, data)[0]


def lint_file(
    path: Path, options: Options, views: ViewCache, data: bytes | None = None
) -> tuple[list[Diagnostic], str | None]:
    """``lint_path`` that also returns the text it linted (for showing findings): each file is
    read once, or not at all when discovery already read it (``data``)."""
    from lorlint.frontends.names import file_kind
    from lorlint.frontends.source import SourceError, decode_python, read_bytes

    import_rules()
    name = str(path)
    try:
        if data is None:
            data = read_bytes(path)
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 or UTF-32: the tools read UTF-8
            raise SourceError(
                "cannot decode: UTF-16/UTF-32 text (byte order mark); save it as UTF-8"
            )
        if b"\0" in data:
            raise SourceError("cannot parse: binary file")
        if file_kind(path.name) == "python":
            source = decode_python(data)
        else:
            try:
                source = data.decode("utf-8")
            except UnicodeDecodeError as err:
                raise SourceError(f"cannot decode as UTF-8: {err.reason}") from None
    except SourceError as err:
        return [_diag("LL900", str(err), name, Span(1, 1, 1, 1))], None
    return lint_text(name, source, options, views), source


def lint_text(path: str, text: str, options: Options, views: ViewCache) -> list[Diagnostic]:
    """Lint a file's text with the front end its name calls for (Python by default)."""
    from lorlint.frontends.names import file_kind

    kind = file_kind(Path(path).name)
    if kind == "notebook":
        return lint_notebook(path, text, options, views)
    if kind in ("yaml", "adapter"):
        return lint_config(path, text, kind, options, views)
    if kind == "shell":
        return lint_shell(path, text, options, views)
    return lint_source(path, text, options, views)


def lint_config(
    path: str, text: str, kind: str, options: Options, views: ViewCache
) -> list[Diagnostic]:
    """YAML tool configs and adapter_config.json: same sites, same rules."""
    sites = _config_sites(path, text, kind)
    if isinstance(sites, Diagnostic):
        return [sites]
    return _check_sites(sites, text, options, views)


def lint_notebook(
    path: str, text: str, options: Options, views: ViewCache, remap: bool = True
) -> list[Diagnostic]:
    """A notebook's code cells as one module; with ``remap``, rows become (cell, row in cell)."""
    from lorlint.frontends.notebook import NotebookError, load

    try:
        notebook = load(text)
    except NotebookError as err:
        return [_diag("LL900", f"cannot parse notebook: {err}", path, Span(1, 1, 1, 1))]
    found = _lint_cells(path, notebook, options, views)
    if not remap:
        return found
    for d in found:
        cell, row = notebook.locate(d.span.row)
        end_cell, end_row = notebook.locate(d.span.end_row)
        if end_cell != cell:
            end_row, end_col = row, d.span.col + 1
        else:
            end_col = d.span.end_col
        d.span = Span(row, d.span.col, end_row, end_col)
        d.cell = cell or None
        lines = notebook.cell_lines.get(cell, [])
        d.source_line = lines[row - 1] if 0 < row <= len(lines) else None
        if d.fix is not None:
            d.fix = _fix_in_cells(d.fix, notebook)
    return found + _broken_cells(path, notebook) + _cell_commands(path, notebook, options, views)


def _cell_commands(path: str, notebook, options: Options, views: ViewCache) -> list[Diagnostic]:
    """``!trl sft ...`` / ``!llamafactory-cli train ...`` lines of each cell, in cell rows."""
    from lorlint.frontends import shell

    out = []
    for cell, lines in notebook.cell_lines.items():
        text = "\n".join(_shell_lines(lines))  # the cell's Python was linted with the module
        if not shell.might_have_sites(text):
            continue
        sites = shell.sites(path, text)
        for d in _check_sites(sites, text, options, views):
            d.cell = cell
            d.source_line = lines[d.span.row - 1] if 0 < d.span.row <= len(lines) else None
            out.append(d)
    return out


def _lint_cells(path: str, notebook, options: Options, views: ViewCache) -> list[Diagnostic]:
    """Lint the cells as one module; a cell the Python front end cannot parse is left out (and
    reported by ``_broken_cells``) and the others linted again, so one odd cell drops only itself."""
    for _ in range(len(notebook.cell_lines) + 1):
        found = lint_source(path, notebook.source, options, views)
        failed = next((d for d in found if d.message.startswith("syntax error")), None)
        cell, row = notebook.locate(failed.span.row) if failed is not None else (0, 0)
        if not cell:
            return found
        notebook.leave_out(cell, row, failed.span.col, failed.message)
    return found


def _shell_lines(lines: list[str]) -> list[str]:
    """A cell's ``!`` lines and their continuations; every other row blank."""
    out, continued = [], False
    for line in lines:
        keep = continued or line.lstrip().startswith("!")
        out.append(line if keep else "")
        continued = keep and line.rstrip().endswith("\\")
    return out


def _broken_cells(path: str, notebook) -> list[Diagnostic]:
    """One LL900 per cell that was left out, at its own row and column."""
    out = []
    for cell, (row, col, why) in sorted(notebook.broken.items()):
        why = why.removeprefix("syntax error: ")
        d = _diag("LL900", f"syntax error: {why} (this cell is skipped; the others are linted)",
                  path, Span(row, col, row, col + 1))  # fmt: skip
        d.cell = cell
        lines = notebook.cell_lines.get(cell, [])
        d.source_line = lines[row - 1] if 0 < row <= len(lines) else None
        out.append(d)
    return out


def _fix_in_cells(fix, notebook):
    """Express a fix's edits in cell rows (for JSON and the editor); single-cell edits only."""
    spans = [fix.plan.span] if fix.plan is not None else [e.span for e in fix.edits]
    cells = {notebook.locate(row)[0] for s in spans for row in (s.row, s.end_row)}
    if len(cells) != 1:
        return None
    first = spans[0].row
    return fix.shifted(notebook.locate(first)[1] - first)
