"""The config schema: these pydantic models are the single source of truth.

`autogpt-dev schema` prints their JSON Schema, and every problem a user can make in a config file is
reported from their validation errors (see errors.py).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..base.keys import BINDING_IDS
from .spec import listen_address, signal_number

Condition = Literal["started", "ready", "completed"]
RestartPolicy = Literal["no", "on-failure", "always"]
SERVICE_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$"
RESERVED_NAMES = frozenset({"system", "all"})

PositiveFloat = Annotated[float, Field(gt=0)]
NonNegativeFloat = Annotated[float, Field(ge=0)]


class _Strict(BaseModel):
    # extra="forbid": a typo in a key is an error, never silently ignored.
    model_config = ConfigDict(extra="forbid")


class Probe(_Strict):
    """A readiness or liveness check. Exactly one of http, tcp, exec, log."""

    http: str | None = Field(None, description="GET this URL; a 2xx or 3xx answer passes.")
    tcp: str | None = Field(None, description="host:port that must accept a connection.")
    exec: str | None = Field(None, description="Shell command that must exit 0.")
    log: str | None = Field(None, description="Regex a line of the service's output must match.")
    interval: PositiveFloat | None = Field(
        None, description="Seconds between checks (default 0.2 for ready, 5 for health)."
    )
    timeout: PositiveFloat = Field(2.0, description="Seconds one check may take.")
    failures: int = Field(3, ge=1, description="Consecutive failures before `unhealthy`.")

    @model_validator(mode="after")
    def _exactly_one_kind(self) -> Probe:
        kinds = [k for k in ("http", "tcp", "exec", "log") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("needs exactly one of http, tcp, exec, log")
        if self.http is not None and not self.http.startswith(("http://", "https://")):
            raise ValueError(f"http probe must be an http:// or https:// URL, got {self.http!r}")
        if self.tcp is not None:
            host, _, port = self.tcp.rpartition(":")
            if not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f"tcp probe must be host:port, got {self.tcp!r}")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in ("http", "tcp", "exec", "log") if getattr(self, k) is not None)

    @property
    def target(self) -> str:
        return str(getattr(self, self.kind))


class Dependency(_Strict):
    """One `depends_on` edge."""

    condition: Condition = Field("ready", description="What the dependency must reach first.")
    restart: bool = Field(
        False, description="Restart this service whenever the dependency restarts."
    )


class EnvFile(_Strict):
    """An env file that may be optional (compose's `required: false`)."""

    path: str = Field(description="A dotenv file, relative to the config file.")
    required: bool = Field(True, description="false: a missing file is skipped, not an error.")


class ServiceConfig(_Strict):
    """One supervised service."""

    command: str | list[str] | None = Field(
        None,
        description="A string (split like a shell, no shell) or an argv list. Required unless "
        "enabled = false.",
    )
    shell: bool = Field(False, description="Run the command string through /bin/sh -c.")
    cwd: str = Field(".", description="Working directory, relative to the config file.")
    env: dict[str, str] = Field(default_factory=dict, description="Extra environment variables.")
    env_file: str | list[str | EnvFile] | None = Field(
        None, description="Dotenv file(s) for this service only; later files win."
    )
    depends_on: list[str] | dict[str, Condition | Dependency] = Field(
        default_factory=list,
        description='Services to wait for: a list (condition "ready") or a table of conditions.',
    )
    ready: Probe | None = Field(None, description="Readiness probe; none: ready once spawned.")
    ready_timeout: PositiveFloat = Field(30, description="Seconds to become ready, else failed.")
    health: Probe | None = Field(None, description="Liveness probe, checked while running.")
    restart: RestartPolicy | None = Field(
        None, description='"no", "on-failure" or "always"; default on-failure, "no" for foreground.'
    )
    backoff: PositiveFloat = Field(0.5, description="First restart delay, doubling.")
    backoff_max: PositiveFloat = Field(30, description="Upper bound of the restart delay.")
    max_restarts: int = Field(5, ge=0, description="More crashes than this in the window: failed.")
    restart_window: PositiveFloat = Field(60, description="The crash-counting window in seconds.")
    stop_signal: str = Field("SIGTERM", description="Signal that asks the service to stop.")
    stop_timeout: NonNegativeFloat = Field(5, description="Seconds before SIGKILL to the tree.")
    watch: list[str] | None = Field(
        None, description="Dev mode globs; default: the project files its Python code imports."
    )
    foreground: bool | None = Field(None, description="The pinned foreground service.")
    tty: bool = Field(False, description="Run under a pseudo-terminal.")
    enabled: bool = Field(True, description="false: not started (dependents treat it as met).")
    warm: bool = Field(
        True,
        description="Dev mode: restart a Python service warm, forked from a template process "
        "that has imported its third-party modules. false: always a cold start.",
    )
    listen: list[str] = Field(
        default_factory=list,
        description='Sockets the manager binds ("host:port", "[::1]:port" or a port on '
        "127.0.0.1) before the first start and keeps for the whole run; every start gets them "
        "as fds 3, 4, ... with LISTEN_FDS, LISTEN_PID and LISTEN_FDNAMES (systemd's protocol), "
        "so a restart queues connections instead of refusing them.",
    )
    overlap: bool = Field(
        False,
        description="With listen: a restart starts the new process while the old one finishes "
        "its requests (both accept meanwhile). For plain HTTP services.",
    )

    @field_validator("command")
    @classmethod
    def _command_not_empty(cls, v: str | list[str] | None) -> str | list[str] | None:
        if (isinstance(v, str) and not v.strip()) or (isinstance(v, list) and not v):
            raise ValueError("must not be empty")
        return v

    @field_validator("stop_signal")
    @classmethod
    def _known_signal(cls, v: str) -> str:
        signal_number(v)
        return v

    @field_validator("listen")
    @classmethod
    def _addresses(cls, v: list[str]) -> list[str]:
        seen = set()
        for text in v:
            address = listen_address(text)
            if address in seen:
                raise ValueError(f"{text!r} is listed twice")
            seen.add(address)
        return v

    @model_validator(mode="after")
    def _overlap_needs_listen(self) -> ServiceConfig:
        if self.overlap and not self.listen:
            raise ValueError("overlap needs listen: the sockets both processes accept on")
        return self

    @model_validator(mode="after")
    def _health_cannot_watch_logs(self) -> ServiceConfig:
        if self.health is not None and self.health.log is not None:
            raise ValueError("health: a log probe can only be used for ready")
        return self

    def dependencies(self) -> dict[str, Dependency]:
        """`depends_on` normalised to name -> Dependency."""
        if isinstance(self.depends_on, list):
            return {name: Dependency() for name in self.depends_on}
        return {
            name: Dependency(condition=spec) if isinstance(spec, str) else spec
            for name, spec in self.depends_on.items()
        }


ENV_PREFIX = "AUTOGPT_DEV_"


class ManagerConfig(_Strict):
    """The `[manager]` table; `AUTOGPT_DEV_<FIELD>` variables (the environment, then `.env`)
    override it. Applied by validate.py: pydantic-settings would do the same, but importing it
    costs a tenth of a second on every first run after a config edit."""

    name: str = Field("autogpt", description="Shown in the header.")
    state_dir: str = Field(".autogpt-dev", description="control.sock, manager.pid and logs/.")
    log_max_bytes: int = Field(10_000_000, ge=1024, description="Per-service log rotation size.")
    log_backups: int = Field(3, ge=0, description="Rotated log files kept.")
    env_file: str = Field(".env", description="Loaded before anything else, if it exists.")
    venv: str | Literal[False] = Field(
        "auto",
        description="The virtualenv whose bin/ goes first on children's PATH, with VIRTUAL_ENV "
        'set, as `uv run` does. "auto": an activated one, else the project\'s .venv or venv, '
        "else the one the manager runs in. A path: that one. false: PATH is left alone.",
    )

    @field_validator("venv", mode="before")
    @classmethod
    def _false_word(cls, v: Any) -> Any:
        # AUTOGPT_DEV_VENV=false can only be a string: it means false, not a directory "false".
        return False if isinstance(v, str) and v.strip().lower() == "false" else v


class ConfigFile(_Strict):
    """The whole file: `[manager]` and `[services.<name>]`."""

    manager: dict[str, Any] = Field(default_factory=dict, description="See ManagerConfig.")
    services: dict[str, ServiceConfig] = Field(min_length=1, description="The services.")
    keys: dict[str, str] = Field(
        default_factory=dict,
        description="Dashboard key overrides: binding id -> keys (comma-separated), e.g. "
        'restart = "ctrl+r". The README key table lists every id.',
    )

    @field_validator("keys")
    @classmethod
    def _known_bindings(cls, v: dict[str, str]) -> dict[str, str]:
        for binding_id, keys in v.items():
            if binding_id not in BINDING_IDS:
                raise ValueError(
                    f"unknown key binding {binding_id!r} (known: {', '.join(BINDING_IDS)})"
                )
            if not keys.strip():
                raise ValueError(f"{binding_id}: needs at least one key")
        return v

    @field_validator("services")
    @classmethod
    def _names(cls, v: dict[str, ServiceConfig]) -> dict[str, ServiceConfig]:
        import re

        for name in v:
            if not re.match(SERVICE_NAME_PATTERN, name):
                raise ValueError(
                    f"service name {name!r} must be letters, digits, '_', '.', '-' (max 63)"
                )
            if name in RESERVED_NAMES:
                raise ValueError(f"service name {name!r} is reserved")
        return v


def json_schema() -> dict[str, Any]:
    schema = ConfigFile.model_json_schema()
    schema["properties"]["manager"] = ManagerConfig.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "autogpt-dev configuration"
    return schema
