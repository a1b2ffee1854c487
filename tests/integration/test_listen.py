"""Manager-held listening sockets (`listen`, and known servers in dev mode): a restart or a
reload queues connections instead of refusing them. Every "none refused" has its control: the
same restart without a held socket refuses some."""

from __future__ import annotations

import json
import signal
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import PY, free_port, fx, pid_alive, wait_until_sync
from tests.integration.test_cli import Up, cli
from tui_manager.platform import CAPS


class Client:
    """Requests back to back (a new connection each, as a browser polling or a proxy does)."""

    def __init__(self, url: str) -> None:
        self.url, self.ok, self.failed = url, 0, []  # type: ignore[var-annotated]
        self.answers: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with urllib.request.urlopen(self.url, timeout=10) as r:
                    self.answers.append(r.read().decode())
                    self.ok += 1
            except OSError as e:
                self.failed.append(repr(e))

    @contextmanager
    def running(self) -> Iterator[Client]:
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join(15)


def stack(tmp_path: Path, port: int, extra: str = "", version: str = "1") -> Path:
    path = tmp_path / "autogpt-dev.toml"
    path.write_text(
        f"[services.web]\ncommand = {fx('listen_server.py')}\n"
        f'env = {{ PORT = "{port}", START_DELAY = "0.3", VERSION = "{version}" }}\n'
        f'ready = {{ log = "serving" }}\n{extra}'
        f"[services.fg]\ncommand = {fx('sleeper.py', 'fg')}\n"
    )
    return path


def restarts_while_requested(up: Up, cwd: Path, port: int, times: int = 3) -> Client:
    client = Client(f"http://127.0.0.1:{port}/")
    with client.running():
        wait_until_sync(lambda: client.ok > 5, 10, "requests answered")
        for _ in range(times):
            before = client.ok
            assert cli("restart", "web", cwd=cwd).returncode == 0
            wait_until_sync(lambda b=before: client.ok > b + 5, 10, "answered again")
    return client


@pytest.mark.parametrize("held", [True, False])
def test_a_restart_refuses_no_connection_when_the_manager_holds_the_socket(tmp_path, held):
    port = free_port()
    path = stack(tmp_path, port, f'listen = ["127.0.0.1:{port}"]\n' if held else "")
    up = Up(path.parent)
    try:
        up.wait_ready("web", "fg")
        client = restarts_while_requested(up, path.parent, port)
        if held:
            assert client.failed == [] and client.ok > 30
            assert "handed=True fds=[3" in up.output()  # the program found it at fd 3
        else:  # the control: the same restarts without it do refuse connections
            assert any("Connection refused" in f for f in client.failed), client.failed[:3]
            assert "handed=False" in up.output()
    finally:
        up.proc.send_signal(signal.SIGTERM)
        assert up.finish() == 0


def test_status_and_check_say_which_services_hold_a_socket(tmp_path):
    port = free_port()
    path = stack(tmp_path, port, f'listen = ["127.0.0.1:{port}"]\n')
    check = cli("check", cwd=tmp_path)
    assert f"sockets held by the manager (listen): web 127.0.0.1:{port}" in check.stdout
    up = Up(path.parent)
    try:
        up.wait_ready("web", "fg")
        status = cli("status", cwd=tmp_path).stdout
        assert f"sockets held by the manager: web 127.0.0.1:{port}" in status
        rows = json.loads(cli("status", "--json", cwd=tmp_path).stdout)["services"]
        assert {r["name"]: r["listen"] for r in rows} == {"web": [f"127.0.0.1:{port}"], "fg": []}
    finally:
        up.proc.send_signal(signal.SIGTERM)
        assert up.finish() == 0


def test_an_address_someone_else_holds_fails_the_service_naming_the_holder(tmp_path):
    import os
    import socket

    import psutil

    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        path = stack(tmp_path, port, f'listen = ["127.0.0.1:{port}"]\n')
        up = Up(path.parent)
        try:
            wait_until_sync(lambda: "web failed" in up.output(), 10)
            name = psutil.Process().name()
            assert (
                f"web failed: listen 127.0.0.1:{port}: port {port} is already in use by pid "
                f"{os.getpid()} ({name})" in up.output()
            )
        finally:
            up.proc.send_signal(signal.SIGTERM)
            assert up.finish() == 0


