"""``lorlint check [PATHS...]``: lint training code. Exit 0 clean, 1 findings, 2 usage/error."""

from __future__ import annotations

import contextlib
import fnmatch
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from lorlint import config as config_mod
from lorlint.checks import RULES, SEVERITIES, Diagnostic, by_name_or_code, load_all
from lorlint.engine import Options, ViewCache, lint_path, lint_source
from lorlint.fixes import choose as choose_fixes
from lorlint.fixes import splice as splice_fixes
from lorlint.frontends.names import file_kind, worth_reading
from lorlint.report import formats
from lorlint.site import Span

SKIP_DIRS = {".git", ".hg", ".svn", ".venv", "venv", "node_modules", "__pycache__", ".tox",
             ".mypy_cache", ".ruff_cache", ".pytest_cache", "build", "dist", "site-packages"}  # fmt: skip
PARALLEL_MIN_FILES = 16


class UsageError(ValueError):
    pass


def add_parser(sub) -> None:
    p = sub.add_parser(
        "check", help="lint PEFT configs in Python files, notebooks, tool configs and adapters"
    )
    p.add_argument("paths", nargs="*", default=["."], help="files or directories (default .)")
    p.add_argument("--select", help="comma-separated codes, prefixes or names to enable")
    p.add_argument("--ignore", help="comma-separated codes or names to disable")
    p.add_argument("--extend-select", help="codes to add to the selection")
    p.add_argument("--fail-level", choices=SEVERITIES, help="lowest severity that fails (warning)")
    p.add_argument("--exit-zero", action="store_true", help="exit 0 even with findings")
    p.add_argument("--model", help="base model for every config (overrides the code)")
    p.add_argument("--online", action="store_true", help="allow downloading config.json")
    p.add_argument(
        "--output-format",
        choices=("full", "concise", "json", "github", "sarif", "gitlab", "junit"),
        default="full",
    )
    p.add_argument("--statistics", action="store_true", help="print counts per rule")
    p.add_argument("-q", "--quiet", action="store_true", help="print diagnostics only")
    p.add_argument("--fix", action="store_true", help="apply safe fixes to the files")
    p.add_argument("--unsafe-fixes", action="store_true", help="also apply unsafe fixes")
    p.add_argument("--diff", action="store_true", help="print the fixes as a diff; write nothing")
    p.add_argument(
        "--force-exclude",
        action="store_true",
        help="apply `exclude` to files named on the command line too (for pre-commit)",
    )
    p.add_argument("--no-cache", action="store_true", help="do not read or write .lorlint_cache")
    p.add_argument("--jobs", type=int, help="worker processes (default: all cores for large trees)")
    p.set_defaults(func=run)


def _codes(tokens) -> set[str]:
    out: set[str] = set()
    for token in tokens:
        token = token.strip()
        if not token:
            continue
        matched = by_name_or_code(token)
        if not matched:
            raise UsageError(f"unknown rule selector {token!r} (see `lorlint rule --all`)")
        out.update(r.code for r in matched)
    return out


def _split(text: str | None) -> list[str]:
    return [t for t in (text or "").split(",") if t.strip()]


def selection(args, settings) -> set[str]:
    rules = load_all()
    select = _split(args.select) or settings.select
    chosen = _codes(select) if select else set(rules)
    chosen |= _codes(settings.extend_select) | _codes(_split(args.extend_select))
    chosen -= _codes(settings.ignore) | _codes(_split(args.ignore))
    return chosen


def _git_files(directory: Path) -> list[Path] | None:
    import subprocess

    try:
        proc = subprocess.run(
            ["git", "ls-files", "-co", "--exclude-standard", "-z", "--", "."],
            cwd=directory,
            capture_output=True,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0:
        return None
    return [directory / p for p in proc.stdout.decode().split("\0") if p]


def might_have_sites(path: Path) -> bool:
    """A file some front end reads, past its cheap text pre-filter (unreadable ones pass: they
    are reported as LL900)."""
    kind = file_kind(path.name)
    if kind is None:
        return False
    try:
        data = path.read_bytes()
    except OSError:
        return True
    return worth_reading(kind, data)


def _excluded(path: Path, exclude: list[str]) -> bool:
    return any(
        fnmatch.fnmatch(str(path), pat) or fnmatch.fnmatch(path.name, pat) for pat in exclude
    )


def discover(
    paths: list[str], exclude: list[str], force_exclude: bool = False
) -> tuple[list[Path], list[str]]:
    """.py files to lint: explicit files and directory contents (git-ignored ones skipped),
    minus those the pre-filter rules out."""
    files, missing = [], []
    for raw in paths:
        path = Path(raw)
        if path.is_file():
            if not (force_exclude and _excluded(path, exclude)) and might_have_sites(path):
                files.append(path)
            continue
        if not path.is_dir():
            missing.append(raw)
            continue
        listed = _git_files(path)
        if listed is None:
            listed = []
            for root, dirs, names in os.walk(path):
                dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.endswith(".egg-info")]
                listed.extend(Path(root) / n for n in names)
        for f in listed:
            if file_kind(f.name) is None or any(part in SKIP_DIRS for part in f.parts):
                continue
            if _excluded(f, exclude):
                continue
            if might_have_sites(f):
                files.append(f)
    return sorted(set(files)), missing


