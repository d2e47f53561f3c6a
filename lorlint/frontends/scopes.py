"""Scopes, bindings and qualified names of an ``ast`` module, as the Python front end needs them.

One traversal records, per scope (module, class, function, lambda, comprehension), every binding
of every name and every read of it, following Python's rules: class bodies are invisible to the
functions inside them, ``global`` / ``nonlocal`` redirect a name, decorators, defaults,
annotations and a comprehension's first iterable belong to the enclosing scope. Only plain
assignments (``x = ...``, ``x: T = ...``, ``a, b = ...``) carry a value the evaluator follows; any
other binding of a name (import, parameter, loop target, ``+=``, ...) makes it unknown.
"""

from __future__ import annotations

import ast
import builtins
from dataclasses import dataclass, field

_BUILTINS = frozenset(dir(builtins))
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


@dataclass(eq=False)
class Binding:
    """One binding of a name: ``kind`` is "assign", "import", "def", "param" or "other"."""

    kind: str
    node: ast.AST  # the statement or target that binds
    value: ast.expr | None = None  # assign: the assigned value
    index: int | None = None  # assign: position in a tuple target
    qualified: str = ""  # import: the dotted name it binds to
    end: tuple[int, int] = (0, 0)  # where it takes effect: the end of its statement (row, col)
    statement: ast.stmt | None = None  # assign: the assignment statement
    function: ast.AST | None = None  # param: the function (or lambda) it is a parameter of


@dataclass(eq=False)
class Scope:
    kind: str  # "module", "class", "function", "comprehension"
    parent: Scope | None
    node: ast.AST | None = None  # the Module, ClassDef, FunctionDef, Lambda or comprehension
    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    globals: set[str] = field(default_factory=set)
    nonlocals: set[str] = field(default_factory=set)

    def bind(self, name: str, binding: Binding) -> None:
        if binding.end == (0, 0) and hasattr(binding.node, "end_lineno"):
            binding.end = _end(binding.node)
        if name in self.globals:
            scope = self
            while scope.parent is not None:
                scope = scope.parent
            scope.bindings.setdefault(name, []).append(binding)
            return
        self.bindings.setdefault(name, []).append(binding)


