"""``lorlint check [PATHS...]``: lint training code. Exit 0 clean, 1 findings, 2 usage/error."""

from __future__ import annotations

import contextlib
import fnmatch
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

from lorlint import config as config_mod
from lorlint.cachedir import cache_dir as table_cache_dir
from lorlint.checks import RULES, SEVERITIES, Diagnostic, by_name_or_code, load_all
from lorlint.engine import Options, ViewCache, lint_file, lint_source, lint_text, load_linters
from lorlint.fixes import choose as choose_fixes
from lorlint.fixes import splice as splice_fixes
from lorlint.frontends.names import file_kind, worth_reading
from lorlint.frontends.source import SourceError, read_bytes
from lorlint.models.table import tables_out_of_collections
from lorlint.report import formats
from lorlint.report.progress import Progress
from lorlint.site import Span
from lorlint.sitecache import CACHE_DIRNAME

SKIP_DIRS = {".git", ".hg", ".svn", ".venv", "venv", "node_modules", "__pycache__", ".tox",
             ".mypy_cache", ".ruff_cache", ".pytest_cache", "build", "dist", "site-packages"}  # fmt: skip
PARALLEL_MIN_FILES = 16


class UsageError(ValueError):
    pass


OUTPUT_FORMATS = ("full", "concise", "json", "github", "sarif", "gitlab", "junit")


def add_parser(sub) -> None:
    p = sub.add_parser(
        "check",
        help="lint PEFT configs in Python files, notebooks, tool configs and adapters",
        description="Lint PEFT configs in Python files, notebooks, axolotl / LLaMA-Factory / "
        "torchtune / oumi YAML and adapter_config.json. Exit 0: nothing at or above "
        "--fail-level; 1: findings; 2: usage, configuration or path error.",
    )
    p.add_argument(
        "paths", nargs="*", help="files or directories (default .); - reads standard input"
    )
    rules = p.add_argument_group("rule selection")
    rules.add_argument("--select", action="append", metavar="CODES",
                       help="codes, prefixes (LL1) or names to enable; comma-separated, repeatable")  # fmt: skip
    rules.add_argument("--ignore", action="append", metavar="CODES",
                       help="codes or names to disable; comma-separated, repeatable")  # fmt: skip
    rules.add_argument("--extend-select", action="append", metavar="CODES",
                       help="codes to add to the selection; comma-separated, repeatable")  # fmt: skip
    rules.add_argument("--fail-level", choices=SEVERITIES,
                       help="lowest severity that fails (default warning)")  # fmt: skip
    rules.add_argument("--exit-zero", action="store_true", help="exit 0 even with findings")
    rules.add_argument("--exit-non-zero-on-fix", action="store_true",
                       help="exit 1 when --fix changed a file, even if nothing remains")  # fmt: skip
    models = p.add_argument_group("models")
    models.add_argument("--model", help="base model for every config (overrides the code)")
    models.add_argument("--online", action="store_true", help="allow downloading config.json")
    fixing = p.add_argument_group("fixes")
    fixing.add_argument("--fix", action="store_true", help="apply safe fixes to the files")
    fixing.add_argument("--unsafe-fixes", action="store_true", help="also apply unsafe fixes")
    fixing.add_argument(
        "--diff", action="store_true", help="print the fixes as a diff; write nothing"
    )
    fixing.add_argument("--show-fixes", action="store_true",
                        help="list what --fix fixed; without --fix, each finding's fix")  # fmt: skip
    out = p.add_argument_group("output")
    out.add_argument("--output-format", "--format", dest="output_format", choices=OUTPUT_FORMATS,
                     default="full", help="default full (--format is the same option)")  # fmt: skip
    out.add_argument("-o", "--output-file", metavar="PATH",
                     help="write the report to PATH instead of standard output")  # fmt: skip
    out.add_argument("--statistics", action="store_true", help="print counts per rule")
    out.add_argument("-q", "--quiet", action="store_true", help="print diagnostics only")
    out.add_argument("-s", "--silent", action="store_true",
                     help="print nothing but fatal errors (the exit code still says)")  # fmt: skip
    out.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                     help="colour the full output (auto: on a terminal, NO_COLOR / FORCE_COLOR)")  # fmt: skip
    out.add_argument("--show-settings", action="store_true",
                     help="print the settings for the first path and exit")  # fmt: skip
    out.add_argument("--show-files", action="store_true",
                     help="print the files that would be linted and exit")  # fmt: skip
    conf = p.add_argument_group("configuration")
    conf.add_argument("--config", action="append", metavar="PATH | KEY=VALUE",
                      help="a settings file to use instead of the project's, or a TOML pair "
                      "overriding one setting (\"select = ['LL1']\"); repeatable")  # fmt: skip
    conf.add_argument("--isolated", action="store_true", help="ignore every configuration file")
    conf.add_argument("--stdin-filename", metavar="PATH",
                      help="the name of the file read from standard input (`check -`)")  # fmt: skip
    conf.add_argument("--force-exclude", action="store_true",
                      help="apply `exclude` to files named on the command line too (for pre-commit)")  # fmt: skip
    run_ = p.add_argument_group("running")
    run_.add_argument("-w", "--watch", action="store_true", help="re-lint when files change")
    run_.add_argument(
        "--no-cache", action="store_true", help="do not read or write caches of sites"
    )
    run_.add_argument("--cache-dir", metavar="DIR",
                      help="keep caches (sites, layer tables) in DIR; LORLINT_CACHE_DIR moves the "
                      "table cache alone")  # fmt: skip
    run_.add_argument(
        "--jobs", type=int, help="processes that lint (default: one per core, for 16 files or more)"
    )
    p.set_defaults(func=run)


