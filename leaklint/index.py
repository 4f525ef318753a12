"""FileIndex: one traversal of a libcst module that every rule queries.

libcst's metadata providers (scopes, qualified names, parents) each walk the tree again
and dominate the cost of a libcst linter; this module builds what the rules need in a
single hand-written walk over the dataclass fields, skipping whitespace nodes:

- scopes (module, class, function, lambda, comprehension) with their bindings;
- every name use, resolved to the scope that binds it (LEGB, class scopes skipped from
  nested functions, `global` / `nonlocal` honoured);
- parent links, so a rule can look at the context of any expression;
- every call, and every attribute access by attribute name;
- per class: its methods and the `self.X` attribute accesses across them.

`qualified_name(expr)` resolves a dotted expression through imports and aliases
(`import threading as th; th.Thread` -> "threading.Thread"); names bound to anything
else (a parameter, a local dict) resolve to None, so spelling alone never matches.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable, Container, Dict, Iterator, List, Optional, Sequence, Tuple

import libcst as cst

# Field names that never hold code (whitespace, punctuation, tokens).
_SKIPPED_FIELD_PREFIXES = (
    "whitespace", "lpar", "rpar", "comma", "semicolon", "colon", "equal", "header",
    "footer", "leading_lines", "lines_after", "newline", "walrus", "dot", "operator",
    "lbracket", "rbracket", "lbrace", "rbrace", "arrow", "asynchronous", "default_indent",
    "default_newline", "encoding", "has_trailing_newline", "indent", "trailing_whitespace",
    "star", "prefix", "quote", "semicolon", "lbrace", "between",
)
_CHILD_FIELDS: Dict[type, Tuple[str, ...]] = {}


def child_fields(node_type: type) -> Tuple[str, ...]:
    fields = _CHILD_FIELDS.get(node_type)
    if fields is None:
        fields = tuple(
            f.name for f in dataclasses.fields(node_type)
            if not f.name.startswith(_SKIPPED_FIELD_PREFIXES)
        )
        _CHILD_FIELDS[node_type] = fields
    return fields


def iter_children(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    for name in child_fields(type(node)):
        value = getattr(node, name)
        if isinstance(value, cst.CSTNode):
            yield value
        elif type(value) in (tuple, list):
            for item in value:
                if isinstance(item, cst.CSTNode):
                    yield item


def walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Every code node under `node` (itself included), iteratively."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(list(iter_children(current))))


class Scope:
    __slots__ = ("kind", "node", "parent", "name", "bindings", "global_names",
                 "nonlocal_names", "class_node")

    def __init__(self, kind: str, node: cst.CSTNode, parent: Optional["Scope"], name: str = ""):
        self.kind = kind  # module | class | function | lambda | comprehension
        self.node = node
        self.parent = parent
        self.name = name
        self.bindings: Dict[str, List["Binding"]] = {}
        self.global_names: set = set()
        self.nonlocal_names: set = set()
        self.class_node: Optional[cst.ClassDef] = None  # for a method's scope: the ClassDef it belongs to

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"<Scope {self.kind} {self.name}>"


class Binding:
    """One place where a name is bound.

    kind: import | assign | augassign | annassign | param | def | class | for | with |
    walrus | except | comprehension | match | other.
    `value` is the bound expression when one is known (an assignment's right-hand side,
    a `with` item's context manager, a `for` loop's iterable); `target` is the Name node.
    """

    __slots__ = ("name", "scope", "kind", "target", "value", "qualname", "node")

    def __init__(self, name, scope, kind, target=None, value=None, qualname=None, node=None):
        self.name = name
        self.scope = scope
        self.kind = kind
        self.target = target
        self.value = value
        self.qualname = qualname
        self.node = node  # the statement or def/class node

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"<Binding {self.kind} {self.name}>"


class ClassInfo:
    __slots__ = ("node", "name", "scope", "methods", "self_params", "self_attrs")

    def __init__(self, node: cst.ClassDef, scope: Scope):
        self.node = node
        self.name = node.name.value
        self.scope = scope
        self.methods: Dict[str, cst.FunctionDef] = {}
        # (method scope, name of its first parameter) for instance methods
        self.self_params: List[Tuple[Scope, str]] = []
        # attribute name -> Attribute nodes `self.NAME` inside the class's methods
        self.self_attrs: Dict[str, List[cst.Attribute]] = {}


# How many aliases deep name resolution follows (`A = B`, `B = C`, ...).
_MAX_ALIAS_DEPTH = 5
# Values an alias may take that are not something to call or look into.
_NOT_CALLABLE = frozenset({"None", "True", "False", "NotImplemented"})

# Other names of standard modules: six.moves' (what `from six.moves import queue` and
# `six.moves.urllib.request` stand for) and Python 2's `Queue`.
MODULE_RENAMES: Dict[str, str] = {
    "six.moves.queue": "queue", "six.moves._thread": "_thread",
    "six.moves.http_client": "http.client", "six.moves.socketserver": "socketserver",
    "six.moves.builtins": "builtins", "six.moves.urllib": "urllib",
    "six.moves.urllib_request": "urllib.request", "six.moves.urllib_error": "urllib.error",
    "six.moves.urllib_parse": "urllib.parse", "six.moves.urllib_response": "urllib.response",
    "six.moves.xmlrpc_client": "xmlrpc.client", "six.moves.configparser": "configparser",
    "six.moves._dummy_thread": "_dummy_thread", "Queue": "queue",
}
_RENAMED_ROOTS = tuple({name.split(".")[0] for name in MODULE_RENAMES})


def canonical_module(dotted: str) -> str:
    """The standard name of `dotted` when it reaches a module through another name
    (`six.moves.queue.Queue` -> "queue.Queue"); `dotted` itself otherwise."""
    if not dotted.startswith(_RENAMED_ROOTS):
        return dotted
    parts = dotted.split(".")
    for length in range(len(parts), 0, -1):
        renamed = MODULE_RENAMES.get(".".join(parts[:length]))
        if renamed is not None:
            return ".".join([renamed, *parts[length:]])
    return dotted


_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)
_STATEMENTS = (cst.BaseSmallStatement, cst.BaseCompoundStatement)


class FileIndex:
    def __init__(self, module: cst.Module, path: str = "<string>"):
        self.module = module
        self.path = path
        self.parent: Dict[cst.CSTNode, cst.CSTNode] = {}
        self.scopes: List[Scope] = []
        self.calls: List[cst.Call] = []
        self.attributes_by_name: Dict[str, List[cst.Attribute]] = {}
        self.classes: Dict[cst.ClassDef, ClassInfo] = {}
        self.scope_of_node: Dict[cst.CSTNode, Scope] = {}  # def/class/lambda/comp node -> own scope
        self._name_scope: Dict[cst.Name, Scope] = {}  # Name load -> scope it appears in
        self._scope_at: Dict[cst.CSTNode, Scope] = {}  # visited node -> scope it is in
        self._target_scope: Dict[cst.Name, Scope] = {}  # binding Name -> scope it binds in
        self._uses: Dict[Tuple[int, str], List[cst.Name]] = {}
        self._binding_scope_cache: Dict[cst.Name, Optional[Scope]] = {}
        self._qualname_cache: Dict[cst.CSTNode, Tuple[str, ...]] = {}
        self._self_attr_names: Dict[Tuple[int, str], Tuple[str, ...]] = {}
        self._family_cache: Dict[cst.ClassDef, List["ClassInfo"]] = {}
        self._neighbours: Optional[Dict[cst.ClassDef, set]] = None
        # What rule helpers compute once per file for several rules (their own keys).
        self.shared: Dict[str, Any] = {}
        self._self_attribute_nodes: Optional[set] = None
        self.module_scope = self._new_scope("module", module, None, "")
        self._build()

    # ------------------------------------------------------------------ building
    def _new_scope(self, kind, node, parent, name) -> Scope:
        scope = Scope(kind, node, parent, name)
        self.scopes.append(scope)
        self.scope_of_node[node] = scope
        return scope

    def _bind(self, scope: Scope, name: str, kind: str, target=None, value=None,
              qualname=None, node=None) -> None:
        if name in scope.global_names:
            scope = self.module_scope
        elif name in scope.nonlocal_names:
            outer = scope.parent
            while outer is not None and (outer.kind == "class" or name not in outer.bindings):
                if outer.kind == "module":
                    break
                outer = outer.parent
            scope = outer or scope
        scope.bindings.setdefault(name, []).append(
            Binding(name, scope, kind, target, value, qualname, node))
        if target is not None:
            self._target_scope[target] = scope

    def _build(self) -> None:
        self._walk_body(self.module, self.module_scope)
        # Resolve every recorded load to the scope that binds it.
        for name_node, scope in self._name_scope.items():
            owner = self._lookup(scope, name_node.value)
            key = (id(owner) if owner is not None else 0, name_node.value)
            self._uses.setdefault(key, []).append(name_node)
            self._binding_scope_cache[name_node] = owner
        self._collect_self_attributes()

    def _link(self, node, parent) -> None:
        self.parent[node] = parent

    def _walk_body(self, node: cst.CSTNode, scope: Scope) -> None:
        for child in iter_children(node):
            self._link(child, node)
            self._visit(child, scope)

    def _visit(self, node: cst.CSTNode, scope: Scope) -> None:
        self._scope_at[node] = scope
        handler = _HANDLERS.get(type(node))
        if handler is not None:
            handler(self, node, scope)
        else:
            self._walk_body(node, scope)

    def _visit_child(self, child, parent, scope) -> None:
        if child is None or not isinstance(child, cst.CSTNode):
            return
        self._link(child, parent)
        self._visit(child, scope)

    # handlers ---------------------------------------------------------------------
    def _on_name(self, node: cst.Name, scope: Scope) -> None:
        self._name_scope[node] = scope

    def _on_attribute(self, node: cst.Attribute, scope: Scope) -> None:
        self.attributes_by_name.setdefault(node.attr.value, []).append(node)
        self._visit_child(node.value, node, scope)

    def _on_call(self, node: cst.Call, scope: Scope) -> None:
        self.calls.append(node)
        self._visit_child(node.func, node, scope)
        for arg in node.args:
            self._link(arg, node)
            self._visit_child(arg.value, arg, scope)

    def _on_import(self, node: cst.Import, scope: Scope) -> None:
        for alias in node.names:
            dotted = dotted_name(alias.name)
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                self._bind(scope, alias.asname.name.value, "import", qualname=dotted, node=node)
            else:
                top = dotted.split(".")[0]
                self._bind(scope, top, "import", qualname=top, node=node)

    def _on_import_from(self, node: cst.ImportFrom, scope: Scope) -> None:
        if isinstance(node.names, cst.ImportStar):
            return
        base = "." * len(node.relative) + (dotted_name(node.module) if node.module is not None else "")
        for alias in node.names:
            name = dotted_name(alias.name)
            qualified = f"{base}.{name}" if base and not base.endswith(".") else base + name
            local = (alias.asname.name.value
                     if alias.asname is not None and isinstance(alias.asname.name, cst.Name)
                     else name)
            self._bind(scope, local, "import", qualname=qualified, node=node)

    def _on_function(self, node: cst.FunctionDef, scope: Scope) -> None:
        for decorator in node.decorators:
            self._visit_child(decorator, node, scope)
        self._visit_params_outside(node.params, node, scope)
        if node.returns is not None:
            self._visit_child(node.returns, node, scope)
        self._bind(scope, node.name.value, "def", target=node.name, node=node)
        inner = self._new_scope("function", node, scope, node.name.value)
        if scope.kind == "class" and isinstance(scope.node, cst.ClassDef):  # always, for a class scope
            inner.class_node = scope.node
            info = self.classes.get(scope.node)
            if info is not None:
                info.methods.setdefault(node.name.value, node)
                first = _first_param(node.params)
                if first is not None and not _is_staticmethod(node):
                    info.self_params.append((inner, first))
        self._bind_params(node.params, inner, node)
        self._link(node.params, node)
        self._visit_child(node.body, node, inner)

    def _on_lambda(self, node: cst.Lambda, scope: Scope) -> None:
        self._visit_params_outside(node.params, node, scope)
        inner = self._new_scope("lambda", node, scope, "<lambda>")
        self._bind_params(node.params, inner, node)
        self._visit_child(node.body, node, inner)

    def _visit_params_outside(self, params: cst.Parameters, owner, scope: Scope) -> None:
        # Defaults and annotations are evaluated in the enclosing scope.
        for param in _all_params(params):
            self._link(param, params)
            if param.default is not None:
                self._visit_child(param.default, param, scope)
            if param.annotation is not None:
                self._visit_child(param.annotation, param, scope)

    def _bind_params(self, params: cst.Parameters, scope: Scope, owner) -> None:
        for param in _all_params(params):
            self._link(param.name, param)
            self._bind(scope, param.name.value, "param", target=param.name, node=owner)

    def _on_class(self, node: cst.ClassDef, scope: Scope) -> None:
        for decorator in node.decorators:
            self._visit_child(decorator, node, scope)
        for arg in (*node.bases, *node.keywords):
            self._link(arg, node)
            self._visit_child(arg.value, arg, scope)
        self._bind(scope, node.name.value, "class", target=node.name, node=node)
        inner = self._new_scope("class", node, scope, node.name.value)
        self.classes[node] = ClassInfo(node, inner)
        self._visit_child(node.body, node, inner)

    def _on_comprehension(self, node, scope: Scope) -> None:
        inner = self._new_scope("comprehension", node, scope, "<comprehension>")
        for_in = node.for_in
        first = True
        while for_in is not None:
            # The first iterable is evaluated in the enclosing scope.
            self._link(for_in, node)
            self._visit_child(for_in.iter, for_in, scope if first else inner)
            first = False
            self._store(for_in.target, for_in, inner, "comprehension", value=for_in.iter, node=for_in)
            for condition in for_in.ifs:
                self._link(condition, for_in)
                self._visit_child(condition.test, condition, inner)
            for_in = for_in.inner_for_in
        if isinstance(node, cst.DictComp):
            self._visit_child(node.key, node, inner)
            self._visit_child(node.value, node, inner)
        else:
            self._visit_child(node.elt, node, inner)

    def _on_assign(self, node: cst.Assign, scope: Scope) -> None:
        self._visit_child(node.value, node, scope)
        for target in node.targets:
            self._link(target, node)
            self._store(target.target, target, scope, "assign", value=node.value, node=node)

    def _on_ann_assign(self, node: cst.AnnAssign, scope: Scope) -> None:
        self._visit_child(node.annotation, node, scope)
        if node.value is not None:
            self._visit_child(node.value, node, scope)
            self._store(node.target, node, scope, "assign", value=node.value, node=node)
        else:
            self._link(node.target, node)
            if not isinstance(node.target, cst.Name):
                self._visit(node.target, scope)

    def _on_aug_assign(self, node: cst.AugAssign, scope: Scope) -> None:
        self._visit_child(node.value, node, scope)
        self._link(node.target, node)
        if isinstance(node.target, cst.Name):
            self._on_name(node.target, scope)
            self._bind(scope, node.target.value, "augassign", target=node.target, node=node)
        else:
            self._visit(node.target, scope)

    def _on_named_expr(self, node: cst.NamedExpr, scope: Scope) -> None:
        self._visit_child(node.value, node, scope)
        # A walrus in a comprehension binds in the enclosing function.
        target_scope = scope
        while target_scope.kind == "comprehension" and target_scope.parent is not None:
            target_scope = target_scope.parent
        self._store(node.target, node, target_scope, "walrus", value=node.value, node=node)

    def _on_for(self, node, scope: Scope) -> None:
        self._visit_child(node.iter, node, scope)
        self._store(node.target, node, scope, "for", value=node.iter, node=node)
        self._visit_child(node.body, node, scope)
        if node.orelse is not None:
            self._visit_child(node.orelse, node, scope)

    def _on_with(self, node: cst.With, scope: Scope) -> None:
        for item in node.items:
            self._link(item, node)
            self._visit_child(item.item, item, scope)
            if item.asname is not None:
                self._link(item.asname, item)
                self._store(item.asname.name, item.asname, scope, "with", value=item.item, node=node)
        self._visit_child(node.body, node, scope)

    def _on_except(self, node, scope: Scope) -> None:
        if node.type is not None:
            self._visit_child(node.type, node, scope)
        if node.name is not None and isinstance(node.name.name, cst.Name):
            self._link(node.name, node)
            self._link(node.name.name, node.name)
            self._bind(scope, node.name.name.value, "except", target=node.name.name, node=node)
        self._visit_child(node.body, node, scope)

    def _on_global(self, node: cst.Global, scope: Scope) -> None:
        for item in node.names:
            scope.global_names.add(item.name.value)

    def _on_nonlocal(self, node: cst.Nonlocal, scope: Scope) -> None:
        for item in node.names:
            scope.nonlocal_names.add(item.name.value)

    def _on_match_as(self, node, scope: Scope) -> None:
        if getattr(node, "pattern", None) is not None:
            self._visit_child(node.pattern, node, scope)
        name = getattr(node, "name", None)
        if isinstance(name, cst.Name):
            self._link(name, node)
            self._bind(scope, name.value, "match", target=name, node=node)

    def _on_match_star(self, node, scope: Scope) -> None:
        name = getattr(node, "name", None)
        if isinstance(name, cst.Name):
            self._link(name, node)
            self._bind(scope, name.value, "match", target=name, node=node)

    def _store(self, target, parent, scope: Scope, kind: str, value=None, node=None) -> None:
        """Walk an assignment target: names bind, attribute/subscript parts are loads."""
        if target is None:
            return
        self._link(target, parent)
        if isinstance(target, cst.Name):
            self._bind(scope, target.value, kind, target=target, value=value, node=node)
        elif isinstance(target, (cst.Tuple, cst.List)):
            # Unpacking: a literal of the same shape on the right pairs element by element
            # (`a, b = Pool(), Pool()`: `b` is bound to the second call); otherwise (a
            # loop's target, `a, b = f()`) the element values are unknown.
            pairs = unpacking_pairs(target, value) if kind == "assign" else None
            for position, element in enumerate(target.elements):
                self._link(element, target)
                element_value = pairs[position][1] if pairs is not None else None
                self._store(element.value, element, scope, kind, value=element_value, node=node)
        elif isinstance(target, cst.StarredElement):
            self._store(target.value, target, scope, kind, value=None, node=node)
        else:  # Attribute, Subscript: loads of their parts
            self._visit(target, scope)

    # ------------------------------------------------------------------ resolution
    def _lookup(self, scope: Scope, name: str) -> Optional[Scope]:
        """The scope whose binding of `name` a load in `scope` sees (None: builtin/unknown)."""
        current: Optional[Scope] = scope
        first = True
        while current is not None:
            if current.kind == "class" and not first:
                current = current.parent
                continue
            if name in current.global_names:
                return self.module_scope if name in self.module_scope.bindings else None
            if name in current.bindings and name not in current.nonlocal_names:
                return current
            current = current.parent
            first = False
        return None

    def binding_scope(self, name_node: cst.Name) -> Optional[Scope]:
        """The scope binding this Name (a load), or None for builtins/unknown names."""
        if name_node in self._binding_scope_cache:
            return self._binding_scope_cache[name_node]
        parent = self.parent.get(name_node)
        scope = self._scope_for(parent) if parent is not None else self.module_scope
        owner = self._lookup(scope, name_node.value)
        self._binding_scope_cache[name_node] = owner
        return owner

    def bindings_of(self, name_node: cst.Name) -> List[Binding]:
        scope = self.binding_scope(name_node)
        if scope is None:
            return []
        return scope.bindings.get(name_node.value, [])

    def target_scope(self, target: cst.Name) -> Optional[Scope]:
        """The scope a binding occurrence (assignment target, loop variable) binds in."""
        return self._target_scope.get(target)

    def uses(self, scope: Optional[Scope], name: str) -> List[cst.Name]:
        """Every load of `name` that resolves to `scope` (in it or nested scopes)."""
        return self._uses.get((id(scope) if scope is not None else 0, name), [])

    def method_call(self, receiver: cst.CSTNode) -> Optional[Tuple[str, cst.Call]]:
        """(method name, the call) when `receiver` is what a method is called on
        (`receiver.name(...)`); None for any other use of it."""
        attribute = self.parent.get(receiver)
        if isinstance(attribute, cst.Attribute) and attribute.value is receiver:
            call = self.parent.get(attribute)
            if isinstance(call, cst.Call) and call.func is attribute:
                return attribute.attr.value, call
        return None

    def is_builtin(self, name_node: cst.Name) -> bool:
        return self.binding_scope(name_node) is None

    def qualified_name(self, expr: cst.CSTNode) -> Optional[str]:
        """Dotted name of what `expr` refers to, through imports and simple aliases.

        `threading.Thread`, `th.Thread` (import threading as th), `Thread` (from threading
        import Thread), `T` after `T = threading.Thread` all give "threading.Thread". A
        builtin gives "builtins.NAME". Anything bound otherwise gives None. When the name
        has alternatives (see `qualified_names`), the first: the one the code prefers.
        """
        names = self.qualified_names(expr)
        return names[0] if names else None

    def qualified_names(self, expr: cst.CSTNode, _depth: int = 0) -> Tuple[str, ...]:
        """Every dotted name `expr` may refer to, in source order; () when unknown.

        A name bound by several imports may be either module: `try: import X except
        ImportError: import Y as X`, `if sys.version_info >= (3,): ... else: ...`, each
        branch of an alias `C = A if c else B`. `X = None` adds no alternative (nothing
        to call). Any other binding that resolves to nothing known makes the name
        unknown, unless it is a stub in the `except` of a `try` whose body imports the
        name (`except ImportError: def urlopen(*a): raise ...`). `importlib.import_module("asyncio")` is the
        module it names; six.moves spellings are the stdlib modules they stand for. A
        `self.X` every assignment of which (in the class family, class-level or in
        methods) is a known name is that name (`self.conn_cls = HTTPSConnection`).
        """
        cached = self._qualname_cache.get(expr)
        if cached is not None:
            return cached
        self._qualname_cache[expr] = ()  # cycles resolve to unknown
        result: Tuple[str, ...] = ()
        if isinstance(expr, cst.Name):
            result = self._name_alternatives(expr, _depth)
        elif isinstance(expr, cst.Attribute):
            bases = self.qualified_names(expr.value, _depth)
            result = tuple(canonical_module(f"{base}.{expr.attr.value}") for base in bases
                           if not base.startswith("builtins."))
            if not bases and _depth < _MAX_ALIAS_DEPTH:
                info = self.class_of_self(expr.value)
                if info is not None:
                    result = self._self_attribute_alternatives(info, expr.attr.value, _depth)
        elif isinstance(expr, cst.Call):
            module = self.imported_module(expr)
            result = (module,) if module is not None else ()
        self._qualname_cache[expr] = result
        return result

    def _name_alternatives(self, expr: cst.Name, depth: int) -> Tuple[str, ...]:
        scope = self.binding_scope(expr)
        if scope is None:
            return ("builtins." + expr.value,)
        bindings = scope.bindings.get(expr.value, [])
        names: List[str] = []
        for binding in bindings:
            resolved = self._binding_alternatives(binding, expr, depth)
            if resolved is not None:
                names.extend(resolved)
            elif not self._import_fallback(binding, bindings):
                return ()
        return tuple(dict.fromkeys(names))

    def _binding_alternatives(self, binding: Binding, expr: cst.Name, depth: int
                              ) -> Optional[Tuple[str, ...]]:
        """The names one binding gives: () for `X = None` (nothing to call or look
        into), None when unknown."""
        if binding.kind == "import":
            return (canonical_module(binding.qualname),)
        if binding.kind != "assign" or binding.value is None or depth >= _MAX_ALIAS_DEPTH:
            return None
        names: List[str] = []
        for value in self.alternatives(binding.value):
            if value is expr:
                return None
            if isinstance(value, cst.Name) and value.value in _NOT_CALLABLE:
                continue  # `C = A if c else None`: None is no alternative to call
            resolved = (self.qualified_names(value, depth + 1)
                        if isinstance(value, (cst.Name, cst.Attribute, cst.Call)) else ())
            if not resolved:
                return None
            names.extend(resolved)
        return tuple(names)

    def _import_fallback(self, binding: Binding, bindings: Sequence[Binding]) -> bool:
        """`binding` stands in for an import that may fail: it sits in the `except` (or
        `else`/`finally`) of a `try` whose body imports the name (a stub `def`). Not so
        in a branch of an `if`: there either branch is what runs on some Python."""
        imports = [b.node for b in bindings if b.kind == "import" and b.node is not None]
        if not imports or binding.node is None:
            return False
        scope_node = binding.scope.node
        child: cst.CSTNode = binding.node
        for ancestor in self.ancestors(binding.node):
            if ancestor is scope_node:
                return False
            if isinstance(ancestor, cst.Try) and child is not ancestor.body:
                if any(self._inside(node, ancestor.body) for node in imports):
                    return True
            child = ancestor
        return False

    def _inside(self, node: cst.CSTNode, container: cst.CSTNode) -> bool:
        return node is container or any(a is container for a in self.ancestors(node))

    def _self_attribute_alternatives(self, info: "ClassInfo", attr: str, depth: int
                                     ) -> Tuple[str, ...]:
        """`self.X` holding a class or function: the names of every value X gets, when
        each is known (class-level `X = A` in the class family, `self.X = B` in its
        methods); () as soon as one is not, or when `.X` is set on an object that may be
        an instance (anything but `self` of an unrelated class)."""
        key = (id(info.node), attr)
        cached = self._self_attr_names.get(key)
        if cached is None:
            self._self_attr_names[key] = ()  # cycles resolve to unknown
            cached = self._self_attribute_values(info, attr, depth)
            self._self_attr_names[key] = cached
        return cached

    def _self_attribute_values(self, info: "ClassInfo", attr: str, depth: int
                               ) -> Tuple[str, ...]:
        family = self.class_family(info)
        values: List[cst.CSTNode] = []
        for member in family:
            for binding in member.scope.bindings.get(attr, ()):
                if binding.kind != "assign" or binding.value is None:
                    return ()
                values.append(binding.value)
        for node in self.attributes_by_name.get(attr, ()):
            assigned, value = self.assigned_value(node)
            if not assigned:
                continue
            owner = self.class_of_self(node.value)
            if owner is not None and owner not in family:
                continue  # another class's own attribute
            if value is None or owner is None:
                return ()  # unknown value, or set on some object: maybe one of ours
            values.append(value)
        names: List[str] = []
        for value in values:
            for alternative in self.alternatives(value):
                if isinstance(alternative, cst.Name) and alternative.value in _NOT_CALLABLE:
                    continue
                resolved = (self.qualified_names(alternative, depth + 1)
                            if isinstance(alternative, (cst.Name, cst.Attribute)) else ())
                if not resolved:
                    return ()
                names.extend(resolved)
        return tuple(dict.fromkeys(names))

    def imported_module(self, call: cst.Call) -> Optional[str]:
        """"asyncio" for `importlib.import_module("asyncio")` (a constant, absolute name)."""
        if len(call.args) != 1 or call.args[0].keyword is not None or call.args[0].star:
            return None
        arg = call.args[0].value
        if not isinstance(arg, cst.SimpleString) or "\\" in arg.value:
            return None
        func = call.func
        if not (isinstance(func, cst.Attribute) and func.attr.value == "import_module"
                or isinstance(func, cst.Name) and func.value == "import_module"):
            return None
        if self.qualified_name(func) != "importlib.import_module":
            return None
        module = arg.evaluated_value
        if not isinstance(module, str) or not all(p.isidentifier() for p in module.split(".")):
            return None
        return canonical_module(module)

    def call_name(self, call: cst.Call, among: Optional[Container[str]] = None) -> Optional[str]:
        """The qualified name of what `call` calls. With `among` (the names a rule looks
        for), the first alternative that is one of them, so that a rule matching either
        module of `try: import X except ImportError: import Y as X` applies."""
        names = self.qualified_names(call.func)
        if among is not None:
            for name in names:
                if name in among:
                    return name
        return names[0] if names else None

    def local_class(self, expr: cst.CSTNode) -> Optional[cst.ClassDef]:
        """The ClassDef `expr` names, when it is a class defined in this file."""
        if not isinstance(expr, cst.Name):
            return None
        bindings = self.bindings_of(expr)
        if len(bindings) == 1 and bindings[0].kind == "class":
            return bindings[0].node
        return None

    def class_inherits(self, classdef: cst.ClassDef, qualnames, _seen=None) -> bool:
        """True when a class of this file derives (directly or through local classes) from
        one of `qualnames`."""
        seen = _seen or set()
        if classdef in seen:
            return False
        seen.add(classdef)
        for base in classdef.bases:
            if base.keyword is not None:
                continue
            if self.qualified_name(base.value) in qualnames:
                return True
            local = self.local_class(base.value)
            if local is not None and self.class_inherits(local, qualnames, seen):
                return True
        return False

    def _scope_for(self, node: cst.CSTNode) -> Scope:
        """The innermost scope containing `node`."""
        current: Optional[cst.CSTNode] = node
        while current is not None:
            scope = self._scope_at.get(current)
            if scope is not None:
                return scope
            current = self.parent.get(current)
        return self.module_scope

    # ------------------------------------------------------------------ queries
    def enclosing_scope(self, node: cst.CSTNode) -> Scope:
        return self._scope_for(node)

    def enclosing_function(self, node: cst.CSTNode) -> Optional[Scope]:
        scope: Optional[Scope] = self._scope_for(node)
        while scope is not None and scope.kind not in ("function", "module"):
            scope = scope.parent
        return scope if scope is not None and scope.kind == "function" else None

    def statement_of(self, node: cst.CSTNode) -> Optional[cst.CSTNode]:
        """The innermost statement holding `node` (a small statement's line for simple
        statements)."""
        current: Optional[cst.CSTNode] = node
        while current is not None:
            if isinstance(current, cst.SimpleStatementLine):
                return current
            if isinstance(current, cst.BaseCompoundStatement):
                return current
            current = self.parent.get(current)
        return None

    def enclosing_path(self, node: cst.CSTNode) -> str:
        """`Class.method` style path of the defs and classes around `node`."""
        names = []
        current = self.parent.get(node)
        while current is not None:
            if isinstance(current, (cst.FunctionDef, cst.ClassDef)):
                names.append(current.name.value)
            current = self.parent.get(current)
        return ".".join(reversed(names))

    def ancestors(self, node: cst.CSTNode) -> Iterator[cst.CSTNode]:
        current = self.parent.get(node)
        while current is not None:
            yield current
            current = self.parent.get(current)

    def unpacked_targets(self, value: cst.CSTNode) -> Optional[List[cst.CSTNode]]:
        """For `value`, an element of a tuple/list literal assigned by unpacking
        (`a, b = Pool(), Pool()`), the targets it is bound to (`b` for the second call),
        one per assignment target; None when it is not such an element, or when one of
        the targets does not pair with the literal (`x = a, b = ...`: `x` keeps the tuple)."""
        element = self.parent.get(value)
        if not isinstance(element, cst.Element) or element.value is not value:
            return None
        literal = self.parent.get(element)
        assign = self.parent.get(literal) if literal is not None else None
        if not isinstance(assign, cst.Assign) or assign.value is not literal:
            return None
        targets: List[cst.CSTNode] = []
        for assign_target in assign.targets:
            pairs = unpacking_pairs(assign_target.target, literal)
            if pairs is None:
                return None
            targets.extend(target for target, paired in pairs if paired is value)
        return targets

    def assigned_value(self, target: cst.CSTNode) -> Tuple[bool, Optional[cst.CSTNode]]:
        """(True, value) when `target` (a name, `self.x`, `d[k]`) is being assigned, with
        the value it gets: the right-hand side, or its own element when a literal is
        unpacked (`self.a, self.b = Pool(), Pool()`); the value is None when unknown (an
        augmented assignment, `a, b = f()`). (False, None) when `target` is not assigned."""
        holder = self.parent.get(target)
        if isinstance(holder, cst.AssignTarget) and holder.target is target:
            assign = self.parent.get(holder)
            return True, assign.value if isinstance(assign, cst.Assign) else None
        if isinstance(holder, cst.AnnAssign) and holder.target is target:
            return True, holder.value
        if isinstance(holder, cst.AugAssign) and holder.target is target:
            return True, None
        if isinstance(holder, (cst.Element, cst.StarredElement)) and holder.value is target:
            literal = self.parent.get(holder)
            assign_target = self.parent.get(literal) if literal is not None else None
            if isinstance(assign_target, cst.AssignTarget) and assign_target.target is literal:
                assign = self.parent.get(assign_target)
                value = assign.value if isinstance(assign, cst.Assign) else None
                pairs = unpacking_pairs(literal, value)
                paired = [v for t, v in pairs or () if t is target]
                return True, paired[0] if paired else None
        return False, None

    def alternatives(self, expr: cst.CSTNode, target: Optional[cst.CSTNode] = None
                     ) -> List[cst.CSTNode]:
        """The expressions `expr` may evaluate to: each branch of `a if c else b` and each
        operand of `a or b`, recursively; otherwise `expr` itself. With the `target`
        `expr` is assigned to, an operand that reads the target back (`x = x or Pool()`,
        `self.http = self.http or PoolManager()`) is left out: its values are the
        target's other assignments."""
        if isinstance(expr, cst.IfExp):
            return [*self.alternatives(expr.body, target), *self.alternatives(expr.orelse, target)]
        if isinstance(expr, cst.BooleanOperation) and isinstance(expr.operator, cst.Or):
            return [*self.alternatives(expr.left, target), *self.alternatives(expr.right, target)]
        if target is not None and _same_reference(expr, target):
            return []
        return [expr]

    def class_constant(self, expr: cst.CSTNode) -> Optional[cst.CSTNode]:
        """For `self.X` in a method, the value X has when the class body sets it
        (`daemon_threads = False`) and nothing changes it: every class-level assignment of
        X in the class's family gives the same value, and no `obj.X = ...` is stored
        anywhere in the file. None otherwise."""
        if not isinstance(expr, cst.Attribute):
            return None
        info = self.class_of_self(expr.value)
        if info is None:
            return None
        name = expr.attr.value
        for node in self.attributes_by_name.get(name, ()):
            if self.assigned_value(node)[0]:
                return None  # `self.X = ...` somewhere: not a constant
        values = []
        for member in self.class_family(info):
            for binding in member.scope.bindings.get(name, ()):
                if binding.kind != "assign" or binding.value is None:
                    return None
                values.append(binding.value)
        if not values or len({self.module.code_for_node(v) for v in values}) != 1:
            return None
        return values[0]

    def conditional_root(self, node: cst.CSTNode) -> Optional[cst.IfExp]:
        """The outermost conditional expression `node` is one branch of (`FTP_TLS() if tls
        else FTP()`: both calls give the same root), or None. The test is not a branch."""
        root = None
        current = node
        parent = self.parent.get(current)
        while isinstance(parent, cst.IfExp) and parent.test is not current:
            root = parent
            current = parent
            parent = self.parent.get(current)
        return root

    def class_of_self(self, expr: cst.CSTNode) -> Optional[ClassInfo]:
        """For `self` (the first parameter of a method, also seen from closures inside the
        method), the ClassInfo of its class."""
        if not isinstance(expr, cst.Name):
            return None
        scope = self.binding_scope(expr)
        if scope is None or scope.kind != "function" or scope.class_node is None:
            return None
        info = self.classes.get(scope.class_node)
        if info is None:
            return None
        for method_scope, param in info.self_params:
            if method_scope is scope and param == expr.value:
                return info
        return None

    def _collect_self_attributes(self) -> None:
        for info in self.classes.values():
            for method_scope, param in info.self_params:
                for use in self.uses(method_scope, param):
                    parent = self.parent.get(use)
                    if isinstance(parent, cst.Attribute) and parent.value is use:
                        info.self_attrs.setdefault(parent.attr.value, []).append(parent)

    def self_attribute_nodes(self) -> set:
        """Every `self.X` access inside any class's methods (built once per file: the
        lifecycle tracer asks for it for every attribute it follows)."""
        if self._self_attribute_nodes is None:
            self._self_attribute_nodes = {
                node for info in self.classes.values()
                for nodes in info.self_attrs.values() for node in nodes}
        return self._self_attribute_nodes

    def _class_neighbours(self) -> Dict[cst.ClassDef, set]:
        """Each class's local bases and local subclasses (computed once per file)."""
        if self._neighbours is None:
            self._neighbours = {node: set() for node in self.classes}
            for node in self.classes:
                for base in node.bases:
                    local = self.local_class(base.value)
                    if local is not None and local in self._neighbours:
                        self._neighbours[node].add(local)
                        self._neighbours[local].add(node)
        return self._neighbours

    def class_family(self, info: ClassInfo) -> List[ClassInfo]:
        """The class with its local base classes and local subclasses: `self.X` set in one
        may be released in another."""
        cached = self._family_cache.get(info.node)
        if cached is not None:
            return cached
        neighbours = self._class_neighbours()
        family = [info]
        members = {info.node}
        changed = True
        while changed:  # passes in the order of the classes, as the result's order shows
            changed = False
            for other in self.classes.values():
                if other.node not in members and neighbours[other.node] & members:
                    family.append(other)
                    members.add(other.node)
                    changed = True
        self._family_cache[info.node] = family
        return family


