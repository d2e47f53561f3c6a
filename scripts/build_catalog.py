"""Build lorlint/models/catalog/ from the installed transformers (``make catalog``).

For every model type transformers knows, the catalog holds:

* one layer table per task it is loaded for (each ``AutoModelFor*`` class that maps the type among
  lorlint's catalogued tasks, or for types only other Auto classes map, the first that builds),
  built on the meta device from the type's default config, in a per-type pack loaded lazily;
* its layout fields: config fields that change module *names* (not just counts), found by
  building variants of the default config (flipped booleans, dense-first / interleave counts,
  ``layer_types``, optional heads), and the names that depend on them;
* why it cannot be built, when it cannot;

plus the transformers class → (model type, task) map the loader lookup uses, the leaf names per
architecture (LL206, LL208), and an exact table for every bundled-index config. Everything is
stamped with the transformers version; tests/test_catalog.py rebuilds a sample and compares.

Usage: ``python scripts/build_catalog.py [--jobs N] [--only TYPE ... | --entries | --repack]``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import shutil
import signal
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WORK_DIR = REPO / "build" / "catalog-work"  # per-type results, so an interrupted run resumes
sys.path.insert(0, str(REPO))

from lorlint.models import catalog  # noqa: E402
from lorlint.models.index_data import CONFIGS  # noqa: E402
from lorlint.models.introspect import fewer_layers  # noqa: E402
from lorlint.models.table import LayerTable  # noqa: E402
from lorlint.models.tasks import NATURAL_ORDER, TASK_AUTO_CLASS  # noqa: E402

TYPE_TIMEOUT_S = 120
# Booleans that are runtime switches, never structure.
RUNTIME_FLAGS = re.compile(
    r"^(_.*|use_cache|output_.*|return_dict|torchscript|use_return_dict|is_decoder|"
    r"is_encoder_decoder|tie_word_embeddings|tie_encoder_decoder|chunk_size_feed_forward|"
    r"tf_legacy_loss|use_bfloat16|problem_type|.*dropout.*|.*_bias|bias|use_bias|"
    r"gradient_checkpointing|.*_init.*|scale_.*|.*_scale|.*rope.*|.*flash.*|.*sdpa.*|"
    r"return_.*|pad_.*|.*_token.*|torch_dtype|dtype)$"
)
# Integers that can move blocks around (dense-first layers, MoE interleaving, MLA's low-rank q).
LAYOUT_INTS = re.compile(
    r"(first_k|dense|moe_layer|sparse_step|interleave|_freq$|_interval$|_every$|_period$|"
    r"_step$|lora_rank$|nextn|mtp|shared_expert|n_shared)"
)
SIZES = re.compile(r"(_size|_dim|_factor|_ratio)$")
LAYER_TYPE_VALUES = (
    "full_attention",
    "sliding_attention",
    "linear_attention",
    "conv",
    "moe",
    "hybrid",
    "sparse",
    "dense",
)
STRING_CHOICES = {
    "feed_forward_proj": ("relu", "gated-gelu"),
    "position_embedding_type": ("absolute", "relative_key"),
}
MAX_VARIANTS = 80
SHRUNK_LAYERS = 6  # variants are built with six blocks when that keeps every name


class Timeout(Exception):
    pass


def _alarm(*_):
    raise Timeout()


def auto_mappings() -> dict[str, dict[str, str]]:
    """Auto class name → {model type: class name}, from transformers' own mappings."""
    from transformers.models.auto import modeling_auto

    out = {}
    for name in dir(modeling_auto):
        if not name.startswith("AutoModel"):
            continue
        mapping = getattr(getattr(modeling_auto, name), "_model_mapping", None)
        names = getattr(mapping, "_model_mapping", None)
        if isinstance(names, dict):
            out[name] = {t: c if isinstance(c, str) else c[0] for t, c in names.items()}
    return out


