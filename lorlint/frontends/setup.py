"""Setup sites: the calls around a PEFT config that decide whether anything trains (issue #14).

A *load* site is a transformers ``from_pretrained`` that passes ``load_in_4bit`` / ``load_in_8bit``
(removed in transformers 5); a *quant-config* site is a ``BitsAndBytesConfig(...)``. Each carries
its keywords as the evaluator reads them, its arguments as written (for fixes) and, in ``facts``,
what the rules need from the rest of the file: the compute dtype, the training precision of the
file's ``TrainingArguments`` / TRL configs, and how to name ``BitsAndBytesConfig`` in a fix.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from lorlint.site import Argument, Site

if TYPE_CHECKING:
    from lorlint.frontends.python import PythonFile

KBIT_KWARGS = ("load_in_4bit", "load_in_8bit")
# PEFT classes whose from_pretrained loads a saved adapter (an *adapter* site; LL305).
ADAPTER_CLASSES = ("PeftModel", "PeftModelForCausalLM", "PeftModelForSeq2SeqLM",
                   "AutoPeftModel", "AutoPeftModelForCausalLM", "AutoPeftModelForSeq2SeqLM",
                   "AutoPeftModelForSequenceClassification", "AutoPeftModelForTokenClassification",
                   "AutoPeftModelForQuestionAnswering", "AutoPeftModelForFeatureExtraction")  # fmt: skip
BNB = "transformers.BitsAndBytesConfig"
DTYPES = ("float32", "float16", "bfloat16", "float", "half")
# Training-argument classes whose bf16= / fp16= set the run's precision.
TRAINING_ARGS = ("TrainingArguments", "Seq2SeqTrainingArguments")
TRL_CONFIGS = ("SFTConfig", "DPOConfig", "GRPOConfig", "ORPOConfig", "KTOConfig", "RewardConfig",
               "CPOConfig", "PPOConfig", "RLOOConfig")  # fmt: skip
# Setup-relevant words: statements holding one are parsed (frontends/reduce.py ROOT_NAMES).
ROOT_WORDS = frozenset({"load_in_4bit", "load_in_8bit", "BitsAndBytesConfig", *TRAINING_ARGS,
                        *TRL_CONFIGS, *ADAPTER_CLASSES})  # fmt: skip


def setup_sites(file: PythonFile, named: list[tuple[ast.Call, str]]) -> list[Site]:
    """The load and quant-config sites of one parsed module (``named``: its calls, qualified)."""
    out: list[Site] = []
    precision: str | bool | None = False  # False: no training arguments seen
    for call, name in named:
        if _is_transformers_load(name) and _passes_kbit(call):
            out.append(_load_site(file, call, name))
        elif name == BNB:
            out.append(_site(file, call, name, "quant-config"))
        elif _is_training_args(name):
            here = _precision(file, call)
            precision = here if precision is False or precision == here else None
    for site in out:
        if site.kind == "quant-config":
            site.facts["train_precision"] = None if precision is False else precision
    return out


def is_adapter_load(name: str) -> bool:
    """``peft.PeftModel.from_pretrained``, ``peft.AutoPeftModelForCausalLM.from_pretrained``..."""
    parts = name.split(".")
    return (
        len(parts) == 3
        and parts[0] == "peft"
        and parts[1] in ADAPTER_CLASSES
        and (parts[2] == "from_pretrained")
    )


def _is_transformers_load(name: str) -> bool:
    parts = name.split(".")
    if parts[-1] != "from_pretrained" or len(parts) < 3:
        return False
    return parts[0] == "transformers" or (parts[0] == "peft" and "AutoPeftModel" in parts[-2])


def _is_training_args(name: str) -> bool:
    parts = name.split(".")
    last = parts[-1]
    return (parts[0] == "transformers" and last in TRAINING_ARGS) or (
        parts[0] == "trl" and last in TRL_CONFIGS
    )


def _passes_kbit(call: ast.Call) -> bool:
    return any(k.arg in KBIT_KWARGS or k.arg is None for k in call.keywords)


def _site(file: PythonFile, call: ast.Call, name: str, kind: str) -> Site:
    site = file.config_site(call, name, kind)
    site.arguments = arguments(file, call)
    if kind == "quant-config":
        site.facts["compute_dtype"] = _compute_dtype(file, call, site)
    return site


def _compute_dtype(file: PythonFile, call: ast.Call, site: Site) -> str | None:
    """The compute dtype's name; "" when not passed at all; None when it cannot be read."""
    written = _keyword(call, "bnb_4bit_compute_dtype")
    if written is not None:
        return dtype_name(file, written)
    value = site.keywords.get("bnb_4bit_compute_dtype")  # from a ``**mapping``
    if value is None:
        return "" if "**" not in site.keywords else None
    return _canonical(value.value) if isinstance(value.value, str) else None


