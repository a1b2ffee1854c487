"""The bounded, non-blocking writer behind headless output and the dashboard's terminal."""

import os
import select
import time

from tests.conftest import wait_until_sync
from tui_manager.output import BoundedWriter


def read_all(fd: int, until: bytes) -> bytes:
    out = b""
    while until not in out:
        out += os.read(fd, 1 << 16)
    return out


def test_a_stalled_reader_never_blocks_the_writer_and_is_told_what_was_dropped():
    r, w = os.pipe()
    resumed = []
    writer = BoundedWriter(w, bound=200_000, on_resumed=lambda: resumed.append(True))
    line = b"x" * 99 + b"\n"
    for _ in range(10_000):  # 1 MB into a pipe nobody reads (64 KiB) and a 200 KB bound
        writer.write(line)  # never blocks
    got = read_all(r, line * 2)  # the reader comes back...
    deadline = time.monotonic() + 10
    while b"after\n" not in got:  # ...the service goes on writing, and it flows again
        assert time.monotonic() < deadline
        writer.write(b"after\n")
        if select.select([r], [], [], 0.01)[0]:
            got += os.read(r, 1 << 16)
    assert b"dropped here (the log files have them)" in got and resumed
    kept = got.count(line)
    assert 1000 < kept < 10_000  # the bound, not everything, and not nothing
    writer.close()
    os.close(r)
    os.close(w)


def test_a_closed_reader_is_reported_once():
    r, w = os.pipe()
    closed = []
    writer = BoundedWriter(w, on_closed=lambda: closed.append(True))
    os.close(r)
    writer.write(b"to nobody\n")
    wait_until_sync(lambda: closed == [True], 5)
    writer.write(b"again\n")  # dropped quietly from now on
    writer.close()
    assert closed == [True] and writer.closed
    os.close(w)
