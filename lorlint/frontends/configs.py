"""Config-file front ends: axolotl, LLaMA-Factory, torchtune and oumi YAML, and saved adapters'
``adapter_config.json``. Each tool's file is recognised by its keys, never by its name; unrelated
YAML gives no site. Values keep their line and column, so findings point into the file.

YAML is read as the tools read it — PyYAML's safe loader: standard tags only, merge keys (``<<``)
expanded, no complex keys — and what it would refuse (``!!python/name``, custom tags, unhashable
keys, integers of more than 4,300 digits) is that file's LL900. Aliases and merges are expanded
under a node budget and nesting is bounded, so an alias bomb or 10,000-deep nesting is an LL900,
not a hang or a crash.
"""

from __future__ import annotations

import yaml

from lorlint.frontends import jsontext, yamltree
from lorlint.site import UNKNOWN, Site, Span, Value

NODE_BUDGET = 20_000
YAML_TAG = "tag:yaml.org,2002:"
MERGE_TAG = YAML_TAG + "merge"
STR_TAG = YAML_TAG + "str"
COLLECTION_TAGS = {YAML_TAG + t for t in ("seq", "map", "set", "omap", "pairs")}
TASK_TYPES = {
    "CAUSAL_LM": "causal-lm",
    "SEQ_2_SEQ_LM": "seq2seq-lm",
    "SEQ_CLS": "seq-cls",
    "TOKEN_CLS": "token-cls",
    "QUESTION_ANS": "question-answering",
    "FEATURE_EXTRACTION": "base",
}


class ConfigError(ValueError):
    """A config file that cannot be read (the reason is user-facing)."""


class _Budget:
    """Nodes left to visit (aliases and merges expanded), and one safe loader for scalars.
    (A plain class: ``@dataclass`` compiles its methods at every start and imports
    ``dataclasses``; nothing compares or prints one.)"""

    __slots__ = ("left", "loader")

    def __init__(self, left: int = NODE_BUDGET, loader: yaml.SafeLoader | None = None):
        self.left = left
        self.loader = yaml.SafeLoader("") if loader is None else loader

    def spend(self) -> None:
        self.left -= 1
        if self.left < 0:
            raise ConfigError(f"more than {NODE_BUDGET} YAML nodes after alias expansion")

    def scalar(self, node: yaml.ScalarNode):
        """A scalar as the safe loader types it (bool, int, float, null, str, date). A string is
        its node's value (what ``construct_yaml_str`` returns, never failing): most scalars of a
        config are, and the loader's generic dispatch costs more than the rest of reading them."""
        if node.tag == STR_TAG:
            return node.value
        try:
            return self.loader.construct_object(node, deep=True)
        except yaml.YAMLError as err:
            raise ConfigError(f"{_where(node)}: {_refused(node.tag, err)}") from err
        except ValueError as err:  # int() refuses more than 4300 digits
            raise ConfigError(f"{_where(node)}: an integer with more than 4,300 digits") from err


def _where(node: yaml.Node) -> str:
    return f"line {node.start_mark.line + 1}, column {node.start_mark.column + 1}"


def _refused(tag: str, err: Exception | None = None) -> str:
    if tag.startswith(YAML_TAG) and err is not None and "constructor" not in str(err):
        return getattr(err, "problem", None) or str(err).splitlines()[0]
    shown = "!!" + tag.removeprefix(YAML_TAG) if tag.startswith(YAML_TAG) else tag
    return f"the tag {shown} is refused by YAML's safe loader, which the tools read configs with"


def _span(node: yaml.Node) -> Span:
    start, end = node.start_mark, node.end_mark
    return Span(start.line + 1, start.column + 1, end.line + 1, end.column + 1)


def _checked(node: yaml.Node) -> yaml.Node:
    """A collection node the safe loader accepts (standard tag)."""
    if not isinstance(node, yaml.ScalarNode) and node.tag not in COLLECTION_TAGS:
        raise ConfigError(f"{_where(node)}: {_refused(node.tag)}")
    return node


def _pairs(node: yaml.MappingNode, budget: _Budget) -> list[tuple[yaml.Node, yaml.Node]]:
    """A mapping's (key, value) nodes with merge keys (``<<``) expanded as the safe loader does:
    keys written in the mapping win over merged ones, earlier merged mappings over later ones."""
    merged, written = [], []
    for key, value in _checked(node).value:
        budget.spend()
        if key.tag != MERGE_TAG:
            written.append((key, value))
            continue
        sources = value.value if isinstance(value, yaml.SequenceNode) else [value]
        for source in reversed(sources):
            if not isinstance(source, yaml.MappingNode):
                raise ConfigError(f"{_where(source)}: a merge key (<<) takes mappings only")
            merged.extend(_pairs(source, budget))
    return merged + written