def tasks_for(model_type: str, mappings: dict[str, dict[str, str]]) -> tuple[list, list]:
    """(catalogued tasks that map the type, other Auto classes that map it) as (task, class)."""
    main = []
    for task, auto in TASK_AUTO_CLASS.items():
        cls = mappings.get(auto, {}).get(model_type)
        if cls:
            main.append((task, cls))
    main_autos = set(TASK_AUTO_CLASS.values())
    other = [
        (auto, names[model_type])
        for auto, names in sorted(mappings.items())
        if auto not in main_autos and model_type in names
    ]
    return main, other


def natural_task(model_type: str, built: dict[str, dict], mappings) -> str | None:
    """The task a script most often loads this type for, among those that build."""
    for choice in NATURAL_ORDER:
        if choice == "encoder:seq-cls":
            masked = model_type in mappings.get("AutoModelForMaskedLM", {})
            if masked and "seq-cls" in built:
                return "seq-cls"
            continue
        if choice not in built:
            continue
        if choice == "causal-lm" and built[choice]["built_type"] != model_type:
            continue  # the text part of a multimodal type: its natural task is the whole model
        if choice == "causal-lm" and built[choice]["class"] == built.get(
            "image-text-to-text", {}
        ).get("class"):
            continue  # a VLM that AutoModelForCausalLM also maps: say what it is
        return choice
    return next(iter(built), None)


def normalized(names) -> set[str]:
    """Module names with block and list indices as ``N``: what stays across sizes."""
    return {".".join("N" if part.isdigit() else part for part in n.split(".")) for n in names if n}


def variants(default: dict):
    """(field path, config dict) pairs: the default config with one structural field changed."""

    def changes(fields: dict):
        for key, value in fields.items():
            if isinstance(value, bool):
                if not RUNTIME_FLAGS.match(key):
                    yield key, not value
            elif isinstance(value, int) and LAYOUT_INTS.search(key) and not SIZES.search(key):
                for new in (0, 1, 2, value + 1, None):
                    if new != value:
                        yield key, new
            elif value is None and LAYOUT_INTS.search(key) and not SIZES.search(key):
                for new in (1, 2):
                    yield key, new
            elif isinstance(value, str) and key in STRING_CHOICES:
                for new in STRING_CHOICES[key]:
                    if new != value:
                        yield key, new
            elif isinstance(value, list) and value and key.endswith(("layer_types", "block_types")):
                if all(isinstance(v, str) for v in value):
                    for new in sorted(set(value) | set(LAYER_TYPE_VALUES)):
                        if new != value[0]:  # a kind of layer the default does not start with
                            yield key, [new, *value[1:]]
                        if new in value and len(set(value)) > 1:  # one kind of layer only
                            yield key, [new] * len(value)
            elif (
                isinstance(value, list)
                and all(isinstance(v, int) for v in value)
                and key.endswith(("_layers", "_indexes", "_indices", "_layer_ids"))
            ):
                for new in ([], [0]):
                    if new != value:
                        yield key, new

    top = {k: v for k, v in default.items() if not isinstance(v, dict)}
    for key, value in changes(top):
        yield key, {**default, key: value}
    for sub, fields in default.items():
        if isinstance(fields, dict) and "model_type" in fields:
            for key, value in changes(fields):
                yield f"{sub}.{key}", {**default, sub: {**fields, key: value}}


def study_type(model_type: str) -> dict:
    """Build every task of one model type, then the layout variants of its natural task."""
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(TYPE_TIMEOUT_S)
    started = time.perf_counter()
    try:
        out = _study(model_type)
    except Timeout:
        out = {"type": model_type, "error": f"timed out after {TYPE_TIMEOUT_S} s"}
    finally:
        signal.alarm(0)
    out["study_s"] = round(time.perf_counter() - started, 2)
    return out


