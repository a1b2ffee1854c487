"""Config: pydantic models (the schema), discovery and loading, error lines."""

from .errors import ConfigError
from .load import Config, discover, load
from .model import ConfigFile, ManagerConfig, Probe, ServiceConfig, json_schema

__all__ = [
    "Config",
    "ConfigError",
    "ConfigFile",
    "ManagerConfig",
    "Probe",
    "ServiceConfig",
    "discover",
    "json_schema",
    "load",
]