def _codes(tokens, origin: str = "") -> set[str]:
    out: set[str] = set()
    for token in tokens:
        token = token.strip()
        if not token:
            continue
        matched = by_name_or_code(token)
        if not matched:
            where = f" in {origin}" if origin else ""
            raise UsageError(f"unknown rule selector {token!r}{where} (see `lorlint rule --all`)")
        out.update(r.code for r in matched)
    return out


def _split(values: list[str] | str | None) -> list[str]:
    """Repeated and comma-separated options: ``--select A,B --select C`` → A, B, C."""
    if isinstance(values, str):
        values = [values]
    return [t for text in values or [] for t in text.split(",") if t.strip()]


def selection(args, settings) -> set[str]:
    rules = load_all()
    where = config_mod.display(settings.path) if settings.path else "settings"
    if _split(args.select):
        chosen = _codes(_split(args.select), "--select")
    else:
        chosen = _codes(settings.select, f"{where} select") if settings.select else set(rules)
    chosen |= _codes(settings.extend_select, f"{where} extend-select")
    chosen |= _codes(_split(args.extend_select), "--extend-select")
    chosen -= _codes(settings.ignore, f"{where} ignore") | _codes(_split(args.ignore), "--ignore")
    return chosen


# A linted tree's own git configuration must run nothing: ``core.fsmonitor`` names a command git
# runs on ``ls-files``; the command line beats every config file. No hooks, no optional locks.
SAFE_GIT = ("git", "-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null",
            "-c", "core.untrackedCache=false")  # fmt: skip


def start_listing(paths: list[str]) -> dict[str, object]:
    """``git ls-files`` started for each directory among ``paths`` (to run while the rules load;
    ``discover`` reads the lists). None for a directory outside any work tree: git could only
    fail there, and not starting it saves a process."""
    started: dict[str, object] = {}
    for raw in paths:
        key = str(Path(raw))
        if key in started or not os.path.isdir(key):
            continue
        started[key] = None
        if not _may_be_in_work_tree(key):
            continue
        import subprocess

        with contextlib.suppress(OSError, subprocess.SubprocessError):
            started[key] = subprocess.Popen(
                [*SAFE_GIT, "ls-files", "-co", "--exclude-standard", "-z", "--", "."],
                cwd=key,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env={**os.environ, "GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0"},
            )
    return started


def _may_be_in_work_tree(directory: str) -> bool:
    """Whether git may find a work tree holding ``directory``: a ``.git`` entry (a directory, or
    the file of a linked work tree or submodule) in it or an ancestor, as git looks, or an
    environment that points git elsewhere (GIT_DIR, GIT_WORK_TREE)."""
    if "GIT_DIR" in os.environ or "GIT_WORK_TREE" in os.environ:
        return True
    here = os.path.realpath(directory)
    while True:
        if os.path.lexists(os.path.join(here, ".git")):
            return True
        parent = os.path.dirname(here)
        if parent == here:
            return False
        here = parent


def _git_files(directory: Path, started: dict[str, object] | None = None) -> list[Path] | None:
    """The files git lists in ``directory`` (not ignored) that some front end reads by name, or
    None outside a work tree or when git fails; from the listing ``start_listing`` started, if it
    did."""
    key = str(directory)
    if started is None or key not in started:
        started = start_listing([key])
    proc = started.pop(key)
    if proc is None:
        return None
    import subprocess

    try:
        out, _ = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return None
    if proc.returncode != 0:
        return None
    names = out.decode().split("\0")
    return [directory / p for p in names if p and file_kind(p.rpartition("/")[2]) is not None]