def _study(model_type: str) -> dict:
    import transformers
    from transformers import CONFIG_MAPPING

    from lorlint.models.introspect import IntrospectionError, build_model, table_from_model

    warnings.simplefilter("ignore")
    transformers.logging.set_verbosity_error()
    out: dict = {"type": model_type, "tasks": {}, "classes": {}}
    mappings = auto_mappings()
    try:
        default = CONFIG_MAPPING[model_type]().to_dict()
    except Exception as err:
        out["error"] = f"its default config cannot be created: {_line(err)}"
        return out
    main, other = tasks_for(model_type, mappings)
    for _, cls_name in main + other:
        try:
            cls = getattr(transformers, cls_name)
            config_type = getattr(cls.config_class, "model_type", "") or model_type
        except Exception:
            continue
        out["classes"][cls_name] = config_type
    base = {"model_type": model_type}
    candidates = main or []
    for task, cls_name in candidates + (other if not main else []):
        try:
            started = time.perf_counter()
            model = build_model(base, task)
            first = time.perf_counter() - started
            table = table_from_model(model, model_type)
        except (IntrospectionError, Exception) as err:
            out["tasks"][task] = {"class": cls_name, "error": _line(err)}
            continue
        out["tasks"][task] = {
            "class": table.architecture,
            "built_type": table.model_type,
            "table": table.to_json(),
            "first_s": round(first, 3),
        }
        if not main:
            break  # a type only other Auto classes map: its first buildable one is enough
    built = {t: v for t, v in out["tasks"].items() if "table" in v}
    if not built:
        reasons = sorted({v["error"] for v in out["tasks"].values()})
        out["error"] = "; ".join(reasons) if reasons else "no Auto class maps it"
        return out
    natural = natural_task(model_type, built, mappings)
    out["natural"] = natural
    table = built[natural]["table"]
    out["moe"] = any("expert" in name for name in LayerTable.from_json(table).names())
    out["parts"] = sorted(
        k for k, v in default.items() if isinstance(v, dict) and "model_type" in v
    )
    started = time.perf_counter()
    build_model(base, natural)  # a second build: module imports done, the build alone
    out["warm_s"] = round(time.perf_counter() - started, 3)
    out.update(_layout(default, natural, built[natural]["table"]))
    return out


def _layout(default: dict, task: str, table_json: dict) -> dict:
    """Which config fields change module names, and the names that depend on them."""
    from lorlint.models.introspect import introspect

    want = normalized(LayerTable.from_json(table_json).names())
    base_names = None
    for candidate in (fewer_layers(default, SHRUNK_LAYERS), default):
        try:  # variants edit the default config as written out: its own names are the base
            names = normalized(introspect(candidate, task).names())
        except Exception as err:
            error = _line(err)
            continue
        if names == want:
            default, base_names = candidate, names
            break
        error = "the default config does not round-trip through to_dict()"
    if base_names is None:
        return {"layout": [], "unstable": [], "optional": [], "layout_error": error}
    stable, union, fields = set(base_names), set(base_names), []
    tried = 0
    for path, config in variants(default):
        if tried >= MAX_VARIANTS:
            break
        tried += 1
        try:
            names = normalized(introspect(config, task).names())
        except Exception:
            continue
        if names != base_names:
            if path.split(".")[-1] not in [f.split(".")[-1] for f in fields]:
                fields.append(path)
            stable &= names
            union |= names
    return {
        "layout": fields,
        "unstable": sorted(base_names - stable),
        "optional": sorted(union - base_names),
        "variants_tried": tried,
    }


def _line(err: Exception) -> str:
    from lorlint.models.introspect import _short

    return _short(err)


def entry_tables(types: dict[str, dict]) -> dict[str, dict[str, dict]]:
    """Exact tables for the bundled index's configs: its own task (the natural one unless the
    entry names one) first, then every other task its type is catalogued for that builds from
    the real config, so no task a script loads it through needs a build at lint time."""
    from lorlint.models.introspect import IntrospectionError, introspect

    out = {}
    for key, config in CONFIGS.items():
        info = types.get(config["model_type"], {})
        own = config.get("task") or info.get("natural")
        if own is None:
            print(f"entry {key}: its model type is not catalogued", file=sys.stderr)
            continue
        out[key] = {own: introspect(config, own).to_json()}
        for task in info.get("tasks", {}):
            if task not in out[key]:
                try:
                    out[key][task] = introspect(config, task).to_json()
                except IntrospectionError as err:
                    print(f"entry {key}, {task}: {_line(err)}", file=sys.stderr)
    return out


def _compact(data) -> str:
    return json.dumps(data, separators=(",", ":"), sort_keys=True)


