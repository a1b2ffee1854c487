import pytest

from tui_manager.core.states import IllegalTransition, State, check_transition


def test_transition_pending_to_starting_when_deps_met():
    check_transition(State.PENDING, State.STARTING)


def test_transition_ready_to_backoff_on_crash():
    check_transition(State.READY, State.BACKOFF)


def test_transition_stopped_to_ready_is_illegal():
    with pytest.raises(IllegalTransition):
        check_transition(State.STOPPED, State.READY)


def test_transition_stopping_only_to_stopped():
    for new in State:
        if new is State.STOPPED:
            check_transition(State.STOPPING, new)
        else:
            with pytest.raises(IllegalTransition):
                check_transition(State.STOPPING, new)
