"""A concrete class that is exactly what a task's Auto class builds answers from the catalog.

``GPT2LMHeadModel.from_pretrained("gpt2")`` builds what ``AutoModelForCausalLM`` builds for a
gpt2 config: same class, same config, same modules (catalog.auto_class_task). Here: the relation
is what transformers' Auto mappings say today, the catalog's tables equal real builds through the
class, a class not proven so is still built, and the fixtures that load such classes lint from
the catalog with an empty cache, without importing torch, with the findings a build gives.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import pytest
from helpers import REPO

from lorlint.models import catalog, view
from lorlint.models.index_data import CONFIGS

FIXTURES = ("fixtures/gpt2_llama_names.py", "fixtures/vlm_qwen2vl.py")


def _generator():
    script = REPO / "scripts" / "gen_auto_targets.py"
    spec = importlib.util.spec_from_file_location("gen_auto_targets", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_data_is_current():
    """lorlint/models/auto_targets.json is what scripts/gen_auto_targets.py reads from the
    installed transformers' *_MAPPING_NAMES now, stamped with its version."""
    pytest.importorskip("transformers")
    generator = _generator()
    version, sources, targets = generator.collect()
    assert generator.render(version, sources, targets) == catalog.AUTO_TARGETS.read_text(), (
        "run `python scripts/gen_auto_targets.py` (make catalog)"
    )
    assert sources["causal-lm"] == "MODEL_FOR_CAUSAL_LM_MAPPING_NAMES"
    assert catalog.raw_auto_targets()["transformers_version"] == catalog.transformers_version()


@pytest.mark.parametrize(
    ("cls_name", "model_type", "task"),
    [
        ("GPT2LMHeadModel", "gpt2", "causal-lm"),
        ("Qwen2VLForConditionalGeneration", "qwen2_vl", "image-text-to-text"),
        ("BertForTokenClassification", "bert", "token-cls"),
        ("T5ForConditionalGeneration", "t5", "seq2seq-lm"),
        ("WhisperForConditionalGeneration", "whisper", "speech-seq2seq"),
        ("DepthAnythingForDepthEstimation", "depth_anything", "AutoModelForDepthEstimation"),
    ],
)
def test_the_auto_target_of_a_type_is_proven(cls_name, model_type, task):
    assert catalog.auto_class_task(cls_name, model_type) == task


@pytest.mark.parametrize(
    ("cls_name", "model_type"),
    [
        ("Llama4ForCausalLM", "llama4"),  # the Auto class hands it the text part of the config
        ("GPT2LMHeadModel", "gpt-sw3"),  # mapped, but its config class is gpt2's, not gpt-sw3's
        ("Qwen2ForCausalLM", "qwen2_vl"),  # another type's class
        ("DeiTForImageClassification", "deit"),  # one of two classes: Auto picks by the config
        ("BertForMultipleChoice", "bert"),  # the Auto target of a task the catalog has no table for
        ("MyLlamaForCausalLM", "llama"),  # not transformers'
    ],
)
def test_other_classes_are_not(cls_name, model_type):
    assert catalog.auto_class_task(cls_name, model_type) is None


def test_nothing_is_proven_against_a_catalog_of_another_transformers(monkeypatch):
    other = {**catalog.raw_auto_targets(), "transformers_version": "0.0.0"}
    monkeypatch.setattr(catalog, "raw_auto_targets", lambda: other)
    assert catalog.auto_class_task("GPT2LMHeadModel", "gpt2") is None


def test_tasks_building_one_class_hold_one_table():
    """Across the whole catalog, tasks whose Auto class builds the same class from the type's own
    config hold the same table (the builder keeps identical tables once): same class, same config,
    same modules, on every type and every bundled-index entry."""
    shared = 0
    for model_type, info in catalog.raw_index()["types"].items():
        keys: dict[str, list[str]] = {}
        for cls_name, built_type, key in info["tasks"].values():
            if built_type == model_type:
                keys.setdefault(cls_name, []).append(key)
        assert all(len(set(k)) == 1 for k in keys.values()), model_type
        shared += sum(len(k) > 1 for k in keys.values())
    assert shared > 0
    for key in catalog.raw_index()["entries"]:
        model_type = CONFIGS[key]["model_type"]
        for task in catalog.entry_tasks(key):
            table = catalog.entry_table(key, task)
            proven = catalog.auto_class_task(table.architecture, model_type)
            assert proven is not None, (key, task)
            assert catalog.entry_table(key, proven).to_json() == table.to_json(), (key, task)