def test_overlap_starts_the_new_process_while_the_old_one_drains(tmp_path):
    port = free_port()
    extra = f'listen = ["127.0.0.1:{port}"]\noverlap = true\nstop_timeout = 2\n'
    path = stack(tmp_path, port, extra)
    up = Up(path.parent)
    try:
        up.wait_ready("web", "fg")
        client = restarts_while_requested(up, path.parent, port, times=2)
        assert client.failed == []
        events = tmp_path / ".autogpt-dev/logs/events.jsonl"

        def web() -> list[dict[str, object]]:
            rows = [json.loads(x) for x in events.read_text().splitlines()]
            return [r for r in rows if r["service"] == "web" and r["event"] in ("spawn", "exit")]

        try:
            wait_until_sync(lambda: sum(r["event"] == "exit" for r in web()) == 2, 10, "drained")
        except AssertionError as e:
            raise AssertionError(f"{e}: {web()}\n{up.output()}") from None
        seen = web()
        # The old ones finished their requests and exited; nothing was killed: the new one's
        # start is not swept up by an old one's stop (before: SIGKILLed at its stop_timeout).
        exits = [r for r in seen if r["event"] == "exit"]
        assert [(r["code"], r["signal"], r["requested"]) for r in exits] == [(0, None, True)] * 2
        spawns = [int(str(r["pid"])) for r in seen if r["event"] == "spawn"]
        assert len(spawns) == 3 and pid_alive(spawns[-1])  # the first and two restarts, no more
        # Each new process was spawned before the old one had exited: they overlapped.
        first_exit = next(i for i, r in enumerate(seen) if r["event"] == "exit")
        assert seen[first_exit - 1]["event"] == "spawn" and seen[first_exit - 2]["event"] == "spawn"
    finally:
        up.proc.send_signal(signal.SIGTERM)
        assert up.finish() == 0


UVICORN_APP = """
VERSION = {v}


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({{"type": "http.response.start", "status": 200, "headers": []}})
    await send({{"type": "http.response.body", "body": str(VERSION).encode()}})
"""


@pytest.mark.parametrize(
    "command",
    [
        "{py} -m uvicorn app:app --port {port}",
        "{py} -m gunicorn -b 127.0.0.1:{port} -k uvicorn.workers.UvicornWorker app:app",
    ],
    ids=["uvicorn", "gunicorn"],
)
def test_dev_mode_holds_a_known_servers_port_and_reloads_refuse_nothing(tmp_path, command):
    if "gunicorn" in command:
        pytest.importorskip("gunicorn")
    port = free_port()
    (tmp_path / "app.py").write_text(UVICORN_APP.format(v=0))
    (tmp_path / "autogpt-dev.toml").write_text(
        f'[services.app]\ncommand = "{command.format(py=PY, port=port)}"\n'
        f'ready = {{ http = "http://127.0.0.1:{port}/", interval = 0.02 }}\n'
    )
    up = Up(tmp_path, "--dev")
    try:
        up.wait_ready("app")
        wait_until_sync(lambda: "watching" in up.output(), 10)
        rows = json.loads(cli("status", "--json", cwd=tmp_path).stdout)["services"]
        assert rows[0]["listen"] == [f"127.0.0.1:{port}"]
        client = Client(f"http://127.0.0.1:{port}/")
        with client.running():
            for v in (1, 2, 3):
                (tmp_path / "app.py").write_text(UVICORN_APP.format(v=v))
                wait_until_sync(lambda v=v: client.answers[-1:] == [str(v)], 20, f"version {v}")
                time.sleep(0)  # (the next edit comes as soon as the new code answers)
        if CAPS.steering:
            assert client.failed == [] and client.ok > 20
        else:  # uvicorn and gunicorn close a connection they took as they stop (README)
            assert not any("refused" in f for f in client.failed) and client.ok > 20
    finally:
        up.proc.send_signal(signal.SIGTERM)
        assert up.finish() == 0
