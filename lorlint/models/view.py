"""A model view: the resolved config plus its layer table, and how sure lorlint is of both.

Tables come from the cheapest source that is right for the installed transformers: the bundled
catalog when it was built with the installed version (or torch is absent), the on-disk cache, or
a meta-device build. How the script loads the model decides which table: a concrete class
(``ViTForImageClassification``) fixes the model type and, where it is exactly what a task's Auto
class builds for that type, the catalog's table (``catalog.auto_class_task``; any other class is
built); an Auto class fixes the task; with neither the architecture's natural task is used.

Certainty (``ModelView.certainty``):

* ``exact`` — the model's own config.json: names, counts and shapes are the model's;
* ``architecture`` — the model type is known (from a class or the name) but not its sizes: the
  table comes from the type's default config, so its names are the architecture's, its counts
  only roughly the model's, and names that depend on layout fields (dense-first layers, MoE
  interleaving, optional heads) may differ both ways.
"""

from __future__ import annotations

import importlib.util
import os
import re
from functools import lru_cache
from pathlib import Path

from lorlint.cachedir import cache_dir
from lorlint.models import catalog, oumi
from lorlint.models.resolve import ARCHITECTURE, EXACT, ModelNotFound, ResolvedModel, resolve
from lorlint.models.table import LayerTable
from lorlint.models.tasks import (
    TASK_AUTO_CLASS,
    auto_class,
    canonical_task,
    is_task,
    task_of_auto_class,
)
from lorlint.versions import entry_names

_INDEX = re.compile(r"(?<=\.)\d+(?=\.|$)|^\d+(?=\.|$)")


class ModelView:
    def __init__(
        self,
        resolved: ResolvedModel,
        table: LayerTable | None,
        task: str,
        table_source: str = "",
        note: str = "",
        certainty: str = EXACT,
        unstable: frozenset[str] | None = None,
        optional: frozenset[str] | None = None,
    ):
        self.resolved = resolved
        self.table = table
        self.task = task  # a task name (causal-lm, ...), or the concrete class the script loads
        self.table_source = table_source  # catalog | cache | introspected
        self.note = note  # why the table is approximate or missing
        self.certainty = certainty
        self.unstable = frozenset() if unstable is None else unstable  # names some layouts lack
        # names only other layouts have
        self.optional = frozenset() if optional is None else optional

    @property
    def reference(self) -> str:
        return self.resolved.reference

    @property
    def model_type(self) -> str:
        """The model type of the model as built (Llama 4 loaded as a causal LM: llama4_text)."""
        if self.table is not None and self.table.model_type:
            return self.table.model_type
        return self.resolved.model_type

    @property
    def exact(self) -> bool:
        return self.certainty == EXACT

    def describe(self) -> str:
        """``meta-llama/Llama-3.1-8B (llama, bundled index)``: how messages name the model."""
        if self.exact:
            return f"{self.reference} ({self.model_type}, {self.resolved.source_label})"
        return f"{self.reference} ({self.model_type} from {self.resolved.source_label})"

    def might_have(self, entry: str) -> bool:
        """Whether a ``target_modules`` entry could match a module this table lacks: a name
        that only other layouts of the architecture have (never, for an exact view)."""
        if self.exact or not self.optional:
            return False
        wanted = _INDEX.sub("N", entry)
        return any(name == wanted or name.endswith("." + wanted) for name in self.optional)

    def certain(self, spec, result):
        """PEFT's outcome (a MatchResult), or None where it rests on a name the default config
        lacks but the real model may have: "no entry matches" is certain only when no other
        layout of the architecture has a match either."""
        if result is None or self.exact or result.error is None or spec is None:
            return result
        targets = spec.target_modules
        if (
            result.error.kind == "not-found"
            and isinstance(targets, (list, tuple, set))
            and any(isinstance(t, str) and self.might_have(t) for t in targets)
        ):
            return None
        return result

    def other_layout_names(self) -> list[str]:
        """Full names only other layouts of the architecture have, block indices filled in (the
        first with every layer of the default config, deeper ones with 0–3): what a regex or
        an exclusion could match on the real model although it matches nothing here."""
        if self.exact or not self.optional:
            return []
        layers = max(1, min(self.table.num_hidden_layers or 64, 256)) if self.table else 64
        out: list[str] = []
        for name in sorted(self.optional):
            names = [name]
            first = True
            while any("N" in n.split(".") for n in names):
                count = layers if first else 4
                names = [_fill_first(n, i) for n in names for i in range(count)]
                first = False
            out.extend(names)
        return out

    def name_is_stable(self, name: str) -> bool:
        """Whether a module of this table exists in every layout of the architecture."""
        return self.exact or not self.unstable or _INDEX.sub("N", name) not in self.unstable


