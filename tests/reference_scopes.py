"""The scope walk of lorlint/frontends/scopes.py as it was before session 7 (a stack of (node,
scope) pairs, one handler per node returning its children): the oracle of tests/test_scopes_walk.py.
Only the record of a read changed since (the Name node itself, not its scope and position); the
helpers that bind targets and parameters are the walk's own (they did not change)."""

from __future__ import annotations

import ast

from lorlint.frontends.scopes import _COMPOUND, Binding, Scope, Scopes, _end, _Walker


class ReferenceWalker:
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
            self.s.reads.setdefault(node.id, []).append(node)

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

    # --- helpers: the binding of targets and parameters did not change --------------------
    _target = _Walker._target
    _other = _Walker._other
    _parameters = staticmethod(_Walker._parameters)
    _defaults = staticmethod(_Walker._defaults)
    _annotations = staticmethod(_Walker._annotations)


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
