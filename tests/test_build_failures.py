"""A layer-table build that fails is not tried again on every run (issue #12: "no model build
ever > 1 s — build once, cache, or fail fast"): the failure is kept beside the tables, with the
state of the installed packages, and answers the next run at once, with the same message."""

from __future__ import annotations

import pytest

from lorlint.models import cache, view
from lorlint.models.introspect import IntrospectionError

CONFIG = {"model_type": "qwen2_vl", "hidden_size": 64}
CLASS = "Qwen2ForCausalLM"


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LORLINT_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture
def builds(monkeypatch):
    """Replace the meta-device build by one that fails as transformers did, counting the calls."""
    calls = []

    def failing(config, task):
        calls.append((config["model_type"], task))
        cause = AttributeError("'dict' object has no attribute 'to_dict'")
        raise IntrospectionError(f"cannot build {task}: {cause}") from cause

    import lorlint.models.introspect as introspect

    monkeypatch.setattr(introspect, "introspect", failing)
    view._BUILT.clear()
    yield calls
    view._BUILT.clear()


def _build():
    view._BUILT.clear()  # a new process: only the disk remembers
    return view._build(CONFIG, CLASS)


def test_a_failed_build_answers_the_next_run_without_building(builds):
    first = _build()
    assert first[0] is None and "cannot build Qwen2ForCausalLM" in first[2]
    assert _build() == first  # same message, from the disk
    assert len(builds) == 1


def test_installing_or_removing_a_package_tries_the_build_again(builds, monkeypatch):
    _build()
    monkeypatch.setattr(cache, "environment", lambda: "after pip install timm")
    _build()
    assert len(builds) == 2


def test_the_environment_follows_the_package_directories(tmp_path, monkeypatch):
    site = tmp_path / "site-packages"
    site.mkdir()
    monkeypatch.setattr("sys.path", [str(site), str(tmp_path)])
    before = cache.environment()
    (tmp_path / "a_script.py").write_text("")  # the working directory is not an install
    assert cache.environment() == before
    (site / "timm-1.0.dist-info").mkdir()  # what an install adds
    assert cache.environment() != before


def test_a_passing_shortage_is_not_kept(monkeypatch):
    import lorlint.models.introspect as introspect

    calls = []

    def out_of_memory(config, task):
        calls.append(task)
        raise IntrospectionError("cannot build: out of memory") from MemoryError()

    monkeypatch.setattr(introspect, "introspect", out_of_memory)
    _build()
    _build()
    assert len(calls) == 2


def test_a_damaged_or_foreign_failure_entry_is_ignored(builds):
    _build()
    (entry,) = list(cache._dir(view.installed_transformers() or "").glob("*.failed.json"))
    for damaged in (
        b"{",
        b'{"format": 1}',
        entry.read_bytes().replace(b'"format": 1', b'"format": 9'),
    ):
        entry.write_bytes(damaged)
        _build()
    assert len(builds) == 4


def test_a_class_given_another_types_config_says_so_when_it_fails():
    """``Qwen2ForCausalLM.from_pretrained`` on a Qwen2-VL checkpoint: transformers reads the
    whole qwen2_vl config into Qwen2Config with a warning, and the model cannot be built from it.
    The failure names both types, not only transformers' internal error."""
    pytest.importorskip("torch")
    from transformers import CONFIG_MAPPING

    from lorlint.models.introspect import build_model

    config = CONFIG_MAPPING["qwen2_vl"]().to_dict()
    with pytest.raises(IntrospectionError) as failed:
        build_model(config, "Qwen2ForCausalLM")
    assert str(failed.value).startswith(
        "cannot build Qwen2ForCausalLM from a qwen2_vl config, which transformers warns is not "
        "supported in a qwen2 model unless the checkpoint shares that architecture: "
    )
    assert build_model(CONFIG_MAPPING["qwen2"]().to_dict(), "Qwen2ForCausalLM") is not None
