"""PEFT itself on a meta-device model: how the real-world cases' expected findings were judged.

Given a model type (or a class name), config values, the loader class a script uses and a PEFT
config, this builds the model on the meta device with the installed transformers and applies the
config with the installed PEFT, then prints what PEFT adapted, raised or warned — and, for a list
``target_modules``, what each entry adapts on its own, so an entry PEFT drops silently shows as
"matches nothing". It never imports lorlint: the labels must not come from the tool they measure.

    python tests/realworld/oracle.py --model-type qwen3 --loader AutoModelForCausalLM \\
        --peft '{"target_modules": ["q_proj", "dwn_proj"], "task_type": "CAUSAL_LM"}'
    python tests/realworld/oracle.py --model-type vit --loader ViTForImageClassification --modules
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import re
import sys
import warnings
from collections import Counter


def build(model_type: str | None, config: dict, loader: str):
    """The model on the meta device: ``loader`` is an Auto class or a concrete transformers class."""
    import torch
    import transformers
    from transformers import CONFIG_MAPPING

    transformers.logging.set_verbosity_error()
    cls = getattr(transformers, loader)
    if model_type is None:
        config_class = cls.config_class
        cfg = config_class(**config)
    else:
        cfg = CONFIG_MAPPING[model_type](**config)
    with torch.device("meta"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if loader.startswith("Auto"):
            return cls.from_config(cfg)
        return cls(cfg)


def collapse(names) -> list[tuple[str, int]]:
    """``model.layers.3.mlp.up_proj`` → ``model.layers.N.mlp.up_proj``, counted."""
    counts = Counter(re.sub(r"\.\d+(?=\.|$)", ".N", n) for n in names)
    return sorted(counts.items())


def apply(model, method: str, spec: dict, via_get_peft_model: bool):
    """(adapted modules, adapted parameters, error, warnings) from real PEFT."""
    import peft
    from peft.tuners.lora import ParamWrapper
    from peft.tuners.tuners_utils import BaseTunerLayer

    caught: list[str] = []
    log = io.StringIO()
    handler = logging.StreamHandler(log)
    logging.getLogger().addHandler(handler)
    try:
        with (
            warnings.catch_warnings(record=True) as seen,
            contextlib.redirect_stdout(io.StringIO()),
        ):
            warnings.simplefilter("always")
            cfg = getattr(peft, method)(**spec)
            if via_get_peft_model:
                model = peft.get_peft_model(model, cfg).base_model.model
            else:
                model = peft.inject_adapter_in_model(cfg, model)
            caught = [str(w.message) for w in seen]
    except Exception as err:  # PEFT raises ValueError, TypeError, RuntimeError, ...
        return [], [], f"{type(err).__name__}: {err}", caught
    finally:
        logging.getLogger().removeHandler(handler)
    caught += [line for line in log.getvalue().splitlines() if line]
    modules, params = set(), set()
    for name, module in model.named_modules():
        if isinstance(module, ParamWrapper):
            base = name.replace(".base_layer", "")
            params.add(f"{base}.{module.parameter_name}")
        elif isinstance(module, BaseTunerLayer) and ".base_layer" not in name:
            modules.add(name)
    return sorted(modules), sorted(params), None, caught


def module_table(model) -> list[tuple[str, str, int]]:
    """Every leaf module, collapsed over layer indices, with its type."""
    rows = Counter()
    for name, module in model.named_modules():
        if name and not list(module.children()):
            rows[(re.sub(r"\.\d+(?=\.|$)", ".N", name), type(module).__name__)] += 1
    return sorted((n, t, c) for (n, t), c in rows.items())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-type", help="transformers model_type (omit with a concrete class)")
    parser.add_argument("--config", default="{}", help="config values as JSON (real config.json)")
    parser.add_argument("--config-file", help="a config.json to read values from")
    parser.add_argument("--loader", default="AutoModelForCausalLM", help="Auto or concrete class")
    parser.add_argument("--method", default="LoraConfig", help="PEFT config class")
    parser.add_argument("--peft", default=None, help="the PEFT config's keywords as JSON")
    parser.add_argument("--get-peft-model", action="store_true", help="through get_peft_model")
    parser.add_argument("--modules", action="store_true", help="print the model's leaf modules")
    parser.add_argument("--per-entry", action="store_true", help="apply each list entry alone")
    args = parser.parse_args(argv)

    config = json.loads(args.config)
    if args.config_file:
        with open(args.config_file) as fh:
            config = {**json.load(fh), **config}
        config.pop("architectures", None)
        args.model_type = args.model_type or config.pop("model_type", None)
    config.pop("model_type", None)
    model = build(args.model_type, config, args.loader)
    print(f"model: {type(model).__name__} ({args.model_type or 'from class'})")
    if args.modules:
        for name, kind, count in module_table(model):
            print(f"  {name:70s} {kind:28s} x{count}")
    if args.peft is None:
        return 0
    spec = json.loads(args.peft)
    spec.setdefault("r", 4)
    modules, params, error, caught = apply(model, args.method, spec, args.get_peft_model)
    print(f"PEFT {args.method}: {'raises ' + error if error else 'accepts'}")
    for name, count in collapse(modules):
        print(f"  module  {name}  x{count}")
    for name, count in collapse(params):
        print(f"  param   {name}  x{count}")
    print(f"  total: {len(modules)} modules, {len(params)} parameters")
    for text in caught:
        print(f"  warns: {text}")
    targets = spec.get("target_modules")
    if args.per_entry and isinstance(targets, list):
        for entry in targets:
            alone = build(args.model_type, config, args.loader)
            m, p, err, _ = apply(alone, args.method, {**spec, "target_modules": [entry]}, False)
            verdict = f"raises: {err.splitlines()[0][:120]}" if err else f"{len(m)} modules"
            verdict += f" + {len(p)} parameters" if p else ""
            print(f"  entry {entry!r}: {verdict}")
    return 1 if error else 0


if __name__ == "__main__":
    sys.exit(main())
