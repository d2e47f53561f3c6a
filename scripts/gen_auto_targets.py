"""Regenerate lorlint/models/auto_targets.json from the installed transformers' Auto mappings.

For each Auto model class (a task: lorlint/models/tasks.py), its model mapping — the
``*_MAPPING_NAMES`` dict of ``transformers.models.auto.modeling_auto`` it is built on — says which
class ``from_config`` / ``from_pretrained`` builds for each model type. Inverted, it says for
which (model type, task) a concrete class is exactly what the Auto class would build: the relation
that lets a script loading ``GPT2LMHeadModel`` read the catalog's table for (gpt2, causal-lm)
instead of building the model (lorlint/models/catalog.py ``auto_class_task``). A model type
mapped to several classes (``deit``: the classifier with and without teacher) is left out: there
the Auto class picks by the config's ``architectures``. JSON, one class a line, read only when a
concrete class is met (a Python module of it costs 50 ms to compile where bytecode is not kept).
tests/test_auto_targets.py regenerates it in memory and compares.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "lorlint" / "models" / "auto_targets.json"
sys.path.insert(0, str(REPO))

from lorlint.models.tasks import TASK_AUTO_CLASS, task_of_auto_class  # noqa: E402


def collect() -> tuple[str, dict[str, str], dict[str, list[list[str]]]]:
    """(transformers version, task → name of its ``*_MAPPING_NAMES`` dict, class → the (model
    type, task) pairs whose Auto class builds exactly that class); the catalog's usual tasks
    (TASK_AUTO_CLASS, in its order) first, then every other Auto class, by name."""
    import transformers
    from transformers.models.auto import modeling_auto

    autos = [*TASK_AUTO_CLASS.values()]
    autos += sorted(
        name
        for name, value in vars(modeling_auto).items()
        if name.startswith("AutoModelFor")
        and name not in autos
        and hasattr(value, "_model_mapping")
    )
    # Each Auto class's dict, named: all but one end in _MAPPING_NAMES (one in _TOKENIZATION_NAMES)
    modules = vars(modeling_auto).items()
    by_identity = {id(v): n for n, v in modules if n.endswith("_NAMES") and isinstance(v, dict)}
    sources: dict[str, str] = {}
    targets: dict[str, list[list[str]]] = {}
    for auto in autos:
        task = task_of_auto_class(auto) or auto  # "AutoModel": base
        names = getattr(modeling_auto, auto)._model_mapping._model_mapping
        sources[task] = by_identity[id(names)]  # a KeyError: a mapping with no named dict
        for model_type, cls_name in names.items():
            pair = [model_type, task]
            if isinstance(cls_name, str) and pair not in targets.get(cls_name, ()):
                targets.setdefault(cls_name, []).append(pair)
    return transformers.__version__, sources, dict(sorted(targets.items()))


def render(version: str, sources: dict[str, str], targets: dict[str, list[list[str]]]) -> str:
    """The JSON text: stamped, one entry a line (a transformers upgrade reads as a short diff)."""

    def lines(mapping: dict) -> str:
        return ",\n".join(f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in mapping.items())

    return (
        "{\n"
        ' "generated_by": "scripts/gen_auto_targets.py",\n'
        f' "transformers_version": {json.dumps(version)},\n'
        f' "sources": {{\n{lines(sources)}\n }},\n'
        f' "targets": {{\n{lines(targets)}\n }}\n'
        "}\n"
    )


def main() -> None:
    OUT.write_text(render(*collect()), encoding="utf-8")


if __name__ == "__main__":
    main()
