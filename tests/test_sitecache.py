"""The per-file site cache: exact round trip, keyed by content; no lint imports libcst."""

from __future__ import annotations

import subprocess
import sys

from helpers import REPO, run_cli

from lorlint.frontends.python import extract_sites
from lorlint.sitecache import CACHE_DIRNAME, SiteCache

FIXTURES = REPO / "fixtures"


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
        proc = subprocess.run(
            [sys.executable, "-c", code.format(extra=extra)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
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