class Preread(dict):
    """The bytes discovery read to pre-filter files, by path, so the linter does not read them
    again; at most ``BUDGET`` bytes in all (files past it are read again when linted)."""

    BUDGET = 64 * 1024 * 1024
    size = 0

    def keep(self, path: Path, data: bytes) -> None:
        if self.size + len(data) <= self.BUDGET:
            self[path] = data
            self.size += len(data)


def might_have_sites(path: Path, preread: Preread | None = None) -> bool:
    """A file some front end reads, past its cheap text pre-filter (unreadable ones pass: they
    are reported as LL900). With ``preread``, the bytes of files that pass are kept there."""
    kind = file_kind(path.name)
    if kind is None:
        return False
    try:
        data = read_bytes(path)
    except SourceError:
        return True
    if not worth_reading(kind, data):
        return False
    if preread is not None:
        preread.keep(path, data)
    return True


def _excluded(path: Path, exclude: list[str]) -> bool:
    return any(
        fnmatch.fnmatch(str(path), pat) or fnmatch.fnmatch(path.name, pat) for pat in exclude
    )


def discover(
    paths: list[str],
    exclude: list[str],
    force_exclude: bool = False,
    preread: Preread | None = None,
    listing: dict[str, object] | None = None,
) -> tuple[list[Path], list[str]]:
    """Files to lint: explicit files and directory contents (git-ignored ones skipped), minus
    those the pre-filter rules out (their bytes kept in ``preread``, if given). ``listing``: what
    ``start_listing(paths)`` started."""
    files, missing = [], []
    for raw in paths:
        path = Path(raw)
        if path.is_file() or (path.exists() and not path.is_dir()):  # a FIFO is read as LL900
            if not (force_exclude and _excluded(path, exclude)) and might_have_sites(path, preread):
                files.append(path)
            continue
        if not path.is_dir():
            missing.append(raw)
            continue
        listed = _git_files(path, listing)
        if listed is None:
            listed = []
            for root, dirs, names in os.walk(path):
                dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.endswith(".egg-info")]
                # a path object only for a file some front end reads (its name says so)
                listed.extend(Path(root, n) for n in names if file_kind(n) is not None)
        for f in listed:
            if file_kind(f.name) is None or any(part in SKIP_DIRS for part in f.parts):
                continue
            if _excluded(f, exclude):
                continue
            if might_have_sites(f, preread):
                files.append(f)
    return sorted(set(files)), missing


def run(args) -> int:
    _fewer_collections()
    try:
        if args.watch:
            return watch(args)
        with tables_out_of_collections():  # one pass: decoded tables live as long as the process
            return check_once(args)
    except (UsageError, config_mod.ConfigError) as err:
        print(f"lorlint check: {err}", file=sys.stderr)
        return 2
    finally:
        workers = sys.modules.get("lorlint.commands.workers")  # imported where files were forked
        if workers is not None:
            workers.reap_ended()  # their exits overlapped the report


def _fewer_collections() -> None:
    """Python's cyclic garbage collector runs every 700 allocations by default and walks every
    object each time it reaches the oldest generation: on a tree of PEFT code that is a tenth of
    the CPU time, spent on the syntax trees and layer tables lorlint builds, which hold no cycles
    worth freeing early. Collect less often, and never walk what is loaded at start-up again
    (``lorlint check`` sets the thresholds before it imports the linter: ``cli._collect_less``)."""
    import gc

    from lorlint.cli import GC_THRESHOLDS

    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def _reads_stdin(args) -> bool:
    return args.paths == ["-"] or (args.stdin_filename is not None and not args.paths)


def load_settings(args, start: Path) -> config_mod.Settings:
    """Settings from the project (or --config PATH), --config KEY=VALUE pairs and --isolated."""
    config_file, overrides = None, []
    for item in getattr(args, "config", None) or []:
        if Path(item).is_file():
            if config_file is not None:
                raise UsageError("--config: give at most one settings file")
            config_file = Path(item)
        elif Path(item).suffix == ".toml" and "=" not in item:
            raise UsageError(f"--config {item}: no such file")
        else:
            overrides.append(config_mod.parse_override(item))
    return config_mod.load(start, config_file, overrides, getattr(args, "isolated", False))