def _fill_first(name: str, index: int) -> str:
    parts = name.split(".")
    parts[parts.index("N")] = str(index)
    return ".".join(parts)


@lru_cache(maxsize=1)
def installed_transformers() -> str | None:
    """The installed transformers version without importing it (or importlib.metadata, 20 ms)."""
    spec = importlib.util.find_spec("transformers")
    if spec is None or not spec.origin:
        return None
    site = os.path.dirname(os.path.dirname(spec.origin))
    found = [  # what Path.glob("transformers-*.dist-info") finds, without a path object each
        name
        for name in entry_names(site)
        if name.startswith("transformers-") and name.endswith(".dist-info")
    ]
    if len(found) == 1:
        return found[0].removeprefix("transformers-").removesuffix(".dist-info")
    from importlib import metadata

    try:
        return metadata.version("transformers")
    except metadata.PackageNotFoundError:
        return None


@lru_cache(maxsize=1)
def can_introspect() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("torch", "transformers"))


def _catalog_is_current() -> bool:
    """The catalog answers for the installed transformers (or for a torch-free install)."""
    return installed_transformers() == catalog.transformers_version() or not can_introspect()


def choose_task(resolved: ResolvedModel, task: str | None, loader: str | None) -> str:
    """The task or concrete class the model is built through.

    A concrete class the script loads with, an Auto class, the caller's task, then the
    architecture's natural task (what it is most often fine-tuned as)."""
    if resolved.source == "class":
        return resolved.location
    if loader:
        auto = task_of_auto_class(loader)
        if auto is not None:
            return auto
        from lorlint.models.resolve import class_model_type

        if class_model_type(loader) is not None:
            return loader
    if task:
        return canonical_task(task)
    if resolved.config.get("task") in TASK_AUTO_CLASS:  # the bundled index's key, never a class
        return resolved.config["task"]
    natural = catalog.natural_task(resolved.model_type)
    if natural is None and can_introspect():
        natural = _natural_with_transformers(resolved.model_type)
    return natural or "causal-lm"


def _natural_with_transformers(model_type: str) -> str | None:
    """For a type the catalog lacks (another transformers): the first catalogued task that maps it."""
    try:
        from transformers.models.auto import modeling_auto
    except ImportError:
        return None
    for task, auto in TASK_AUTO_CLASS.items():
        mapping = getattr(getattr(modeling_auto, auto, None), "_model_mapping", None)
        if model_type in getattr(mapping, "_model_mapping", {}):
            return task
    return None


def table_for(resolved: ResolvedModel, task: str) -> tuple[LayerTable | None, str, str, str]:
    """(table, where it came from, note, certainty) for a resolved config loaded through ``task``."""
    if resolved.certainty == EXACT:
        found = _exact_table(resolved, task)
        if found[0] is not None or can_introspect() or resolved.remote_code:
            return (*found, EXACT)
        table, source, note = _type_table(resolved.model_type, task)
        why = "torch is not installed: names from the architecture's default config"
        return table, source, f"{why}; {note}" if note else why, ARCHITECTURE
    return (*_type_table(resolved.model_type, task), ARCHITECTURE)


def _exact_table(resolved: ResolvedModel, task: str) -> tuple[LayerTable | None, str, str]:
    key = resolved.index_key
    if key and _catalog_is_current():
        table = catalog.entry_table(key, _catalog_task(task, resolved.model_type))
        if table is not None:
            return table, "catalog", ""
    if resolved.remote_code:
        return None, "", "remote-code model: lorlint never sets trust_remote_code"
    if not can_introspect():
        return None, "", ""
    unbuildable = _unbuildable(resolved.model_type, task, default_config=False)
    if unbuildable:
        return None, "", unbuildable
    return _build(resolved.config, task)


def _type_table(model_type: str, task: str) -> tuple[LayerTable | None, str, str]:
    """The table of ``model_type`` from its default config (catalog, cache or a build)."""
    if not is_task(task):  # a concrete class: the model type of its config class
        from lorlint.models.resolve import class_model_type

        found = class_model_type(task)
        if found is not None:
            model_type = found[0]
    if _catalog_is_current():
        table = catalog.type_table(model_type, _catalog_task(task, model_type))
        if table is not None:
            return table, "catalog", ""
        unbuildable = _unbuildable(model_type, task)
        if unbuildable or not can_introspect():
            return None, "", unbuildable or _no_torch()
    if not can_introspect():
        return None, "", _no_torch()
    return _build({"model_type": model_type}, task)


