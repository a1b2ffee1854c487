"""Reading a project without running it: module names from import roots, classes from the text,
relative imports, console scripts in both pyproject dialects."""

from __future__ import annotations

import ast
from pathlib import Path

from tui_manager.config.project.scan import (
    Module,
    console_scripts,
    imported_from,
    read_modules,
)
from tui_manager.config.project.seed import process_classes


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def test_module_names_start_at_the_first_folder_without_init(tmp_path):
    write(
        tmp_path,
        {
            "backend/backend/__init__.py": "",
            "backend/backend/executor/__init__.py": "from .database import DatabaseManager\n",
            "backend/backend/executor/database.py": "",
            "backend/tests/test_x.py": "",  # tests are not the project's services
            "backend/.venv/pyvenv.cfg": "",
            "backend/.venv/lib/site.py": "",
            "tool/run.py": "",
        },
    )
    modules = read_modules(tmp_path)
    assert set(modules) == {"backend", "backend.executor", "backend.executor.database", "run"}
    assert modules["backend.executor"].root == tmp_path / "backend"
    init = modules["backend.executor"]
    node = init.tree.body[0]
    assert isinstance(node, ast.ImportFrom)
    assert imported_from(init, "DatabaseManager") == "backend.executor.database"


def test_classes_come_from_the_text_through_chains_and_odd_spellings(tmp_path):
    source = (
        "class AppService(\n    util.process.AppProcess,\n    ABC,\n):\n    pass\n"
        "class DatabaseManager(AppService, metaclass=Meta):\n    pass\n"
        "class Helper(object):\n    pass\n"
        "if True:\n    class Nested(DatabaseManager): ...\n"
    )
    module = Module("m", tmp_path / "m.py", tmp_path, source)
    found = process_classes({"m": module})
    assert set(found) == {"AppService", "DatabaseManager", "Nested"}
    assert module.class_node("Nested") is not None


def test_console_scripts_in_both_dialects():
    data = {
        "project": {"scripts": {"serve": "app.main:run"}},
        "tool": {
            "poetry": {
                "scripts": {
                    "rest": "backend.rest:main",
                    "gen": {"reference": "tools.gen:main", "type": "console"},
                    "file": {"reference": "bin/x.sh", "type": "file"},
                }
            }
        },
    }
    assert console_scripts(data) == {
        "serve": "app.main:run",
        "rest": "backend.rest:main",
        "gen": "tools.gen:main",
    }
