"""Web frameworks and workers recognised in a project's code, each written as a service with a
readiness probe: Django (manage.py), a FastAPI or Starlette app (uvicorn), Flask, and Celery's
worker and beat when celery is a dependency. Dev mode does the reloading, so none of them is
started with its own reloader."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .scan import Module
from .seed import relative

WEB_PORT = 8000


@dataclass
class Found:
    name: str
    table: dict[str, Any]
    why: str  # what was recognised, and where
    web: bool = False


def find_frameworks(project: Path, modules: dict[str, Module], deps: set[str]) -> list[Found]:
    found: list[Found] = []
    ports = iter(range(WEB_PORT, WEB_PORT + 100))
    mounted = _mounted(modules)
    for module in modules.values():
        if module.path.name == "manage.py" and "DJANGO_SETTINGS_MODULE" in ast.unparse(module.tree):
            port = next(ports)
            found.append(
                Found(
                    "web",
                    _where(project, module.path.parent)
                    | {
                        "command": f"python manage.py runserver 127.0.0.1:{port} --noreload",
                        "ready": {"http": f"http://127.0.0.1:{port}/"},
                    },
                    f"Django: {relative(module.path, project)} sets DJANGO_SETTINGS_MODULE",
                    web=True,
                )
            )
    for module, var, kind, call in _apps(modules):
        where = f"{relative(module.path, project)}:{call.lineno}"
        target = f"{module.name}:{var}"
        if kind in ("FastAPI", "Starlette") and var not in mounted:
            port = next(ports)
            ready = _fastapi_probe(call, port) if kind == "FastAPI" else None
            table: dict[str, Any] = {"command": f"python -m uvicorn {target} --port {port}"}
            table["ready"] = ready or {"tcp": f"127.0.0.1:{port}"}
            found.append(
                Found(
                    "api",
                    _where(project, module.root) | table,
                    f"{kind} app {var} in {where}",
                    True,
                )
            )
        elif kind == "Flask":
            port = next(ports)
            root_route = _has_root_route(module, var)
            table = {"command": f"python -m flask --app {target} run --port {port} --no-reload"}
            table["ready"] = (
                {"http": f"http://127.0.0.1:{port}/"}
                if root_route
                else {"tcp": f"127.0.0.1:{port}"}
            )
            found.append(
                Found(
                    "web", _where(project, module.root) | table, f"Flask app {var} in {where}", True
                )
            )
        elif kind == "Celery" and "celery" in deps:
            base = _where(project, module.root)
            found.append(
                Found(
                    "beat",
                    base
                    | {
                        "command": f"python -m celery -A {module.name} beat --loglevel INFO",
                        "ready": {"log": "beat: Starting"},
                    },
                    f"Celery beat for {var} in {where} (the worker is the foreground)",
                )
            )
            found.append(
                Found(
                    "worker",
                    base
                    | {
                        "command": f"python -m celery -A {module.name} worker --loglevel INFO",
                        "ready": {"log": r"celery@\S+ ready\."},
                    },
                    f"Celery app {var} in {where} (celery is a dependency)",
                )
            )
    return _unique_names(found)


def _where(project: Path, folder: Path) -> dict[str, Any]:
    cwd = relative(folder, project)
    return {} if cwd == "." else {"cwd": cwd}


def _apps(modules: dict[str, Module]) -> list[tuple[Module, str, str, ast.Call]]:
    """Module-level `app = FastAPI(...)` (or fastapi.FastAPI, Starlette, Flask, Celery)."""
    out = []
    for module in modules.values():
        if not any(k in module.source for k in ("FastAPI", "Starlette", "Flask", "Celery")):
            continue
        for stmt in module.tree.body:
            if not (isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call)):
                continue
            func = stmt.value.func
            kind = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            target = stmt.targets[0]
            if kind in ("FastAPI", "Starlette", "Flask", "Celery") and isinstance(target, ast.Name):
                out.append((module, target.id, str(kind), stmt.value))
    return out


def _mounted(modules: dict[str, Module]) -> set[str]:
    """Names passed to `.mount(...)`: sub-applications, served by the app they are mounted in."""
    names = set()
    for module in modules.values():
        if ".mount(" not in module.source:
            continue
        for node in ast.walk(module.tree):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "mount":
                args = [*node.args, *(k.value for k in node.keywords if k.arg == "app")]
                names |= {a.id for a in args if isinstance(a, ast.Name)}
    return names


def _fastapi_probe(call: ast.Call, port: int) -> dict[str, str] | None:
    """FastAPI serves /docs unless told otherwise (docs_url=..., None turns it off)."""
    urls = {k.arg: k.value for k in call.keywords if k.arg in ("docs_url", "openapi_url")}
    for key, default in (("docs_url", "/docs"), ("openapi_url", "/openapi.json")):
        value = urls.get(key)
        if value is None:
            return {"http": f"http://127.0.0.1:{port}{default}"}
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            return {"http": f"http://127.0.0.1:{port}{value.value}"}
    return None


def _has_root_route(module: Module, var: str) -> bool:
    for node in ast.walk(module.tree):
        if isinstance(node, ast.FunctionDef):
            for deco in node.decorator_list:
                if (
                    isinstance(deco, ast.Call)
                    and isinstance(deco.func, ast.Attribute)
                    and isinstance(deco.func.value, ast.Name)
                    and deco.func.value.id == var
                    and deco.func.attr in ("route", "get")
                    and deco.args
                    and isinstance(deco.args[0], ast.Constant)
                    and deco.args[0].value == "/"
                ):
                    return True
    return False


def _unique_names(found: list[Found]) -> list[Found]:
    seen: dict[str, int] = {}
    for f in found:
        seen[f.name] = seen.get(f.name, 0) + 1
        if seen[f.name] > 1:
            f.name = f"{f.name}-{seen[f.name]}"
    return found
