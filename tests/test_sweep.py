"""The differential sweep (tests/sweep.py) on a fixed sample in CI, on every type with
``LORLINT_SWEEP=all`` (``make sweep``)."""

from __future__ import annotations

import os

import pytest

pytest.importorskip("peft")

from sweep import SAMPLE, buildable_types, sweep_type

from lorlint.models import catalog

TYPES = buildable_types() if os.environ.get("LORLINT_SWEEP") == "all" else list(SAMPLE)


@pytest.mark.parametrize("model_type", TYPES)
def test_matcher_equals_peft_on_every_architecture(model_type):
    if model_type not in catalog.raw_index()["types"]:
        pytest.skip(f"{model_type} is not buildable with the catalogued transformers")
    mismatches = sweep_type(model_type)
    assert not mismatches, "\n".join(map(str, mismatches))


def test_sample_is_catalogued():
    """The CI sample must stay buildable: a type dropping out is a regression to look at."""
    missing = [t for t in SAMPLE if t not in catalog.raw_index()["types"]]
    assert not missing
