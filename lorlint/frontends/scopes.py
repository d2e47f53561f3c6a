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
import re
from collections.abc import Callable

_BUILTINS = frozenset(dir(builtins))
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
_UNSEEN = object()


class Binding:
    """One binding of a name: ``kind`` is "assign", "import", "def", "param" or "other"."""

    __slots__ = ("end", "function", "index", "kind", "node", "qualified", "statement", "value")

    def __init__(
        self,
        kind: str,
        node: ast.AST,
        value: ast.expr | None = None,
        index: int | None = None,
        qualified: str = "",
        end: tuple[int, int] = (0, 0),
        statement: ast.stmt | None = None,
        function: ast.AST | None = None,
    ):
        self.kind = kind
        self.node = node  # the statement or target that binds
        self.value = value  # assign: the assigned value
        self.index = index  # assign: position in a tuple target
        self.qualified = qualified  # import: the dotted name it binds to
        self.end = end  # where it takes effect: the end of its statement (row, col)
        self.statement = statement  # assign: the assignment statement
        self.function = function  # param: the function (or lambda) it is a parameter of


class Scope:
    __slots__ = ("bindings", "globals", "kind", "node", "nonlocals", "parent")

    def __init__(
        self,
        kind: str,
        parent: Scope | None,
        node: ast.AST | None = None,
        bindings: dict[str, list[Binding]] | None = None,
        globals: set[str] | None = None,
        nonlocals: set[str] | None = None,
    ):
        self.kind = kind  # "module", "class", "function", "comprehension"
        self.parent = parent
        self.node = node  # the Module, ClassDef, FunctionDef, Lambda or comprehension
        self.bindings = {} if bindings is None else bindings
        self.globals = set() if globals is None else globals
        self.nonlocals = set() if nonlocals is None else nonlocals

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
        self.reads: dict[str, list[ast.Name]] = {}  # name → every read of it (scope: scope_of)
        self.calls: list[ast.Call] = []  # in source order
        self.call_scope: dict[ast.Call, Scope] = {}
        self.calls_in: dict[Scope, list[ast.Call]] = {}  # each scope's calls, in source order
        self.classes: list[ast.ClassDef] = []
        self.statements: list[ast.stmt] = []  # simple statements, in source order
        self.star_imports: list[str] = []  # modules of module-level ``from M import *``
        self.imports: list[tuple[str, str]] = []  # (name bound, dotted name) of every import
        # (name, attribute) of every ``name.attribute = ...`` / ``del name.attribute``
        self.stored_attributes: set[tuple[str, str]] = set()
        self.scope_for: dict[ast.AST, Scope] = {tree: self.module}  # def/class/... → its scope
        self._resolved: dict[tuple[int, str], Scope | None] = {}
        self._assignments: dict[Scope, dict[int, ast.stmt]] = {}
        self._qualified: dict[ast.expr, str | None] = {}
        self._read_counts: dict[tuple[Scope, str, Binding], int] = {}
        _Walker(self).run(tree)

    # --- resolution -------------------------------------------------------------------------
    def resolve(self, scope: Scope, name: str) -> Scope | None:
        """The scope whose bindings a read of ``name`` in ``scope`` sees; None if unbound."""
        key = (id(scope), name)
        found = self._resolved.get(key, _UNSEEN)
        if found is _UNSEEN:
            found = self._resolved[key] = self._resolve(scope, name)
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
        its own scope after its statement (libcst's ``Assignment.references``). Counted once per
        binding (every use it reaches asks)."""
        key = (owner, name, binding)
        count = self._read_counts.get(key)
        if count is None:
            count = self._read_counts[key] = self._count_reads(owner, name, binding)
        return count

    def _count_reads(self, owner: Scope, name: str, binding: Binding) -> int:
        count = 0
        scope_of = self.scope_of
        for read in self.reads.get(name, ()):
            scope, row, col = scope_of[read], read.lineno, read.col_offset
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
        None for anything else (a call's result, a subscript). Worked out once per node (the
        site tests and the flows ask again for the same calls)."""
        found = self._qualified.get(expr, _UNSEEN)
        if found is _UNSEEN:
            found = self._qualified[expr] = self._qualify(expr)
        return found

    def _qualify(self, expr: ast.expr) -> str | None:
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
    """Pre-order traversal (source order) building a ``Scopes``.

    One stack holds the nodes still to visit and, between them, the scopes they belong to: a
    ``Scope`` popped from it is the scope of the nodes popped after it. A handler pushes a node's
    children itself, in reverse so that they pop in source order, with the scope markers around
    those of an inner scope (a function's body, a comprehension's element); constants, contexts
    and operators are never pushed. The most frequent nodes (names, attributes, calls, plain
    assignments, expression statements, subscripts) are handled in the loop itself, without a
    handler's call."""

    def __init__(self, scopes: Scopes):
        self.s = scopes
        self.stack: list = []

    def run(self, tree: ast.Module) -> None:
        s = self.s
        stack = self.stack = [tree]
        pop = stack.pop
        scope_of, reads = s.scope_of, s.reads
        handlers = _HANDLERS
        scope = s.module
        name_type, store_type, load_type = ast.Name, ast.Store, ast.Load
        attribute_type, call_type, expr_type = ast.Attribute, ast.Call, ast.Expr
        generic, generic_of = _GENERIC_HANDLER, _GENERIC
        subscript_type, constant_type, push = ast.Subscript, _CONSTANT, stack.append
        assign_type = ast.Assign
        calls, call_scope, calls_in = s.calls, s.call_scope, s.calls_in
        statements = s.statements
        while stack:
            node = pop()
            kind = type(node)
            if kind is name_type:
                if type(node.ctx) is not store_type:  # ``del x`` reads x, as libcst counts it
                    scope_of[node] = scope
                    named = reads.get(node.id)
                    if named is None:
                        reads[node.id] = [node]
                    else:
                        named.append(node)
            elif kind is attribute_type:  # the next most frequent: ``_stored_attribute`` inlined
                value = node.value
                if type(node.ctx) is not load_type and type(value) is name_type:
                    s.stored_attributes.add((value.id, node.attr))
                if type(value) is not constant_type:
                    push(value)
            elif kind is call_type:  # a call: recorded, then its arguments, then its function
                calls.append(node)
                call_scope[node] = scope
                found = calls_in.get(scope)
                if found is None:
                    calls_in[scope] = [node]
                else:
                    found.append(node)
                for keyword in reversed(node.keywords):
                    if type(keyword.value) is not constant_type:
                        push(keyword.value)
                for value in reversed(node.args):
                    if type(value) is not constant_type:
                        push(value)
                push(node.func)
            elif kind is expr_type:  # an expression statement: a simple statement, its value
                statements.append(node)
                if type(node.value) is not constant_type:
                    push(node.value)
            elif kind is subscript_type:  # its value, then its slice
                if type(node.slice) is not constant_type:
                    push(node.slice)
                if type(node.value) is not constant_type:
                    push(node.value)
            elif kind is assign_type:  # a plain assignment: each target bound, then
                # visited (targets first, then the value; a target is never a constant)
                statements.append(node)
                value, targets = node.value, node.targets
                end = _end(node)
                for target in targets:
                    if type(target) is name_type:
                        binding = Binding("assign", target, value, None, "", end, node)
                        scope.bind(target.id, binding)
                    else:
                        self._target(target, scope, node)
                if type(value) is not constant_type:
                    push(value)
                for target in reversed(targets):
                    if type(target) is not name_type:  # a name stored: nothing to visit
                        push(target)
            elif kind is Scope:
                scope = node
            else:
                handler = handlers.get(kind)
                if handler is None:
                    handler = handlers[kind] = _handler(kind)
                if handler is not generic:
                    handler(self, node, scope)
                    continue
                # a node type without its own handler (most of the others): its children pushed
                # in reverse field order, each list's in reverse, so that they pop in source
                # order (``_children``'s, inlined); a simple statement is listed
                simple, backwards = generic_of[kind]
                if simple:
                    statements.append(node)
                if backwards is None:  # a node type whose signature could not be read
                    stack.extend(reversed(_children(node, None)))
                    continue
                for field in backwards:
                    value = getattr(node, field, None)
                    if type(value) is list:
                        for item in reversed(value):
                            if item is not None and type(item) is not constant_type:
                                push(item)
                    elif value is not None and type(value) is not constant_type:
                        push(value)

    def _push(self, children: list) -> None:
        self.stack.extend(reversed(children))

    def _push_inner(self, outer: Scope, inner: Scope, children: list) -> None:
        """``children`` visited in ``inner``, then ``outer`` again."""
        stack = self.stack
        stack.append(outer)
        stack.extend(reversed(children))
        stack.append(inner)

    def _stored_attribute(self, node: ast.Attribute) -> None:
        """``name.attribute = ...`` / ``del name.attribute`` is recorded."""
        if type(node.ctx) is not ast.Load and type(node.value) is ast.Name:
            self.s.stored_attributes.add((node.value.id, node.attr))

    # --- statements that bind ----------------------------------------------------------------
    def visit_AnnAssign(self, node: ast.AnnAssign, scope: Scope) -> None:
        self.s.statements.append(node)
        if isinstance(node.target, ast.Name):
            kind = "assign" if node.value is not None else "other"
            binding = Binding(kind, node.target, node.value, end=_end(node), statement=node)
            scope.bind(node.target.id, binding)
        self._push(_nodes([node.target, node.annotation, node.value]))

    def visit_AugAssign(self, node: ast.AugAssign, scope: Scope) -> None:
        self.s.statements.append(node)
        self._other(node.target, scope)
        self._push(_nodes([node.target, node.value]))

    def visit_NamedExpr(self, node: ast.NamedExpr, scope: Scope) -> None:
        target_scope = scope
        while target_scope.kind == "comprehension" and target_scope.parent is not None:
            target_scope = target_scope.parent
        target_scope.bind(node.target.id, Binding("other", node.target))
        self._push(_nodes([node.value]))

    def visit_For(self, node, scope: Scope) -> None:
        self._other(node.target, scope)
        self._push(_children(node, _child_fields(type(node))))

    visit_AsyncFor = visit_For

    def visit_withitem(self, node: ast.withitem, scope: Scope) -> None:
        if node.optional_vars is not None:
            self._other(node.optional_vars, scope)
        self._push(_nodes([node.context_expr, node.optional_vars]))

    def visit_ExceptHandler(self, node: ast.ExceptHandler, scope: Scope) -> None:
        if node.name:
            scope.bind(node.name, Binding("other", node))
        self._push(_nodes([node.type, *node.body]))

    def visit_Import(self, node: ast.Import, scope: Scope) -> None:
        self.s.statements.append(node)
        end = _end(node)
        for alias in node.names:
            if alias.asname:
                self._import(scope, alias.asname, node, alias.name, end)
            else:
                top = alias.name.partition(".")[0]
                self._import(scope, top, node, top, end)

    def visit_ImportFrom(self, node: ast.ImportFrom, scope: Scope) -> None:
        self.s.statements.append(node)
        module = "." * node.level + (node.module or "")
        end = _end(node)
        for alias in node.names:
            if alias.name == "*":
                if scope.kind == "module":
                    self.s.star_imports.append(module)
                continue
            qualified = (
                f"{module}.{alias.name}" if module and module[-1] != "." else module + alias.name
            )
            self._import(scope, alias.asname or alias.name, node, qualified, end)

    def _import(
        self, scope: Scope, name: str, node: ast.stmt, qualified: str, end: tuple[int, int]
    ) -> None:
        scope.bind(name, Binding("import", node, None, None, qualified, end))
        self.s.imports.append((name, qualified))

    def visit_MatchAs(self, node, scope: Scope) -> None:
        if node.name:
            scope.bind(node.name, Binding("other", node))
        self._push(_children(node, _child_fields(type(node))))

    visit_MatchStar = visit_MatchAs

    def visit_MatchMapping(self, node, scope: Scope) -> None:
        if node.rest:
            scope.bind(node.rest, Binding("other", node))
        self._push(_children(node, _child_fields(type(node))))

    def visit_Global(self, node: ast.Global, scope: Scope) -> None:
        self.s.statements.append(node)
        scope.globals.update(node.names)

    def visit_Nonlocal(self, node: ast.Nonlocal, scope: Scope) -> None:
        self.s.statements.append(node)
        scope.nonlocals.update(node.names)

    # --- scopes -----------------------------------------------------------------------------
    def visit_FunctionDef(self, node, scope: Scope) -> None:
        scope.bind(node.name, Binding("def", node))
        inner = Scope("function", scope, node)
        self.s.scope_for[node] = inner
        self._parameters(node, inner)
        outer = [*node.decorator_list, *self._defaults(node.args)]
        outer += self._annotations(node.args)
        outer.append(node.returns)
        self._push_inner(scope, inner, node.body)
        self._push(_nodes(outer))

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node: ast.Lambda, scope: Scope) -> None:
        inner = Scope("function", scope, node)
        self.s.scope_for[node] = inner
        self._parameters(node, inner)
        self._push_inner(scope, inner, _nodes([node.body]))
        self._push(_nodes(self._defaults(node.args)))

    def visit_ClassDef(self, node: ast.ClassDef, scope: Scope) -> None:
        scope.bind(node.name, Binding("def", node))
        self.s.classes.append(node)
        inner = Scope("class", scope, node)
        self.s.scope_for[node] = inner
        self._push_inner(scope, inner, node.body)
        self._push(_nodes([*node.decorator_list, *node.bases, *node.keywords]))

    def visit_comprehension_node(self, node, scope: Scope) -> None:
        inner = Scope("comprehension", scope, node)
        self.s.scope_for[node] = inner
        first: list[ast.AST] = []  # the first iterable: the enclosing scope's
        children: list[ast.AST] = []
        for i, generator in enumerate(node.generators):
            self._other(generator.target, inner)
            if not isinstance(generator.target, ast.Name):  # not walked: its stores only
                for part in ast.walk(generator.target):
                    if isinstance(part, ast.Attribute):
                        self._stored_attribute(part)
            (first if i == 0 else children).append(generator.iter)
            children.extend(generator.ifs)
        if isinstance(node, ast.DictComp):
            children += [node.key, node.value]
        else:
            children.append(node.elt)
        self._push_inner(scope, inner, _nodes(children))
        self._push(_nodes(first))

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