class Reporter:
    """Where output goes, as ruff does it: the report and its summary to standard output (or
    --output-file); with a machine-readable format the summary goes to stderr, so standard output
    stays parsable; when standard output carries fixed source (``check - --fix``) the whole
    report goes to stderr. -q keeps the report only, -s prints nothing but fatal errors."""

    def __init__(self, args):
        self.args = args
        self.silent = args.silent
        self.quiet = args.quiet or args.silent
        self.source_on_stdout = False  # set by ``check - --fix``
        self._file_started = False

    def color(self) -> bool:
        if self.args.color == "never" or self.args.output_file:
            return False
        return self.args.color == "always" or formats.use_color(sys.stdout)

    def _to_file(self, text: str) -> None:
        mode = "a" if self._file_started else "w"
        self._file_started = True
        with open(self.args.output_file, mode, encoding="utf-8") as fh:
            fh.write(text + "\n" if text else "")

    def write(self, text: str) -> None:
        if self.silent:
            return
        if self.args.output_file:
            self._to_file(text)
        elif text:
            print(text)

    def info(self, text: str) -> None:
        if not text or self.quiet:
            return
        if self.source_on_stdout or self.args.output_format in formats.MACHINE:
            print(text, file=sys.stderr)
        elif self.args.output_file:
            self._to_file(text)
        else:
            print(text)

    def note(self, text: str) -> None:
        """A message beside output that must stay exactly what it is (a --diff patch)."""
        if text and not self.quiet:
            print(text, file=sys.stderr)

    def warn(self, text: str) -> None:
        if not self.silent:
            print(f"lorlint: warning: {text}", file=sys.stderr)


def check_once(args) -> int:
    reading_stdin = _reads_stdin(args)
    paths = args.paths or ["."]
    if "-" in paths and not reading_stdin:
        raise UsageError("- (standard input) cannot be combined with other paths")
    if reading_stdin:
        named = Path(args.stdin_filename or "stdin.py").resolve().parent
        start = named if named.is_dir() else Path.cwd()
    else:
        first = Path(paths[0])
        start = first if first.exists() else Path.cwd()
    # git lists the directories while the settings and the rules load
    listing = {} if reading_stdin or args.show_settings else start_listing(paths)
    settings = load_settings(args, start)
    report = Reporter(args)
    for warning in settings.warnings:
        report.warn(warning)
    selected = selection(args, settings)
    cache_root = settings.root or Path.cwd()
    if args.cache_dir:
        cache_dir = Path(args.cache_dir).resolve()
        os.environ["LORLINT_CACHE_DIR"] = str(cache_dir)  # the table cache (and worker processes)
        cache_root = cache_dir / "sites"
    options = Options(
        model=args.model or settings.model,
        model_origin="cli" if args.model else "config",
        online=args.online or settings.online,
        selected=selected,
        cache_root=None if args.no_cache else cache_root,
    )
    if args.show_settings:
        report.write(show_settings(start, settings, options, args))
        return 0
    if reading_stdin:
        return _check_stdin(args, settings, options, report)
    return _check_paths(args, paths, settings, options, report, listing)


def show_settings(start: Path, settings, options: Options, args) -> str:
    source = str(settings.path) if settings.path else "none (defaults)"
    if args.isolated:
        source += " (--isolated)"
    lines = [f"Resolved settings for: {start.resolve()}", f"Settings path: {source}", ""]
    lines += ["[tool.lorlint]", config_mod.as_toml(settings), ""]
    lines += ["# in effect for this run"]
    lines.append(f"rules = [{', '.join(json.dumps(c) for c in sorted(options.selected))}]")
    lines.append(f"model = {json.dumps(options.model)}" if options.model else "model = (from code)")
    lines.append(f"online = {json.dumps(options.online)}")
    lines.append(f"fail-level = {json.dumps(args.fail_level or settings.fail_level or 'warning')}")
    sites = options.cache_root / CACHE_DIRNAME if options.cache_root else "(off)"
    lines.append(f"site-cache = {json.dumps(str(sites))}")
    lines.append(f"table-cache = {json.dumps(str(table_cache_dir() / 'tables'))}")
    lines += [f"warning = {json.dumps(w)}" for w in settings.warnings]
    return "\n".join(lines)


