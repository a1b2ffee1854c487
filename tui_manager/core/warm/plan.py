"""Whether a command can start warm, and how: a Python interpreter (with its options) running a
module (`python -m mod`, `python -m uvicorn app:app`) or a script (`python app.py`, a console
script such as `uvicorn app:app` or `./manage.py` whose shebang names Python). Anything else is
started cold, and the reason says why.
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path
from typing import NamedTuple

from ...base import pyargs
from ..process import SpawnError, resolve

_PYTHON = re.compile(r"^(python|pypy)(\d+(\.\d+)*)?$")
_REFUSED = {
    "command": "python -c",
    "stdin": "a script on stdin",
    "none": "python without a script or module",
}
# Launchers that import the modules they serve only once running: preload those too.
RUNTIME_IMPORTS = {
    "uvicorn": [
        "uvicorn.main",
        "uvicorn.config",
        "uvicorn.server",
        "uvicorn.lifespan.on",
        "uvicorn.loops.auto",
        "uvicorn.loops.asyncio",
        "uvicorn.loops.uvloop",
        "uvicorn.protocols.http.auto",
        "uvicorn.protocols.http.h11_impl",
        "uvicorn.protocols.http.httptools_impl",
        "uvicorn.protocols.websockets.auto",
        "uvicorn.protocols.websockets.websockets_impl",
        "uvicorn.protocols.websockets.wsproto_impl",
    ],
}


class WarmPlan(NamedTuple):
    interpreter: list[str]  # the Python and its options: the template runs with exactly these
    mode: str  # "module" | "path"
    target: str  # the module name, or the script's path
    args: list[str]

    @property
    def launcher(self) -> str:
        """The top-level package that serves the app (uvicorn), or the module/script."""
        name = self.target if self.mode == "module" else Path(self.target).name
        return name.split(".")[0]


def plan(argv: list[str], cwd: str, env: dict[str, str]) -> WarmPlan | str:
    """The warm plan of a command line, or why there is none."""
    if not argv:
        return "no command"
    try:
        exe = resolve(argv[0], cwd, env)
    except SpawnError as e:
        return str(e)
    if _PYTHON.match(os.path.basename(exe)):
        return _python_args(exe, argv[1:])
    shebang = _python_shebang(exe, env)
    if shebang is not None:  # a console script (uvicorn, celery, ...) or a Python script
        return WarmPlan(shebang, "path", exe, argv[1:])
    return f"not a Python command ({os.path.basename(argv[0])})"


def _python_args(exe: str, args: list[str]) -> WarmPlan | str:
    cmd = pyargs.parse(args)
    if cmd.interactive:
        return "python -i (interactive)"
    if cmd.mode in ("module", "path"):
        return WarmPlan([exe, *cmd.options], cmd.mode, cmd.target, cmd.args)
    return _REFUSED.get(cmd.mode, f"python {cmd.target} (not an option python knows)")


def _python_shebang(path: str, env: dict[str, str]) -> list[str] | None:
    """The interpreter of a script whose first line is a Python shebang, else None."""
    try:
        with open(path, "rb") as f:
            first = f.readline(512)
    except OSError:
        return None
    if not first.startswith(b"#!"):
        return None
    try:
        words = shlex.split(first[2:].decode().strip())
    except (UnicodeDecodeError, ValueError):
        return None
    if words and os.path.basename(words[0]) == "env":  # #!/usr/bin/env python3
        words = [w for w in words[1:] if not w.startswith("-")]
        if not words:
            return None
        try:
            words[0] = resolve(words[0], "/", env)
        except SpawnError:
            return None
    if not words or not _PYTHON.match(os.path.basename(words[0])):
        return None
    return words
