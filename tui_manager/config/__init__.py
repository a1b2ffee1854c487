"""Config: discovery and loading (stdlib-fast), the pydantic schema (model.py), error lines.

Everything here is imported on first use: `from tui_manager.config import load` costs only the
loader, and nothing imports pydantic until a config has to be validated.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .config import Config
    from .errors import ConfigError
    from .loader import load
    from .model import json_schema
    from .read import discover

_WHERE = {
    "Config": "config",
    "ConfigError": "errors",
    "load": "loader",
    "discover": "read",
    "json_schema": "model",
    "ConfigFile": "model",
    "ManagerConfig": "model",
    "Probe": "model",
    "ServiceConfig": "model",
}
__all__ = ["Config", "ConfigError", "discover", "json_schema", "load"]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(name)
