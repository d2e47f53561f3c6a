"""A model view: the resolved config plus its layer table, from the cheapest source that is exact.

Tables come from, in order: the bundled catalog when it was built with the installed transformers
(or torch is absent), the on-disk cache, and a meta-device build with the installed transformers.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from lorlint.models import catalog
from lorlint.models.resolve import ModelNotFound, ResolvedModel, resolve
from lorlint.models.table import LayerTable
from lorlint.models.tasks import ENCODER_TYPES, SEQ2SEQ_TYPES, TASK_AUTO_CLASS


@dataclass
class ModelView:
    resolved: ResolvedModel
    table: LayerTable | None
    task: str  # a task of TASK_AUTO_CLASS, or a concrete transformers class name
    table_source: str = ""  # catalog | cache | introspected
    note: str = ""  # why the table is approximate or missing

    @property
    def reference(self) -> str:
        return self.resolved.reference

    @property
    def model_type(self) -> str:
        return self.resolved.model_type

    def describe(self) -> str:
        """``meta-llama/Llama-3.1-8B (llama, bundled index)``: how messages name the model."""
        return f"{self.reference} ({self.model_type}, {self.resolved.source_label})"


@lru_cache(maxsize=1)
def installed_transformers() -> str | None:
    """The installed transformers version without importing it (or importlib.metadata, 20 ms)."""
    spec = importlib.util.find_spec("transformers")
    if spec is None or not spec.origin:
        return None
    site = Path(spec.origin).parent.parent
    found = sorted(site.glob("transformers-*.dist-info"))
    if len(found) == 1:
        return found[0].name.removeprefix("transformers-").removesuffix(".dist-info")
    from importlib import metadata

    try:
        return metadata.version("transformers")
    except metadata.PackageNotFoundError:
        return None


@lru_cache(maxsize=1)
def can_introspect() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("torch", "transformers"))


def static_default_task(config: dict) -> str:
    """The default task without importing transformers (introspect.default_task asks transformers)."""
    if config.get("task"):
        return config["task"]
    model_type = config.get("model_type", "")
    if model_type in SEQ2SEQ_TYPES:
        return "seq2seq-lm"
    if model_type in ENCODER_TYPES:
        return "seq-cls"
    if "vision_config" in config or "audio_config" in config:
        return "image-text-to-text"
    return "causal-lm"


def _task_for(resolved: ResolvedModel, task: str | None) -> str:
    if resolved.source == "class":
        return resolved.location
    return task or static_default_task(resolved.config)


def table_for(resolved: ResolvedModel, task: str) -> tuple[LayerTable | None, str, str]:
    """(table, where it came from, note) for a resolved config loaded through ``task``."""
    installed = installed_transformers()
    key = resolved.index_key
    cat_version = catalog.transformers_version()
    catalogued = catalog.get(key, task) if key else None
    if catalogued is not None and (installed == cat_version or not can_introspect()):
        note = ""
        if installed != cat_version:
            note = (
                f"names from the bundled catalog (transformers {cat_version}); "
                f"installed: {installed or 'none'}"
            )
        return catalogued, "catalog", note
    if resolved.remote_code:
        return None, "", "remote-code model: lorlint never sets trust_remote_code"
    if can_introspect() and installed:
        from lorlint.models import cache

        ckey = cache.table_key(resolved.config, task, installed)
        table = cache.load(ckey, installed)
        if table is not None:
            return table, "cache", ""
        from lorlint.models.introspect import IntrospectionError, introspect

        try:
            table = introspect(resolved.config, task)
        except IntrospectionError as err:
            return None, "", str(err)
        cache.store(ckey, installed, table)
        return table, "introspected", ""
    if key and catalog.tasks(key):
        other = catalog.tasks(key)[0]
        return (
            catalog.get(key, other),
            "catalog",
            f"no torch: showing the bundled {other} table, not {task}",
        )
    return (
        None,
        "",
        'building a layer table needs torch and transformers: pip install "lorlint[models]"',
    )


def load_view(
    reference: str,
    task: str | None = None,
    base_dir: str | Path | None = None,
    online: bool = False,
) -> ModelView:
    """Resolve ``reference`` and attach its layer table; raises ModelNotFound."""
    resolved = resolve(reference, base_dir=base_dir, online=online)
    chosen = _task_for(resolved, task)
    if chosen not in TASK_AUTO_CLASS and resolved.source != "class" and not chosen[:1].isupper():
        raise ModelNotFound(reference, resolved.tried, f"unknown task {chosen!r}")
    table, source, note = table_for(resolved, chosen)
    return ModelView(resolved, table, chosen, source, note)
