"""Config: discovery and loading (stdlib-fast), the pydantic schema (model.py), error lines.

`json_schema`, `ConfigFile`, ... come from model.py on first use, so importing this package
does not import pydantic.
"""

from typing import Any

from .config import Config
from .errors import ConfigError
from .load import load, validate
from .read import discover

__all__ = ["Config", "ConfigError", "discover", "json_schema", "load", "validate"]


def __getattr__(name: str) -> Any:
    if name in ("json_schema", "ConfigFile", "ManagerConfig", "Probe", "ServiceConfig"):
        from . import model

        return getattr(model, name)
    raise AttributeError(name)
