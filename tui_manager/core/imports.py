"""Which project files a Python service runs: its entry module and everything it imports,
transitively, found by reading the code (ast), never by importing it. Stdlib and site-packages
are outside the project root and so never part of a watch set.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterable
from pathlib import Path

from ..base import pyargs
from .fingerprint import of_tree
from .prelude import ImportSite, sites

_PY_LAUNCHERS = ("uvicorn", "gunicorn", "hypercorn", "celery", "dramatiq", "flask", "pytest")


def entry_points(argv: list[str], cwd: Path) -> tuple[list[Path], list[str]]:
    """From a command line: (script files, module names) it starts. Empty for non-Python."""
    if not argv:
        return [], []
    exe = os.path.basename(argv[0])
    files: list[Path] = []
    modules: list[str] = []
    if exe.startswith("python") or exe == "py":
        cmd = pyargs.parse(argv[1:])
        if cmd.mode == "module" and cmd.target in _PY_LAUNCHERS:  # python -m uvicorn pkg.mod:app
            return entry_points([cmd.target, *cmd.args], cwd)
        if cmd.mode == "module":
            modules.append(cmd.target)
        elif cmd.mode == "path":
            files.append((cwd / cmd.target).resolve())
        elif cmd.mode == "command":  # -c "from backend.db import X; X().start()": what it imports
            modules += _imports_of_code(cmd.target)
    elif exe in _PY_LAUNCHERS:
        for a in argv[1:]:
            if not a.startswith("-") and ":" in a:
                modules.append(a.split(":", 1)[0])  # uvicorn pkg.mod:app
            elif not a.startswith("-") and a.endswith(".py"):
                files.append((cwd / a).resolve())
    elif argv[0].endswith(".py"):
        files.append((cwd / argv[0]).resolve())
    return files, [m for m in modules if m]


def _imports_of_code(code: str) -> list[str]:
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return []
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names += [a.name for a in node.names]
    return names


class ImportGraph:
    """Resolves imports to files under `root`, searching `paths` like sys.path would. The names
    that resolve to no project file (third-party and standard library modules) are collected
    in `external` along the way: what a warm template imports."""

    def __init__(self, root: Path, paths: Iterable[Path]) -> None:
        self.root = root.resolve()
        self.paths = [p.resolve() for p in paths]
        self.external: set[str] = set()
        self.fingerprints: dict[Path, str] = {}  # each parsed file's meaning (fingerprint.py)
        self.trees: dict[Path, ast.Module] = {}
        self._sites: dict[Path, list[tuple[ImportSite, list[str]]]] = {}

    def module_file(self, name: str) -> Path | None:
        parts = name.split(".")
        for base in self.paths:
            for candidate in (
                base.joinpath(*parts).with_suffix(".py"),
                base.joinpath(*parts, "__init__.py"),
            ):
                if candidate.is_file() and candidate.is_relative_to(self.root):
                    return candidate
        return None

    def closure(self, files: Iterable[Path], modules: Iterable[str]) -> set[Path]:
        todo = [f for f in files if f.is_file()]
        for m in modules:
            f = self.module_file(m)
            if f:
                todo.append(f)
                todo.extend(self._parents(m))
        seen: set[Path] = set()
        while todo:
            f = todo.pop()
            if f in seen:
                continue
            seen.add(f)
            todo.extend(self._imports_of(f))
        return seen

    def _parents(self, module: str) -> list[Path]:
        # Importing a.b.c runs a/__init__.py and a/b/__init__.py too.
        out = []
        parts = module.split(".")
        for i in range(1, len(parts)):
            f = self.module_file(".".join(parts[:i]))
            if f:
                out.append(f)
        return out

    def _package_of(self, f: Path) -> str | None:
        for base in self.paths:
            if f.is_relative_to(base):
                rel = f.relative_to(base).with_suffix("")
                parts = list(rel.parts)
                if parts[-1] == "__init__":
                    parts.pop()
                    return ".".join(parts)
                return ".".join(parts[:-1])
        return None

    def _parse(self, f: Path) -> list[tuple[ImportSite, list[str]]]:
        """The import sites of a file with the module names each one imports (cached)."""
        if f in self._sites:
            return self._sites[f]
        try:
            tree = ast.parse(f.read_bytes(), str(f))
        except (SyntaxError, OSError, ValueError):
            return []  # a broken edit: keep what we have, the next save fixes it
        self.fingerprints[f] = of_tree(tree)
        self.trees[f] = tree
        out: list[tuple[ImportSite, list[str]]] = []
        for site in sites(tree):
            node = site.node
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                base = node.module or ""
                if node.level:
                    pkg = self._package_of(f)
                    if pkg is None:
                        continue
                    pkg_parts = pkg.split(".") if pkg else []
                    up = pkg_parts[: len(pkg_parts) - (node.level - 1)]
                    base = ".".join([*up, base] if base else up)
                names = [base] if base else []
                # `from pkg import mod` may import a submodule
                names += [f"{base}.{a.name}" if base else a.name for a in node.names]
            out.append((site, names))
        self._sites[f] = out
        return out

    def _imports_of(self, f: Path) -> list[Path]:
        out: list[Path] = []
        for site, names in self._parse(f):
            for name in names:
                mf = self.module_file(name)
                if mf:
                    out.append(mf)
                    out.extend(self._parents(name))
                elif self._external(site, name):
                    self.external.add(name)
        return out

    def _external(self, site: ImportSite, name: str) -> bool:
        return bool(
            name
            and not name.startswith("__future__")
            and not node_is_relative(site.node)
            and not self._in_project(name)
        )

    def early_external(self, files: Iterable[Path], modules: Iterable[str]) -> list[str]:
        """The third-party modules a cold start imports before the program does anything
        else (prelude.py), in the order it imports them: what a warm template may import
        ahead. Late imports, and everything reached only through them, are left out."""
        order: list[str] = []
        seen_names: set[str] = set()
        visited: set[Path] = set()

        def visit(f: Path) -> None:
            if f in visited:
                return
            visited.add(f)
            for site, names in self._parse(f):
                if not site.early:
                    continue
                for name in names:
                    mf = self.module_file(name)
                    if mf is not None:
                        for parent in self._parents(name):
                            visit(parent)
                        visit(mf)
                    elif self._external(site, name) and name not in seen_names:
                        seen_names.add(name)
                        order.append(name)

        for m in modules:
            for parent in self._parents(m):
                visit(parent)
            if (mf := self.module_file(m)) is not None:
                visit(mf)
        for f in files:
            if f.is_file():
                visit(f)
        return order

    def _in_project(self, name: str) -> bool:
        return self.module_file(name.split(".")[0]) is not None


def node_is_relative(node: ast.AST) -> bool:  # (a relative import never leaves the project)
    return isinstance(node, ast.ImportFrom) and node.level > 0
