from pathlib import Path

from tui_manager.core.logs import LineAssembler, RotatingFile, ServiceLog, decode_lines


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
    lines = log.feed("stdout", data[:1234]) + log.feed("stdout", data[1234:])
    assert len(lines) == 1000
    assert [ln.text for ln in log.tail(3)] == ["997", "998", "999"]
    assert len(log.ring) == 10
    assert log.flush("stdout") == []
    log.feed("stderr", b"no newline")
    assert log.flush("stderr") == ["no newline"]
    log.close()
    assert (tmp_path / "a.log").read_bytes() == data + b"no newline"