def _check_paths(args, paths, settings, options: Options, report: Reporter, listing=None) -> int:
    preread = Preread()
    files, missing = discover(paths, settings.exclude, args.force_exclude, preread, listing)
    for raw in missing:
        print(f"lorlint check: {raw}: no such file or directory", file=sys.stderr)
    if args.show_files:
        report.write("\n".join(str(f) for f in files))
        return 2 if missing else 0
    diagnostics, sources = [], {}
    fixed: dict[str, Counter] = {}
    diffs, refused, unwritten = [], [], 0
    progress = Progress(enabled=not report.quiet and len(files) > 1)
    for i, (path, found, text) in enumerate(lint_files(files, options, args.jobs, preread), 1):
        progress(f"checking {i}/{len(files)} files: {path}", force=False)
        ignored = per_file_ignores(path, settings)
        found = [d for d in found if d.code not in ignored]
        if (args.fix or args.diff) and any(_wanted(d, args) for d in found):
            outcome = _fix_or_refuse(path, options, ignored, args)
            if not outcome.error and outcome.fixed and not args.diff:
                try:
                    write_atomically(path, outcome.text)
                except OSError as err:
                    outcome.error = f"cannot write it ({err.strerror or err}); not fixed"
                    outcome.unwritable = True
            unwritten += outcome.unwritable
            if outcome.error:
                refused.append(f"{path}: fix refused: {outcome.error}")
            elif outcome.fixed:
                fixed[str(path)] = fixed_codes(found, outcome.remaining, args)
                if args.diff:
                    diffs.append(outcome.diff)
                else:
                    found = outcome.remaining
        if found and text is not None:
            sources[str(path)] = text
        diagnostics.extend(found)
    progress.done()
    diagnostics.sort(key=lambda d: (d.path, d.span.row, d.span.col, d.code))
    for problem in refused:
        print(f"lorlint check: {problem}", file=sys.stderr)
    if args.diff:
        report.write("".join(diffs).rstrip("\n"))
        report.note(formats.would_fix(fixed))
        return 2 if missing else (1 if diffs else 0)
    code = _finish(args, settings, report, diagnostics, sources, fixed, bool(missing))
    return 2 if unwritten else code  # asked to fix a file that cannot be written


def _finish(args, settings, report, diagnostics, sources, fixed, missing: bool) -> int:
    """Print the report and the summary; the exit code."""
    text = _render(args, diagnostics, sources, report.color())
    if args.statistics and diagnostics:
        stats = formats.statistics(diagnostics)
        if args.output_format in formats.MACHINE:
            if not report.silent:
                print(stats, file=sys.stderr)  # keeps standard output machine-readable
        else:
            text = f"{text}\n{stats}" if text else stats
    report.write(text)
    if args.fix and args.show_fixes:
        report.info(formats.fixed_listing(fixed))
    if not (missing and not diagnostics):  # a missing path is not "All checks passed!"
        summary = formats.summary(diagnostics, formats.count(fixed) if args.fix else None)
        gap = "\n" if text and args.output_format == "full" else ""  # ruff's blank line
        report.info(gap + summary)
    shown = [d for d in diagnostics if not (args.fix and _wanted(d, args))]
    report.info(formats.fix_hint(shown, args.unsafe_fixes))
    return 2 if missing else exit_code(args, settings, diagnostics, fixed)


def exit_code(args, settings, diagnostics, fixed) -> int:
    """1 for findings at or above the fail level (or a fix with --exit-non-zero-on-fix)."""
    fail_level = args.fail_level or settings.fail_level or "warning"
    failing = [
        d for d in diagnostics if SEVERITIES.index(d.severity) >= SEVERITIES.index(fail_level)
    ]
    if args.exit_non_zero_on_fix and fixed:
        return 1
    return 1 if failing and not args.exit_zero else 0