def _python(node: yaml.Node, budget: _Budget):
    budget.spend()
    if isinstance(node, yaml.ScalarNode):
        return budget.scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return [_python(n, budget) for n in _checked(node).value]
    if isinstance(node, yaml.MappingNode):
        out = {}
        for key, value in _pairs(node, budget):
            if not isinstance(key, yaml.ScalarNode):
                raise ConfigError(f"{_where(key)}: a complex mapping key (the safe loader refuses)")
            out[_python(key, budget)] = _python(value, budget)
        return out
    return UNKNOWN


def validate(root: yaml.Node, budget: _Budget) -> None:
    """Every node as the safe loader constructs it (each once, aliases shared): a config the tool
    itself could not load is that file's LL900, whichever key holds the problem."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        budget.spend()
        if isinstance(node, yaml.ScalarNode):
            budget.scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(_checked(node).value)
        else:
            for key, value in _checked(node).value:
                if key.tag == MERGE_TAG:
                    sources = value.value if isinstance(value, yaml.SequenceNode) else [value]
                    if not all(isinstance(s, yaml.MappingNode) for s in sources):
                        raise ConfigError(f"{_where(value)}: a merge key (<<) takes mappings only")
                    stack.append(value)
                    continue
                if not isinstance(key, yaml.ScalarNode):
                    raise ConfigError(
                        f"{_where(key)}: a complex mapping key (the safe loader refuses)"
                    )
                stack.extend((key, value))


def _value(node: yaml.Node | None, budget: _Budget) -> Value | None:
    """A keyword value with its span; list elements keep their own spans. Not editable: fixes
    are for Python sources and notebooks."""
    if node is None:
        return None
    if isinstance(node, yaml.SequenceNode):
        elements = [_value(n, budget) for n in _checked(node).value]
        return Value([e.value for e in elements], _span(node), elements=elements, editable=False)
    return Value(_python(node, budget), _span(node), editable=False)


class _Map:
    """A YAML mapping node read by key (first level, or a nested mapping)."""

    def __init__(self, node: yaml.Node | None, budget: _Budget):
        self.budget = budget
        self.items: dict[str, yaml.Node] = {}
        if isinstance(node, yaml.MappingNode):
            for key, value in _pairs(node, budget):
                if isinstance(key, yaml.ScalarNode):
                    self.items[str(key.value)] = value

    def __contains__(self, key: str) -> bool:
        return key in self.items

    def node(self, key: str) -> yaml.Node | None:
        return self.items.get(key)

    def sub(self, key: str) -> _Map:
        return _Map(self.items.get(key), self.budget)

    def scalar(self, key: str, budget: _Budget):
        node = self.items.get(key)
        return _python(node, budget) if isinstance(node, yaml.ScalarNode) else None


def compose(text: str) -> yaml.Node | None:
    try:
        return yamltree.compose(text)
    except RecursionError as err:
        raise ConfigError("invalid YAML: nested too deeply") from err
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise ConfigError(f"invalid YAML{where}: {problem}") from err


def _site(path: str, kind: str, node: yaml.Node, keywords: dict[str, Value | None]) -> Site:
    span = _span(node)
    site = Site(path, kind, f"{kind}.config", span, statement_rows=(span.row, span.row))
    site.keywords = {k: v for k, v in keywords.items() if v is not None}
    return site


def _read(section: _Map, keys: dict[str, str], budget: _Budget, reader=None) -> dict:
    """PEFT keyword → the value of the tool's key for it (absent keys give None)."""
    reader = reader or _value
    return {peft_key: reader(section.node(key), budget) for peft_key, key in keys.items()}


LORA_NUMBERS = {"lora_alpha": "lora_alpha", "lora_dropout": "lora_dropout"}


def _model(site: Site, value: Value | None) -> None:
    if value is not None and isinstance(value.value, str):
        site.model, site.model_span, site.model_origin = value.value, value.span, "code"


