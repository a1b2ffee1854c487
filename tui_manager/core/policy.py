"""Decisions that need no process: is a dependency met, restart or give up, how long to back
off, which exit code `up` ends with. Pure functions; the Supervisor only applies them.
"""

from __future__ import annotations

from collections import deque
from enum import Enum
from typing import NamedTuple

from .states import ExitStatus, NotReady, State


class Wait(Enum):
    MET = "met"
    WAITING = "waiting"
    FAILED = "failed"


def dependency(condition: str, dep_state: State) -> tuple[Wait, str | None]:
    """Whether a dependency in `dep_state` satisfies `condition` (started/ready/completed)."""
    if dep_state == State.FAILED:
        return Wait.FAILED, "failed"
    if condition == "completed":
        return (Wait.MET, None) if dep_state == State.EXITED else (Wait.WAITING, None)
    if condition == "started":
        running = dep_state in (State.STARTING, State.READY, State.UNHEALTHY, State.EXITED)
        return (Wait.MET, None) if running else (Wait.WAITING, None)
    if dep_state == State.EXITED:
        return Wait.FAILED, "exited before it was ready"
    ready = dep_state in (State.READY, State.UNHEALTHY)
    return (Wait.MET, None) if ready else (Wait.WAITING, None)


class RestartRules(NamedTuple):
    policy: str  # no | on-failure | always
    backoff: float
    backoff_max: float
    max_restarts: int
    window: float


class Decision(NamedTuple):
    restart: bool
    state: State  # BACKOFF when restarting, else EXITED or FAILED
    reason: str
    delay: float = 0.0


WAITING_FOR_A_CHANGE = "waiting for a change"


def after_exit(
    rules: RestartRules,
    status: ExitStatus,
    crashes: deque[float],
    now: float,
    not_ready: NotReady | None = None,
    dev: bool = False,
    was_ready: bool = True,
) -> Decision:
    """What happens after the process ended. Records the crash in `crashes` when it counts.
    In dev mode a process that ended badly before it was ever ready waits for the fix: the
    same code would only crash the same way again (nodemon does the same)."""
    if dev and not was_ready and not status.clean:
        return Decision(False, State.CRASHED, WAITING_FOR_A_CHANGE)
    if not_ready is not None:
        return Decision(False, State.FAILED, str(not_ready))
    if rules.policy == "no" or (rules.policy == "on-failure" and status.code == 0):
        if status.code == 0:
            return Decision(False, State.EXITED, "exit 0")
        return Decision(False, State.FAILED, status.describe())
    crashes.append(now)
    while crashes and crashes[0] < now - rules.window:
        crashes.popleft()
    if len(crashes) > rules.max_restarts:
        why = f"{status.describe()}; crashed {len(crashes)} times in {rules.window:g}s"
        return Decision(False, State.FAILED, why)
    delay = min(rules.backoff * 2 ** (len(crashes) - 1), rules.backoff_max)
    return Decision(True, State.BACKOFF, f"{status.describe()}, restarting in {delay:g}s", delay)


def foreground_exit_code(status: ExitStatus | None, never_ready: bool) -> int:
    """`up`'s code when the foreground ends: its own code if it ran; 1 if it never started."""
    if status is None or never_ready:
        return 1
    return status.as_exit_code