def _load_site(file: PythonFile, call: ast.Call, name: str) -> Site:
    """A loading call with removed keywords; the facts a fix needs: how ``BitsAndBytesConfig`` is
    named here (or where its import goes) and the ``quantization_config=`` call written inline."""
    site = _site(file, call, name, "load")
    if not any(k in site.keywords for k in KBIT_KWARGS):
        return site  # a ``**kwargs`` that may hold them: the rule stays silent
    site.facts["bnb"] = _bnb_name(file, call)
    inline = _keyword(call, "quantization_config")
    behind = file.evaluator.call_behind(inline) if inline is not None else None
    if behind is not None and (file.qualified(behind.func) or "") == BNB:
        site.facts["quantization_config"] = {
            "inline": behind is inline,
            "keywords": {
                k.arg: file.evaluator.value(k.value).value
                for k in behind.keywords
                if k.arg in KBIT_KWARGS and isinstance(file.evaluator.value(k.value).value, bool)
            },
            "insert_at": list(_first_argument_position(file, behind)),
            "args": bool(behind.args or behind.keywords),
            "clean": not behind.keywords or all(a.clean for a in arguments(file, behind)),
        }
    elif inline is not None:
        site.facts["quantization_config"] = None  # something else: no fix merges into it
    return site


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def arguments(file: PythonFile, call: ast.Call) -> list[Argument]:
    """Every argument in source order, with whether the text before it holds a comment."""
    nodes: list[tuple[str | None, ast.AST]] = [(None, a) for a in call.args]
    nodes += [(k.arg, k) for k in call.keywords]
    nodes.sort(key=lambda item: (item[1].lineno, item[1].col_offset))
    out = []
    previous = (call.func.end_lineno, call.func.end_col_offset)
    for keyword, node in nodes:
        span = file.span(node)
        between = file.source_between(previous, (node.lineno, node.col_offset))
        out.append(Argument(keyword, span, "#" not in between))
        previous = (node.end_lineno, node.end_col_offset)
    return out


def _first_argument_position(file: PythonFile, call: ast.Call) -> tuple[int, int]:
    """Where a keyword inserted first goes: the first argument's start, or the closing
    parenthesis of an empty call (1-based row and column)."""
    nodes = [*call.args, *call.keywords]
    if nodes:
        first = min(nodes, key=lambda n: (n.lineno, n.col_offset))
        span = file.span(first)
        return span.row, span.col
    span = file.span(call)
    return span.end_row, span.end_col - 1


def _bnb_name(file: PythonFile, call: ast.Call) -> dict:
    """How a fix writes ``BitsAndBytesConfig`` at ``call``: a name already bound to it, or
    ``transformers.BitsAndBytesConfig`` when ``transformers`` is imported, or an import line to
    add before the import that brought the loading class in (row and indentation)."""
    scope = file.scopes.scope_of.get(_root_name(call.func))
    for candidate in ("BitsAndBytesConfig", "transformers"):
        probe = ast.Name(candidate, ast.Load())
        ast.copy_location(probe, call)
        if scope is not None:
            file.scopes.scope_of[probe] = scope
        qualified = file.scopes.qualified(probe)
        file.scopes.scope_of.pop(probe, None)
        if candidate == "BitsAndBytesConfig" and qualified == BNB:
            return {"name": "BitsAndBytesConfig"}
        if candidate == "transformers" and qualified == "transformers":
            return {"name": "transformers.BitsAndBytesConfig"}
    root = _root_name(call.func)
    if root is None:
        return {}
    owner, found = file.scopes.bindings_of(root)
    imports = [b for b in found if b.kind == "import" and isinstance(b.node, ast.ImportFrom)]
    if owner is None or len(imports) != 1 or imports[0].node.module != "transformers":
        return {}
    node = imports[0].node
    line = file.line_text(node.lineno)
    indent = line[: node.col_offset]
    if indent.strip():
        return {}  # ``x = 1; from transformers import ...``: no line of its own
    eol = line[len(line.rstrip("\r\n")) :] or "\n"
    return {"name": "BitsAndBytesConfig", "import_row": node.lineno, "indent": indent, "eol": eol}


def _root_name(expr: ast.expr) -> ast.Name | None:
    while isinstance(expr, ast.Attribute):
        expr = expr.value
    return expr if isinstance(expr, ast.Name) else None


