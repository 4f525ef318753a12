"""What the process-family rules (LKL5xx) share: finding the creation calls of processes,
pools, executors and Popen objects (through imports, aliases, `multiprocessing` contexts
and subclasses defined in the module), describing them in messages, and recognising the
dropped-but-deliberate cases found in the corpus (`deliberate`): a constructor expected
to raise, a mocked class, a parent that exits right after, a pid handed to a reaper, a
hook filling an attribute a base class elsewhere owns, a test asserting the leak's own
ResourceWarning."""
from __future__ import annotations

from dataclasses import replace
from typing import Iterator, Optional, cast

import libcst as cst

from leaklint.index import FileIndex, walk
from leaklint.lifecycle import self_releasing_methods
from leaklint.project import base_requirements, require
from leaklint.rules._common import expected_to_fail
from leaklint.summaries import Creation
from leaklint.summaries import creations as core_creations

PROCESS_CLASSES = frozenset({
    "multiprocessing.Process", "multiprocessing.context.Process",
    "multiprocessing.context.SpawnProcess", "multiprocessing.context.ForkProcess",
    "multiprocessing.context.ForkServerProcess",
})
POOL_CLASSES = frozenset({
    "multiprocessing.Pool", "multiprocessing.pool.Pool", "multiprocessing.pool.ThreadPool",
    "multiprocessing.dummy.Pool",
})
THREAD_POOL_CLASSES = frozenset({"multiprocessing.pool.ThreadPool", "multiprocessing.dummy.Pool"})
EXECUTOR_CLASSES = frozenset({
    "concurrent.futures.ThreadPoolExecutor", "concurrent.futures.ProcessPoolExecutor",
    "concurrent.futures.thread.ThreadPoolExecutor",
    "concurrent.futures.process.ProcessPoolExecutor",
})
POPEN_CLASSES = frozenset({"subprocess.Popen"})
# `multiprocessing.get_context(...)` returns a context with `.Process` and `.Pool`.
CONTEXT_FACTORIES = frozenset({"multiprocessing.get_context",
                               "multiprocessing.context.get_context"})


def _is_context_factory_call(index: FileIndex, expr: cst.CSTNode) -> bool:
    return isinstance(expr, cst.Call) and index.call_name(expr) in CONTEXT_FACTORIES


def is_mp_context(index: FileIndex, expr: cst.CSTNode) -> bool:
    """`multiprocessing.get_context(...)`, or a name only ever bound to one."""
    if _is_context_factory_call(index, expr):
        return True
    if isinstance(expr, cst.Name):
        bindings = index.bindings_of(expr)
        return bool(bindings) and all(
            b.kind == "assign" and _is_context_factory_call(index, b.value) for b in bindings)
    return False


def creations(index: FileIndex, classes, context_attrs=()) -> Iterator[Creation]:
    """Creations of one of `classes` (qualified names): constructor calls, subclasses
    defined in this file, factories of this file returning one (leaklint.summaries), and
    `ctx.ATTR(...)` for a multiprocessing context and ATTR in `context_attrs`."""
    for creation in core_creations(index, frozenset(classes)):
        yield creation
    if not context_attrs:
        return
    for call in index.calls:
        func = call.func
        if (isinstance(func, cst.Attribute) and func.attr.value in context_attrs
                and index.call_name(call) not in classes and is_mp_context(index, func.value)):
            yield Creation(call, "multiprocessing." + func.attr.value)


def holder_ref(holder: str, call: Optional[cst.CSTNode] = None,
               index: Optional[FileIndex] = None) -> str:
    """The expression the resource is kept in ('p' -> p; "[ps]" for an element of the
    container ps), or "" when there is none."""
    if not (holder.startswith("'") and holder.endswith("'") and len(holder) <= 40):
        return ""
    name = holder.strip("'")
    if call is not None and index is not None:
        parent = index.parent.get(call)
        if isinstance(parent, (cst.Arg, cst.ListComp, cst.SetComp, cst.GeneratorExp)):
            return f"[{name}]"  # appended to / built into a container
    return name


def on(ref: str, *methods: str, joiner: str = " or ") -> str:
    """`p.wait() or p.communicate()`, or `wait() or communicate() on it` with no name."""
    if ref.startswith("["):
        return joiner.join(methods) + f" on each item of {ref[1:-1]}"
    if ref:
        return joiner.join(f"{ref}.{m}" for m in methods)
    return joiner.join(methods) + " on it"


def kept_phrase(holder: str, present: str, past: str) -> str:
    """`the object is discarded` / `kept in `p`, never joined` / `kept in `self._p`, but no
    method of the class joins it` (present: "joins it", past: "joined")."""
    if holder == "discarded":
        return "the object is discarded"
    name = holder.strip("'")
    if name.startswith(("self.", "cls.")):
        return f"kept in `{name}`, but no method of the class {present}"
    return f"kept in `{name}`, never {past}"


# -- uses that make a finding moot -------------------------------------------------
_PATCHERS = frozenset({"unittest.mock.patch", "unittest.mock.patch.object", "mock.patch",
                       "mock.patch.object"})
# Calls after which the parent is gone: the child is handed over, not dropped.
_PARENT_EXITS = frozenset({"os._exit", "sys.exit", "builtins.exit", "builtins.quit",
                           "os.abort", "os.execv", "os.execve", "os.execvp", "os.execvpe",
                           "os.execl", "os.execle", "os.execlp", "os.execlpe"})
# Calls that use a child's pid without reaping it.
_PID_LOOKERS = frozenset({"os.kill", "os.killpg", "os.getpgid", "os.getsid",
                          "builtins.print", "builtins.str", "builtins.repr", "builtins.int",
                          "builtins.format", "builtins.isinstance"})
