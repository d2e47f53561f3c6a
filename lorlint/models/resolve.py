"""Model reference → config, offline by default, remembering which source answered.

Order: a local directory with ``config.json``; the Hugging Face cache; the bundled index; name
heuristics (low confidence); and only when asked, a download of ``config.json`` alone.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from lorlint.models import index_data

SOURCE_LABELS = {
    "local": "local config.json",
    "hf-cache": "Hugging Face cache",
    "bundled": "bundled index",
    "heuristic": "name heuristic (low confidence)",
    "online": "downloaded config.json",
    "class": "class default config",
    "torchtune": "torchtune builder",
}
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*(/[\w.\-]+)?$")
_QUANT_SUFFIX = re.compile(r"(-unsloth)?(-bnb)?-(4|8)bit$|-awq$|-gptq(-int4)?$", re.IGNORECASE)


class ModelNotFound(Exception):
    """No source could give a config; ``tried`` says what was looked at."""

    def __init__(self, reference: str, tried: list[str], reason: str = ""):
        self.reference = reference
        self.tried = tried
        self.reason = reason
        detail = reason or f"tried {', '.join(tried)}"
        super().__init__(f"cannot resolve model {reference!r}: {detail}")


@dataclass
class ResolvedModel:
    reference: str
    config: dict  # config.json as a dict (model_type always present)
    source: str  # a key of SOURCE_LABELS
    location: str = ""  # path, cache file or index key
    index_key: str | None = None  # bundled index entry, when that answered
    remote_code: bool = False
    tried: list[str] = field(default_factory=list)

    @property
    def model_type(self) -> str:
        return self.config["model_type"]

    @property
    def source_label(self) -> str:
        label = SOURCE_LABELS.get(self.source, self.source)
        return f"{label}: {self.location}" if self.location else label

    @property
    def confident(self) -> bool:
        return self.source != "heuristic"


def _read_config(path: Path) -> dict:
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    if not isinstance(data, dict) or "model_type" not in data:
        raise ValueError(f"{path} has no model_type")
    return data


def _from_local(reference: str, base_dirs: list[Path]) -> tuple[Path, dict] | None:
    candidates = [Path(reference).expanduser()]
    if not candidates[0].is_absolute():
        candidates = [d / reference for d in base_dirs] + [Path.cwd() / reference]
    for directory in candidates:
        config = directory / "config.json"
        if config.is_file():
            return config, _read_config(config)
        adapter = directory / "adapter_config.json"
        if adapter.is_file():  # a saved adapter directory: follow it to its base model
            return adapter, {"__adapter__": json.loads(adapter.read_text(encoding="utf-8"))}
    return None


def _from_hf_cache(reference: str) -> tuple[str, dict] | None:
    if not _REPO_ID.match(reference):
        return None
    try:
        from huggingface_hub import constants

        # A cheap look for the repo's cache folder first: the full helper imports an HTTP client.
        folder = "models--" + reference.replace("/", "--")
        if not os.path.isdir(os.path.join(constants.HF_HUB_CACHE, folder)):
            return None
        from huggingface_hub import try_to_load_from_cache

        path = try_to_load_from_cache(reference, "config.json")
    except Exception:  # invalid repo id, unreadable cache
        return None
    if isinstance(path, str) and os.path.isfile(path):
        return path, _read_config(Path(path))
    return None


def _index_lookup() -> dict[str, str]:
    return {k.lower(): v for k, v in index_data.MODELS.items()}


def index_key_for(reference: str) -> str | None:
    """The bundled index entry for a hub id, case-insensitively; quantized mirrors map to the original."""
    table = _index_lookup()
    ref = reference.strip().lower()
    if ref in table:
        return table[ref]
    stripped = _QUANT_SUFFIX.sub("", ref)
    if stripped in table:
        return table[stripped]
    return None


def index_config(key: str) -> dict:
    return dict(index_data.CONFIGS[key])


def heuristic_key(reference: str) -> str | None:
    name = reference.lower().rpartition("/")[2] or reference.lower()
    for needle, key in index_data.HEURISTICS:
        if needle in name:
            return key
    return None


def _download(reference: str) -> tuple[str, dict]:
    from huggingface_hub import hf_hub_download

    path = hf_hub_download(reference, "config.json")
    return path, _read_config(Path(path))


def _class_config(reference: str) -> tuple[str, dict] | None:
    """An explicit transformers class name (``GPT2LMHeadModel``): its config class's defaults."""
    if not re.fullmatch(r"[A-Z]\w*(Model|LMHeadModel|For\w+)", reference):
        return None
    try:
        import transformers

        cls = getattr(transformers, reference, None)
        config_class = getattr(cls, "config_class", None)
        if config_class is None:
            return None
        return reference, {**config_class().to_dict(), "model_type": config_class.model_type}
    except Exception:
        return None


def resolve(
    reference: str, base_dir: str | Path | None = None, online: bool = False
) -> ResolvedModel:
    """Find the config for ``reference``; raises ModelNotFound naming every source tried."""
    tried: list[str] = []
    base_dirs = [Path(base_dir)] if base_dir else []
    try:
        local = _from_local(reference, base_dirs)
    except (OSError, ValueError) as err:
        raise ModelNotFound(reference, tried, f"unreadable config: {err}") from err
    tried.append("local directory")
    if local is not None:
        path, config = local
        if "__adapter__" in config:
            base = config["__adapter__"].get("base_model_name_or_path")
            if not base:
                raise ModelNotFound(reference, tried, f"{path} names no base_model_name_or_path")
            return resolve(base, base_dir=path.parent, online=online)
        return _finish(ResolvedModel(reference, config, "local", str(path), tried=tried))

    tried.append("Hugging Face cache")
    try:
        cached = _from_hf_cache(reference)
    except (OSError, ValueError):
        cached = None
    if cached is not None:
        return _finish(ResolvedModel(reference, cached[1], "hf-cache", cached[0], tried=tried))

    tried.append("bundled index")
    key = index_key_for(reference)
    if key is not None:
        return ResolvedModel(reference, index_config(key), "bundled", key, key, tried=tried)

    tried.append("transformers class")
    by_class = _class_config(reference)
    if by_class is not None:
        return ResolvedModel(reference, by_class[1], "class", by_class[0], tried=tried)

    tried.append("name heuristics")
    key = heuristic_key(reference)
    if key is not None:
        return ResolvedModel(reference, index_config(key), "heuristic", key, key, tried=tried)

    if online:
        tried.append("download")
        try:
            path, config = _download(reference)
        except Exception as err:
            raise ModelNotFound(reference, tried, f"download failed: {err}") from err
        return _finish(ResolvedModel(reference, config, "online", path, tried=tried))
    tried.append("download (off: pass --online)")
    raise ModelNotFound(reference, tried)


def _finish(resolved: ResolvedModel) -> ResolvedModel:
    """Mark configs whose model_type needs remote code (never run: lorlint cannot build them)."""
    if "auto_map" in resolved.config:
        try:
            from transformers import CONFIG_MAPPING

            resolved.remote_code = resolved.model_type not in CONFIG_MAPPING
        except ImportError:
            resolved.remote_code = True
    return resolved
