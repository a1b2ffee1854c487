"""Headless output is complete for any reader that keeps reading: 1M lines (`seq`) to a file,
and through a pipe to a slow but steady reader, every line, run after run; only a stopped
reader loses lines, with one marker, while the engine goes on answering."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import PY, wait_until_sync
from tui_manager.control import wire
from tui_manager.control.client import ControlClient

SEQ = '[services.seq]\ncommand = ["seq", "1", "1000000"]\n'
SLOW_READER = """
import os, sys, time
with open(sys.argv[1], "wb") as out:
    while chunk := os.read(0, 65536):  # 64 KiB every 4 ms: about 16 MB/s, never stopped
        out.write(chunk)
        time.sleep(0.004)
"""


def numbers(text: bytes, name: str = "seq") -> list[int]:
    """The service's lines of `HH:MM:SS name   | line` output, as numbers."""
    line = re.compile(rb"^\d\d:\d\d:\d\d " + name.encode() + rb" +\| (\d+)$", re.M)
    return [int(m) for m in line.findall(text)]


@pytest.mark.parametrize(("fmt", "run"), [("text", 0), ("text", 1), ("text", 2), ("json", 0)])
def test_a_million_lines_to_a_file_are_all_there(tmp_path, fmt, run):
    (tmp_path / "autogpt-dev.toml").write_text(SEQ)
    out = tmp_path / "out.txt"
    with out.open("wb") as f:
        done = subprocess.run(
            [PY, "-m", "tui_manager", "up", "--headless", "--log-format", fmt],
            cwd=tmp_path,
            stdout=f,
            timeout=120,
        )
    assert done.returncode == 0
    data = out.read_bytes()
    if fmt == "json":
        got = [int(r["line"]) for r in map(json.loads, data.splitlines()) if r["service"] == "seq"]
    else:
        got = numbers(data)
    assert got == list(range(1, 1_000_001)) and b"skipped here" not in data


@pytest.mark.parametrize("run", range(3))
def test_a_million_lines_through_a_slow_steady_pipe_are_all_there(tmp_path, run):
    (tmp_path / "autogpt-dev.toml").write_text(SEQ)
    out = tmp_path / "out.txt"
    reader = subprocess.Popen([sys.executable, "-c", SLOW_READER, str(out)], stdin=subprocess.PIPE)
    assert reader.stdin is not None
    try:
        up = subprocess.run(
            [PY, "-m", "tui_manager", "up", "--headless"],
            cwd=tmp_path,
            stdout=reader.stdin,
            timeout=120,
        )
    finally:
        reader.stdin.close()
        reader.wait(60)
    assert up.returncode == 0
    assert numbers(out.read_bytes()) == list(range(1, 1_000_001))


def test_a_stopped_reader_gets_a_marker_while_status_stays_quick(tmp_path):
    (tmp_path / "autogpt-dev.toml").write_text(
        "[manager]\nlog_max_bytes = 100_000_000\n"  # (one file: its size says when it is done)
        '[services.flood]\ncommand = ["sh", "-c", "seq 1 2000000; exec sleep 300"]\n'
        f'[services.fg]\ncommand = ["{PY}", "-c", "import time; time.sleep(300)"]\n'
    )
    out = tmp_path / "out.txt"
    with out.open("wb") as f:
        reader = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=f)
    assert reader.stdin is not None
    up = subprocess.Popen(
        [PY, "-m", "tui_manager", "up", "--headless"], cwd=tmp_path, stdout=reader.stdin
    )
    try:
        wait_until_sync(lambda: (tmp_path / ".autogpt-dev/control.sock").exists(), 15)
        reader.send_signal(signal.SIGSTOP)  # a paused pager: it reads nothing from now on
        log = tmp_path / ".autogpt-dev/logs/flood.log"
        wait_until_sync(lambda: log.exists() and log.stat().st_size > 14_000_000, 30, "flooded")
        client = ControlClient(tmp_path / ".autogpt-dev", timeout=5)
        for _ in range(30):  # over 3 s: past the 2 s after which the reader is given up on
            t0 = time.monotonic()
            client.request(wire.Request("status"))
            assert time.monotonic() - t0 < 0.2
            time.sleep(0.1)
        reader.send_signal(signal.SIGCONT)
        client.request(wire.Request("restart", services=("fg",)))  # new output after it
        wait_until_sync(lambda: b"skipped here" in out.read_bytes(), 15, "the marker")
        text = out.read_bytes()
        assert text.count(b"skipped here while the reader was stopped") == 1
        assert log.read_bytes().count(b"\n") == 2_000_000  # the log file has every line
    finally:
        up.send_signal(signal.SIGTERM)
        assert up.wait(30) == 0
        reader.send_signal(signal.SIGCONT)
        reader.stdin.close()
        reader.wait(15)
    assert os.path.getsize(out) > 0