def _write_gz(path: Path, data) -> int:
    """gzip at its strongest level, no timestamp: the same tables give the same bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(_compact(data).encode(), compresslevel=9, mtime=0))
    return path.stat().st_size


def _write_pack(path: Path, tables: dict[str, dict], **more) -> int:
    """A pack: each table as its own JSON text, so a reader decodes only the one it needs."""
    return _write_gz(path, {"tables": {k: _compact(v) for k, v in tables.items()}, **more})


def _stored(pack: dict) -> dict[str, dict]:
    """A pack's tables re-encoded in the current format (``LayerTable.to_json``)."""
    return {
        k: LayerTable.from_json(json.loads(v) if isinstance(v, str) else v).to_json()
        for k, v in pack["tables"].items()
    }


def repack_types() -> None:
    """Rewrite every per-type pack in the current format from its stored tables (no build)."""
    for model_type in catalog.raw_index()["types"]:
        pack = catalog._read_gz(catalog.pack_path(model_type))
        _write_pack(catalog.pack_path(model_type), _stored(pack), unstable=pack["unstable"],
                    optional=pack["optional"])  # fmt: skip


def repack_entries() -> None:
    """Rewrite every bundled-index pack in the current format from its stored tables."""
    for key in catalog.raw_index()["entries"]:
        _write_pack(catalog.entry_path(key), _stored(catalog._read_gz(catalog.entry_path(key))))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=max(1, min(4, (os.cpu_count() or 1))))
    parser.add_argument("--only", nargs="*", help="rebuild these model types only (others kept)")
    parser.add_argument(
        "--resume",
        action="store_true",
        help=f"reuse per-type results kept in {WORK_DIR.relative_to(REPO)} by an interrupted run",
    )
    parser.add_argument(
        "--entries",
        action="store_true",
        help="rebuild the bundled-index tables only (per-type packs rewritten in the current "
        "format from their stored tables, not rebuilt)",
    )
    parser.add_argument(
        "--repack",
        action="store_true",
        help="rewrite every pack and the leaf names in the current format from what is stored "
        "(no build, no transformers needed)",
    )
    args = parser.parse_args(argv)
    if args.repack:
        repack_types()
        repack_entries()
        _write_gz(catalog.LEAVES, catalog.leaves_data(catalog.raw_leaves()))
        return 0

    import transformers
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES

    started = time.perf_counter()
    todo = [] if args.entries else args.only or sorted(CONFIG_MAPPING_NAMES)
    if args.entries:
        repack_types()
    results = study_all(todo, args.jobs, args.resume, transformers.__version__)
    write_catalog(results, todo, merge=bool(args.only) or args.entries)
    took = time.perf_counter() - started
    types = catalog.raw_index.__wrapped__()["types"]
    warm = sorted(((r.get("warm_s", 0), t) for t, r in results.items()), reverse=True)[:5]
    size = sum(p.stat().st_size for p in catalog.CATALOG_DIR.rglob("*") if p.is_file())
    print(
        f"{len(types)} buildable types, {len(CONFIG_MAPPING_NAMES) - len(types)} not, "
        f"{sum(len(v['tasks']) for v in types.values())} (type, task) pairs; "
        f"{size / 1024:.0f} KiB; slowest warm builds {warm}; {took:.0f} s",
        file=sys.stderr,
    )
    return 0


def study_all(todo: list[str], jobs: int, resume: bool, stamp: str) -> dict[str, dict]:
    """Every type's study, in worker processes; each result is kept in WORK_DIR as it comes."""
    results: dict[str, dict] = {}
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    if resume:
        for t in todo:
            kept = WORK_DIR / f"{t}.json"
            if kept.is_file():
                data = json.loads(kept.read_text())
                if data.get("transformers_version") == stamp:
                    results[t] = data
    else:
        for t in todo:
            (WORK_DIR / f"{t}.json").unlink(missing_ok=True)
    context = get_context("spawn")
    with ProcessPoolExecutor(jobs, mp_context=context) as pool:
        futures = {pool.submit(study_type, t): t for t in todo if t not in results}
        for done, future in enumerate(as_completed(futures), 1):
            t = futures[future]
            try:
                results[t] = future.result()
            except Exception as err:  # a worker that died (a native crash)
                results[t] = {"type": t, "error": f"the build crashed: {err}"}
            status = results[t].get("error", results[t].get("natural", ""))
            results[t]["transformers_version"] = stamp
            (WORK_DIR / f"{t}.json").write_text(json.dumps(results[t]))
            took = results[t].get("study_s", 0)
            print(
                f"[{done}/{len(futures)}] {t} ({took} s): {status[:100]}",
                file=sys.stderr,
                flush=True,
            )

    return results


