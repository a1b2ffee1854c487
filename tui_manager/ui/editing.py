"""Handing the terminal to the user's editor at a file and line, as `git commit` does: the
dashboard suspends, the editor runs, the dashboard comes back when it exits."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

from textual.app import App

from ..base.editor import HOW_TO_SET, editor_command

FILE_LINE = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+)')


def open_in_editor(app: App[int], path: Path, line: int) -> bool:
    """True if an editor ran; otherwise the user was told why not (a toast)."""
    command = editor_command(str(path), line)
    if command is None:
        app.notify(HOW_TO_SET, title="no editor", severity="warning", timeout=8)
        return False
    try:
        with app.suspend():
            subprocess.run(command, check=False)
    except FileNotFoundError:
        app.notify(f"{command[0]}: not found", title="editor", severity="error")
        return False
    except Exception:  # no terminal to hand over (a browser tab, a test): say where instead
        app.notify(f"{path}:{line}", title="open this in your editor", timeout=10)
        return False
    return True


def open_in_pager(app: App[int], path: Path) -> None:
    """The whole log file in $PAGER (less -R), the terminal handed over meanwhile."""
    pager = shlex.split(os.environ.get("PAGER", "less -R"))
    try:
        with app.suspend():
            subprocess.run([*pager, str(path)], check=False)
    except Exception:  # no terminal to hand over (web, tests): the built-in viewer
        from .screens.viewer import LogViewer  # on first use: rich.pretty and friends

        app.push_screen(LogViewer(path))


def frame_at(text: str) -> tuple[str, int] | None:
    """A traceback line's `File "...", line N`, if the text has one."""
    m = FILE_LINE.search(text)
    return (m["file"], int(m["line"])) if m else None
