"""The bundled catalog equals what the installed transformers builds, table for table."""

from __future__ import annotations

import pytest

from lorlint.models import catalog
from lorlint.models.index_data import CONFIGS, MODELS
from lorlint.models.table import LayerTable
from lorlint.models.view import static_default_task

pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from lorlint.models.introspect import default_task, introspect  # noqa: E402


def test_catalog_is_stamped_with_the_installed_transformers():
    assert catalog.transformers_version() == transformers.__version__, (
        "the catalog was built with another transformers: run `make catalog`"
    )


def test_every_index_entry_has_a_table():
    assert set(catalog.keys()) == set(CONFIGS)
    assert set(MODELS.values()) <= set(CONFIGS)


@pytest.mark.parametrize("key", sorted(CONFIGS))
def test_catalog_table_matches_a_fresh_build(key):
    config = CONFIGS[key]
    task = static_default_task(config)
    assert task == (config.get("task") or default_task(config["model_type"]))
    fresh = introspect(config, task).to_json()
    stored = catalog.get(key, task)
    assert stored is not None
    assert stored.to_json() == LayerTable.from_json(fresh).to_json()