def run(args) -> int:
    try:
        first = Path(args.paths[0]) if args.paths else Path(".")
        settings = config_mod.load(first if first.exists() else Path.cwd())
        selected = selection(args, settings)
    except (UsageError, config_mod.ConfigError) as err:
        print(f"lorlint check: {err}", file=sys.stderr)
        return 2
    files, missing = discover(args.paths, settings.exclude, args.force_exclude)
    for raw in missing:
        print(f"lorlint check: {raw}: no such file or directory", file=sys.stderr)
    options = Options(
        model=args.model or settings.model,
        model_origin="cli" if args.model else "config",
        online=args.online or settings.online,
        selected=selected,
        cache_root=None if args.no_cache else (settings.root or Path.cwd()),
    )
    diagnostics, sources = [], {}
    fixed_total, diffs, refused, unwritten = 0, [], [], 0
    for path, found in lint_files(files, options, args.jobs):
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
                fixed_total += outcome.fixed
                if args.diff:
                    diffs.append(outcome.diff)
                else:
                    found = outcome.remaining
        if found:
            with contextlib.suppress(OSError):
                sources[str(path)] = path.read_text(encoding="utf-8", errors="replace")
        diagnostics.extend(found)
    diagnostics.sort(key=lambda d: (d.path, d.span.row, d.span.col, d.code))
    for problem in refused:
        print(f"lorlint check: {problem}", file=sys.stderr)
    if args.diff:
        sys.stdout.write("".join(diffs))
        if not args.quiet:
            print(f"Would fix {fixed_total} finding{'s' * (fixed_total != 1)}.", file=sys.stderr)
        return 1 if diffs else 0
    _print(args, diagnostics, sources, len(files))
    if args.fix and fixed_total and not args.quiet:
        print(f"Fixed {fixed_total} finding{'s' * (fixed_total != 1)}.", file=sys.stderr)
    elif not args.fix and not args.quiet:
        hint = _fix_hint(diagnostics)
        if hint:
            print(hint, file=sys.stderr)
    fail_level = args.fail_level or settings.fail_level or "warning"
    failing = [
        d for d in diagnostics if SEVERITIES.index(d.severity) >= SEVERITIES.index(fail_level)
    ]
    if missing or unwritten:
        return 2
    return 1 if failing and not args.exit_zero else 0


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


def _fix_hint(diagnostics) -> str:
    safe = sum(1 for d in diagnostics if d.fix and d.fix.applicability == "safe")
    unsafe = sum(1 for d in diagnostics if d.fix and d.fix.applicability == "unsafe")
    if not safe and not unsafe:
        return ""
    text = f"[*] {safe} fixable with the `--fix` option" if safe else "No fixes available"
    if unsafe:
        text += f" ({unsafe} hidden fix{'es' * (unsafe != 1)} can be enabled with `--unsafe-fixes`)"
    return text + "."


@dataclass
class FixOutcome:
    text: str = ""
    fixed: int = 0
    diff: str = ""
    remaining: list = field(default_factory=list)
    error: str = ""
    unwritable: bool = False  # asked to write a file that cannot be written: exit 2


MAX_FIX_ROUNDS = 20  # as ruff: until nothing is left to fix, with a bound against a cycle


def fix_file(path: Path, options: Options, ignored: set[str], args) -> FixOutcome:
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


def _lint_chunk(chunk: list[Path], options: Options) -> list[tuple[Path, list]]:
    views = ViewCache(options.online)
    return [(path, lint_isolated(path, options, views)) for path in chunk]


def lint_isolated(path: Path, options: Options, views: ViewCache) -> list:
    """One file's findings; a crash while linting it is that file's LL900, and the run goes on."""
    try:
        return lint_path(path, options, views)
    except Exception as err:  # a bug: say so for this file, lint the others
        detail = f"{type(err).__name__}: {err}".splitlines()[0]
        detail = detail if len(detail) <= 200 else detail[:197] + "..."
        rule = RULES["LL900"]
        message = f"internal error while linting this file: {detail}; please report it"
        return [Diagnostic("LL900", rule.name, rule.severity, message, str(path), Span(1, 1, 1, 1))]


def lint_files(files: list[Path], options: Options, jobs: int | None):
    """Lint every file; large trees are split over worker processes (one per core)."""
    workers = jobs or (os.cpu_count() or 1)
    if workers <= 1 or len(files) < PARALLEL_MIN_FILES:
        yield from _lint_chunk(files, options)
        return
    from concurrent.futures import ProcessPoolExecutor

    size = max(1, len(files) // (workers * 4))
    chunks = [files[i : i + size] for i in range(0, len(files), size)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for result in pool.map(_lint_chunk, chunks, [options] * len(chunks)):
            yield from result


def per_file_ignores(path: Path, settings) -> set[str]:
    out: set[str] = set()
    rel = str(path)
    if settings.root is not None:
        with contextlib.suppress(ValueError):
            rel = str(path.resolve().relative_to(settings.root))
    for pattern, codes in settings.per_file_ignores.items():
        if fnmatch.fnmatch(rel, pattern) or fnmatch.fnmatch(path.name, pattern):
            out |= _codes(codes)
    return out


def _print(args, diagnostics, sources, n_files) -> None:
    machine = {
        "json": formats.as_json,
        "github": formats.github,
        "sarif": formats.sarif,
        "gitlab": formats.gitlab,
        "junit": formats.junit,
    }
    if args.output_format in machine:
        text = machine[args.output_format](diagnostics)
        if text:
            print(text)
        if args.statistics and diagnostics:
            print(formats.statistics(diagnostics), file=sys.stderr)
        return
    if args.output_format == "concise":
        text = formats.concise(diagnostics)
    else:
        text = formats.full(diagnostics, sources, formats.use_color(sys.stdout))
    if text:
        print(text)
    if args.statistics and diagnostics:
        print(formats.statistics(diagnostics))
    if not args.quiet:
        print(formats.summary(diagnostics, n_files), file=sys.stderr)
