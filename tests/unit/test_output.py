"""The writer behind headless output and the dashboard's terminal: every line for a reader
that keeps reading (however far behind), a marker for one that stopped, never a blocked engine."""

from __future__ import annotations

import os
import select
import threading
import time

from tests.conftest import wait_until_sync
from tui_manager.output import BoundedWriter, Spool, never_gives_up

LINE = b"x" * 99 + b"\n"


def read_until(fd: int, until: bytes, timeout: float = 10) -> bytes:
    out = b""
    deadline = time.monotonic() + timeout
    while until not in out:
        assert time.monotonic() < deadline, out[-200:]
        if select.select([fd], [], [], 0.05)[0]:
            out += os.read(fd, 1 << 16)
    return out


def test_a_slow_but_steady_reader_gets_every_line_past_the_memory_bound(tmp_path):
    r, w = os.pipe()
    writer = BoundedWriter(w, bound=100_000, stall=2.0)
    for i in range(50_000):  # 5 MB: fifty times the bound, spooled to disk in order
        writer.write(b"%08d" % i + LINE[8:])
    got = bytearray()

    def slow_reader() -> None:  # 64 KiB every 4 ms: behind all the time, never stopped
        while len(got) < 50_000 * len(LINE):
            got.extend(os.read(r, 1 << 16))
            time.sleep(0.004)

    reader = threading.Thread(target=slow_reader)
    reader.start()
    reader.join(30)
    assert [int(x[:8]) for x in bytes(got).splitlines()] == list(range(50_000))
    writer.close()
    os.close(r)
    os.close(w)


def test_a_stopped_reader_loses_lines_with_one_marker_and_never_blocks_the_writer():
    r, w = os.pipe()
    resumed = []
    writer = BoundedWriter(w, bound=100_000, stall=0.3, on_resumed=lambda: resumed.append(1))
    t0 = time.monotonic()
    for _ in range(10_000):  # 1 MB into a pipe nobody reads
        writer.write(LINE)
    assert time.monotonic() - t0 < 1  # the engine's side never waits for the reader
    wait_until_sync(lambda: writer._stalled(), 5, "the reader given up on")
    writer.write(LINE)  # (dropped: it came while the reader was stopped)
    got = read_until(r, LINE * 2)  # the reader comes back...
    deadline = time.monotonic() + 10
    while b"after\n" not in got:  # ...the service goes on writing, and it flows again
        assert time.monotonic() < deadline
        writer.write(b"after\n")
        if select.select([r], [], [], 0.01)[0]:
            got += os.read(r, 1 << 16)
    assert got.count(b"skipped here while the reader was stopped (the log files have them)") == 1
    assert resumed == [1]
    before_marker = got[: got.index(b"\xe2\x80\xa6")]  # "…": every line before it is whole
    assert before_marker.endswith(b"\n") and all(ln == LINE[:-1] for ln in before_marker.split())
    writer.close()
    os.close(r)
    os.close(w)


def test_a_file_is_never_given_up_on(tmp_path):
    path = tmp_path / "out.txt"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT)
    assert never_gives_up(fd)
    null = os.open(os.devnull, os.O_WRONLY)
    r, w = os.pipe()
    assert never_gives_up(null) and not never_gives_up(w)
    writer = BoundedWriter(fd, bound=10_000, stall=0.0)  # (a pipe would be stalled at once)
    for _ in range(20_000):
        writer.write(LINE)
    writer.close(timeout=10)
    assert path.read_bytes() == LINE * 20_000
    for f in (fd, null, r, w):
        os.close(f)


def test_dashboard_frames_past_the_bound_are_dropped_at_once_without_a_marker():
    r, w = os.pipe()
    resumed = []
    writer = BoundedWriter(w, bound=100_000, frames=True, on_resumed=lambda: resumed.append(1))
    for _ in range(10_000):
        writer.write(LINE)
    got = read_until(r, LINE)
    writer.write(b"frame\n")
    got += read_until(r, b"frame\n")
    assert b"skipped" not in got and resumed  # (a repaint follows, no words about it)
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


def test_the_spool_keeps_order_and_its_line_count_through_memory_and_disk():
    """Blocks past the memory bound go to the spool file and come back whole, in order; the
    count of waiting lines (the drop marker's number) stays exact without recounting."""
    spool = Spool(bound=1000)
    blocks = [b"a\n" * 200, b"b\n" * 300, b"c" * (3 << 20) + b"\n", b"d\n" * 5, b"tail"]
    for block in blocks:
        spool.append(block)
    assert spool.file is not None  # the bound was passed: the rest is on disk
    assert (spool.lines, spool.size) == (506, sum(map(len, blocks)))
    out = b""
    while spool.size:
        before = spool.lines
        piece = spool.take()
        out += piece
        assert spool.lines == before - piece.count(b"\n")
    assert out == b"".join(blocks)
    assert spool.file is None and spool.lines == 0  # emptied: the file is gone
    spool.append(b"x\n" * 600)
    spool.append(b"y\n" * 700)
    assert spool.clear() == (1300, 2600)
    assert spool.size == 0 and spool.take() == b""