def unpacking_pairs(target: cst.CSTNode, value: Optional[cst.CSTNode]
                    ) -> Optional[List[Tuple[cst.CSTNode, cst.CSTNode]]]:
    """[(target element, value element)] for `a, b = x, y` (tuple or list on either side,
    same length, no starred element); None for any other shape."""
    if not (isinstance(target, (cst.Tuple, cst.List)) and isinstance(value, (cst.Tuple, cst.List))):
        return None
    if len(target.elements) != len(value.elements):
        return None
    if any(isinstance(e, cst.StarredElement) for e in (*target.elements, *value.elements)):
        return None
    return [(t.value, v.value) for t, v in zip(target.elements, value.elements)]


def _same_reference(expr: cst.CSTNode, target: cst.CSTNode) -> bool:
    """`x` and `x`, `self.http` and `self.http`: the same name or attribute chain."""
    if isinstance(expr, cst.Name) and isinstance(target, cst.Name):
        return expr.value == target.value
    if isinstance(expr, cst.Attribute) and isinstance(target, cst.Attribute):
        return expr.attr.value == target.attr.value and _same_reference(expr.value, target.value)
    return False


def dotted_name(node: cst.CSTNode) -> str:
    """`a.b.c` for a Name or an Attribute chain of Names; "" for anything else."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{dotted_name(node.value)}.{node.attr.value}"
    return ""


def _all_params(params: cst.Parameters) -> Sequence[cst.Param]:
    out = list(params.posonly_params) + list(params.params) + list(params.kwonly_params)
    if isinstance(params.star_arg, cst.Param):
        out.append(params.star_arg)
    if params.star_kwarg is not None:
        out.append(params.star_kwarg)
    return out


def _first_param(params: cst.Parameters) -> Optional[str]:
    ordered = list(params.posonly_params) + list(params.params)
    return ordered[0].name.value if ordered else None


def _is_staticmethod(node: cst.FunctionDef) -> bool:
    for decorator in node.decorators:
        expr = decorator.decorator
        if isinstance(expr, cst.Name) and expr.value == "staticmethod":
            return True
    return False


# Each handler takes the node of its own type (hence Any).
_HANDLERS: Dict[type, Callable[[FileIndex, Any, Scope], None]] = {
    cst.Name: FileIndex._on_name,
    cst.Attribute: FileIndex._on_attribute,
    cst.Call: FileIndex._on_call,
    cst.Import: FileIndex._on_import,
    cst.ImportFrom: FileIndex._on_import_from,
    cst.FunctionDef: FileIndex._on_function,
    cst.Lambda: FileIndex._on_lambda,
    cst.ClassDef: FileIndex._on_class,
    cst.ListComp: FileIndex._on_comprehension,
    cst.SetComp: FileIndex._on_comprehension,
    cst.GeneratorExp: FileIndex._on_comprehension,
    cst.DictComp: FileIndex._on_comprehension,
    cst.Assign: FileIndex._on_assign,
    cst.AnnAssign: FileIndex._on_ann_assign,
    cst.AugAssign: FileIndex._on_aug_assign,
    cst.NamedExpr: FileIndex._on_named_expr,
    cst.For: FileIndex._on_for,
    cst.With: FileIndex._on_with,
    cst.ExceptHandler: FileIndex._on_except,
    cst.Global: FileIndex._on_global,
    cst.Nonlocal: FileIndex._on_nonlocal,
    cst.MatchAs: FileIndex._on_match_as,
    cst.MatchStar: FileIndex._on_match_star,
}
if hasattr(cst, "ExceptStarHandler"):
    _HANDLERS[cst.ExceptStarHandler] = FileIndex._on_except
