"""Build lorlint/models/catalog.json.gz: a layer table for every bundled-index config.

Run with the transformers pinned in constraints.txt (``make catalog``); the catalog is stamped with
the versions used.
"""

from __future__ import annotations

import gzip
import json
import sys
import time
from pathlib import Path

import transformers

from lorlint.models.catalog import CATALOG_PATH
from lorlint.models.index_data import CONFIGS
from lorlint.models.introspect import default_task, introspect


def catalog_task(config: dict) -> str:
    return config.get("task") or default_task(config["model_type"])


def main() -> int:
    started = time.perf_counter()
    tables: dict[str, dict] = {}
    for key, config in CONFIGS.items():
        task = catalog_task(config)
        tables[key] = {task: introspect(config, task).to_json()}
        print(f"{key:24} {task:20} {len(tables[key][task]['modules']):5} modules", file=sys.stderr)
    data = {"transformers_version": transformers.__version__, "tables": tables}
    blob = json.dumps(data, separators=(",", ":"), sort_keys=True).encode()
    with open(CATALOG_PATH, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as fh:
        fh.write(blob)
    took = time.perf_counter() - started
    size = Path(CATALOG_PATH).stat().st_size
    print(f"{len(tables)} tables, {size / 1024:.0f} KiB, {took:.1f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