def _comma_list(node: yaml.Node | None, budget: _Budget) -> Value | None:
    """LLaMA-Factory's ``lora_target: q_proj,v_proj`` (a string in the tool's list format).

    Each name gets its own span when the scalar sits on one line."""
    value = _value(node, budget)
    if value is None or not isinstance(value.value, str):
        return value
    if value.value.strip() == "all":  # LLaMA-Factory's own "every Linear" (models/llama_factory.py)
        return Value("all-linear", value.span, editable=False)
    names = [part.strip() for part in value.value.split(",") if part.strip()]
    span = value.span
    one_line = span.row == span.end_row and getattr(node, "style", None) in (None, '"', "'")
    base = span.col + (1 if getattr(node, "style", None) else 0)
    elements, cursor = [], 0
    for name in names:
        at = value.value.find(name, cursor)
        cursor = at + len(name)
        own = Span(span.row, base + at, span.row, base + cursor) if one_line else span
        elements.append(Value(name, own, editable=False))
    return Value(names, value.span, elements=elements, editable=False)


def axolotl(path: str, top: _Map, budget: _Budget) -> list[Site]:
    if "base_model" not in top or top.scalar("adapter", budget) not in ("lora", "qlora"):
        return []
    # What these keys become is axolotl's own (lorlint/models/axolotl.py): lora_target_linear
    # adds the model's Linear leaf names to lora_target_modules.
    keys = {"target_modules": "lora_target_modules", "lora_target_linear": "lora_target_linear",
            "target_parameters": "lora_target_parameters", "exclude_modules": "lora_exclude_modules",
            "modules_to_save": "lora_modules_to_save", "layers_pattern": "peft_layers_pattern",
            "layers_to_transform": "peft_layers_to_transform", "rank_pattern": "lora_rank_pattern",
            "alpha_pattern": "lora_alpha_pattern", "r": "lora_r",
            "ensure_weight_tying": "peft_ensure_weight_tying", **LORA_NUMBERS}  # fmt: skip
    site = _site(path, "axolotl", top.node("adapter"), {
        **_read(top, keys, budget),
        "task_type": Value("CAUSAL_LM", editable=False),
    })  # fmt: skip
    _model(site, _value(top.node("base_model"), budget))
    four_bit = top.scalar("adapter", budget) == "qlora" or top.scalar("load_in_4bit", budget)
    site.quantized, site.task = ("4bit" if four_bit else None), "causal-lm"
    return [site]


def llama_factory(path: str, top: _Map, budget: _Budget) -> list[Site]:
    if "model_name_or_path" not in top or top.scalar("finetuning_type", budget) != "lora":
        return []
    anchor = top.node("lora_target") or top.node("finetuning_type")
    lists = {"target_modules": "lora_target", "modules_to_save": "additional_target"}
    flags = {k: k for k in ("use_unsloth", "use_llama_pro", "freeze_vision_tower",
                            "freeze_multi_modal_projector", "freeze_language_model")}  # fmt: skip
    site = _site(path, "llama-factory", anchor, {
        **_read(top, lists, budget, reader=_comma_list),
        **_read(top, {"r": "lora_rank", **LORA_NUMBERS, **flags}, budget),
    })  # fmt: skip
    _model(site, _value(top.node("model_name_or_path"), budget))
    site.quantized = "4bit" if top.scalar("quantization_bit", budget) == 4 else None
    return [site]


def torchtune(path: str, top: _Map, budget: _Budget) -> list[Site]:
    model = top.sub("model")
    component = model.scalar("_component_", budget)
    if not isinstance(component, str) or "lora_attn_modules" not in model:
        return []
    attn = _value(model.node("lora_attn_modules"), budget)
    if attn is None or not isinstance(attn.value, list):
        return []
    targets = list(attn.elements or [])
    if model.scalar("apply_lora_to_mlp", budget) is True:
        targets += [Value(n, _span(model.node("apply_lora_to_mlp")), editable=False)
                    for n in ("w1", "w2", "w3")]  # fmt: skip
    if model.scalar("apply_lora_to_output", budget) is True:
        targets.append(Value("output", _span(model.node("apply_lora_to_output")), editable=False))
    value = Value([t.value for t in targets], attn.span, elements=targets, editable=False)
    site = _site(path, "torchtune", model.node("_component_"), {
        "target_modules": value,
        **_read(model, {"r": "lora_rank", "lora_alpha": "lora_alpha"}, budget),
    })  # fmt: skip
    site.model, site.model_origin = f"torchtune:{component}", "code"
    site.model_span = _span(model.node("_component_"))
    site.task = "causal-lm"
    return [site]


