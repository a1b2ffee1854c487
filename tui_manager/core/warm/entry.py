"""What a warm start of a service may do ahead of its cold twin, read from its code (never run):

- the template imports the third-party modules a cold start imports before the program does
  anything else, in the same order (ImportGraph.early_external, core/prelude.py);
- a restart's process, forked before the old one has stopped, runs ahead the entry's leading
  statements that only import and define (or imports the module a launcher such as uvicorn
  will import), and is used only if that ran cleanly and printed nothing (zygote.hold);
- a program that monkey-patches the standard library at start (gevent, eventlet) is never
  started warm: the template's modules were imported before its patch.
"""

from __future__ import annotations

import ast
import zlib
from pathlib import Path
from typing import Any, NamedTuple

from ..imports import ImportGraph
from ..prelude import prelude_length
from .plan import WarmPlan

MONKEY_PATCHERS = ("gevent", "eventlet")


class Want(NamedTuple):
    preload: tuple[str, ...]  # third-party modules, in the order a cold start imports them
    target_in_project: bool  # `python -m <project module>` (else a launcher such as uvicorn)
    prepare: dict[str, Any] | None  # what a prepared restart runs ahead (zygote.run_ahead)
    refusal: str | None = None  # why this service never starts warm


def want_of(
    graph: ImportGraph,
    plan: WarmPlan,
    scripts: list[Path],
    modules: list[str],
    argv: list[str],
    app_process: bool = False,
) -> Want:
    """The warm side of a service whose import walk is `graph` (closure already computed).
    For an AppProcess, `scripts`/`modules` name its class's module (plan runs the bootstrap)."""
    patched = sorted(
        {m for m in MONKEY_PATCHERS for n in graph.external if n.split(".")[0] == m}
        | {m for m in MONKEY_PATCHERS for a in argv if m in a}
    )
    refusal = f"it monkey-patches at start ({', '.join(patched)})" if patched else None
    in_project = plan.mode == "module" and graph.module_file(plan.target) is not None
    preload = tuple(graph.early_external(scripts, modules))
    if app_process:  # the bootstrap imports the class's module when it unpickles it
        prepare = {"kind": "import", "module": modules[0]} if modules else None
        return Want(preload, False, prepare, refusal)
    return Want(preload, in_project, _prepare(graph, plan, scripts, modules), refusal)


def _prepare(
    graph: ImportGraph, plan: WarmPlan, scripts: list[Path], modules: list[str]
) -> dict[str, Any] | None:
    if plan.mode == "module" and (f := graph.module_file(plan.target)) is not None:
        package = plan.target.rpartition(".")[0]
        if f.name == "__init__.py":  # `python -m pkg` runs pkg/__main__.py
            f, package = f.with_name("__main__.py"), plan.target
        return _prelude(graph, f, package)
    if plan.mode == "path" and scripts and scripts[0].is_relative_to(graph.root):
        return _prelude(graph, scripts[0], None)
    for m in modules:  # what a launcher (uvicorn app.main:app) or an AppProcess imports
        if graph.module_file(m) is not None:
            return {"kind": "import", "module": m}
    return None


def _prelude(graph: ImportGraph, f: Path, package: str | None) -> dict[str, Any] | None:
    tree = graph.trees.get(f)
    if tree is None or prelude_length(tree) == 0:
        return None
    return {"kind": "prelude", "path": str(f), "package": package}


def ahead(prepare: dict[str, Any]) -> dict[str, Any] | None:
    """The request for a process prepared now, from the entry as it is on disk now (it has
    just changed: that is why the service restarts). None: nothing to run ahead."""
    if prepare["kind"] != "prelude":
        return prepare
    try:
        source = Path(prepare["path"]).read_bytes()
        n = prelude_length(ast.parse(source, prepare["path"]))
    except (OSError, SyntaxError, ValueError):  # a broken entry: the start shows why, as cold
        return None
    return {**prepare, "statements": n, "crc": zlib.crc32(source)} if n else None
