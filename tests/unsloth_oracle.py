"""unsloth_zoo's own ``get_peft_regex`` (peft_utils.py of the pinned release), loaded without the
package's ``__init__`` (which wants a GPU): the oracle lorlint/models/unsloth.py is compared with."""

from __future__ import annotations

import importlib.util
import logging
import sys
import types
from pathlib import Path


def get_peft_regex():
    """The real function, or None when unsloth_zoo is not installed (``make install`` adds it)."""
    spec = importlib.util.find_spec("unsloth_zoo")
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations)))
    stubs = {
        "unsloth_zoo.log": {"logger": logging.getLogger("unsloth_zoo")},
        "unsloth_zoo.empty_model": {"_get_module_attribute": lambda *args, **kwargs: None},
    }
    saved = {name: sys.modules.get(name) for name in ["unsloth_zoo", *stubs]}
    package = types.ModuleType("unsloth_zoo")
    package.__path__ = [str(root)]
    sys.modules["unsloth_zoo"] = package
    for name, attributes in stubs.items():
        module = types.ModuleType(name)
        module.__dict__.update(attributes)
        sys.modules[name] = module
    try:
        file = importlib.util.spec_from_file_location(
            "unsloth_zoo.peft_utils", root / "peft_utils.py"
        )
        peft_utils = importlib.util.module_from_spec(file)
        file.loader.exec_module(peft_utils)
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
    return peft_utils.get_peft_regex