@pytest.mark.parametrize(
    ("cls_name", "source"),
    [
        ("GPT2LMHeadModel", "gpt2"),  # bundled-index entries: their exact tables
        ("Qwen2VLForConditionalGeneration", "qwen2-vl-2b"),
        ("BertForTokenClassification", "bert-base-cased"),
        ("T5ForConditionalGeneration", "t5-small"),
        ("WhisperForConditionalGeneration", "whisper"),  # model types: their default configs
        ("ViTForImageClassification", "vit"),
        ("MixtralForCausalLM", "mixtral"),
    ],
)
def test_catalog_table_equals_a_build_through_the_class(cls_name, source):
    """The proof checked on real meta-device builds: the class built from the config, as
    lorlint builds a class a script loads with, has the catalog's table."""
    pytest.importorskip("torch")
    from lorlint.models.introspect import introspect

    config = CONFIGS.get(source, {"model_type": source})
    task = catalog.auto_class_task(cls_name, config["model_type"])
    if source in CONFIGS:
        stored = catalog.entry_table(source, task)
    else:
        stored = catalog.type_table(source, task)
    built = introspect(config, cls_name)
    assert built.architecture == cls_name
    assert stored.to_json() == built.to_json()


def test_views_through_a_proven_class_come_from_the_catalog():
    gpt2 = view.load_view("gpt2", loader="GPT2LMHeadModel")
    assert (gpt2.table_source, gpt2.certainty, gpt2.task) == ("catalog", "exact", "GPT2LMHeadModel")
    qwen = view.load_view("Qwen/Qwen2-VL-2B-Instruct", loader="Qwen2VLForConditionalGeneration")
    assert (qwen.table_source, qwen.certainty) == ("catalog", "exact")
    whisper = view.load_view("WhisperForConditionalGeneration")
    assert (whisper.table_source, whisper.certainty) == ("catalog", "architecture")


def test_without_torch_a_proven_class_keeps_the_checkpoints_own_table(monkeypatch):
    """A torch-free install (the `lorlint` pre-commit hook) fell back to the architecture's
    default config for a bundled model loaded through its class; now it has the exact table."""
    monkeypatch.setattr(view, "can_introspect", lambda: False)
    qwen = view.load_view("Qwen/Qwen2-VL-2B-Instruct", loader="Qwen2VLForConditionalGeneration")
    assert (qwen.table_source, qwen.certainty) == ("catalog", "exact")
    assert qwen.table is catalog.entry_table("qwen2-vl-2b", "image-text-to-text")


def test_a_class_not_proven_is_still_built(monkeypatch):
    """Qwen2ForCausalLM on a Qwen2-VL checkpoint is no Auto class's choice for qwen2_vl: today's
    behaviour (a build, cached) stands."""
    if not view.can_introspect():
        pytest.skip("needs torch to build")
    calls = []

    def fake_build(config, task):
        calls.append((config["model_type"], task))
        return None, "", "not built here"

    monkeypatch.setattr(view, "_build", fake_build)
    found = view.load_view("Qwen/Qwen2-VL-2B-Instruct", loader="Qwen2ForCausalLM")
    assert calls == [("qwen2_vl", "Qwen2ForCausalLM")] and found.table is None


LINT = """
import json, sys
from lorlint.cli import main
if sys.argv[1] == "build":  # the path before: the class built through torch (and cached)
    from lorlint.models import catalog
    catalog.auto_class_task = lambda cls_name, model_type: None
rc = main(["check", "--no-cache", "--output-format", "json", *sys.argv[2:]])
print("TORCH", "torch" in sys.modules or "transformers" in sys.modules)
"""


def test_fixtures_lint_from_the_catalog_as_after_a_build(tmp_path):
    """With an empty table cache, the fixtures loading GPT2LMHeadModel and
    Qwen2VLForConditionalGeneration give the findings a build gives, and never import torch or
    transformers."""
    outputs = {}
    for how in ("catalog", "build"):
        if how == "build" and not view.can_introspect():
            continue
        env_cache = tmp_path / how
        proc = subprocess.run(
            [sys.executable, "-c", LINT, how, *FIXTURES],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "HF_HUB_OFFLINE": "1", "LORLINT_CACHE_DIR": str(env_cache)},
        )
        findings, _, torch_line = proc.stdout.rpartition("TORCH ")
        outputs[how] = json.loads(findings)
        assert torch_line.strip() == ("True" if how == "build" else "False"), proc.stderr
        assert (env_cache / "tables").is_dir() is (how == "build")
    assert outputs["catalog"]
    assert outputs.get("build", outputs["catalog"]) == outputs["catalog"]