def _catalog_task(task: str, model_type: str) -> str:
    """The task the catalog keeps this table under: the task itself, or for a concrete class the
    task whose Auto class builds exactly that class for the model type (``auto_class_task``: same
    class, same config, same table). A class not proven so stays a class, which the catalog has
    no table under: it is built once and cached."""
    if is_task(task):
        return canonical_task(task)
    return catalog.auto_class_task(task, model_type) or task


def _unbuildable(model_type: str, task: str, default_config: bool = True) -> str:
    """Why the catalogued transformers cannot build this type for this task ("" if it can, or
    when the catalog is not for the installed transformers and so cannot tell). A type whose
    *default* config does not build may still build from a real one."""
    if not _catalog_is_current():
        return ""
    version = catalog.transformers_version()
    if model_type not in catalog.model_types():
        return f"model type {model_type!r} is not in transformers {version}"
    reason = catalog.unbuildable_reason(model_type)
    if reason and default_config:
        return f"transformers {version} cannot build {model_type} from its default config: {reason}"
    if reason:
        return ""
    tasks = catalog.type_tasks(model_type)
    if is_task(task) and canonical_task(task) not in tasks:
        loads = ", ".join(sorted(tasks))
        return (
            f"transformers {version} has no {auto_class(task)} for {model_type} "
            f"(it loads {model_type} as: {loads})"
        )
    return ""


def _no_torch() -> str:
    return 'building a layer table needs torch and transformers: pip install "lorlint[models]"'


# Tables read or built in this process, by cache directory and key: each file of a run that loads
# the same model shares one read-only table, and a model that cannot be built is tried once. The
# oldest go first past MAX_BUILT (the server's worker lives long).
_BUILT: dict[tuple[str, str], tuple[LayerTable | None, str, str]] = {}
MAX_BUILT = 64


def _build(config: dict, task: str) -> tuple[LayerTable | None, str, str]:
    from lorlint.models import cache

    installed = installed_transformers() or ""
    key = cache.table_key(config, task, installed)
    memo = (str(cache_dir()), key)
    if memo in _BUILT:
        return _BUILT[memo]
    if len(_BUILT) >= MAX_BUILT:
        del _BUILT[next(iter(_BUILT))]
    table = cache.load(key, installed)
    if table is not None:
        _BUILT[memo] = (table, "cache", "")
        return _BUILT[memo]
    failed = cache.load_failure(key, installed)
    if failed is not None:  # failed before with the same packages: it would fail the same way
        _BUILT[memo] = (None, "", failed)
        return _BUILT[memo]
    from lorlint.models.introspect import IntrospectionError, introspect

    try:
        table = introspect(config, task)
    except IntrospectionError as err:
        if not isinstance(err.__cause__, (MemoryError, RecursionError, OSError)):
            cache.store_failure(key, installed, str(err))  # not a passing shortage: kept
        _BUILT[memo] = (None, "", str(err))
        return _BUILT[memo]
    cache.store(key, installed, table)
    _BUILT[memo] = (table, "cache", "")
    return table, "introspected", ""


def load_view(
    reference: str,
    task: str | None = None,
    base_dir: str | Path | None = None,
    online: bool = False,
    loader: str | None = None,
) -> ModelView:
    """Resolve ``reference`` and attach its layer table; raises ModelNotFound.

    ``loader`` is the class the script loads the model with (``AutoModelForCausalLM``,
    ``ViTForImageClassification``, ``FastLanguageModel``; ``oumi``: the class oumi picks for the
    model type, models/oumi.py), ``task`` lorlint's task name for it."""
    by_oumi = loader == oumi.LOADER
    if by_oumi:
        loader = None
    concrete = loader if loader and task_of_auto_class(loader) is None else None
    resolved = resolve(reference, base_dir=base_dir, online=online, loader=concrete)
    if by_oumi and resolved.model_type:
        task = oumi.oumi_task(resolved.model_type)
    chosen = choose_task(resolved, task, loader)
    if not is_task(chosen) and not chosen[:1].isupper():
        raise ModelNotFound(reference, resolved.tried, f"unknown task {chosen!r}")
    table, source, note, certainty = table_for(resolved, chosen)
    view = ModelView(resolved, table, chosen, source, note, certainty)
    if certainty == ARCHITECTURE and table is not None:
        built = table.model_type if table.model_type in catalog.model_types() else None
        view.unstable, view.optional = catalog.layout_names(built or resolved.model_type)
    return view
