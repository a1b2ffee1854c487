"""A project's Python code, read statically (`ast`; nothing is imported or run): its modules by
dotted name, as `python -m` in their folder would import them, and what its pyproject.toml and
requirements files declare (console scripts, dependencies)."""

from __future__ import annotations

import ast
import os
import re
import tomllib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

# Folders that hold no code of the project's own, or only its tests.
_SKIP = {".git", ".hg", ".svn", "node_modules", "__pycache__", "site-packages", "build", "dist"}
_SKIP |= {".tox", ".nox", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".autogpt-dev", "tests"}
_SKIP |= {"test", "migrations", ".venv", "venv", "env", ".eggs", "docs"}
_TEST_FILE = re.compile(r"^(test_.*|.*_test|conftest)\.py$")
MAX_FILES = 5000  # a monorepo: enough for its services, not a walk of every vendored file


_CLASS = re.compile(r"^[ \t]*class[ \t]+(\w+)[ \t]*\(([^)]*)\)", re.MULTILINE)


@dataclass
class Module:
    name: str  # dotted, from its import root
    path: Path
    root: Path  # the folder `python -m name` runs in (the first one up without __init__.py)
    source: str

    @cached_property
    def tree(self) -> ast.Module:
        """Parsed when asked: most files of a large project only need a text search."""
        try:
            return ast.parse(self.source, str(self.path))
        except (SyntaxError, ValueError):
            return ast.Module(body=[], type_ignores=[])  # python says why when it runs it

    @property
    def is_package(self) -> bool:
        return self.path.name == "__init__.py"

    def classes(self) -> list[tuple[str, set[str]]]:
        """(class name, the last names of its bases), from the text: no parse needed."""
        out = []
        for m in _CLASS.finditer(self.source):
            bases = {b.split("=")[0].strip().split(".")[-1] for b in m.group(2).split(",")}
            out.append((m.group(1), {b for b in bases if b.isidentifier()}))
        return out

    def class_node(self, name: str) -> ast.ClassDef | None:
        return next(
            (n for n in ast.walk(self.tree) if isinstance(n, ast.ClassDef) and n.name == name),
            None,
        )


def python_files(project: Path) -> list[Path]:
    """The project's own .py files: no virtualenvs (a pyvenv.cfg), tests, caches, vendored."""
    found: list[Path] = []
    for here, dirs, files in os.walk(project):
        dirs[:] = sorted(
            d
            for d in dirs
            if d not in _SKIP
            and not d.startswith(".")
            and not (Path(here, d) / "pyvenv.cfg").exists()
        )
        found += [
            Path(here, f) for f in sorted(files) if f.endswith(".py") and not _TEST_FILE.match(f)
        ]
        if len(found) >= MAX_FILES:
            break
    return found[:MAX_FILES]


def import_root(path: Path) -> Path:
    folder = path.parent
    while (folder / "__init__.py").exists() and folder.parent != folder:
        folder = folder.parent
    return folder


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def read_modules(project: Path) -> dict[str, Module]:
    modules: dict[str, Module] = {}
    for path in python_files(project):
        try:
            source = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        root = import_root(path)
        name = module_name(path, root)
        if name and name not in modules:
            modules[name] = Module(name, path, root, source)
    return modules


def resolve_from(module: Module, node: ast.ImportFrom) -> str:
    """The absolute module an ImportFrom names (`from .executor import X` in backend.app)."""
    if not node.level:
        return node.module or ""
    base = module.name.split(".")
    base = base if module.is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
    return ".".join([*base, *([node.module] if node.module else [])])


def imported_from(module: Module, name: str) -> str | None:
    """Where the module imports `name` from, anywhere in it (also inside main())."""
    for node in ast.walk(module.tree):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if (alias.asname or alias.name) == name:
                    return resolve_from(module, node)
    return None


def is_main_guard(node: ast.AST) -> bool:
    """`if __name__ == "__main__":`"""
    if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare):
        return False
    sides = [node.test.left, *node.test.comparators]
    names = {s.id for s in sides if isinstance(s, ast.Name)}
    consts = {s.value for s in sides if isinstance(s, ast.Constant)}
    return names == {"__name__"} and consts == {"__main__"}


def has_main_guard(module: Module) -> bool:
    return any(is_main_guard(node) for node in module.tree.body)


# -- pyproject.toml and requirements ------------------------------------------------------------
def pyproject(project: Path) -> dict[str, Any]:
    try:
        return tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return {}


def console_scripts(data: dict[str, Any]) -> dict[str, str]:
    """name -> "module:function", from [project.scripts] and [tool.poetry.scripts]."""
    scripts: dict[str, str] = {}
    poetry = data.get("tool", {}).get("poetry", {}).get("scripts", {})
    for source in (data.get("project", {}).get("scripts", {}), poetry):
        for name, target in source.items() if isinstance(source, dict) else ():
            if isinstance(target, dict):  # poetry's { reference = "...", type = "console" }
                target = (
                    target.get("reference") if target.get("type", "console") == "console" else None
                )
            if isinstance(target, str) and ":" in target:
                scripts[str(name)] = target.strip()
    return scripts


_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def dependencies(project: Path, data: dict[str, Any]) -> set[str]:
    """Distribution names the project depends on (lowercased)."""
    names: list[str] = list(data.get("project", {}).get("dependencies", []))
    poetry = data.get("tool", {}).get("poetry", {})
    names += list(poetry.get("dependencies", {}))
    for group in poetry.get("group", {}).values():
        names += list(group.get("dependencies", {})) if isinstance(group, dict) else []
    for req in sorted(project.glob("requirements*.txt")):
        try:
            names += req.read_text(errors="replace").splitlines()
        except OSError:
            continue
    found = (_REQUIREMENT.match(str(n)) for n in names)
    return {m.group(1).lower().replace("_", "-") for m in found if m}
