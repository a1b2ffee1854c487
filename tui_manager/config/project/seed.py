"""The seed's own call, read from the code: `run_processes(DatabaseManager().set_log_level(
"warning"), Scheduler(), ..., ExecutionManager())` of AppProcess subclasses (upstream's
backend.util.process, ours, or any class built on one), in the call's order, the last one the
foreground, as the seed runs them.

Each service runs its class alone: the entry module whose `run_processes(ThatClass())` runs
under a `__main__` guard or in `main()` (`python -m backend.rest`, or its console script where
installed); else the seed API's own way, `ThatClass().start()`, from where the call imports it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .scan import Module, has_main_guard, imported_from, is_main_guard

BASE = "AppProcess"
# ServiceSpec fields that a class may set as class attributes (the seed API reads them too).
CLASS_FIELDS = ("depends_on", "ready", "health", "restart", "stop_signal", "stop_timeout", "env")


@dataclass
class Process:
    """One argument of the call: an instance of an AppProcess class."""

    cls: str
    chained: list[tuple[str, list[Any]]]  # .set_log_level("warning") -> ("set_log_level", [...])
    text: str


@dataclass
class Call:
    module: Module
    line: int
    function: str | None  # the function it is in (main), None at top level
    guarded: bool  # under `if __name__ == "__main__":`
    processes: list[Process] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)  # arguments built at run time

    @property
    def where(self) -> str:
        return f"{self.module.path.name}:{self.line}"


@dataclass
class Seed:
    classes: dict[str, Module]  # each AppProcess class, and the module defining it
    calls: list[Call]

    def main_call(self) -> Call | None:
        """The stack: the call with the most processes (app.py's among equals); None if every
        call runs one class (entry modules only)."""
        calls = [c for c in self.calls if len(c.processes) + len(c.unread) > 1]
        if not calls:
            return None
        return max(calls, key=lambda c: (len(c.processes) + len(c.unread), c.module.name == "app"))

    def entry_for(self, cls: str) -> Module | None:
        """The module that runs `cls` alone, as `python -m` or a console script would."""
        for call in self.calls:
            alone = [p.cls for p in call.processes] == [cls] and not call.unread
            runs = call.guarded or call.function == "main" or has_main_guard(call.module)
            if alone and runs:
                return call.module
        return None


def process_classes(modules: dict[str, Module]) -> dict[str, Module]:
    """Every class built on a class named AppProcess, through any chain of project classes
    (read from the text: a large project's files are not all parsed)."""
    defs = [(m, name, bases) for m in modules.values() for name, bases in m.classes()]
    names = {BASE}
    found: dict[str, Module] = {}
    grew = True
    while grew:
        grew = False
        for m, name, bases in defs:
            if name not in found and name != BASE and names & bases:
                found[name] = m
                names.add(name)
                grew = True
    return found


def read_seed(modules: dict[str, Module]) -> Seed:
    classes = process_classes(modules)
    calls = [
        c
        for m in modules.values()
        if "run_processes" in m.source
        for c in _calls_in(m, set(classes), modules)
    ]
    return Seed(classes, calls)


def _calls_in(module: Module, classes: set[str], modules: dict[str, Module]) -> list[Call]:
    calls: list[Call] = []

    def visit(node: ast.AST, function: str | None, guarded: bool, scope: list[ast.stmt]) -> None:
        for child in ast.iter_child_nodes(node):
            fn, g, sc = function, guarded, scope
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                fn, sc = child.name, child.body
            elif is_main_guard(child):
                g = True
            if isinstance(child, ast.Call) and _called(child) == "run_processes":
                calls.append(_read_call(module, child, fn, g, sc, classes, modules))
            visit(child, fn, g, sc)

    visit(module.tree, None, False, module.tree.body)
    return calls


def _called(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _read_call(
    module: Module,
    node: ast.Call,
    function: str | None,
    guarded: bool,
    scope: list[ast.stmt],
    classes: set[str],
    modules: dict[str, Module],
) -> Call:
    call = Call(module, node.lineno, function, guarded)
    for arg in node.args:
        values: list[ast.expr] = [arg]
        if isinstance(arg, ast.Starred):  # run_processes(*processes): a literal list, if one
            values = _literal_list(arg.value, scope) or _imported_list(module, arg.value, modules)
            if not values:
                call.unread.append(ast.unparse(arg))
        for value in values:
            process = _process(_assigned(value, scope), classes)
            if process is None:
                call.unread.append(ast.unparse(value))
            else:
                call.processes.append(process)
    return call


def _assigned(expr: ast.expr, scope: list[ast.stmt]) -> ast.expr:
    """A name, as the last plain assignment in its scope gave it (`db = DatabaseManager()`)."""
    if not isinstance(expr, ast.Name):
        return expr
    value: ast.expr = expr
    for stmt in scope:
        if isinstance(stmt, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == expr.id for t in stmt.targets
        ):
            value = stmt.value
    return value


def _literal_list(expr: ast.expr, scope: list[ast.stmt]) -> list[ast.expr] | None:
    value = _assigned(expr, scope)
    if isinstance(value, ast.List | ast.Tuple) and not any(
        isinstance(e, ast.Starred) for e in value.elts
    ):
        return list(value.elts)
    return None


def _imported_list(module: Module, expr: ast.expr, modules: dict[str, Module]) -> list[ast.expr]:
    """`from backend.stack import PROCESSES` ... `run_processes(*PROCESSES)`: the literal list
    that module assigns at its top level."""
    if not isinstance(expr, ast.Name):
        return []
    source = modules.get(imported_from(module, expr.id) or "")
    if source is None:
        return []
    return _literal_list(expr, source.tree.body) or []


def _process(expr: ast.expr, classes: set[str]) -> Process | None:
    """`Cls()`, `Cls().set_log_level("warning")`, `module.Cls()`: the class and its chain."""
    chained: list[tuple[str, list[Any]]] = []
    node = expr
    while (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Call)
    ):
        chained.insert(0, (node.func.attr, [_literal(a) for a in node.args]))
        node = node.func.value
    if not isinstance(node, ast.Call) or _called(node) not in classes:
        return None
    return Process(str(_called(node)), chained, ast.unparse(expr))


def _literal(node: ast.expr) -> Any:
    try:
        return ast.literal_eval(node)
    except ValueError:
        return ast.unparse(node)


def class_fields(node: ast.ClassDef) -> dict[str, Any]:
    """Config the class sets as literal class attributes (`depends_on = ["DatabaseManager"]`)."""
    out: dict[str, Any] = {}
    for stmt in node.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target, value = stmt.targets[0], stmt.value
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            target, value = stmt.target, stmt.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in CLASS_FIELDS:
            try:
                out[target.id] = ast.literal_eval(value)
            except ValueError:
                continue
    return out


def service_name(node: ast.ClassDef) -> str | None:
    """A `service_name` the class gives as a constant (a property returning one, or an
    attribute): the seed names the service by it."""
    for stmt in node.body:
        value: ast.expr | None = None
        if isinstance(stmt, ast.FunctionDef) and stmt.name == "service_name":
            value = next((s.value for s in stmt.body if isinstance(s, ast.Return)), None)
        elif isinstance(stmt, ast.Assign) and [getattr(t, "id", "") for t in stmt.targets] == [
            "service_name"
        ]:
            value = stmt.value
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            return value.value
    return None


def import_path(call: Call, cls: str, defined_in: Module) -> str:
    """Where to import `cls` from: as the call's module imports it, else where it is defined."""
    return imported_from(call.module, cls) or defined_in.name


def relative(path: Path, base: Path) -> str:
    try:
        return path.relative_to(base).as_posix() or "."
    except ValueError:
        return path.as_posix()