def oumi(path: str, top: _Map, budget: _Budget) -> list[Site]:
    model, training, peft = top.sub("model"), top.sub("training"), top.sub("peft")
    if "model_name" not in model or training.scalar("use_peft", budget) is not True:
        return []
    anchor = peft.node("lora_target_modules") or training.node("use_peft")
    keys = {"target_modules": "lora_target_modules", "modules_to_save": "lora_modules_to_save",
            "target_parameters": "lora_target_parameters", "r": "lora_r", **LORA_NUMBERS}  # fmt: skip
    keywords = _read(peft, keys, budget)
    # PeftParams.to_lora (src/oumi/core/configs/params/peft_params.py, oumi #1925): the list
    # ["all-linear"] is passed on as the string "all-linear", and lora_exclude_modules entries
    # are joined into one regex "(a)|(b)".
    targets = keywords["target_modules"]
    if targets is not None and targets.value == ["all-linear"]:
        keywords["target_modules"] = Value("all-linear", targets.span, editable=False)
    exclude = _value(peft.node("lora_exclude_modules"), budget)
    if exclude is not None and isinstance(exclude.value, list) and exclude.value:
        joined = "|".join(f"({m})" for m in exclude.value)
        keywords["exclude_modules"] = Value(joined, exclude.span, editable=False)
    site = _site(path, "oumi", anchor, keywords)
    _model(site, _value(model.node("model_name"), budget))
    site.quantized = "4bit" if peft.scalar("q_lora", budget) is True else None
    site.loader = "oumi"  # its class follows from the model type (lorlint/models/oumi.py)
    return [site]


YAML_TOOLS = (axolotl, llama_factory, torchtune, oumi)


def yaml_sites(path: str, text: str) -> list[Site]:
    """Sites of one YAML file; an unrelated YAML file has none. Raises ConfigError."""
    root = compose(text)
    if not isinstance(root, yaml.MappingNode):
        return []
    budget = _Budget()
    try:
        top = _Map(root, budget)
        sites: list[Site] = []
        for tool in YAML_TOOLS:
            sites.extend(tool(path, top, budget))
        if sites:
            validate(root, _Budget())
    except RecursionError as err:
        raise ConfigError("YAML nested too deeply") from err
    return sites


ADAPTER_KEYS = ("target_modules", "exclude_modules", "modules_to_save", "layers_to_transform",
                "layers_pattern", "rank_pattern", "alpha_pattern", "target_parameters", "r",
                "lora_alpha", "lora_dropout", "task_type", "feedforward_modules",
                "ensure_weight_tying")  # fmt: skip


def adapter_sites(path: str, text: str) -> list[Site]:
    """A saved adapter's ``adapter_config.json``: checked against its base model."""
    try:
        data = jsontext.loads(text)
    except jsontext.JSONTextError as err:
        raise ConfigError(str(err)) from err
    if not isinstance(data, dict) or "peft_type" not in data:
        return []
    try:
        root = yamltree.compose(text)  # JSON is YAML: gives positions
    except (yaml.YAMLError, RecursionError):
        root = None
    budget = _Budget()
    try:
        top = _Map(root, budget)
    except ConfigError:
        top = _Map(None, budget)  # JSON that YAML reads otherwise: values without positions
    keywords: dict[str, Value | None] = {}
    for key in ADAPTER_KEYS:
        if key not in data or data[key] is None:
            continue
        node = top.node(key)
        keywords[key] = _value(node, budget) if node is not None else Value(data[key])
    peft_type = str(data.get("peft_type", "LORA"))
    anchor = top.node("target_modules") or top.node("peft_type") or root
    span = _span(anchor) if anchor is not None else Span(1, 1, 1, 1)
    site = Site(path, "adapter", f"peft.{_config_class(peft_type)}", span,
                statement_rows=(span.row, span.row))  # fmt: skip
    site.keywords = {k: v for k, v in keywords.items() if v is not None}
    base = top.node("base_model_name_or_path")
    _model(site, _value(base, budget) if base is not None else None)
    site.task = TASK_TYPES.get(str(data.get("task_type")))
    return [site]


def _config_class(peft_type: str) -> str:
    """The config class of a saved ``peft_type`` (an unknown one is named after itself, so no
    rule takes it for LoRA)."""
    from lorlint.models.peft_defaults import CONFIG_PEFT_TYPES

    names = {value: name for name, value in CONFIG_PEFT_TYPES.items()}
    return names.get(peft_type.upper(), f"{peft_type.upper()}Config")
