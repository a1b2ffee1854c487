"""Which virtualenv children run in, as `uv run` chooses it (stdlib only): the one named in the
config, else an activated one, else the project's .venv or venv, else the one autogpt-dev runs
in. Its bin/ goes first on PATH, so `python` in a command is the project's interpreter."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

VENV_DIRS = (".venv", "venv")


def is_venv(path: Path) -> bool:
    return (path / "pyvenv.cfg").is_file() and (path / "bin").is_dir()


def find_venv(
    setting: str | bool, root: Path, environ: Mapping[str, str] | None = None
) -> tuple[Path | None, str]:
    """(the virtualenv, why it was chosen)."""
    environ = os.environ if environ is None else environ
    if setting is False:
        return None, "venv = false"
    if setting not in ("auto", True):
        path = (root / str(setting)).resolve()
        return (path, "venv in the config") if is_venv(path) else (None, f"{path} is no venv")
    active = environ.get("VIRTUAL_ENV")
    if active and is_venv(Path(active)):
        return Path(active), "activated"
    for name in VENV_DIRS:
        if is_venv(root / name):
            return root / name, f"the project's {name}"
    if sys.prefix != sys.base_prefix:
        return Path(sys.prefix), "the one autogpt-dev runs in"
    return None, "none found"


def with_venv(env: dict[str, str], venv: Path | None) -> dict[str, str]:
    """`env` with the venv's bin/ first on PATH and VIRTUAL_ENV set (changed in place)."""
    if venv is None:
        return env
    bin_dir = str(venv / "bin")
    parts = [p for p in env.get("PATH", os.defpath).split(os.pathsep) if p and p != bin_dir]
    env["PATH"] = os.pathsep.join([bin_dir, *parts])
    env["VIRTUAL_ENV"] = str(venv)
    env.pop("PYTHONHOME", None)  # it would point the venv's python at another installation
    return env