_LOGGING = frozenset({"debug", "info", "warning", "warn", "error", "exception", "critical",
                      "log", "fatal", "trace", "format"})


def _patches(index: FileIndex, expr: cst.CSTNode, qualname: str) -> bool:
    if not isinstance(expr, cst.Call) or index.call_name(expr) not in _PATCHERS or not expr.args:
        return False
    target = expr.args[0].value
    if isinstance(target, cst.SimpleString):
        text = target.value.strip("'\"rbu")
        return text == qualname or text.startswith(qualname + ".")
    return index.qualified_name(target) == qualname


def class_is_mocked(index: FileIndex, call: cst.CSTNode, qualname: str) -> bool:
    """`with mock.patch.object(subprocess.Popen, "_execute_child"):` or a `@mock.patch(
    "subprocess.Popen")` decorator around the creation: no real process is made."""
    if "." not in qualname:
        return False
    for ancestor in index.ancestors(call):
        if isinstance(ancestor, cst.With):
            if any(_patches(index, item.item, qualname) for item in ancestor.items):
                return True
        elif isinstance(ancestor, cst.FunctionDef):
            if any(_patches(index, d.decorator, qualname) for d in ancestor.decorators):
                return True
    return False


def parent_exits_after(index: FileIndex, call: cst.CSTNode) -> bool:
    """`Popen(argv); os._exit(0)`: the parent hands over to the child and exits."""
    statement = index.statement_of(call)
    block = index.parent.get(statement) if statement is not None else None
    body = getattr(block, "body", None)
    if not isinstance(body, (tuple, list)) or statement not in body:
        return False
    for later in body[body.index(statement) + 1:]:
        if isinstance(later, cst.SimpleStatementLine):
            for small in later.body:
                if (isinstance(small, cst.Expr) and isinstance(small.value, cst.Call)
                        and index.call_name(small.value) in _PARENT_EXITS):
                    return True
    return False


def expects_resource_warning(index: FileIndex, call: cst.CSTNode) -> bool:
    """The test around the creation asserts the leak itself (`with
    check_warnings(('', ResourceWarning)):`, `pytest.warns(ResourceWarning)`)."""
    function = index.enclosing_function(call)
    if function is None:
        return False
    for node in walk(cast(cst.FunctionDef, function.node).body):  # a function scope's node
        if isinstance(node, cst.WithItem):
            for inner in walk(node.item):
                if isinstance(inner, cst.Name) and inner.value == "ResourceWarning":
                    return True
    return False


def _pid_handed_out(index: FileIndex, node: cst.CSTNode, depth: int = 0) -> bool:
    parent = index.parent.get(node)
    if isinstance(parent, cst.Arg):
        call = index.parent.get(parent)
        if not isinstance(call, cst.Call):
            return True
        if index.call_name(call) in _PID_LOOKERS:
            return False
        if isinstance(call.func, cst.Attribute) and call.func.attr.value in _LOGGING:
            return False
        return True  # `os.waitpid(p.pid, 0)`, `wait_process(p.pid)`: may reap it
    if (isinstance(parent, cst.AssignTarget) or isinstance(parent, cst.Assign)) and depth < 2:
        assign = parent if isinstance(parent, cst.Assign) else index.parent.get(parent)
        for target in getattr(assign, "targets", ()):
            if isinstance(target.target, cst.Name):
                owner = index.target_scope(target.target)
                for use in index.uses(owner, target.target.value):
                    if _pid_handed_out(index, use, depth + 1):
                        return True
    return False


def pid_reaped_elsewhere(index: FileIndex, lifecycle) -> bool:
    """The child's pid is handed to a function that may wait for it (`os.waitpid`)."""
    return any(_pid_handed_out(index, node) for node in lifecycle.attribute_reads.get("pid", ()))


def handed_to_base_class(index: FileIndex, lifecycle) -> bool:
    """Stored on `self` in a class whose base class lives in another module, and never used
    in this file: the hook (`def _start(self): self._proc = Popen(...)`) fills an attribute
    the base class may manage. Whether it does is for the project to say: a report stands
    only if the base, found in the project, never touches the attribute
    (leaklint/project.py); a base that cannot be named hands it off here."""
    if lifecycle.method_calls or not lifecycle.self_attributes:
        return False
    requirements = []
    for info, attr in lifecycle.self_attributes:
        for member in index.class_family(info):
            found = base_requirements(index, member.node, attr)
            if found is None:
                return True
            requirements.extend(found)
    for requirement in requirements:
        require(index, lifecycle.creation, "LKL5", requirement)
    return False


def deliberate(index: FileIndex, call: cst.CSTNode, qualname: str, lifecycle) -> bool:
    """A dropped resource that is not a leak: the creation (or every `start()`) is
    expected to fail, the class
    is mocked, the parent exits right after, the test asserts the leak's ResourceWarning,
    the pid goes to something that may reap it, or a base class elsewhere owns it."""
    started_to_fail = bool(lifecycle.activation_sites) and all(
        expected_to_fail(index, site) for site in lifecycle.activation_sites)
    return (expected_to_fail(index, call) or started_to_fail
            or class_is_mocked(index, call, qualname)
            or parent_exits_after(index, call) or pid_reaped_elsewhere(index, lifecycle)
            or handed_to_base_class(index, lifecycle)
            or expects_resource_warning(index, call))


def kind_for(index: FileIndex, kind, subclass: Optional[cst.ClassDef]):
    """For a subclass defined here, its own methods that release `self` (`def stop(self):
    self.terminate(); self.join()`) count as releases too."""
    if subclass is None:
        return kind
    extra = self_releasing_methods(index, subclass, kind.release_methods)
    return replace(kind, release_methods=kind.release_methods | extra) if extra else kind
