"""The catalog's leaf names, stored per leaf (leaves.json.gz): the per-architecture view the
catalog script merges and the per-leaf answers LL206 asks for are the same data."""

from lorlint.checks.ll206_mixed_architecture_names import _owners
from lorlint.models import catalog


def test_each_leaf_owner_is_an_architecture_listing_that_leaf_and_back():
    per_type = catalog.raw_leaves()
    assert per_type["llama"] == sorted(per_type["llama"])
    assert {"q_proj", "gate_proj", "embed_tokens"} <= set(per_type["llama"])
    owners = {}
    for model_type, leaves in per_type.items():
        for leaf in leaves:
            owners.setdefault(leaf, set()).add(model_type)
    for leaf in ("q_proj", "c_attn", "query_key_value", "experts"):
        assert catalog.leaf_owners(leaf) == _owners(leaf) == owners[leaf]
    assert catalog.leaf_owners("no_such_leaf_name") == frozenset()


def test_the_stored_data_is_what_the_catalog_script_writes_for_it():
    stored = catalog._owners_by_leaf()
    assert catalog.leaves_data(catalog.raw_leaves()) == stored
    assert list(stored) == sorted(stored)
    assert all(value.split() == sorted(value.split()) for value in stored.values())