def _check_stdin(args, settings, options: Options, report: Reporter) -> int:
    """``lorlint check -``: lint standard input as ``--stdin-filename`` (default: a Python file).
    With --fix the fixed text goes to standard output and the report to stderr, as ruff does."""
    display = args.stdin_filename or "-"
    path = Path(args.stdin_filename or "stdin.py")
    data = sys.stdin.buffer.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise UsageError(f"standard input is not valid UTF-8: {err.reason}") from err
    if args.force_exclude and _excluded(path, settings.exclude):
        if args.fix:
            sys.stdout.write(text)
        return 0
    ignored = per_file_ignores(path, settings) if args.stdin_filename else set()
    views = ViewCache(options.online)
    found = [d for d in lint_text(display, text, options, views) if d.code not in ignored]
    fixed: dict[str, Counter] = {}
    if (args.fix or args.diff) and any(_wanted(d, args) for d in found):
        outcome = fix_file(path, options, ignored, args, original=text)
        if outcome.error:
            print(f"lorlint check: fix refused for {display}: {outcome.error}", file=sys.stderr)
        elif outcome.fixed:
            fixed[display] = fixed_codes(found, outcome.remaining, args)
            for d in outcome.remaining:
                d.path = display
            if args.diff:
                sys.stdout.write(outcome.diff)
            else:
                text, found = outcome.text, outcome.remaining
    if args.diff:
        report.note(formats.would_fix(fixed))
        return 1 if fixed else 0
    if args.fix:
        sys.stdout.write(text)  # the (fixed) source; the report goes to stderr
        report.source_on_stdout = True
        if not report.silent:
            rendered = _render(args, found, {display: text}, False)
            if rendered:
                print(rendered, file=sys.stderr)
        report.info(formats.summary(found, formats.count(fixed)))
        report.info(formats.fix_hint(found, args.unsafe_fixes))
        return exit_code(args, settings, found, fixed)
    return _finish(args, settings, report, found, {display: text}, fixed, False)


def fixed_codes(before, remaining, args) -> Counter:
    """What --fix fixed, by code: findings with a wanted fix that no longer appear afterwards."""
    left = Counter((d.code, d.message) for d in remaining)
    out: Counter = Counter()
    for d in before:
        if not _wanted(d, args):
            continue
        if left[(d.code, d.message)]:
            left[(d.code, d.message)] -= 1
        else:
            out[d.code] += 1
    return out


WATCH_INTERVAL = 0.5  # seconds between polls


def watch(args) -> int:
    """Lint, then re-lint whenever a file lorlint reads (or a settings file) changes."""
    paths = args.paths or ["."]
    if "-" in paths:
        raise UsageError("--watch cannot read standard input")
    say = (lambda text: None) if args.silent else (lambda text: print(text, file=sys.stderr))
    say("Starting linter in watch mode...")
    snapshot = _snapshot(paths)
    while True:
        try:
            check_once(args)
        except (UsageError, config_mod.ConfigError) as err:
            print(f"lorlint check: {err}", file=sys.stderr)
        sys.stdout.flush()
        say("Watching for file changes.")
        try:
            while True:
                time.sleep(WATCH_INTERVAL)
                now = _snapshot(paths)
                if now != snapshot:
                    snapshot = now
                    break
        except KeyboardInterrupt:
            return 0
        say("File change detected...")


def _snapshot(paths: list[str]) -> dict[str, tuple[int, int]]:
    """(mtime, size) of every file a lint of ``paths`` may read, settings files included."""
    out: dict[str, tuple[int, int]] = {}

    def add(path: str) -> None:
        with contextlib.suppress(OSError):
            st = os.stat(path)
            out[path] = (st.st_mtime_ns, st.st_size)

    for raw in paths:
        if os.path.isfile(raw):
            add(raw)
            continue
        for root, dirs, names in os.walk(raw):
            dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.endswith(".egg-info")]
            for name in names:
                if file_kind(name) is not None or name in ("pyproject.toml", "lorlint.toml"):
                    add(os.path.join(root, name))
    return out


def _fix_or_refuse(path: Path, options: Options, ignored: set[str], args) -> FixOutcome:
    """One file's fixes; a read-only file or a failure is that file's refusal, not the run's."""
    if args.fix and not args.diff and not writable(path):
        return FixOutcome(error="the file is read-only; not fixed", unwritable=True)
    try:
        return fix_file(path, options, ignored, args)
    except Exception as err:  # a bug: that file stays as it is, the others are fixed
        return FixOutcome(error=f"internal error while fixing ({type(err).__name__}: {err}); "
                          "left as is, please report it")  # fmt: skip


def _wanted(d, args) -> bool:
    return d.fix is not None and (d.fix.applicability == "safe" or args.unsafe_fixes)


class FixOutcome:
    """One file's fixes: the fixed text, how many were applied, the patch, the findings left, or
    why the file was left as is. (A plain class: ``@dataclass`` would cost every run 0.5 ms.)"""

    __slots__ = ("diff", "error", "fixed", "remaining", "text", "unwritable")

    def __init__(self, text="", fixed=0, diff="", remaining=None, error="", unwritable=False):
        self.text, self.fixed, self.diff, self.error = text, fixed, diff, error
        self.remaining: list = [] if remaining is None else remaining
        self.unwritable: bool = unwritable  # asked to write a file that cannot be written: exit 2


