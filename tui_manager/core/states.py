"""Service states, the legal transitions between them, and how a process ended (stdlib only)."""

from __future__ import annotations

from enum import StrEnum

from ..base.fmt import exit_phrase


class State(StrEnum):
    PENDING = "pending"  # waiting for dependencies
    STARTING = "starting"  # spawned, not ready yet
    READY = "ready"
    UNHEALTHY = "unhealthy"
    STOPPING = "stopping"
    STOPPED = "stopped"  # stopped on request
    EXITED = "exited"  # ended with 0, not restarted
    BACKOFF = "backoff"  # waiting to restart
    FAILED = "failed"  # gave up
    CRASHED = "crashed"  # dev mode: ended before it was ever ready; waits for a change


RUNNING_STATES = frozenset({State.STARTING, State.READY, State.UNHEALTHY})
ALIVE_STATES = RUNNING_STATES | {State.STOPPING}
DONE_STATES = frozenset({State.STOPPED, State.EXITED, State.FAILED, State.CRASHED})

_S = State
LEGAL: dict[State, frozenset[State]] = {
    _S.PENDING: frozenset({_S.STARTING, _S.FAILED, _S.STOPPED}),
    _S.STARTING: frozenset({_S.READY, _S.STOPPING, _S.BACKOFF, _S.FAILED, _S.EXITED, _S.CRASHED}),
    _S.READY: frozenset({_S.UNHEALTHY, _S.STOPPING, _S.BACKOFF, _S.FAILED, _S.EXITED}),
    _S.UNHEALTHY: frozenset({_S.READY, _S.STOPPING, _S.BACKOFF, _S.FAILED, _S.EXITED}),
    _S.STOPPING: frozenset({_S.STOPPED}),
    _S.BACKOFF: frozenset({_S.STARTING, _S.PENDING, _S.STOPPED, _S.FAILED}),
    _S.STOPPED: frozenset({_S.PENDING}),
    _S.EXITED: frozenset({_S.PENDING, _S.STOPPED}),
    _S.FAILED: frozenset({_S.PENDING, _S.STOPPED}),
    _S.CRASHED: frozenset({_S.PENDING, _S.STOPPED}),
}


class IllegalTransition(RuntimeError):
    pass


def check_transition(old: State, new: State) -> None:
    if new not in LEGAL[old]:
        raise IllegalTransition(f"{old} -> {new}")


class ExitStatus:
    """How a process ended: an exit code, or the signal that killed it."""

    __slots__ = ("code", "signal")

    def __init__(self, code: int | None, signal: int | None) -> None:
        self.code = code
        self.signal = signal

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ExitStatus) and (self.code, self.signal) == (
            other.code,
            other.signal,
        )

    def __repr__(self) -> str:
        return f"ExitStatus(code={self.code}, signal={self.signal})"

    @property
    def as_exit_code(self) -> int:
        """Shell convention: 128 + signal for a killed process."""
        return self.code if self.code is not None else 128 + (self.signal or 0)

    @property
    def clean(self) -> bool:
        return self.code == 0 and self.signal is None

    def describe(self) -> str:
        return exit_phrase(self.code, self.signal)


class NotReady:
    """Why a service was stopped before it became ready (a typed reason, not a string prefix)."""

    __slots__ = ("probe", "timeout")

    def __init__(self, timeout: float, probe: str | None) -> None:
        self.timeout = timeout
        self.probe = probe

    def __str__(self) -> str:
        return f"not ready after {self.timeout:g}s ({self.probe or 'no answer'})"
