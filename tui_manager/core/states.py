"""Service states and the legal transitions between them (stdlib only)."""

from __future__ import annotations

from enum import StrEnum


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


RUNNING_STATES = frozenset({State.STARTING, State.READY, State.UNHEALTHY})
ALIVE_STATES = RUNNING_STATES | {State.STOPPING}
DONE_STATES = frozenset({State.STOPPED, State.EXITED, State.FAILED})

_S = State
LEGAL: dict[State, frozenset[State]] = {
    _S.PENDING: frozenset({_S.STARTING, _S.FAILED, _S.STOPPED}),
    _S.STARTING: frozenset({_S.READY, _S.STOPPING, _S.BACKOFF, _S.FAILED, _S.EXITED}),
    _S.READY: frozenset({_S.UNHEALTHY, _S.STOPPING, _S.BACKOFF, _S.FAILED, _S.EXITED}),
    _S.UNHEALTHY: frozenset({_S.READY, _S.STOPPING, _S.BACKOFF, _S.FAILED, _S.EXITED}),
    _S.STOPPING: frozenset({_S.STOPPED}),
    _S.BACKOFF: frozenset({_S.STARTING, _S.PENDING, _S.STOPPED, _S.FAILED}),
    _S.STOPPED: frozenset({_S.PENDING}),
    _S.EXITED: frozenset({_S.PENDING, _S.STOPPED}),
    _S.FAILED: frozenset({_S.PENDING, _S.STOPPED}),
}


class IllegalTransition(RuntimeError):
    pass


def check_transition(old: State, new: State) -> None:
    if new not in LEGAL[old]:
        raise IllegalTransition(f"{old} -> {new}")
