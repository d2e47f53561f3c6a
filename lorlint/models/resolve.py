"""Model reference → config, offline by default, remembering which source answered and how sure
that makes lorlint.

Exact sources first — the model's own config.json: a local directory, the Hugging Face cache, the
bundled index of real configs, and (``--online``) a download, tried before anything is derived.
Then the *architecture* alone, with its default config: a transformers class named as the model,
the concrete class the script loads with, or the model type the hub id spells (derive.py). What
none of these place is unknown: ``ModelNotFound`` names every source tried.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
from functools import lru_cache
from pathlib import Path

from lorlint.models import index_data
from lorlint.models.derive import derive, strip_quantization

SOURCE_LABELS = {
    "local": "local config.json",
    "hf-cache": "Hugging Face cache",
    "bundled": "bundled index",
    "online": "downloaded config.json",
    "class": "transformers class",
    "loader": "the class the script loads",
    "name": "model type in the name",
    "torchtune": "torchtune builder",
}
# Sources that give this very model's config.json: sizes and layout are its own.
EXACT_SOURCES = frozenset({"local", "hf-cache", "bundled", "online", "torchtune"})
EXACT, ARCHITECTURE = "exact", "architecture"
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*(/[\w.\-]+)?$")
_CLASS_NAME = re.compile(r"[A-Z]\w*(Model|LMHeadModel|For\w+)")
HOW_TO_DECLARE = (
    "name the model with `# lorlint: model=ORG/NAME` (an id lorlint knows, or a local directory "
    "with its config.json), pass --model, or allow the download with --online"
)


class ModelNotFound(Exception):
    """No source could place the model; ``tried`` says what was looked at."""

    def __init__(self, reference: str, tried: list[str], reason: str = ""):
        self.reference = reference
        self.tried = tried
        self.reason = reason
        detail = reason or f"tried {', '.join(tried)}"
        super().__init__(f"cannot resolve model {reference!r}: {detail}")


class ResolvedModel:
    def __init__(
        self,
        reference: str,
        config: dict,
        source: str,
        location: str = "",
        index_key: str | None = None,
        remote_code: bool = False,
        tried: list[str] | None = None,
    ):
        self.reference = reference
        # config.json as a dict (model_type always present); a default: {"model_type"}
        self.config = config
        self.source = source  # a key of SOURCE_LABELS
        # path, cache file, index key, class name or the rule that placed it
        self.location = location
        self.index_key = index_key  # bundled index entry, when that answered
        self.remote_code = remote_code
        self.tried = [] if tried is None else tried

    @property
    def model_type(self) -> str:
        return self.config["model_type"]

    @property
    def source_label(self) -> str:
        label = SOURCE_LABELS.get(self.source, self.source)
        return f"{label}: {self.location}" if self.location else label

    @property
    def certainty(self) -> str:
        """``exact``: this model's own config; ``architecture``: its type, sizes unknown."""
        return EXACT if self.source in EXACT_SOURCES else ARCHITECTURE


def decode_special_floats(value):
    """transformers 5 writes infinity and NaN into config.json as ``{"__float__": "Infinity"}``
    (``PreTrainedConfig._encode_special_floats``); read them back as floats, as it does."""
    if isinstance(value, dict):
        if set(value) == {"__float__"} and isinstance(value["__float__"], str):
            tag = {"Infinity": float("inf"), "-Infinity": float("-inf"), "NaN": float("nan")}
            return tag.get(value["__float__"], value)
        return {k: decode_special_floats(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode_special_floats(v) for v in value]
    return value


MAX_CONFIG_BYTES = 8_000_000  # real config.json files are kilobytes; label maps reach ~1 MB


def read_json(path: Path):
    """A JSON file of bounded size (SourceError, a ValueError, when it is not one)."""
    from lorlint.frontends.source import read_bytes

    return json.loads(read_bytes(path, MAX_CONFIG_BYTES).decode("utf-8"))


def read_config(path: Path) -> dict:
    data = read_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("model_type"), str):
        raise ValueError(f"{path} has no model_type")
    return decode_special_floats(data)


def _from_local(reference: str, base_dirs: list[Path]) -> tuple[Path, dict] | None:
    if (
        not reference.startswith("~")
        and not os.path.isabs(reference)
        and _surely_absent(reference, base_dirs)
    ):
        return None
    candidates = [Path(reference).expanduser()]
    if not candidates[0].is_absolute():
        candidates = [d / reference for d in base_dirs] + [Path.cwd() / reference]
    for directory in candidates:
        config = directory / "config.json"
        if config.is_file():
            return config, read_config(config)
        adapter = directory / "adapter_config.json"
        if adapter.is_file():  # a saved adapter directory: follow it to its base model
            return adapter, {"__adapter__": read_json(adapter)}
    return None


