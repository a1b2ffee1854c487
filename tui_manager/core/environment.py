"""A child's environment, built fresh at each spawn (so an edited `.env` reaches the next
restart) and never by changing the manager's own `os.environ`.

Layers, later ones winning: the project's `.env`; the manager's environment (an exported
variable beats the file, as with docker compose and python-dotenv); the service's env files in
order; its inline `env`. Then the interpreter: the virtualenv's bin/ first on PATH.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from ..config.config import Config
from ..config.load import read_dotenv

VENV_DIRS = (".venv", "venv")


def is_venv(path: Path) -> bool:
    return (path / "pyvenv.cfg").is_file() and (path / "bin").is_dir()


def find_venv(config: Config, base: dict[str, str] | None = None) -> tuple[Path | None, str]:
    """(the virtualenv children run in, why), as `uv run` would choose it."""
    setting = config.manager.venv
    environ = os.environ if base is None else base
    if setting is False:
        return None, "venv = false"
    if setting != "auto":
        path = config.resolve(str(setting))
        return (path, "venv in the config") if is_venv(path) else (None, f"{path} is no venv")
    active = environ.get("VIRTUAL_ENV")
    if active and is_venv(Path(active)):
        return Path(active), "activated"
    for name in VENV_DIRS:
        if is_venv(config.root / name):
            return config.root / name, f"the project's {name}"
    if sys.prefix != sys.base_prefix:
        return Path(sys.prefix), "the one autogpt-dev runs in"
    return None, "none found"


def with_venv(env: dict[str, str], venv: Path | None) -> dict[str, str]:
    if venv is None:
        return env
    bin_dir = str(venv / "bin")
    parts = [p for p in env.get("PATH", os.defpath).split(os.pathsep) if p and p != bin_dir]
    env["PATH"] = os.pathsep.join([bin_dir, *parts])
    env["VIRTUAL_ENV"] = str(venv)
    env.pop("PYTHONHOME", None)  # it would point the venv's python at another installation
    return env


def child_env(config: Config, name: str) -> dict[str, str]:
    """The environment `name` starts with, read from the disk now."""
    env: dict[str, str] = {}
    if config.dotenv is not None and config.dotenv.is_file():
        env.update(read_dotenv(config.dotenv))
    env.update(os.environ)
    for path, _required in config.env_files(name):
        if path.is_file():
            env.update(read_dotenv(path))
    env.update(config.services[name].env)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return with_venv(env, find_venv(config)[0])


def interpreter(config: Config, name: str) -> str | None:
    """What `python` in this service's command resolves to (for `check`)."""
    env = child_env(config, name)
    return shutil.which("python", path=env.get("PATH"))
