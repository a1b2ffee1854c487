"""The config as the engine uses it: immutable records (NamedTuples, stdlib only).

The pydantic models in model.py are the schema and the validator; a validated file becomes these
specs. Keeping pydantic out of the running path is what lets `up` and the control commands start
in milliseconds (a validated file is cached: see cache.py). NamedTuples rather than dataclasses:
as immutable, and each costs a tenth to define, which every command pays at start-up.
"""

from __future__ import annotations

import signal
from typing import Any, NamedTuple


def signal_number(name: str) -> int:
    sig = name.upper()
    if not sig.startswith("SIG"):
        sig = "SIG" + sig
    try:
        return int(signal.Signals[sig])
    except KeyError:
        raise ValueError(f"unknown signal {name!r}") from None


def listen_address(text: str) -> tuple[str, int]:
    """A `listen` entry: "host:port", "[v6 host]:port" or a bare port (on 127.0.0.1)."""
    text = text.strip()
    host, port = ("127.0.0.1", text) if text.isdigit() else text.rpartition(":")[::2]
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{text!r} is not host:port (or a port)")
    return host, int(port)


class ProbeSpec(NamedTuple):
    http: str | None = None
    tcp: str | None = None
    exec: str | None = None
    log: str | None = None
    interval: float | None = None
    timeout: float = 2.0
    failures: int = 3

    @property
    def kind(self) -> str:
        return next(k for k in ("http", "tcp", "exec", "log") if getattr(self, k) is not None)

    @property
    def target(self) -> str:
        return str(getattr(self, self.kind))


class DependencySpec(NamedTuple):
    condition: str = "ready"  # started | ready | completed
    restart: bool = False
    explicit: bool = False  # the user wrote the condition (for check's warning)


class EnvFileSpec(NamedTuple):
    path: str
    required: bool = True


class ServiceSpec(NamedTuple):
    command: str | tuple[str, ...] | None = None  # None only for a disabled service
    shell: bool = False
    cwd: str = "."
    env: dict[str, str] = {}
    env_file: tuple[EnvFileSpec, ...] = ()
    depends_on: dict[str, DependencySpec] = {}
    ready: ProbeSpec | None = None
    ready_timeout: float = 30
    health: ProbeSpec | None = None
    restart: str | None = None
    backoff: float = 0.5
    backoff_max: float = 30
    max_restarts: int = 5
    restart_window: float = 60
    stop_signal: str = "SIGTERM"
    stop_timeout: float = 5
    watch: tuple[str, ...] | None = None
    foreground: bool | None = None
    tty: bool = False
    enabled: bool = True
    warm: bool = True
    listen: tuple[str, ...] = ()
    overlap: bool = False

    def dependencies(self) -> dict[str, DependencySpec]:
        return self.depends_on

    @property
    def stop_signal_number(self) -> int:
        return signal_number(self.stop_signal)

    @property
    def stop_signal_name(self) -> str:
        """Canonical: "term" and "TERM" are "SIGTERM"."""
        return signal.Signals(self.stop_signal_number).name

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ServiceSpec:
        """From a validated service table, dumped with exclude_unset (absent: the default)."""
        v = {k: d[k] for k in cls._fields if k in d}
        if isinstance(v.get("command"), list):
            v["command"] = tuple(v["command"])
        for key in ("ready", "health"):
            if v.get(key) is not None:
                v[key] = ProbeSpec(**v[key])
        v["env"] = dict(v.get("env", {}))
        v["env_file"] = tuple(_env_files(d.get("env_file")))
        v["depends_on"] = _dependencies(d.get("depends_on"))
        if v.get("watch") is not None:
            v["watch"] = tuple(v["watch"])
        v["listen"] = tuple(v.get("listen", ()))
        return cls(**v)


def _env_files(raw: Any) -> list[EnvFileSpec]:
    if raw is None:
        return []
    items = raw if isinstance(raw, list) else [raw]
    return [
        EnvFileSpec(i) if isinstance(i, str) else EnvFileSpec(i["path"], i.get("required", True))
        for i in items
    ]


def _dependencies(raw: Any) -> dict[str, DependencySpec]:
    if not raw:
        return {}
    if isinstance(raw, list):
        return {name: DependencySpec() for name in raw}
    return {
        name: DependencySpec(spec, explicit=True)
        if isinstance(spec, str)
        else DependencySpec(**spec, explicit="condition" in spec)
        for name, spec in raw.items()
    }


class ManagerSpec(NamedTuple):
    name: str = "autogpt"
    state_dir: str = ".autogpt-dev"
    log_max_bytes: int = 10_000_000
    log_backups: int = 3
    env_file: str = ".env"
    venv: str | bool = "auto"

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ManagerSpec:
        return cls(**{k: v for k, v in d.items() if k in cls._fields})
