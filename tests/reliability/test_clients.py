"""Control clients that misbehave must not slow anyone else down: a hundred at once, clients
that connect and never send (or send half a line), a subscriber that never reads."""

from __future__ import annotations

import socket
import statistics
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PY, fx
from tests.integration.test_cli import Up
from tui_manager.base import paths
from tui_manager.control import wire
from tui_manager.control.client import ControlClient

LOAD = """
import asyncio, sys, time

served = 0

async def client(path, until, n):
    global served
    first = True
    while time.monotonic() < until:
        reader, writer = await asyncio.open_unix_connection(path)
        writer.write(b'{"cmd": "status"}\\n')
        await reader.readline()
        writer.close()
        if first:
            first, served = False, served + 1
            if served == n:
                print("all running", flush=True)

async def main(path, n, seconds):
    until = time.monotonic() + seconds
    await asyncio.gather(*(client(path, until, n) for _ in range(n)))

asyncio.run(main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3])))
"""


@pytest.fixture
def stack(write_config) -> Iterator[Up]:
    path = write_config(f"[services.fg]\ncommand = {fx('sleeper.py', 'fg')}\n")
    up = Up(path.parent)
    try:
        up.wait_ready("fg")
        yield up
    finally:
        up.proc.terminate()
        assert up.finish(20) == 0


def status_latencies(root: Path, seconds: float) -> list[float]:
    client = ControlClient(root / ".autogpt-dev", timeout=5)
    out = []
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        t0 = time.monotonic()
        assert client.request(wire.Request("status"))["ok"]
        out.append(time.monotonic() - t0)
    return out


def test_a_hundred_busy_clients_and_silent_ones_do_not_delay_status(stack: Up):
    sock = str(paths.socket_path(stack.cwd / ".autogpt-dev"))
    silent = []
    for i in range(60):  # connect and never send; or send half a request and hang
        s = socket.socket(socket.AF_UNIX)
        s.connect(sock)
        if i % 2:
            s.sendall(b'{"cmd": "sta')
        silent.append(s)
    load = subprocess.Popen([PY, "-c", LOAD, sock, "100", "5"], stdout=subprocess.PIPE, text=True)
    try:
        assert load.stdout is not None and load.stdout.readline() == "all running\n"
        latencies = status_latencies(stack.cwd, 3.0)
    finally:
        assert load.wait(30) == 0  # the hundred clients were all served to the end
        if load.stdout:
            load.stdout.close()
        for s in silent:
            s.close()
    p50, worst = statistics.median(latencies), max(latencies)
    assert worst < 0.1, f"status p50 {p50 * 1000:.1f} ms, worst {worst * 1000:.1f} ms"
    assert len(latencies) > 20


def test_a_subscriber_that_never_reads_cannot_hurt_the_manager(write_config):
    path = write_config(f"""
[services.flood]
command = {fx("flood.py", 400000)}
[services.fg]
command = {fx("sleeper.py", "fg")}
""")
    up = Up(path.parent)
    stuck = socket.socket(socket.AF_UNIX)
    try:
        up.wait_ready("fg")
        stuck.connect(str(paths.socket_path(path.parent / ".autogpt-dev")))
        stuck.sendall(wire.encode(wire.Request("subscribe", logs=True).to_wire()))  # never read
        log = path.parent / ".autogpt-dev/logs/flood.log"
        until = time.monotonic() + 30
        while not (log.exists() and log.read_bytes().count(b"\n") == 400000):
            assert time.monotonic() < until, "the flood was not fully logged"
            time.sleep(0.05)
        latencies = status_latencies(path.parent, 1.0)
        assert max(latencies) < 0.1, f"{max(latencies) * 1000:.0f} ms"
        import psutil

        rss = psutil.Process(up.proc.pid).memory_info().rss
        assert rss < 150 * 2**20, f"the manager grew to {rss / 2**20:.0f} MB for a stuck client"
    finally:
        stuck.close()
        up.proc.terminate()
        assert up.finish(20) == 0
