"""A stop that comes while a service's program is still starting. An AppProcess is stopped
with cleanup() run once, however early the SIGTERM comes: its bootstrap starts with SIGTERM
and SIGINT blocked, and unblocks them once its handlers are in place."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from tests.conftest import free_port, wait_until
from tests.helpers import Recorder, supervised
from tui_manager.api import build_config
from tui_manager.core.events import Lifecycle
from tui_manager.core.warm.bootstrap import Target

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.mark.parametrize("held", [False, True], ids=["plain", "with a held socket"])
async def test_a_sigterm_at_once_after_the_spawn_still_runs_cleanup(tmp_path, monkeypatch, held):
    # (with a held socket, bash moves it to fd 3 first: the signal stays blocked through it)
    import sys

    monkeypatch.syspath_prepend(str(FIXTURES))
    from apps.cleanup_app import Recorder as RecorderApp

    done = tmp_path / "cleanups"
    monkeypatch.setenv("CLEANUP_FILE", str(done))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(FIXTURES), *sys.path]))
    process = RecorderApp()
    if held:
        process.listen = [f"127.0.0.1:{free_port()}"]  # type: ignore[attr-defined]
    config = build_config([process], foreground=False)
    async with supervised(config, targets={"recorder": Target(process)}) as sup:
        seen = Recorder(sup)
        signalled: list[int] = []

        def at_spawn(msg: object) -> None:  # on the engine's loop, as the spawn returns
            if isinstance(msg, Lifecycle) and msg.event == "spawn" and msg.pid:
                os.kill(msg.pid, signal.SIGTERM)  # long before python has even started
                signalled.append(msg.pid)

        sup.bus.subscribe(at_spawn)
        await sup.restart_service("recorder")
        await wait_until(lambda: bool(seen.lifecycle("recorder", "exit")), 15, "its exit")
        exit_event = seen.lifecycle("recorder", "exit")[-1]
        assert signalled and exit_event.pid == signalled[0]
        # The control: it was the SIGTERM that ended it (before run() said anything)...
        assert "recorder up" not in "".join(ln.text for ln in sup.history("recorder", 50)[-2:])
        # ...and it ended as a stop does: cleanup() once, exit 0, not killed by the signal.
        assert (exit_event.extra["code"], exit_event.extra["signal"]) == (0, None)
        assert done.read_text() == f"cleanup {signalled[0]}\n"