MAX_FIX_ROUNDS = 20  # as ruff: until nothing is left to fix, with a bound against a cycle


def fix_file(
    path: Path, options: Options, ignored: set[str], args, original: str | None = None
) -> FixOutcome:
    """Apply fixes until none is left (a fix can enable another), then check the result parses.

    The file is read and written as bytes decoded from UTF-8, so line endings (CRLF, CR), a
    byte order mark and everything outside the edits come back byte for byte. Notebooks are
    fixed in their module text and written into the cells' JSON strings.
    """
    from lorlint.engine import lint_notebook
    from lorlint.frontends import notebook as nb

    kind = file_kind(path.name)
    if kind not in ("python", "notebook"):
        return FixOutcome()
    if original is None:  # standard input passes its text
        try:
            original = path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as err:
            return FixOutcome(error=f"cannot read it as UTF-8 ({err}); left as is")
    text = original  # the file's text: Python, or a notebook's JSON
    views = ViewCache(options.online)
    fixed, found, linted = 0, [], None
    try:
        for _ in range(MAX_FIX_ROUNDS + 1):
            book = nb.load(text) if kind == "notebook" else None
            module = book.source if book else text
            found, linted = lint_source(str(path), module, options, views), text
            wanted = wanted_fixes(found, ignored, args)
            if not wanted:
                break
            edits, applied = choose_fixes(module, wanted)
            new = splice_fixes(module, edits)
            if new == module:
                break
            problem = parse_error(new)
            if problem:
                return FixOutcome(error=f"the fixed file would not parse ({problem}); left as is")
            if book is not None:
                text = nb.apply_edits(text, book, edits)
                if nb.load(text).source != new:
                    return FixOutcome(error="the notebook could not be written back; left as is")
            else:
                text = new
            fixed += len(applied)
    except nb.NotebookError as err:
        return FixOutcome(error=f"{err}; left as is")
    if kind == "notebook":
        remaining = lint_notebook(str(path), text, options, views)
    else:  # the last round usually linted this very text already
        remaining = found if linted == text else lint_source(str(path), text, options, views)
    remaining = [d for d in remaining if d.code not in ignored]
    diff = unified_diff(original, text, path.as_posix())
    return FixOutcome(text, fixed if text != original else 0, diff, remaining)


def wanted_fixes(found, ignored: set[str], args) -> list:
    """The fixes to apply, safe ones first: where a safe fix and an unsafe rewrite touch the same
    list, the smaller, certain edit goes in and the rewrite is recomputed on the next round."""
    wanted = [d.fix for d in found if d.code not in ignored and _wanted(d, args)]
    return sorted(wanted, key=lambda fix: fix.applicability != "safe")


def parse_error(source: str) -> str | None:
    """Why Python would not parse ``source`` (None when it parses)."""
    import ast

    try:
        ast.parse(source.removeprefix("\ufeff"))
    except SyntaxError as err:
        return f"{err.msg}, line {err.lineno}"
    except (ValueError, RecursionError, MemoryError) as err:
        return f"{type(err).__name__}: {err}"
    return None


