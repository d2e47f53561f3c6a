"""CPU time to load layer tables from the bundled catalog, in one fresh process.

    python benchmarks/bench_tables.py                 # this checkout
    PYTHONPATH=DIR python benchmarks/bench_tables.py  # DIR: git archive REV lorlint | tar -xC DIR

Loads the natural task's table of 21 common model types and the own task's table of the first 25
bundled-index entries (46 tables, what a run over a tree of fine-tuning code reads), and prints
the process CPU time it took.
"""

from __future__ import annotations

import time

from lorlint.models import catalog

TYPES = ["llama", "mistral", "qwen2", "gemma3", "phi3", "bert", "gpt_neox", "t5", "whisper",
         "qwen3_next", "gpt_oss", "paligemma", "qwen2_5_vl", "qwen3", "gemma", "gemma2", "llama4",
         "qwen3_5", "falcon_h1", "roberta", "mixtral"]  # fmt: skip


def main() -> None:
    started, loaded = time.process_time(), 0
    for model_type in TYPES:
        task = catalog.natural_task(model_type)
        loaded += bool(task and catalog.type_table(model_type, task))
    for key in sorted(catalog.raw_index()["entries"])[:25]:
        loaded += bool(catalog.entry_table(key, catalog.entry_tasks(key)[0]))
    print(f"{loaded} tables in {1000 * (time.process_time() - started):.0f} ms of CPU")


if __name__ == "__main__":
    main()
