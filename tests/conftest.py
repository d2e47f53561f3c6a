import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

# The real-world cases are public files linted by tests/test_realworld.py, never collected.
collect_ignore_glob = ["realworld/cases/*"]


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Each test session gets its own table cache and an empty Hugging Face cache."""
    base = tmp_path_factory.getbasetemp()
    monkeypatch.setenv("LORLINT_CACHE_DIR", str(base / "lorlint-cache"))
    monkeypatch.setenv("HF_HUB_CACHE", str(base / "hf-cache"))