class Scopes:
    """Name resolution for one module tree."""

    def __init__(self, tree: ast.Module):
        self.module = Scope("module", None, tree)
        self.scope_of: dict[ast.Name, Scope] = {}  # every Name read → the scope it is read in
        self.reads: dict[str, list[tuple[Scope, int, int]]] = {}  # name → (scope, row, col)
        self.calls: list[ast.Call] = []  # in source order
        self.call_scope: dict[ast.Call, Scope] = {}
        self.calls_in: dict[Scope, list[ast.Call]] = {}  # each scope's calls, in source order
        self.classes: list[ast.ClassDef] = []
        self.statements: list[ast.stmt] = []  # simple statements, in source order
        self.star_imports: list[str] = []  # modules of module-level ``from M import *``
        # (name, attribute) of every ``name.attribute = ...`` / ``del name.attribute``
        self.stored_attributes: set[tuple[str, str]] = set()
        self.scope_for: dict[ast.AST, Scope] = {tree: self.module}  # def/class/... → its scope
        self._resolved: dict[tuple[int, str], Scope | None] = {}
        self._assignments: dict[Scope, dict[int, ast.stmt]] = {}
        _Walker(self).run(tree)

    # --- resolution -------------------------------------------------------------------------
    def resolve(self, scope: Scope, name: str) -> Scope | None:
        """The scope whose bindings a read of ``name`` in ``scope`` sees; None if unbound."""
        key = (id(scope), name)
        if key in self._resolved:
            return self._resolved[key]
        found = self._resolve(scope, name)
        self._resolved[key] = found
        return found

    def _resolve(self, scope: Scope, name: str) -> Scope | None:
        if name in scope.globals:
            return self.module if name in self.module.bindings else None
        if name in scope.bindings and name not in scope.nonlocals:
            return scope
        current = scope.parent
        while current is not None:
            visible = current.kind == "module" or name not in current.nonlocals
            if current.kind != "class" and name in current.bindings and visible:
                return current
            current = current.parent
        return None

    def bindings_of(self, node: ast.Name) -> tuple[Scope | None, list[Binding]]:
        scope = self.scope_of.get(node)
        if scope is None:
            return None, []
        owner = self.resolve(scope, node.id)
        return owner, owner.bindings.get(node.id, []) if owner is not None else []

    def read_count(self, owner: Scope, name: str, binding: Binding) -> int:
        """How many reads of ``name`` can see ``binding``: those from inner scopes, and those of
        its own scope after its statement (libcst's ``Assignment.references``)."""
        count = 0
        for scope, row, col in self.reads.get(name, ()):
            found = self.resolve(scope, name)
            if found is owner:
                count += scope is not owner or (row, col) >= binding.end
            elif found is scope and scope.parent is not None and scope.kind != "comprehension":
                # libcst: a read that comes before one of its own scope's bindings also counts
                # for the bindings the enclosing scope gives the name (a comprehension binds its
                # targets before it evaluates its element, whatever the source order)
                last = max(b.end for b in scope.bindings[name])
                count += (row, col) < last and self.resolve(scope.parent, name) is owner
        return count

    def assignments(self, scope: Scope) -> dict[int, ast.stmt]:
        """id(value) → the plain assignment statement of that value, in ``scope`` (computed once
        per scope)."""
        found = self._assignments.get(scope)
        if found is None:
            found = self._assignments[scope] = {
                id(binding.value): binding.statement
                for bindings in scope.bindings.values()
                for binding in bindings
                if binding.kind == "assign" and binding.statement is not None
            }
        return found

    def qualified(self, expr: ast.expr) -> str | None:
        """``peft.LoraConfig`` for ``LC`` after ``from peft import LoraConfig as LC``; the dotted
        chain on an import, a builtin or a star-imported name; the plain chain on a local binding.
        None for anything else (a call's result, a subscript)."""
        attrs: list[str] = []
        while isinstance(expr, ast.Attribute):
            attrs.append(expr.attr)
            expr = expr.value
        if not isinstance(expr, ast.Name):
            return None
        tail = "".join("." + a for a in reversed(attrs))
        owner, found = self.bindings_of(expr)
        if owner is None:
            if expr.id in _BUILTINS:
                return f"builtins.{expr.id}{tail}"
            if len(self.star_imports) == 1:  # valid code: the name comes from there
                return f"{self.star_imports[0]}.{expr.id}{tail}"
            return None
        imports = [b.qualified for b in found if b.kind == "import"]
        if imports:
            return min(imports, key=len) + tail
        return expr.id + tail