def unified_diff(old: str, new: str, name: str) -> str:
    """A patch ``patch -p1`` and ``git apply`` accept: lines end at \\n as they count them, CRLF
    lines keep their \\r, and a last line without a line break is marked as such."""
    import difflib

    def lines(text: str) -> list[str]:
        parts = text.split("\n")
        return [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])

    out = []
    for line in difflib.unified_diff(lines(old), lines(new), f"a/{name}", f"b/{name}"):
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def writable(path: Path) -> bool:
    """``--fix`` never replaces a read-only file (not even as root, who may write anyway)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return bool(mode & 0o222) and os.access(path, os.W_OK)


def write_atomically(path: Path, text: str) -> None:
    """Temporary file beside the real file (a symlink is followed, not replaced), permissions
    copied, then renamed over it: a kill leaves the old file or the new one, never half."""
    import shutil
    import tempfile

    path = path.resolve()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".lorlint")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(text.encode("utf-8"))
        shutil.copymode(path, tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _lint_chunk(
    chunk: list[tuple[Path, bytes | None]], options: Options, views: ViewCache | None = None
):
    views = views if views is not None else ViewCache(options.online)
    return [_lint_item(item, options, views) for item in chunk]


def _lint_item(item: tuple[Path, bytes | None], options: Options, views: ViewCache):
    """(path, diagnostics, text shown with them) of one file of a run."""
    path, data = item
    found, text = lint_isolated(path, options, views, data)
    return path, found, text if found else None


# A worker process's options and model views, shared by every chunk it lints (as one process
# shares them over the whole tree with --jobs 1).
_worker: tuple[Options, ViewCache] | None = None


def _start_worker(options: Options) -> None:
    global _worker
    _worker = (options, ViewCache(options.online))


def _lint_in_worker(chunk: list[tuple[Path, bytes | None]]):
    options, views = _worker
    return _lint_chunk(chunk, options, views)


def lint_isolated(path: Path, options: Options, views: ViewCache, data: bytes | None = None):
    """One file's findings and text; a crash while linting it is that file's LL900, and the run
    goes on."""
    try:
        return lint_file(path, options, views, data)
    except Exception as err:  # a bug: say so for this file, lint the others
        return _internal_error(path, f"{type(err).__name__}: {err}"), None


def _internal_error(path: Path, detail: str) -> list[Diagnostic]:
    detail = detail.splitlines()[0]
    detail = detail if len(detail) <= 200 else detail[:197] + "..."
    rule = RULES["LL900"]
    message = f"internal error while linting this file: {detail}; please report it"
    return [Diagnostic("LL900", rule.name, rule.severity, message, str(path), Span(1, 1, 1, 1))]


# Kinds of file whose front end (YAML's: PyYAML) the main process loads for itself after the
# fork, and lints first: the other processes seldom need it.
OWN_KINDS = ("yaml", "adapter")


def lint_files(
    files: list[Path], options: Options, jobs: int | None, preread: dict[Path, bytes] | None = None
):
    """Lint every file (with the bytes discovery kept); large trees are split over processes (one
    per core, this one among them). Yields (path, diagnostics, text shown with them) in the
    files' order."""
    preread = preread if preread is not None else {}
    work = [(path, preread.pop(path, None)) for path in files]
    processes = jobs or (os.cpu_count() or 1)
    if processes <= 1 or len(files) < PARALLEL_MIN_FILES:
        yield from _lint_chunk(work, options)
        return
    from lorlint.commands import workers

    if not workers.can_fork():
        yield from _spawned(work, options, processes)
        return
    kinds = [file_kind(path.name) for path in files]
    own = {i for i, kind in enumerate(kinds) if kind in OWN_KINDS}
    # What linting imports and reads on first use is loaded here once: the forked processes
    # share it instead of each loading it again.
    load_linters({kind for i, kind in enumerate(kinds) if i not in own})
    views = ViewCache(options.online)  # each process fills its own copy

    def lint(item: tuple[Path, bytes | None]):
        return _lint_item(item, options, views)

    def crashed(item: tuple[Path, bytes | None], why: str):
        return item[0], _internal_error(item[0], f"the process linting it was killed ({why})"), None

    yield from workers.forked(lint, work, processes, own, crashed)


def _spawned(work, options: Options, processes: int):
    """Where processes do not fork (macOS, Windows): a pool of ``processes`` spawned workers,
    each importing lorlint and loading the front ends itself."""
    from concurrent.futures import ProcessPoolExecutor

    from lorlint.commands import workers

    # The forked processes' chunks (small towards the end, so every core is busy to the end);
    # the model views a worker loads serve all its chunks.
    chunks = [[work[i] for i in chunk] for chunk in workers.chunks(range(len(work)), processes)]
    with ProcessPoolExecutor(processes, initializer=_start_worker, initargs=(options,)) as pool:
        for result in pool.map(_lint_in_worker, chunks):
            yield from result


def per_file_ignores(path: Path, settings) -> set[str]:
    out: set[str] = set()
    if not settings.per_file_ignores:
        return out  # (resolving the path costs a system call per directory)
    rel = str(path)
    if settings.root is not None:
        with contextlib.suppress(ValueError):
            rel = str(path.resolve().relative_to(settings.root))
    for pattern, codes in settings.per_file_ignores.items():
        if fnmatch.fnmatch(rel, pattern) or fnmatch.fnmatch(path.name, pattern):
            out |= _codes(codes)
    return out


def _render(args, diagnostics, sources, color: bool) -> str:
    """The report in --output-format."""
    if args.output_format == "gitlab":
        return formats.gitlab(diagnostics, sources)
    if args.output_format in formats.MACHINE:
        return formats.MACHINE[args.output_format](diagnostics)
    if args.output_format == "concise":
        return formats.concise(diagnostics, args.show_fixes and not args.fix)
    return formats.full(diagnostics, sources, color, args.show_fixes and not args.fix)
