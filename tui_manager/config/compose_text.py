"""A compose service's values as text: interpolated for run time (kept in our dialect) or
resolved now (typed values), with the notes and errors that name the file, service and key."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .compose_file import Service
from .compose_values import duration, empty_default, port_pair
from .errors import ConfigError
from .interpolate import InterpolationError, Piece, evaluate, parse, render


@dataclass
class Mapped:
    name: str
    table: dict[str, Any] = field(default_factory=dict)
    comments: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    enabled: bool = True
    long_running: bool = False  # restart policy or a healthcheck: a foreground candidate
    published: bool = False  # it publishes ports: a server people open
    # How the others reach it here (compose_hosts.py): its port -> the port here, and how.
    reach: dict[str, str] = field(default_factory=dict)
    how: str = "runs here"


class ServiceText:
    def __init__(self, lookup: dict[str, str], svc: Service) -> None:
        self.lookup = lookup
        self.svc = svc
        self.out = Mapped(svc.name)
        self._ports: list[tuple[str | None, str | None]] | None = None

    # -- interpolation ---------------------------------------------------------------------------
    def _where(self, key: str) -> str:
        return f"services.{self.svc.name}.{key}"

    def _fail(self, key: str, message: str) -> ConfigError:
        return ConfigError([f"{self.svc.origin}: {self._where(key)}: {message}"])

    def _pieces(self, key: str, raw: Any) -> tuple[Piece, ...]:
        try:
            return parse(str(raw), compose=True)
        except InterpolationError as e:
            raise self._fail(key, str(e)) from None

    def note(self, text: str) -> None:
        self.out.notes.append(f"{self.svc.name}: {text}")

    def runtime(self, key: str, raw: Any) -> str:
        """A string kept for run time, in our dialect. A plain ${VAR} set nowhere becomes
        ${VAR:-} (empty), which is what docker compose substitutes."""
        pieces = self._pieces(key, raw)
        result = evaluate(pieces, self.lookup.get)
        if result.errors:
            raise self._fail(key, f"`{raw}`: {result.errors[0]} (set it, then run init again)")
        if result.missing:
            self.note(f"{key}: {', '.join(result.missing)} is set nowhere: empty, as compose does")
            pieces = tuple(empty_default(p, self.lookup) for p in pieces)
        return render(pieces)

    def typed(self, key: str, raw: Any) -> str | None:
        """A value resolved now (a duration, a count, a policy); None: reported, default kept."""
        if raw is None:
            return None
        result = evaluate(self._pieces(key, raw), self.lookup.get)
        if result.errors:
            raise self._fail(key, f"`{raw}`: {result.errors[0]} (set it, then run init again)")
        if result.missing:
            self.note(
                f"{key}: `{raw}` has no value here ({', '.join(result.missing)}): default kept"
            )
            return None
        return result.text

    def seconds(self, key: str, raw: Any) -> float | None:
        text = self.typed(key, raw)
        if text is None:
            return None
        value = duration(text)
        if value is None:
            self.note(f"{key}: `{text}` is not a duration: default kept")
        return value

    def ports(self) -> list[tuple[str | None, str | None]]:
        """(published, target) of each `ports` entry, its ${VARS} resolved now
        (`${KONG_HTTP_PORT}:8000/tcp`): where the others reach it."""
        if self._ports is not None:
            return self._ports
        out: list[tuple[str | None, str | None]] = []
        for port in self.svc.body.get("ports") or []:
            if isinstance(port, dict):
                port = {k: self.typed("ports", v) for k, v in port.items()}
            else:
                port = self.typed("ports", port) or ""
            out.append(port_pair(port))
        self._ports = out
        return out
