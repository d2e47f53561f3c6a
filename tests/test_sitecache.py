"""The per-file site cache: exact round trip, keyed by content; no lint imports libcst."""

from __future__ import annotations

import subprocess
import sys

from helpers import REPO, run_cli

from lorlint.frontends.python import extract_sites
from lorlint.sitecache import CACHE_DIRNAME, SiteCache

FIXTURES = REPO / "fixtures"


def _python(code: str, cwd) -> subprocess.CompletedProcess:
    """``python -c code`` in ``cwd`` (a fresh interpreter: what it imports is its own), which
    must succeed."""
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return proc


def test_round_trip_of_every_fixture(tmp_path):
    cache = SiteCache(tmp_path)
    for script in sorted(FIXTURES.glob("*.py")):
        if script.stem == "syntax_error":
            continue
        source = script.read_text()
        sites = extract_sites(str(script), source)
        cache.store(source, sites)
        assert cache.load(source, str(script)) == sites, script.name


def test_changed_content_misses(tmp_path):
    cache = SiteCache(tmp_path)
    source = "from peft import LoraConfig\nLoraConfig(target_modules=['a'])\n"
    cache.store(source, extract_sites("t.py", source))
    assert cache.load(source + "\n", "t.py") is None
    assert (tmp_path / CACHE_DIRNAME / ".gitignore").read_text().endswith("*\n")


def test_lint_never_imports_libcst_and_no_cache_writes_nothing(tmp_path):
    """Cold (no cache) and warm: libcst is the fixer's, the lint path never imports it."""
    (tmp_path / "train.py").write_text((FIXTURES / "transformers_peft_llama.py").read_text())
    code = (
        "import sys; from lorlint.cli import main; rc = main(['check', 'train.py', '-q'{extra}]); "
        "assert rc == 1, rc; assert 'libcst' not in sys.modules; assert 'torch' not in sys.modules"
    )
    for extra in (", '--no-cache'", ""):
        proc = _python(code.format(extra=extra), tmp_path)
        assert "dwn_proj" in proc.stdout
        assert (tmp_path / CACHE_DIRNAME).is_dir() is (extra == "")


def test_parallel_lint_equals_serial(tmp_path):
    for i in range(20):
        (tmp_path / f"s{i}.py").write_text((FIXTURES / "phi3_qlora.py").read_text())
    serial = run_cli(
        "check", ".", "--jobs", "1", "--no-cache", "--output-format", "concise", cwd=tmp_path
    )
    parallel = run_cli(
        "check", ".", "--jobs", "2", "--no-cache", "--output-format", "concise", cwd=tmp_path
    )
    assert serial.stdout == parallel.stdout and serial.stdout.count("LL101") == 100


def test_parallel_lint_of_every_kind_equals_serial():
    """Workers forked after the front ends are loaded, keeping their model views from chunk to
    chunk, report what one process does: scripts, a notebook, tool YAML and saved adapters."""
    args = ["check", "fixtures", "--no-cache", "--exit-zero", "--output-format", "json"]
    serial = run_cli(*args, "--jobs", "1", cwd=REPO)
    parallel = run_cli(*args, "--jobs", "2", cwd=REPO)
    assert serial.stdout == parallel.stdout and serial.stdout.count('"code"') > 30


def _old_asdict(site) -> dict:
    """``site_to_json`` as it was: ``dataclasses.asdict`` of the dataclasses ``Site``, ``Span``,
    ``Step`` and ``Argument`` were (their definitions as of 66e9233, fields in order), keywords
    encoded by the cache."""
    from dataclasses import asdict, dataclass, field
    from typing import Any

    from lorlint.sitecache import _value_to_json

    @dataclass(frozen=True)
    class Span:
        row: int
        col: int
        end_row: int
        end_col: int

    @dataclass(frozen=True)
    class Argument:
        keyword: str | None
        span: Span
        clean: bool = True

    @dataclass
    class Step:
        call: str
        row: int
        col: int
        end_row: int
        end_col: int
        detail: dict[str, Any] = field(default_factory=dict)
        conditional: bool = False

    @dataclass
    class Site:
        path: str
        kind: str
        callee: str
        span: Span
        keywords: dict = field(default_factory=dict)
        model: str | None = None
        model_span: Span | None = None
        model_origin: str = ""
        loader: str | None = None
        task: str | None = None
        quantized: str | None = None
        quant_skip_modules: list[str] | None = None
        applied_with: str | None = None
        statement_rows: tuple[int, int] = (0, 0)
        depends_on: list[str] = field(default_factory=list)
        flow: list[Step] = field(default_factory=list)
        arguments: list[Argument] = field(default_factory=list)
        facts: dict[str, Any] = field(default_factory=dict)

    def span(s):
        return Span(s.row, s.col, s.end_row, s.end_col) if s is not None else None

    old = Site(**{name: getattr(site, name) for name in site.FIELDS})
    old.keywords = {}
    old.span, old.model_span = span(site.span), span(site.model_span)
    old.flow = [Step(**{n: getattr(s, n) for n in s.FIELDS}) for s in site.flow]
    old.arguments = [Argument(a.keyword, span(a.span), a.clean) for a in site.arguments]
    data = asdict(old)
    data["keywords"] = {k: _value_to_json(v) for k, v in site.keywords.items()}
    return data


def test_cache_entries_are_byte_identical_to_the_dataclass_asdict_ones():
    """``Site`` and friends are plain classes now (no ``dataclasses`` at start-up); their cache
    entries are what ``dataclasses.asdict`` wrote, byte for byte, so old entries stay valid."""
    import json

    from lorlint.sitecache import site_to_json

    sites = []
    for path in sorted(FIXTURES.rglob("*.py")):
        if path.stem != "syntax_error":
            sites += extract_sites(str(path), path.read_text())
    assert any(s.flow for s in sites) and any(s.arguments for s in sites)
    assert any(s.facts for s in sites) and any(s.model_span for s in sites)
    for site in sites:
        new = json.dumps(site_to_json(site), separators=(",", ":"))
        assert new == json.dumps(_old_asdict(site), separators=(",", ":")), site.path


def test_check_never_imports_dataclasses_or_inspect(tmp_path):
    """Start-up (issue #12): ``import dataclasses`` (and through it ``inspect``, ``dis``) costs
    5-9 ms before the fork, and each ``@dataclass`` ~0.5 ms; ``lorlint check`` of a script, a
    notebook, a YAML config and a saved adapter, serial and parallel, loads none of them."""
    import shutil

    for name in ("transformers_peft_llama.py", "unsloth_colab.ipynb", "axolotl_qlora.yml"):
        shutil.copy(FIXTURES / name, tmp_path / name)
    shutil.copytree(FIXTURES / "adapters" / "llama-3.2-1b-lora", tmp_path / "adapter")
    code = (
        "import sys; from lorlint.cli import main; "
        "rc = main(['check', '.', '-q', '--no-cache', '--jobs', '{jobs}']); assert rc == 1, rc; "
        "print([m for m in ('dataclasses', 'inspect', 'dis') if m in sys.modules])"
    )
    for jobs in (1, 2):
        proc = _python(code.format(jobs=jobs), tmp_path)
        assert proc.stdout.splitlines()[-1] == "[]", proc.stdout
