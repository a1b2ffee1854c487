"""A child's environment, built fresh at each spawn (so an edited `.env` reaches the next
restart) and never by changing the manager's own `os.environ`.

Layers, later ones winning: the project's `.env`; the manager's environment (an exported
variable beats the file, as with docker compose and python-dotenv); the service's env files in
order; its inline `env`. Then the interpreter: the virtualenv's bin/ first on PATH.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ..config import venv
from ..config.config import Config
from ..config.loader import read_dotenv


def find_venv(config: Config) -> tuple[Path | None, str]:
    return venv.find_venv(config.manager.venv, config.root)


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
    return venv.with_venv(env, find_venv(config)[0])


def interpreter(config: Config, name: str) -> str | None:
    """What `python` in this service's command resolves to (for `check`)."""
    env = child_env(config, name)
    return shutil.which("python", path=env.get("PATH"))


def with_ours(config: Config, name: str, env: dict[str, str]) -> dict[str, str]:
    """A service's environment plus what we tell it: its name and our state dir."""
    return {**env, "AUTOGPT_DEV_SERVICE": name, "AUTOGPT_DEV_STATE_DIR": str(config.state_dir)}


def service_env(config: Config, name: str) -> dict[str, str]:
    """The environment a start of `name` gets now (its files read again)."""
    return with_ours(config, name, child_env(config, name))