def _surely_absent(reference: str, base_dirs: list[Path]) -> bool:
    """Whether no directory ``_from_local`` tries for a relative ``reference`` has a
    ``config.json`` or ``adapter_config.json`` file, asked without path objects (most references
    are hub ids, in no directory, and every model view asks). The answers of the same ``stat``
    calls (a directory that is not there, ENOENT or ENOTDIR, gives its files' calls the same
    error: it is passed over with one call); False on any other error (no permission): the path
    objects raise it as before."""
    for base in [*base_dirs, None]:  # None: the working directory, as Path.cwd()
        here = os.path.join(os.getcwd() if base is None else base, reference)
        try:
            os.stat(here)
        except OSError as err:
            if err.errno in (errno.ENOENT, errno.ENOTDIR):
                continue
        except ValueError:
            continue
        for name in ("config.json", "adapter_config.json"):
            try:
                if stat.S_ISREG(os.stat(os.path.join(here, name)).st_mode):
                    return False
            except OSError as err:  # Path.is_file: these mean "no such file"
                if err.errno not in (errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP):
                    return False
            except ValueError:  # a name the file system cannot take: no file either
                pass
    return True


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
        return path, read_config(Path(path))
    return None


@lru_cache(maxsize=1)
def _index_lookup() -> dict[str, str]:
    """The bundled index by lower-cased hub id, built once per process (callers only read it)."""
    return {k.lower(): v for k, v in index_data.MODELS.items()}


def index_key_for(reference: str) -> str | None:
    """The bundled index entry for a hub id, case-insensitively; quantized mirrors map to the original."""
    table = _index_lookup()
    ref = reference.strip().lower()
    if ref in table:
        return table[ref]
    org, _, name = ref.rpartition("/")
    stripped = f"{org}/{strip_quantization(name)}" if org else strip_quantization(name)
    return table.get(stripped)


def index_config(key: str) -> dict:
    return dict(index_data.CONFIGS[key])


def _download(reference: str) -> tuple[str, dict]:
    from huggingface_hub import hf_hub_download

    path = hf_hub_download(reference, "config.json")
    return path, read_config(Path(path))


def class_model_type(name: str) -> tuple[str, str] | None:
    """A transformers model class → (model type of its config class, task), from the catalog;
    asks the installed transformers only for a class the catalog does not know."""
    from lorlint.models import catalog

    found = catalog.class_info(name)
    if found is not None:
        return found
    if not _CLASS_NAME.fullmatch(name) or name.startswith("Auto"):
        return None
    from lorlint.models.view import can_introspect, installed_transformers

    if not can_introspect() or installed_transformers() == catalog.transformers_version():
        return None  # the catalog knows every class the installed transformers maps
    try:
        import transformers

        cls = getattr(transformers, name, None)
        config_type = getattr(getattr(cls, "config_class", None), "model_type", None)
    except Exception:
        return None
    return (config_type, "") if config_type else None


def resolve(
    reference: str,
    base_dir: str | Path | None = None,
    online: bool = False,
    loader: str | None = None,
) -> ResolvedModel:
    """Find the config for ``reference``; raises ModelNotFound naming every source tried.

    ``loader`` is the concrete transformers class the script loads with, if any: it places the
    architecture when no exact source has the model's config."""
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
            return resolve(base, base_dir=path.parent, online=online, loader=loader)
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

    if online:
        tried.append("download")
        try:
            path, config = _download(reference)
        except Exception as err:
            raise ModelNotFound(reference, tried, f"download failed: {err}") from err
        return _finish(ResolvedModel(reference, config, "online", path, tried=tried))
    tried.append("download (off: pass --online)")

    tried.append("transformers class")
    by_class = class_model_type(reference)
    if by_class is not None:
        return ResolvedModel(
            reference, {"model_type": by_class[0]}, "class", reference, tried=tried
        )

    if loader:
        tried.append(f"loader {loader}")
        by_loader = class_model_type(loader)
        if by_loader is not None:
            config = {"model_type": by_loader[0]}
            return ResolvedModel(reference, config, "loader", loader, tried=tried)

    from lorlint.models import catalog

    if reference in catalog.model_types():  # a model type itself: `lorlint models qwen3_next`
        config = {"model_type": reference}
        return ResolvedModel(reference, config, "name", "a model type of transformers", tried=tried)
    derived = derive(reference)
    tried.append(f"the name ({derived.how})" if derived.model_type is None else "the name")
    if derived.model_type is not None:
        how = derived.how.removeprefix("alias: ")
        return ResolvedModel(
            reference, {"model_type": derived.model_type}, "name", how, tried=tried
        )
    raise ModelNotFound(
        reference, tried, f"unknown to lorlint (tried {', '.join(tried)}); {HOW_TO_DECLARE}"
    )


def _finish(resolved: ResolvedModel) -> ResolvedModel:
    """Mark configs whose model_type needs remote code (never run: lorlint cannot build them)."""
    if "auto_map" in resolved.config:
        from lorlint.models import catalog

        if resolved.model_type not in catalog.model_types():
            try:
                from transformers import CONFIG_MAPPING

                resolved.remote_code = resolved.model_type not in CONFIG_MAPPING
            except ImportError:
                resolved.remote_code = True
    return resolved