def write_catalog(results: dict[str, dict], todo: list[str], merge: bool) -> None:
    """Write the index, the per-type packs, the entry tables and the leaf names; with ``merge``,
    only the types in ``todo`` change."""
    import transformers

    index = catalog.raw_index() if merge else {}
    if not merge:
        shutil.rmtree(catalog.CATALOG_DIR, ignore_errors=True)
    types = dict(index.get("types", {}))
    unbuildable = dict(index.get("unbuildable", {}))
    classes = {name: found[0] for name, found in catalog.raw_classes().items()} if merge else {}
    leaves = catalog.raw_leaves() if merge else {}
    for t in todo:
        r = results[t]
        types.pop(t, None)
        unbuildable.pop(t, None)
        for cls_name, config_type in r.get("classes", {}).items():
            classes[cls_name] = config_type
        built = {k: v for k, v in r.get("tasks", {}).items() if "table" in v}
        if not built:
            unbuildable[t] = r.get("error", "unknown")
            continue
        pack, task_keys = {}, {}
        for task, info in built.items():
            same = next((k for k, v in pack.items() if v == info["table"]), None)
            if same is None:
                pack[task] = info["table"]
                same = task
            task_keys[task] = [info["class"], info["built_type"], same]
        _write_pack(catalog.pack_path(t), pack, unstable=r["unstable"], optional=r["optional"])
        types[t] = {
            "natural": r["natural"],
            "tasks": task_keys,
            "layout": r["layout"],
            "moe": r["moe"],
            "parts": r["parts"],
        }
        names = set()
        for table in pack.values():
            names |= _leaves(table)
        leaves[t] = sorted(n for n in names if not n.isdigit())
    class_tasks = _class_tasks(classes, types)

    entries: dict[str, list[str]] = {}
    shutil.rmtree(catalog.entry_path("x").parent, ignore_errors=True)
    for key, tables in entry_tables(types).items():
        _write_pack(catalog.entry_path(key), tables)
        entries[key] = list(tables)
        for table in tables.values():
            names = _leaves(table)
            leaves.setdefault(table["model_type"], [])
            leaves[table["model_type"]] = sorted(set(leaves[table["model_type"]]) | names)
    _write_gz(catalog.LEAVES, catalog.leaves_data(leaves))
    index = {
        "generated_by": "scripts/build_catalog.py",
        "transformers_version": transformers.__version__,
        "types": dict(sorted(types.items())),
        "unbuildable": dict(sorted(unbuildable.items())),
        "entries": dict(sorted(entries.items())),
    }
    catalog.INDEX.write_text(json.dumps(index, indent=0, sort_keys=True) + "\n")
    catalog.CLASSES.write_text(json.dumps(class_tasks, indent=0, sort_keys=True) + "\n")


def _leaves(table: dict) -> set[str]:
    """The module leaf names of a table's JSON data."""
    return {name.rpartition(".")[2] for name in LayerTable.from_json(table).names() if name}


def _class_tasks(classes: dict[str, str], types: dict[str, dict]) -> dict[str, list[str]]:
    """Class name → [model type of its config class, task]: the first task that builds it."""
    out = {}
    for cls_name, config_type in classes.items():
        info = types.get(config_type, {})
        task = next((t for t, v in info.get("tasks", {}).items() if v[0] == cls_name), None)
        if task is None:  # built under another type's key, or not buildable from defaults
            task = next(
                (
                    t
                    for other in types.values()
                    for t, v in other["tasks"].items()
                    if v[0] == cls_name
                ),
                None,
            )
        out[cls_name] = [config_type, task or ""]
    return out


if __name__ == "__main__":
    raise SystemExit(main())