_CONSTANT = ast.Constant
# ASDL types of fields that never hold a node worth visiting: names, numbers, constants, and the
# context / operator nodes
_LEAF_FIELD_TYPES = {
    "identifier", "string", "int", "constant",
    "expr_context", "operator", "unaryop", "cmpop", "boolop",
}  # fmt: skip
_FIELDS: dict[type, tuple[str, ...] | None] = {}
# node type → its handler (a _Walker method, or ``_GENERIC_HANDLER`` for a type whose children
# the walk's loop pushes itself), and for those: (whether a simple statement, the child fields
# in reverse order)
_HANDLERS: dict[type, Callable | object] = {}
_GENERIC_HANDLER = object()
_GENERIC: dict[type, tuple[bool, tuple[str, ...] | None]] = {}
_SIGNATURE = re.compile(r"\w+\((.*)\)")
_LEAVES = (ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop, ast.Constant)


def _handler(kind: type) -> Callable | object:
    """A node type's handler: its own ``visit_`` method, or ``_GENERIC_HANDLER`` (whose facts
    about the type are recorded first: another thread may use the handler as soon as it is
    seen)."""
    handler = getattr(_Walker, "visit_" + kind.__name__, None)
    if handler is None:
        simple = issubclass(kind, ast.stmt) and not issubclass(kind, _COMPOUND)
        fields = _child_fields(kind)
        _GENERIC[kind] = (simple, None if fields is None else fields[::-1])
        handler = _GENERIC_HANDLER
    return handler


