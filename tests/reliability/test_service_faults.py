"""Services that stop answering (SIGSTOP, a debugger, a deadlock) and a disk that fills up."""

from __future__ import annotations

import os
import signal
import time

from tests.conftest import free_port, fx, wait_until
from tests.helpers import Recorder, row, state, supervised
from tui_manager.platform.proctable import process_state


async def test_a_stopped_service_still_stops_within_its_stop_timeout(write_config):
    path = write_config(f"""
[services.talker]
command = {fx("talk_on_term.py", 3)}
ready = {{ log = "waiting" }}
stop_timeout = 5
[services.fg]
command = {fx("sleeper.py")}
""")
    async with supervised(path) as sup:
        await wait_until(lambda: state(sup, "talker") == "ready")
        pid = row(sup, "talker").pid
        assert pid
        os.kill(pid, signal.SIGSTOP)  # ctrl+z in its own terminal, a debugger's break
        await wait_until(lambda: process_state(pid) == "T", 5, "it is stopped")
        t0 = time.monotonic()
        await sup.stop_service("talker")
        took = time.monotonic() - t0
        # SIGCONT after SIGTERM: it acted on SIGTERM at once (its goodbye lines, exit 0)
        # instead of being SIGKILLed once stop_timeout (5 s) ran out.
        assert took < 2, f"{took:.1f}s"
        assert row(sup, "talker").exit_code == 0 and row(sup, "talker").exit_signal is None
        assert sup.history("talker", 1)[0].text == "goodbye 2"


async def test_a_hung_service_fails_its_liveness_probe_and_is_restarted(write_config):
    port = free_port()
    path = write_config(f"""
[services.web]
command = {fx("ready_after.py", port, 0)}
ready = {{ http = "http://127.0.0.1:{port}/health", interval = 0.05 }}
health = {{ http = "http://127.0.0.1:{port}/health", interval = 0.1, timeout = 0.3, failures = 2 }}
stop_timeout = 1
[services.fg]
command = {fx("sleeper.py")}
""")
    async with supervised(path) as sup:
        await wait_until(lambda: state(sup, "web") == "ready", 10)
        seen = Recorder(sup)
        hung = row(sup, "web").pid
        assert hung
        os.kill(hung, signal.SIGSTOP)  # a deadlock: it holds the port and answers nothing
        await wait_until(lambda: row(sup, "web").pid not in (None, hung), 10, "a new process")
        await wait_until(lambda: state(sup, "web") == "ready", 10)
        unhealthy = seen.lifecycle("web", "unhealthy")
        assert unhealthy and "timed out after 0.3s" in unhealthy[0].extra["reason"]
        assert [m.extra["reason"] for m in seen.lifecycle("web", "restart")] == ["unhealthy"]


async def test_a_full_disk_is_reported_once_and_writing_resumes(write_config, tmp_path):
    path = write_config(f"""
[services.ticker]
command = {fx("ticker.py", 0.01)}
[services.fg]
command = {fx("sleeper.py")}
""")
    logs = tmp_path / ".autogpt-dev" / "logs"
    logs.mkdir(parents=True)
    (logs / "ticker.log").symlink_to("/dev/full")  # every write: ENOSPC
    async with supervised(path) as sup:
        await wait_until(lambda: len(sup.history("ticker", 50)) == 50, 10, "lines keep coming")
        await wait_until(lambda: row(sup, "ticker").log_error is not None, 5)
        assert row(sup, "ticker").log_error == "No space left on device"
        assert state(sup, "ticker") == "ready" and state(sup, "fg") == "ready"  # nothing stops
        errors = [e for e in sup.events_since(0) if e.event == "log_error"]
        assert len(errors) == 1  # reported once, however many lines fail
        # Space again: the next attempt opens the path anew and writing resumes.
        (logs / "ticker.log").unlink()
        await wait_until(lambda: row(sup, "ticker").log_error is None, 5, "writing resumes")
        resumed = [e for e in sup.events_since(0) if e.event == "log_resumed"]
        assert len(resumed) == 1 and resumed[0].extra["lost_bytes"] > 0
        await wait_until(lambda: (logs / "ticker.log").read_bytes().count(b"\n") > 10, 5)
        assert [e.event for e in sup.events_since(0) if e.event == "log_error"] == ["log_error"]
