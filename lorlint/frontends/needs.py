"""What an analysis of a module consulted (``Needs``): what a reduction of it (``reduce.py``) must
have kept. Its own module so that the Python front end, which records needs on every analysis,
loads the reducer and the logical-line scanner (about 8 ms of regex compiling) only for a module
it reduces."""

from __future__ import annotations


class Needs:
    """What an analysis consulted, so what a reduction must have kept for it: every use of
    ``values``, every possible binding of ``bindings``, the argparse options and dataclass
    fields named ``attributes``, the bodies of ``functions``, the ``return`` statements of the
    functions named ``returns``, the assignments to ``self.<members>``, the calls on the models
    held by ``flows``, the code of the physical ``rows`` (LL401's move reads every statement
    between two calls)."""

    def __init__(
        self,
        values: set[str] | None = None,
        bindings: set[str] | None = None,
        attributes: set[str] | None = None,
        functions: set[str] | None = None,
        returns: set[str] | None = None,
        members: set[str] | None = None,
        flows: set[str] | None = None,
        rows: set[int] | None = None,
    ):
        self.values = set() if values is None else values
        self.bindings = set() if bindings is None else bindings
        self.attributes = set() if attributes is None else attributes
        self.functions = set() if functions is None else functions
        self.returns = set() if returns is None else returns
        self.members = set() if members is None else members
        self.flows = set() if flows is None else flows
        self.rows = set() if rows is None else rows

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