def dtype_name(file: PythonFile, expr: ast.expr, depth: int = 0) -> str | None:
    """``torch.bfloat16`` / ``"bfloat16"`` / ``getattr(torch, "float16")`` (through names) →
    the dtype's name; None when it cannot be read."""
    if depth > 8:
        return None
    if isinstance(expr, ast.Name):
        bound = file.binding(expr)
        return dtype_name(file, bound[0], depth + 1) if bound and bound[1] is None else None
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return _canonical(expr.value)
    if isinstance(expr, ast.Attribute):
        name = file.qualified(expr) or ""
        return _canonical(name[6:]) if name.startswith("torch.") else None
    if isinstance(expr, ast.Call) and file.qualified(expr.func) == "builtins.getattr":
        args = expr.args
        if len(args) == 2 and file.qualified(args[0]) == "torch":
            value = file.evaluator.value(args[1]).value
            return _canonical(value) if isinstance(value, str) else None
    return None


def _canonical(name: str) -> str | None:
    name = name.removeprefix("torch.")
    return {"float": "float32", "half": "float16"}.get(name, name) if name in DTYPES else None


def _precision(file: PythonFile, call: ast.Call) -> str | None:
    """ "bf16", "fp16" or "fp32" from ``bf16=`` / ``fp16=``; None when a value is unknown."""
    if any(k.arg is None for k in call.keywords):
        return None
    flags = {}
    trl = (file.qualified(call.func) or "").startswith("trl.")
    for key in ("bf16", "fp16"):
        node = _keyword(call, key)
        if node is None:
            if trl and key == "bf16":  # TRL's configs default bf16 to what the hardware has
                return None
            flags[key] = False
            continue
        value = file.evaluator.value(node).value
        if not isinstance(value, bool):
            return None
        flags[key] = value
    return "bf16" if flags["bf16"] else "fp16" if flags["fp16"] else "fp32"


# Quantization configs other than bitsandbytes, by the method name a loaded model reports.
QUANT_METHODS = {"GPTQConfig": "gptq", "AwqConfig": "awq", "HqqConfig": "hqq",
                 "TorchAoConfig": "torchao", "QuantoConfig": "quanto", "EetqConfig": "eetq",
                 "AqlmConfig": "aqlm", "FbgemmFp8Config": "fp8", "BitNetConfig": "bitnet",
                 "CompressedTensorsConfig": "compressed-tensors", "HiggsConfig": "higgs",
                 "VptqConfig": "vptq", "SpQRConfig": "spqr", "FineGrainedFP8Config": "fp8"}  # fmt: skip


def load_facts(file: PythonFile, call: ast.Call) -> dict:
    """What the flow rules need of a loading call (``Step`` "load" ``detail``): ``quantization``
    ("4bit", "8bit", a method such as "gptq", "" when none is asked for, None when unknown) and
    ``dtype`` (a dtype name, "auto", "" when not passed, None when unknown)."""
    name = file.qualified(call.func) or ""
    known = name.startswith(("transformers.", "peft.")) and name.endswith(
        (".from_pretrained", ".from_config")
    )
    if not known:
        return {"quantization": None, "dtype": None}
    dtype_expr = _keyword(call, "dtype") or _keyword(call, "torch_dtype")
    if dtype_expr is None:
        unknown = any(k.arg is None for k in call.keywords)
        # from_config builds random weights in torch's default dtype unless told otherwise
        dtype = None if unknown else "float32" if name.endswith(".from_config") else ""
    elif isinstance(dtype_expr, ast.Constant) and dtype_expr.value == "auto":
        dtype = "auto"
    else:
        dtype = dtype_name(file, dtype_expr)
    return {"quantization": _quantization(file, call), "dtype": dtype}


def _quantization(file: PythonFile, call: ast.Call) -> str | None:
    if any(k.arg is None for k in call.keywords):
        return None
    mode: str | None = ""
    for keyword in KBIT_KWARGS:
        node = _keyword(call, keyword)
        if node is None:
            continue
        value = file.evaluator.value(node).value
        if value is True:
            return keyword.removeprefix("load_in_")
        if value is not False:
            mode = None
    config = _keyword(call, "quantization_config")
    if config is None or (isinstance(config, ast.Constant) and config.value is None):
        return mode
    behind = file.evaluator.call_behind(config)
    if behind is None:
        return None
    kind = (file.qualified(behind.func) or "").rpartition(".")[2]
    if kind != "BitsAndBytesConfig":
        return QUANT_METHODS.get(kind)
    if any(k.arg is None for k in behind.keywords):
        return None
    for keyword in KBIT_KWARGS:
        node = _keyword(behind, keyword)
        value = file.evaluator.value(node).value if node is not None else False
        if value is True:
            return keyword.removeprefix("load_in_")
        if value is not False:
            return None
    return mode