def _child_fields(kind: type) -> tuple[str, ...] | None:
    """The fields of a node type that can hold a name, a call or a scope, read from the type's
    ASDL signature (``Compare(expr left, cmpop* ops, expr* comparators)``); None where that
    signature cannot be read (every field is then tested)."""
    if kind in _FIELDS:
        return _FIELDS[kind]
    declared = _SIGNATURE.fullmatch((kind.__doc__ or "").split("\n")[0].strip())
    if declared is None:
        fields = None
    else:
        types = {}
        for part in declared.group(1).split(",") if declared.group(1) else ():
            field_type, _, name = part.strip().rpartition(" ")
            types[name] = field_type.rstrip("*?")
        if set(types) != set(kind._fields):
            fields = None
        else:
            leaf = _LEAF_FIELD_TYPES
            fields = tuple(name for name in kind._fields if types[name] not in leaf)
    _FIELDS[kind] = fields
    return fields


def _children(node: ast.AST, fields: tuple[str, ...] | None) -> list[ast.AST]:
    """The child nodes that can hold a name, a call or a scope (not constants), in field order."""
    out: list[ast.AST] = []
    if fields is None:  # a node type whose signature could not be read
        for name in node._fields:
            value = getattr(node, name, None)
            for v in value if isinstance(value, list) else [value]:
                if isinstance(v, ast.AST) and not isinstance(v, _LEAVES):
                    out.append(v)
        return out
    for name in fields:
        value = getattr(node, name, None)
        if type(value) is list:
            out += [v for v in value if v is not None and type(v) is not _CONSTANT]
        elif value is not None and type(value) is not _CONSTANT:
            out.append(value)
    return out


def _nodes(children: list) -> list[ast.AST]:
    """``children`` without None and constants."""
    return [c for c in children if c is not None and type(c) is not _CONSTANT]


def _end(node: ast.AST) -> tuple[int, int]:
    return (getattr(node, "end_lineno", 0) or 0, getattr(node, "end_col_offset", 0) or 0)


_COMPOUND = (
    ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.If, ast.For, ast.AsyncFor,
    ast.While, ast.With, ast.AsyncWith, ast.Try, ast.Match,
) + ((ast.TryStar,) if hasattr(ast, "TryStar") else ())  # fmt: skip
