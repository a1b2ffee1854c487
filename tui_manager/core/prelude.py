"""Which imports of a module come before it does anything else: the part of a cold start that a
warm one may do ahead of time without changing what the program does.

A module's top level runs in order. An import that follows a statement with effects (setting
`os.environ`, `sys.path.insert(...)`, `load_dotenv()`, `monkey.patch_all()`, any call) may see a
different world than the same import done earlier, so it is *late*: a warm start must leave it
to the program. Imports before any such statement are *early*. The same holds inside a function
body, from the start of that function. Pure AST reading, nothing is imported.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import NamedTuple

# Calls that define things and change nothing a later import could see.
PURE_CALLS = frozenset(
    {"getLogger", "TypeVar", "ParamSpec", "TypeVarTuple", "NewType", "namedtuple", "compile"}
)


class ImportSite(NamedTuple):
    node: ast.Import | ast.ImportFrom
    early: bool  # no statement with effects before it, in its block
    top: bool  # at the module's top level (else inside a function or class)


def _call_name(call: ast.Call) -> str:
    f = call.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""


def _pure_expr(node: ast.AST | None) -> bool:
    """No call (other than a few defining ones), await, yield or walrus inside."""
    if node is None:
        return True
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call) and _call_name(sub) not in PURE_CALLS:
            return False
        if isinstance(sub, ast.Await | ast.Yield | ast.YieldFrom | ast.NamedExpr):
            return False
    return True


def _type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def pure(stmt: ast.stmt) -> bool:
    """Whether running `stmt` could change what a later import sees (False: it could)."""
    match stmt:
        case ast.Import() | ast.ImportFrom() | ast.Pass():
            return True
        case ast.Expr(value=ast.Constant()):  # a docstring
            return True
        case ast.FunctionDef() | ast.AsyncFunctionDef():
            return all(_pure_expr(d) for d in stmt.decorator_list) and all(
                _pure_expr(d) for d in stmt.args.defaults + stmt.args.kw_defaults if d
            )
        case ast.ClassDef():
            heads = [*stmt.decorator_list, *stmt.bases, *(k.value for k in stmt.keywords)]
            return all(_pure_expr(h) for h in heads) and all(pure(s) for s in stmt.body)
        case ast.Assign() | ast.AnnAssign():
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            names = all(isinstance(t, ast.Name | ast.Tuple) for t in targets)
            return names and _pure_expr(stmt.value)
        case ast.If():
            if _type_checking(stmt.test):
                return True
            return _pure_expr(stmt.test) and all(pure(s) for s in stmt.body + stmt.orelse)
        case ast.Try():
            blocks = stmt.body + stmt.orelse + stmt.finalbody
            blocks += [s for h in stmt.handlers for s in h.body]
            return all(pure(s) for s in blocks)
    return False


def _block(stmts: list[ast.stmt], top: bool, early: bool) -> Iterator[ImportSite]:
    """The import sites of a block in order; `early` until a statement with effects."""
    for stmt in stmts:
        if isinstance(stmt, ast.Import | ast.ImportFrom):
            yield ImportSite(stmt, early, top)
            continue
        if isinstance(stmt, ast.If) and _type_checking(stmt.test):
            continue  # never runs
        if isinstance(stmt, ast.If | ast.Try):
            inner = stmt.body + stmt.orelse
            if isinstance(stmt, ast.Try):
                inner += stmt.finalbody + [s for h in stmt.handlers for s in h.body]
            yield from _block(inner, top, early and pure(stmt))
        else:
            yield from _functions(stmt)
        early = early and pure(stmt)


def _functions(stmt: ast.stmt) -> Iterator[ImportSite]:
    """Import sites inside the functions a statement defines (methods and nested functions
    too), each function's body read from its own start."""
    if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
        yield from _block(stmt.body, False, True)
        return
    for field in ("body", "orelse", "finalbody", "handlers", "cases"):
        for child in getattr(stmt, field, ()):
            if isinstance(child, ast.stmt):
                yield from _functions(child)
            else:  # an except handler or a match case: its own statements
                for inner in getattr(child, "body", ()):
                    yield from _functions(inner)


def sites(tree: ast.Module) -> list[ImportSite]:
    """Every import statement of a module, each marked early or late, top level or not."""
    found = list(_block(tree.body, True, True))
    seen = {id(s.node) for s in found}
    # Imports anywhere else (a `with` block, a loop...): late, but still the watch set's.
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom) and id(node) not in seen:
            found.append(ImportSite(node, False, False))
            seen.add(id(node))
    return found


def prelude_length(tree: ast.Module) -> int:
    """How many leading top-level statements of an entry module are pure: what a prepared
    process may run ahead (the imports among them, and the definitions they need)."""
    for i, stmt in enumerate(tree.body):
        if not pure(stmt):
            return i
    return len(tree.body)
