"""What an analysis of a module consulted (``Needs``): what a reduction of it (``reduce.py``) must
have kept. Its own module so that the Python front end, which records needs on every analysis,
loads the reducer and the logical-line scanner (about 8 ms of regex compiling) only for a module
it reduces."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Needs:
    """What an analysis consulted, so what a reduction must have kept for it: every use of
    ``values``, every possible binding of ``bindings``, the argparse options and dataclass
    fields named ``attributes``, the bodies of ``functions``, the ``return`` statements of the
    functions named ``returns``, the assignments to ``self.<members>``, the calls on the models
    held by ``flows``, the code of the physical ``rows`` (LL401's move reads every statement
    between two calls)."""

    values: set[str] = field(default_factory=set)
    bindings: set[str] = field(default_factory=set)
    attributes: set[str] = field(default_factory=set)
    functions: set[str] = field(default_factory=set)
    returns: set[str] = field(default_factory=set)
    members: set[str] = field(default_factory=set)
    flows: set[str] = field(default_factory=set)
    rows: set[int] = field(default_factory=set)

    def __le__(self, covered: Needs) -> bool:
        return (
            self.values <= covered.values
            and self.bindings <= covered.values | covered.bindings
            and self.attributes <= covered.attributes
            and self.functions <= covered.functions
            and self.returns <= covered.returns | covered.functions
            and self.members <= covered.members
            and (ALL in covered.flows or self.flows <= covered.flows | covered.values)
            and self.rows <= covered.rows
        )

    def copy(self) -> Needs:
        return Needs(*(set(getattr(self, f)) for f in _NEEDS))


_NEEDS = ("values", "bindings", "attributes", "functions", "returns", "members", "flows", "rows")
ALL = "*"  # in ``Needs.flows``: every line a flow can be made of is kept
