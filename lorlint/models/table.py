"""The layer table: every module of a model as ``named_modules()`` lists it, without torch.

A table is what the matcher and the rules read. It is built by ``introspect`` (meta device, real
transformers classes), cached on disk as JSON, and bundled in the catalog for torch-free installs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# LoRA's own layer kinds, in PEFT's dispatch order (peft/tuners/lora/layer.py ``dispatch_default``).
LORA_KINDS = ("embedding", "conv2d", "conv3d", "conv1d", "mha", "linear", "conv1d_hf")
# What PEFT's ``"all-linear"`` takes: ``isinstance(m, (nn.Linear, transformers.Conv1D))``.
ALL_LINEAR_KINDS = ("linear", "conv1d_hf")


@dataclass(frozen=True)
class Module:
    """One entry of ``named_modules()``."""

    name: str
    cls: str
    kind: str | None = None  # one of LORA_KINDS, or None when LoRA cannot wrap it
    shape: tuple[int, ...] = ()  # (in, out) for linears, (num, dim) for embeddings
    params: int = 0  # parameters owned directly (recurse=False)
    own_params: tuple[tuple[str, tuple[int, ...]], ...] = ()  # (name, shape), for target_parameters
    groups: int = 1  # a convolution's groups: LoRA needs the rank divisible by it

    @property
    def leaf(self) -> str:
        return self.name.rpartition(".")[2]


@dataclass
class LayerTable:
    """Every module of one model class built from one config, plus what PEFT asks of the model."""

    model_type: str
    architecture: str  # the class that was built, e.g. "LlamaForCausalLM"
    modules: list[Module]
    output_embedding: str | None = (
        None  # name of ``get_output_embeddings()``, excluded by all-linear
    )
    children: tuple[
        str, ...
    ] = ()  # top-level child names (PEFT's SEQ_CLS head lookup uses getattr)
    num_hidden_layers: int | None = None
    tied_embeddings: bool = False
    transformers_version: str = ""
    is_pretrained_model: bool = True
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._by_name = {m.name: m for m in self.modules}
        self._by_leaf: dict[str, list[Module]] | None = None

    def get(self, name: str) -> Module | None:
        return self._by_name.get(name)

    def with_leaf(self, leaf: str) -> list[Module]:
        """Modules whose last name component is ``leaf``, in table order (an index built on first
        use: a target entry can only hit modules whose leaf is the entry's own last component)."""
        if self._by_leaf is None:
            index: dict[str, list[Module]] = {}
            for m in self.modules:
                index.setdefault(m.leaf, []).append(m)
            self._by_leaf = index
        return self._by_leaf.get(leaf, [])

    def names(self) -> list[str]:
        return [m.name for m in self.modules]

    @property
    def total_params(self) -> int:
        return sum(m.params for m in self.modules)

    # --- serialisation: compact, class names interned -------------------------------------------
    def to_json(self) -> dict:
        classes: list[str] = []
        index: dict[str, int] = {}
        rows = []
        for m in self.modules:
            if m.cls not in index:
                index[m.cls] = len(classes)
                classes.append(m.cls)
            row: list = [m.name, index[m.cls], m.kind, list(m.shape), m.params]
            if m.own_params or m.groups != 1:
                row.append([[p, list(s)] for p, s in m.own_params])
            if m.groups != 1:
                row.append(m.groups)
            rows.append(row)
        return {
            "model_type": self.model_type,
            "architecture": self.architecture,
            "output_embedding": self.output_embedding,
            "children": list(self.children),
            "num_hidden_layers": self.num_hidden_layers,
            "tied_embeddings": self.tied_embeddings,
            "transformers_version": self.transformers_version,
            "is_pretrained_model": self.is_pretrained_model,
            "meta": self.meta,
            "classes": classes,
            "modules": rows,
        }

    @classmethod
    def from_json(cls, data: dict) -> LayerTable:
        classes = data["classes"]
        modules = []
        new = object.__new__
        for row in data["modules"]:
            own = tuple((p, tuple(s)) for p, s in row[5]) if len(row) > 5 else ()
            groups = row[6] if len(row) > 6 else 1
            # Module(...) without its frozen __init__ (one object.__setattr__ per field, 2x the
            # cost): tables hold thousands of modules, decoded on every run. Same attributes.
            module = new(Module)
            module.__dict__.update(
                name=row[0], cls=classes[row[1]], kind=row[2], shape=tuple(row[3]),
                params=row[4], own_params=own, groups=groups,
            )  # fmt: skip
            modules.append(module)
        return cls(
            model_type=data["model_type"],
            architecture=data["architecture"],
            modules=modules,
            output_embedding=data.get("output_embedding"),
            children=tuple(data.get("children", ())),
            num_hidden_layers=data.get("num_hidden_layers"),
            tied_embeddings=data.get("tied_embeddings", False),
            transformers_version=data.get("transformers_version", ""),
            is_pretrained_model=data.get("is_pretrained_model", True),
            meta=data.get("meta", {}),
        )
