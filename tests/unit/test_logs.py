from pathlib import Path

from tui_manager.core.events import LogLines
from tui_manager.core.logs import (
    BlockRing,
    LineAssembler,
    RotatingFile,
    ServiceLog,
    decode_lines,
    tail_block,
)


def test_assembler_keeps_partial_lines_across_chunks():
    asm = LineAssembler()
    assert asm.feed(b"hel") == b""
    assert asm.feed(b"lo\nwor") == b"hello\n"
    assert asm.feed(b"ld\n") == b"world\n"
    assert asm.flush() == b""


def test_assembler_huge_line_in_many_chunks():
    asm = LineAssembler()
    for _ in range(1000):
        assert asm.feed(b"x" * 10_000) == b""
    assert asm.feed(b"\n") == b"x" * 10_000_000 + b"\n"


def test_decode_replaces_invalid_utf8_and_cuts_long_lines():
    lines = decode_lines(b"ok\n\xff\xfe\n" + b"y" * 20_000 + b"\n")
    assert lines[0] == "ok"
    assert lines[1] == "\ufffd\ufffd"
    assert lines[2].startswith("y" * 100) and lines[2].endswith("more]")


def test_rotation_keeps_every_byte(tmp_path: Path):
    f = RotatingFile(tmp_path / "s.log", max_bytes=1000, backups=50)
    data = b"".join(b"line %d\n" % i for i in range(2000))
    for i in range(0, len(data), 333):
        f.write(data[i : i + 333])
    f.close()
    files = sorted(tmp_path.glob("s.log.*"), key=lambda p: -int(p.suffix[1:]))
    joined = b"".join(p.read_bytes() for p in [*files, tmp_path / "s.log"])
    assert joined == data
    assert all(p.stat().st_size <= 1000 for p in files)


def test_a_block_bigger_than_the_limit_is_cut_at_line_ends_across_files(tmp_path: Path):
    f = RotatingFile(tmp_path / "s.log", max_bytes=100, backups=50)
    data = b"".join(b"%09d\n" % i for i in range(50)) + b"x" * 150 + b"\ntail\n"
    f.write(data)  # one read block of 656 bytes, as a 256 KiB pipe hands them over
    f.close()
    files = sorted(tmp_path.glob("s.log.*"), key=lambda p: -int(p.suffix[1:]))
    parts = [p.read_bytes() for p in [*files, tmp_path / "s.log"]]
    assert b"".join(parts) == data
    assert all(p.endswith(b"\n") for p in parts)  # no line split across two files
    assert [len(p) for p in parts] == [100] * 5 + [151, 5]  # only the long line is over


def test_rotation_drops_oldest_beyond_backups(tmp_path: Path):
    f = RotatingFile(tmp_path / "s.log", max_bytes=100, backups=2)
    for i in range(10):
        f.write(b"%02d" % i + b"x" * 60 + b"\n")
    f.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.log", "s.log.1", "s.log.2"]
    assert (tmp_path / "s.log").read_bytes().startswith(b"09")


def test_service_log_ring_is_bounded_and_file_is_exact(tmp_path: Path):
    log = ServiceLog(tmp_path / "a.log", 10**9, 1, ring=10)
    data = b"".join(b"%d\n" % i for i in range(1000))
    block = log.feed("stdout", data[:1234]) + log.feed("stdout", data[1234:])
    assert block == data and log.total_lines == 1000
    assert [ln.text for ln in log.tail(3)] == ["997", "998", "999"]
    assert len(log.ring) == 10
    assert log.flush("stdout") == b""
    log.feed("stderr", b"no newline")
    assert log.flush("stderr") == b"no newline\n"
    assert log.tail(1)[0].text == "no newline"
    log.close()
    assert (tmp_path / "a.log").read_bytes() == data + b"no newline"


def test_tail_block_and_lazy_tail_decode_only_what_is_asked():
    block = b"".join(b"%d\n" % i for i in range(100))
    assert tail_block(block, 2) == b"98\n99\n"
    assert tail_block(block, 500) == block
    msg = LogLines("s", "stdout", block)
    assert msg.tail(3) == ["97", "98", "99"]
    assert not msg.decoded  # the tail did not decode the whole block
    assert len(msg.lines) == 100 and msg.decoded


def test_block_ring_keeps_the_last_lines_across_blocks():
    from tui_manager.core.logs import BlockRing

    ring = BlockRing(5)
    ring.add(1.0, "stdout", b"a\nb\n")
    ring.add(2.0, "stderr", b"c\n")
    ring.add(3.0, "stdout", b"d\ne\nf\n")
    assert [(ln.text, ln.stream) for ln in ring.tail(4)] == [
        ("c", "stderr"),
        ("d", "stdout"),
        ("e", "stdout"),
        ("f", "stdout"),
    ]
    assert len(ring) == 5
    for i in range(100):
        ring.add(4.0, "stdout", b"x%d\n" % i)
    assert len(ring.blocks) <= 6 and [ln.text for ln in ring.tail(2)] == ["x98", "x99"]


class _Enough(Exception):
    pass


class _Collect:
    """An output that stops follow() once it has what the test waits for."""

    def __init__(self, want: bytes) -> None:
        self.data = b""
        self.want = want

    def write(self, b: bytes) -> int:
        self.data += b
        if self.want in self.data:
            raise _Enough
        return len(b)

    def flush(self) -> None:
        pass


def test_logs_n_then_follow_loses_and_repeats_nothing_written_in_between(tmp_path: Path):
    import pytest

    from tui_manager.base.tail import follow, tail_with_position

    log = tmp_path / "svc.log"
    log.write_bytes(b"0\n1\n2\n")
    data, position = tail_with_position(log, 1)
    assert data == b"2\n"
    with log.open("ab") as f:  # written after the tail, before follow opened the file
        f.write(b"3\n4\n")
    out = _Collect(b"4\n")
    with pytest.raises(_Enough):
        follow(log, out, start=position)  # type: ignore[arg-type]
    assert out.data == b"3\n4\n"


def test_the_ring_is_bounded_in_bytes_as_well_as_lines():
    from tui_manager.core.logs import BlockRing

    ring = BlockRing(5000, max_bytes=64 * 1024)
    long = b"x" * 1023 + b"\n"
    for _ in range(1000):  # 1000 lines of 1 KiB: under the line bound, over the byte bound
        ring.add(0.0, "stdout", long)
    assert ring.bytes < 64 * 1024 + len(long) and ring.lines == ring.bytes // 1024
    assert ring.tail(10) and len(ring.tail(5000)) == ring.lines  # the newest ones kept
    big = b"y" * (1 << 20) + b"\n"  # one block bigger than the bound is kept, alone
    ring.add(0.0, "stdout", big)
    assert ring.blocks[-1][2] == big and len(ring.blocks) == 1


def test_a_rings_footprint_grows_until_the_ring_is_full_and_then_stays():
    """A quiet service's ring: one line per block, so the Python objects cost more than the
    bytes; once max_lines is reached the footprint is flat (what `memory` reports)."""
    ring = BlockRing(max_lines=1000)
    sizes = []
    for i in range(3000):
        ring.add(float(i), "stdout", b"INFO notification_manager sent %05d\n" % i)
        if i % 500 == 499:
            sizes.append(ring.footprint())
    assert sizes[0] < sizes[1] and ring.bytes < sizes[1]  # filling; objects above payload
    assert max(sizes[1:]) - min(sizes[1:]) <= 1024  # full: flat (a deque block aside)
    assert len(ring) == 1000
