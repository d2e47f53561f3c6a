"""Build lorlint/models/catalog/: a layer table for every bundled-index config.

Run with the transformers pinned in constraints.txt (``make catalog``); the catalog is stamped with
the version used.
"""

from __future__ import annotations

import gzip
import json
import shutil
import sys
import time

import transformers

from lorlint.models.catalog import CATALOG_DIR, INDEX, table_path
from lorlint.models.index_data import CONFIGS
from lorlint.models.introspect import introspect
from lorlint.models.view import static_default_task


def main() -> int:
    started = time.perf_counter()
    shutil.rmtree(CATALOG_DIR, ignore_errors=True)
    CATALOG_DIR.mkdir()
    tables: dict[str, list[str]] = {}
    leaves: dict[str, set[str]] = {}
    size = 0
    for key, config in CONFIGS.items():
        task = static_default_task(config)
        table = introspect(config, task)
        blob = json.dumps(table.to_json(), separators=(",", ":"), sort_keys=True).encode()
        path = table_path(key, task)
        with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as fh:
            fh.write(blob)
        size += path.stat().st_size
        tables[key] = [task]
        leaves.setdefault(table.model_type, set()).update(m.leaf for m in table.modules if m.name)
        print(f"{key:24} {task:20} {len(table.modules):5} modules", file=sys.stderr)
    index = {
        "transformers_version": transformers.__version__,
        "tables": tables,
        "leaves": {t: sorted(names) for t, names in sorted(leaves.items())},
    }
    INDEX.write_text(json.dumps(index, indent=1, sort_keys=True) + "\n")
    took = time.perf_counter() - started
    print(f"{len(tables)} tables, {size / 1024:.0f} KiB, {took:.1f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
