"""The restart, backoff and dependency decisions, with no process anywhere."""

from collections import deque

import pytest

from tui_manager.core import policy
from tui_manager.core.policy import Decision, RestartRules, Wait
from tui_manager.core.states import ExitStatus, NotReady, State

RULES = RestartRules("on-failure", backoff=0.5, backoff_max=4, max_restarts=3, window=60)


@pytest.mark.parametrize(
    "condition,state,verdict",
    [
        ("started", State.PENDING, Wait.WAITING),
        ("started", State.STARTING, Wait.MET),
        ("started", State.EXITED, Wait.MET),
        ("ready", State.STARTING, Wait.WAITING),
        ("ready", State.READY, Wait.MET),
        ("ready", State.UNHEALTHY, Wait.MET),
        ("ready", State.EXITED, Wait.FAILED),
        ("completed", State.READY, Wait.WAITING),
        ("completed", State.EXITED, Wait.MET),
        ("started", State.FAILED, Wait.FAILED),
        ("completed", State.FAILED, Wait.FAILED),
    ],
)
def test_dependency_conditions(condition, state, verdict):
    assert policy.dependency(condition, state)[0] == verdict


def test_a_dependency_that_exits_before_ready_says_so():
    assert policy.dependency("ready", State.EXITED) == (Wait.FAILED, "exited before it was ready")


def test_on_failure_exit_zero_is_exited():
    d = policy.after_exit(RULES, ExitStatus(0, None), deque(), 100.0)
    assert d == Decision(False, State.EXITED, "exit 0")


def test_on_failure_crash_restarts_with_doubling_backoff_up_to_the_max():
    crashes: deque[float] = deque()
    delays = []
    for t in range(3):
        d = policy.after_exit(RULES, ExitStatus(1, None), crashes, 100.0 + t)
        assert d.restart and d.state == State.BACKOFF
        delays.append(d.delay)
    assert delays == [0.5, 1.0, 2.0]
    rules = RestartRules("always", 0.5, 1.5, max_restarts=10, window=60)
    d = policy.after_exit(rules, ExitStatus(0, None), deque([1.0, 2.0, 3.0]), 4.0)
    assert d.restart and d.delay == 1.5  # capped by backoff_max


def test_more_crashes_than_max_restarts_in_the_window_fails():
    crashes = deque([97.0, 98.0, 99.0])
    d = policy.after_exit(RULES, ExitStatus(None, 9), crashes, 100.0)
    assert not d.restart and d.state == State.FAILED
    assert d.reason == "killed by SIGKILL; crashed 4 times in 60s"


def test_old_crashes_leave_the_window():
    crashes = deque([1.0, 2.0, 3.0])  # long ago
    d = policy.after_exit(RULES, ExitStatus(1, None), crashes, 1000.0)
    assert d.restart and list(crashes) == [1000.0] and d.delay == 0.5


def test_policy_no_and_always():
    no = RestartRules("no", 0.5, 4, 3, 60)
    assert policy.after_exit(no, ExitStatus(2, None), deque(), 1.0).state == State.FAILED
    assert policy.after_exit(no, ExitStatus(0, None), deque(), 1.0).state == State.EXITED
    always = RestartRules("always", 0.5, 4, 3, 60)
    assert policy.after_exit(always, ExitStatus(0, None), deque(), 1.0).restart


def test_not_ready_is_a_failure_whatever_the_policy():
    always = RestartRules("always", 0.5, 4, 3, 60)
    d = policy.after_exit(always, ExitStatus(None, 15), deque(), 1.0, NotReady(2, "http 503"))
    assert d == Decision(False, State.FAILED, "not ready after 2s (http 503)")


def test_foreground_exit_code():
    assert policy.foreground_exit_code(ExitStatus(7, None), never_ready=False) == 7
    assert policy.foreground_exit_code(ExitStatus(None, 9), never_ready=False) == 137
    assert policy.foreground_exit_code(None, never_ready=False) == 1
    assert policy.foreground_exit_code(ExitStatus(0, None), never_ready=True) == 1