class _Walker:
    """Pre-order traversal (source order) building a ``Scopes``."""

    def __init__(self, scopes: Scopes):
        self.s = scopes

    def run(self, tree: ast.Module) -> None:
        # (node, scope) pairs; children pushed in reverse so they pop in source order
        stack: list[tuple[ast.AST, Scope]] = [(tree, self.s.module)]
        pop, extend = stack.pop, stack.extend
        handlers: dict[type, object] = {}
        while stack:
            node, scope = pop()
            kind = type(node)
            handler = handlers.get(kind)
            if handler is None:
                handler = handlers[kind] = getattr(self, "visit_" + kind.__name__, self.generic)
            children = handler(node, scope)
            if children:
                extend(reversed(children))

    def generic(self, node: ast.AST, scope: Scope) -> list[tuple[ast.AST, Scope]]:
        if isinstance(node, ast.stmt) and not isinstance(node, _COMPOUND):
            self.s.statements.append(node)
        return [(child, scope) for child in _children(node)]

    def visit_Name(self, node: ast.Name, scope: Scope):
        if not isinstance(node.ctx, ast.Store):  # ``del x`` reads x, as libcst counts it
            self.s.scope_of[node] = scope
            self.s.reads.setdefault(node.id, []).append((scope, node.lineno, node.col_offset))

    def visit_Constant(self, node, scope):
        return None

    def visit_Call(self, node: ast.Call, scope: Scope):
        self.s.calls.append(node)
        self.s.call_scope[node] = scope
        self.s.calls_in.setdefault(scope, []).append(node)
        children = [(node.func, scope)]
        children += [(arg, scope) for arg in node.args]
        children += [(keyword.value, scope) for keyword in node.keywords]
        return children

    def visit_Attribute(self, node: ast.Attribute, scope: Scope):
        if type(node.ctx) is not ast.Load and type(node.value) is ast.Name:
            self.s.stored_attributes.add((node.value.id, node.attr))
        return [(node.value, scope)]

    # --- statements that bind ----------------------------------------------------------------
    def visit_Assign(self, node: ast.Assign, scope: Scope):
        self.s.statements.append(node)
        for target in node.targets:
            self._target(target, scope, node)
        return [(t, scope) for t in node.targets] + [(node.value, scope)]

    def visit_AnnAssign(self, node: ast.AnnAssign, scope: Scope):
        self.s.statements.append(node)
        if isinstance(node.target, ast.Name):
            kind = "assign" if node.value is not None else "other"
            binding = Binding(kind, node.target, node.value, end=_end(node), statement=node)
            scope.bind(node.target.id, binding)
        children = [(node.target, scope), (node.annotation, scope)]
        return children + ([(node.value, scope)] if node.value is not None else [])

    def visit_AugAssign(self, node: ast.AugAssign, scope: Scope):
        self.s.statements.append(node)
        self._other(node.target, scope)
        return [(node.target, scope), (node.value, scope)]

    def visit_NamedExpr(self, node: ast.NamedExpr, scope: Scope):
        target_scope = scope
        while target_scope.kind == "comprehension" and target_scope.parent is not None:
            target_scope = target_scope.parent
        target_scope.bind(node.target.id, Binding("other", node.target))
        return [(node.value, scope)]

    def visit_For(self, node, scope: Scope):
        self._other(node.target, scope)
        return [(c, scope) for c in _children(node)]

    visit_AsyncFor = visit_For

    def visit_withitem(self, node: ast.withitem, scope: Scope):
        if node.optional_vars is not None:
            self._other(node.optional_vars, scope)
        return [(c, scope) for c in _children(node)]

    def visit_ExceptHandler(self, node: ast.ExceptHandler, scope: Scope):
        if node.name:
            scope.bind(node.name, Binding("other", node))
        return [(c, scope) for c in _children(node)]

    def visit_Import(self, node: ast.Import, scope: Scope):
        self.s.statements.append(node)
        for alias in node.names:
            if alias.asname:
                scope.bind(alias.asname, Binding("import", node, qualified=alias.name))
            else:
                top = alias.name.partition(".")[0]
                scope.bind(top, Binding("import", node, qualified=top))
        return []

    def visit_ImportFrom(self, node: ast.ImportFrom, scope: Scope):
        self.s.statements.append(node)
        module = "." * node.level + (node.module or "")
        for alias in node.names:
            if alias.name == "*":
                if scope.kind == "module":
                    self.s.star_imports.append(module)
                continue
            qualified = (
                f"{module}.{alias.name}" if module and module[-1] != "." else module + alias.name
            )
            scope.bind(alias.asname or alias.name, Binding("import", node, qualified=qualified))
        return []

    def visit_MatchAs(self, node, scope: Scope):
        if node.name:
            scope.bind(node.name, Binding("other", node))
        return [(c, scope) for c in _children(node)]

    visit_MatchStar = visit_MatchAs

    def visit_MatchMapping(self, node, scope: Scope):
        if node.rest:
            scope.bind(node.rest, Binding("other", node))
        return [(c, scope) for c in _children(node)]

    def visit_Global(self, node: ast.Global, scope: Scope):
        self.s.statements.append(node)
        scope.globals.update(node.names)
        return []

    def visit_Nonlocal(self, node: ast.Nonlocal, scope: Scope):
        self.s.statements.append(node)
        scope.nonlocals.update(node.names)
        return []

    # --- scopes -----------------------------------------------------------------------------
    def visit_FunctionDef(self, node, scope: Scope):
        scope.bind(node.name, Binding("def", node))
        inner = Scope("function", scope, node)
        self.s.scope_for[node] = inner
        self._parameters(node, inner)
        outer = [*node.decorator_list, *self._defaults(node.args)]
        outer += self._annotations(node.args)
        if node.returns is not None:
            outer.append(node.returns)
        return [(n, scope) for n in outer] + [(n, inner) for n in node.body]

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node: ast.Lambda, scope: Scope):
        inner = Scope("function", scope, node)
        self.s.scope_for[node] = inner
        self._parameters(node, inner)
        return [(n, scope) for n in self._defaults(node.args)] + [(node.body, inner)]

    def visit_ClassDef(self, node: ast.ClassDef, scope: Scope):
        scope.bind(node.name, Binding("def", node))
        self.s.classes.append(node)
        inner = Scope("class", scope, node)
        self.s.scope_for[node] = inner
        outer = [*node.decorator_list, *node.bases, *node.keywords]
        return [(n, scope) for n in outer] + [(n, inner) for n in node.body]

    def visit_comprehension_node(self, node, scope: Scope):
        inner = Scope("comprehension", scope, node)
        self.s.scope_for[node] = inner
        children: list[tuple[ast.AST, Scope]] = []
        for i, generator in enumerate(node.generators):
            self._other(generator.target, inner)
            if not isinstance(generator.target, ast.Name):  # not walked: its stores only
                for part in ast.walk(generator.target):
                    if isinstance(part, ast.Attribute) and type(part.ctx) is not ast.Load:
                        self.visit_Attribute(part, inner)
            children.append((generator.iter, scope if i == 0 else inner))
            children.extend((cond, inner) for cond in generator.ifs)
        if isinstance(node, ast.DictComp):
            children += [(node.key, inner), (node.value, inner)]
        else:
            children.append((node.elt, inner))
        return children

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = visit_comprehension_node

    # --- helpers ----------------------------------------------------------------------------
    def _target(self, target: ast.expr, scope: Scope, statement: ast.stmt) -> None:
        value, end = statement.value, _end(statement)
        if isinstance(target, ast.Name):
            scope.bind(target.id, Binding("assign", target, value, end=end, statement=statement))
        elif isinstance(target, (ast.Tuple, ast.List)):
            for i, element in enumerate(target.elts):
                if isinstance(element, ast.Name):
                    binding = Binding("assign", element, value, i, end=end, statement=statement)
                    scope.bind(element.id, binding)
                else:
                    self._other(element, scope)

    def _other(self, target: ast.expr, scope: Scope) -> None:
        """Every name bound by a target other than a plain assignment."""
        if isinstance(target, ast.Name):
            scope.bind(target.id, Binding("other", target))
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self._other(element, scope)
        elif isinstance(target, ast.Starred):
            self._other(target.value, scope)

    @staticmethod
    def _parameters(function: ast.AST, scope: Scope) -> None:
        args = function.args
        for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs]:
            scope.bind(arg.arg, Binding("param", arg, function=function))
        for arg in (args.vararg, args.kwarg):
            if arg is not None:
                scope.bind(arg.arg, Binding("other", arg))

    @staticmethod
    def _defaults(args: ast.arguments) -> list[ast.expr]:
        return [*args.defaults, *(d for d in args.kw_defaults if d is not None)]

    @staticmethod
    def _annotations(args: ast.arguments) -> list[ast.expr]:
        every = [*args.posonlyargs, *args.args, *args.kwonlyargs]
        every += [a for a in (args.vararg, args.kwarg) if a is not None]
        return [a.annotation for a in every if a.annotation is not None]


_LEAVES = (ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop, ast.Constant)
_FIELDS: dict[type, tuple[str, ...]] = {}


def _children(node: ast.AST) -> list[ast.AST]:
    """The child nodes that can hold a name, a call or a scope (not contexts, operators or
    constants)."""
    kind = type(node)
    fields = _FIELDS.get(kind)
    if fields is None:
        fields = _FIELDS[kind] = kind._fields
    out: list[ast.AST] = []
    for name in fields:
        value = getattr(node, name, None)
        if isinstance(value, list):
            out.extend(v for v in value if isinstance(v, ast.AST) and not isinstance(v, _LEAVES))
        elif isinstance(value, ast.AST) and not isinstance(value, _LEAVES):
            out.append(value)
    return out


def _end(node: ast.AST) -> tuple[int, int]:
    return (getattr(node, "end_lineno", 0) or 0, getattr(node, "end_col_offset", 0) or 0)


_COMPOUND = (
    ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.If, ast.For, ast.AsyncFor,
    ast.While, ast.With, ast.AsyncWith, ast.Try, ast.Match,
) + ((ast.TryStar,) if hasattr(ast, "TryStar") else ())  # fmt: skip
