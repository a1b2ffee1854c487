"""Where a running stack lives, for the control commands: the config's state dir and its
service names, read without validating the whole file (stdlib only). `status` must answer
even while someone is half-way through editing the config."""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from .cache import Entry
from .errors import ConfigError
from .interpolate import InterpolationError, evaluate, parse
from .read import find, parse_text

STATE_DIR_VAR = "AUTOGPT_DEV_STATE_DIR"


class Located(NamedTuple):
    path: Path
    state_dir: Path
    services: tuple[str, ...]


def locate(path: Path | None = None, env_file: Path | None = None) -> Located:
    path, text = find(path)
    data, _ = Entry(path).parsed(text) or parse_text(path, text)
    manager = data.get("manager", {})
    manager = manager if isinstance(manager, dict) else {}
    lookup = dict(os.environ)
    dotenv = env_file or path.parent / str(manager.get("env_file", ".env"))
    if dotenv.is_file():
        from .loader import read_dotenv

        lookup = {**read_dotenv(dotenv), **lookup}
    raw = next((v for k, v in lookup.items() if k.upper() == STATE_DIR_VAR), None)
    if raw is None:
        raw = str(manager.get("state_dir", ".autogpt-dev"))
        try:
            raw = evaluate(parse(raw), lookup.get).text
        except InterpolationError as e:
            raise ConfigError([f"{path}: [manager] state_dir: {e}"]) from None
    services = data.get("services", {})
    names = tuple(services) if isinstance(services, dict) else ()
    return Located(path, (path.parent / raw).resolve(), names)
