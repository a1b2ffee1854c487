"""`autogpt-dev init` with nothing to import: a config from the project's own code, read with
`ast` (never imported, never run).

1. The seed's call, `run_processes(...)` of AppProcess classes (seed.py): one service each.
2. Otherwise Django, FastAPI/Starlette, Flask and Celery (frameworks.py).
3. Otherwise a commented starter (starter.py).
Console scripts that none of it explains are listed in the header, never started.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from .. import toml_out
from ..importer import Imported
from ..venv import find_venv, with_venv
from .frameworks import find_frameworks
from .scan import console_scripts, dependencies, pyproject, read_modules
from .seed import Call, Seed, class_fields, import_path, read_seed, relative, service_name
from .starter import STARTER

READ = "the project's code (read, not run)"
# Console scripts that are a developer's tools, never a service.
DEV_TOOLS = {"format", "fmt", "lint", "test", "tests", "cli", "typecheck", "check", "docs"}
DEV_TOOLS |= {"coverage", "release", "build", "clean", "setup", "install", "shell"}


class Project:
    def __init__(self, project: Path) -> None:
        self.project = project
        self.modules = read_modules(project)
        data = pyproject(project)
        self.scripts = console_scripts(data)
        self.deps = dependencies(project, data)
        self.path = with_venv(dict(os.environ), find_venv("auto", project)[0]).get("PATH", "")
        self.found: list[str] = []  # what was recognised, for the user
        self.notes: list[str] = []
        self.header: list[str] = []
        self.services: dict[str, dict[str, Any]] = {}
        self.comments: dict[str, list[str]] = {}
        self.explained: set[str] = set()  # modules the services run (their scripts are used)

    # -- the seed ---------------------------------------------------------------------------
    def from_seed(self, seed: Seed) -> bool:
        call = seed.main_call()
        calls = (
            [call]
            if call
            else [c for c in seed.calls if c.processes and seed.entry_for(c.processes[0].cls)]
        )
        if not calls:
            return False
        if call is not None:
            self.explained.add(call.module.name)
            self.found.append(f"the seed's run_processes(...) in {self._at(call)}")
            args = [p.text for p in call.processes] + call.unread
            self.header += [
                f"The stack of {self._at(call)}, in its order, the last one the foreground:",
                "  run_processes(",
                *(f"      {a}," for a in args),
                "  )",
            ]
        else:
            self.found.append(
                "entry modules that each run one AppProcess: "
                + ", ".join(self._at(c) for c in calls)
            )
        for c in calls:
            for text in c.unread:
                self.notes.append(
                    f"{self._at(c)}: {text} is built at run time: not read, add it by hand"
                )
            for p in c.processes:
                self._service(seed, c, p)
        return bool(self.services)

    def _service(self, seed: Seed, call: Call, p: Any) -> None:
        defined_in = seed.classes[p.cls]
        node = defined_in.class_node(p.cls)
        name = (service_name(node) if node else None) or p.cls
        table: dict[str, Any] = {}
        entry = seed.entry_for(p.cls)
        if entry is not None and entry is not call.module:
            self.explained.add(entry.name)
            script = next(
                (
                    s
                    for s, t in self.scripts.items()
                    if t.split(":")[0] == entry.name and shutil.which(s, path=self.path)
                ),
                None,
            )
            table["command"] = script or f"python -m {entry.name}"
            cwd, how = entry.root, f"{relative(entry.path, self.project)} runs it alone"
            for method, args in p.chained:
                how += self._chained(name, call, method, args, table)
        else:  # the seed API's own way: the object, as the call builds it, started here
            code = f"from {import_path(call, p.cls, defined_in)} import {p.cls}; {p.text}.start()"
            table["command"] = ["python", "-c", code]
            cwd, how = call.module.root, f"{p.text}.start(), as the call builds it"
        if relative(cwd, self.project) != ".":
            table["cwd"] = relative(cwd, self.project)
        table.update(class_fields(node) if node else {})
        self.services[name] = table
        self.comments[name] = [f"# {name}: {how}"]

    def _chained(
        self, name: str, call: Call, method: str, args: list[Any], table: dict[str, Any]
    ) -> str:
        """A chained call on the object, as this service's config where it maps."""
        if method == "set_log_level" and len(args) == 1 and isinstance(args[0], str | int):
            table.setdefault("env", {})["LOG_LEVEL"] = str(args[0]).upper()
            return f"; .set_log_level({args[0]!r}) is LOG_LEVEL"
        self.notes.append(f"{name}: .{method}(...) in {self._at(call)}: no equivalent, left out")
        return ""

    def _at(self, call: Call) -> str:
        where = f"{relative(call.module.path, self.project)}:{call.line}"
        return f"{where} ({call.function})" if call.function else where

    # -- the output -------------------------------------------------------------------------
    def scripts_header(self) -> list[str]:
        lines = []
        unexplained = {
            s: t for s, t in self.scripts.items() if t.split(":")[0] not in self.explained
        }
        tools = sorted(s for s in unexplained if s in DEV_TOOLS)
        others = [f"  {s} = {t}" for s, t in unexplained.items() if s not in DEV_TOOLS]
        if others or tools:
            lines.append("Console scripts in pyproject.toml, not started:")
            lines += others
            if tools:
                lines.append(f"  {', '.join(tools)}: dev tools")
        return lines

    def text(self, source_line: str) -> str:
        lines = [
            f"# Written by `autogpt-dev init` from {source_line}. Reference: docs/configuration.md."
        ]
        for block in (self.header, self.scripts_header()):
            if block:
                lines += ["#", *toml_out.comment("\n".join(block))]
        if self.notes:
            lines += ["#", "# Not carried over as it was:", *(f"#   - {n}" for n in self.notes)]
        lines.append("")
        names = list(self.services)
        for name in names:
            body = self.services[name]
            if name == names[-1]:
                body["foreground"] = True
            lines += toml_out.table(f"services.{toml_out.key(name)}", body, self.comments.get(name))
        return "\n".join(lines)


def from_project(project: Path) -> Imported:
    p = Project(project)
    if p.from_seed(read_seed(p.modules)):
        fg = list(p.services)[-1]
        for f in find_frameworks(project, p.modules, p.deps):
            p.header.append(f"Also found, not added (the run_processes call is the stack): {f.why}")
        why = "the last process of the call, as the seed runs it"
        return Imported(p.text(READ), fg, why, p.notes, p.found)
    frameworks = find_frameworks(project, p.modules, p.deps)
    if frameworks:
        for f in frameworks:
            p.services[f.name] = f.table
            p.comments[f.name] = [f"# {f.name}: {f.why}"]
            p.found.append(f.why)
        webs = [f for f in frameworks if f.web]
        fg = (webs or frameworks)[-1].name
        p.services[fg] = p.services.pop(fg)  # written last: the foreground
        why = "the app people open" if webs else "the last one found"
        return Imported(p.text(READ), fg, why, p.notes, p.found)
    text, scripts = STARTER, p.scripts_header()
    if scripts:
        text += "\n" + "\n".join(toml_out.comment("\n".join(scripts))) + "\n"
    return Imported(text, "hello", "the starter's example", [], ["nothing recognised: a starter"])
