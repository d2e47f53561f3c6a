"""``lorlint check [PATHS...]``: lint training code. Exit 0 clean, 1 findings, 2 usage/error."""

from __future__ import annotations

import contextlib
import fnmatch
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from lorlint import config as config_mod
from lorlint.checks import SEVERITIES, by_name_or_code, load_all
from lorlint.engine import Options, ViewCache, lint_file, lint_source
from lorlint.fixes import apply as apply_fixes
from lorlint.frontends.names import file_kind, worth_reading
from lorlint.frontends.source import SourceError, read_bytes
from lorlint.report import formats

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
) -> tuple[list[Path], list[str]]:
    """Files to lint: explicit files and directory contents (git-ignored ones skipped), minus
    those the pre-filter rules out (their bytes kept in ``preread``, if given)."""
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
            if might_have_sites(f, preread):
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
    preread = Preread()
    files, missing = discover(args.paths, settings.exclude, args.force_exclude, preread)
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
    fixed_total, diffs, refused = 0, [], []
    for path, found, text in lint_files(files, options, args.jobs, preread):
        ignored = per_file_ignores(path, settings)
        found = [d for d in found if d.code not in ignored]
        if (args.fix or args.diff) and any(_wanted(d, args) for d in found):
            outcome = fix_file(path, options, ignored, args)
            if outcome.error:
                refused.append(f"{path}: {outcome.error}")
            elif outcome.fixed:
                fixed_total += outcome.fixed
                if args.diff:
                    diffs.append(outcome.diff)
                else:
                    write_atomically(path, outcome.text)
                    found = outcome.remaining
        if found and text is not None:
            sources[str(path)] = text
        diagnostics.extend(found)
    diagnostics.sort(key=lambda d: (d.path, d.span.row, d.span.col, d.code))
    for problem in refused:
        print(f"lorlint check: fix refused for {problem}", file=sys.stderr)
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
    if missing:
        return 2
    return 1 if failing and not args.exit_zero else 0


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


MAX_FIX_ROUNDS = 4


def fix_file(path: Path, options: Options, ignored: set[str], args) -> FixOutcome:
    """Apply fixes until none is left (a fix can enable another), then check the result parses.

    Notebooks are fixed in their module text and written back cell by cell.
    """
    import difflib

    import libcst

    from lorlint.engine import lint_notebook
    from lorlint.frontends import notebook as nb

    kind = file_kind(path.name)
    if kind not in ("python", "notebook"):
        return FixOutcome()
    try:
        original = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return FixOutcome(error="fixes are applied to UTF-8 files only; left as is")
    book = nb.load(original) if kind == "notebook" else None
    text = book.source if book else original
    views = ViewCache(options.online)
    fixed, found, linted = 0, [], None
    for _ in range(MAX_FIX_ROUNDS + 1):
        found, linted = lint_source(str(path), text, options, views), text
        wanted = [d.fix for d in found if d.code not in ignored and _wanted(d, args)]
        if not wanted:
            break
        new, count = apply_fixes(text, wanted)
        if new == text:
            break
        try:
            libcst.parse_module(new)
        except libcst.ParserSyntaxError as err:
            return FixOutcome(error=f"the fixed file would not parse ({err.message}); left as is")
        text, fixed = new, fixed + count
    if book is not None:
        try:
            result = nb.apply_module_text(book, text) if text != book.source else original
        except nb.NotebookError as err:
            return FixOutcome(error=str(err))
        remaining = lint_notebook(str(path), result, options, views)
    else:
        result = text
        # the last round usually linted this very text already
        remaining = found if linted == text else lint_source(str(path), text, options, views)
    remaining = [d for d in remaining if d.code not in ignored]
    diff = "".join(
        difflib.unified_diff(
            original.splitlines(keepends=True),
            result.splitlines(keepends=True),
            f"a/{path.as_posix()}",
            f"b/{path.as_posix()}",
        )
    )
    return FixOutcome(result, fixed if result != original else 0, diff, remaining)


def write_atomically(path: Path, text: str) -> None:
    """Temporary file in the same directory, permissions copied, then rename over the original."""
    import shutil
    import tempfile

    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".lorlint")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        shutil.copymode(path, tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _lint_chunk(chunk: list[tuple[Path, bytes | None]], options: Options):
    views = ViewCache(options.online)
    out = []
    for path, data in chunk:
        found, text = lint_file(path, options, views, data)
        out.append((path, found, text if found else None))
    return out


def lint_files(
    files: list[Path], options: Options, jobs: int | None, preread: dict[Path, bytes] | None = None
):
    """Lint every file (with the bytes discovery kept); large trees are split over worker
    processes (one per core). Yields (path, diagnostics, text shown with them)."""
    preread = preread if preread is not None else {}
    work = [(path, preread.pop(path, None)) for path in files]
    workers = jobs or (os.cpu_count() or 1)
    if workers <= 1 or len(files) < PARALLEL_MIN_FILES:
        yield from _lint_chunk(work, options)
        return
    from concurrent.futures import ProcessPoolExecutor

    size = max(1, len(work) // (workers * 4))
    chunks = [work[i : i + size] for i in range(0, len(work), size)]
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
