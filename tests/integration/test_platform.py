"""The platform layer (tui_manager/platform): Linux's fast paths and the portable ones that a Mac
runs. Every test here runs in both modes of CI (the portable run sets AUTOGPT_DEV_PORTABLE=1 and
the strict shim); where a test needs a particular mode it starts its own `up` with that mode."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from tests.conftest import FIXTURES, PY, fx, pid_alive, wait_until, wait_until_sync
from tests.helpers import events, row, state, supervised
from tests.integration.test_cli import STACK, Up, cli
from tui_manager import platform
from tui_manager.platform import MARKER_VAR, exits, pstable

ROOT = Path(__file__).resolve().parents[2]
LINUX_WORDS = ("/proc", "prctl", "setpriv", "pidfd")


def linux_words_outside_the_layer(roots: list[Path]) -> list[str]:
    hits = []
    for root in roots:
        for f in sorted(root.rglob("*.py")):
            if "platform" in f.relative_to(ROOT).parts[:2]:
                continue
            text = f.read_text()
            hits += [f"{f.relative_to(ROOT)}: {w}" for w in LINUX_WORDS if w in text]
    return hits


def test_linux_only_calls_live_in_the_platform_layer_alone():
    assert linux_words_outside_the_layer([ROOT / "tui_manager", ROOT / "services"]) == []
    # The positive control: the layer itself has them, and the scan sees them there.
    layer = "\n".join(f.read_text() for f in (ROOT / "tui_manager/platform").glob("*.py"))
    assert all(w in layer for w in LINUX_WORDS)


def capabilities(env: dict[str, str]) -> dict[str, object]:
    code = (
        "import json; from tui_manager.platform import CAPS; "
        "print(json.dumps({**CAPS._asdict(), 'warm': CAPS.warm, 'max': CAPS.max_socket_path}))"
    )
    out = subprocess.run([PY, "-c", code], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_portable_mode_turns_every_linux_capability_off():
    env = {k: v for k, v in os.environ.items() if k != platform.PORTABLE_VAR}
    portable = capabilities({**env, platform.PORTABLE_VAR: "1"})
    assert portable["portable"] is True
    for cap in ("procfs", "pdeathsig", "subreaper", "pidfd", "pipe_size", "warm"):
        assert portable[cap] is False, cap
    assert portable["sun_path"] == 104 and portable["max"] == 103
    if sys.platform.startswith("linux"):  # the control: the same machine, native
        native = capabilities(env)
        assert native["procfs"] and native["pidfd"] and native["warm"] and native["max"] == 107


def test_native_windows_gets_one_line_and_exit_2():
    code = "import os; os.name = 'nt'; from tui_manager.cli import main; raise SystemExit(main())"
    out = subprocess.run([PY, "-c", code, "up"], capture_output=True, text=True)
    assert out.returncode == 2
    assert out.stderr == f"autogpt-dev: {platform.WINDOWS_MESSAGE}\n"
    assert "Traceback" not in out.stderr


@pytest.mark.linux_only
def test_the_psutil_table_agrees_with_procfs(tmp_path):
    from tui_manager.platform import procfs

    pidfile = tmp_path / "gc.pid"
    marker = f"test-{os.getpid()}:tree"
    proc = subprocess.Popen(
        [PY, str(FIXTURES / "grandchild_setsid.py"), pidfile],
        env={**os.environ, MARKER_VAR: marker},
        start_new_session=True,
    )
    try:
        wait_until_sync(pidfile.exists)
        grandchild = int(pidfile.read_text())
        for table in (procfs, pstable):
            assert sorted(table.marked_pids(marker)) == sorted([proc.pid, grandchild]), table
            assert table.marked_pids(marker.split(":")[0] + ":", prefix=True)
            assert table.pid_alive(proc.pid) and table.rss_bytes(proc.pid)
        assert sorted(procfs.descendants(os.getpid())) == sorted(pstable.descendants(os.getpid()))
    finally:
        for p in (proc.pid, int(pidfile.read_text()) if pidfile.exists() else None):
            if p:
                os.kill(p, signal.SIGKILL)
        proc.wait()


@pytest.mark.parametrize("backend", ["default", "thread"])
async def test_a_childs_exit_is_reported_with_its_code_or_signal(backend):
    async def exit_of(argv: list[str], then_kill: bool = False) -> int:
        proc = subprocess.Popen(argv)
        proc.returncode = 0  # reaped by the watcher, not by Popen
        done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        if backend == "thread":
            exits._watch_thread(asyncio.get_running_loop(), proc.pid, done.set_result)
        else:
            exits.watch(proc.pid, done.set_result)
        if then_kill:
            os.kill(proc.pid, signal.SIGKILL)
        return os.waitstatus_to_exitcode(await asyncio.wait_for(done, 10))

    assert await exit_of([PY, "-c", "raise SystemExit(7)"]) == 7
    assert await exit_of([PY, "-c", "import time; time.sleep(30)"], then_kill=True) == -9
    # A child that is gone before anyone watches it is still reported (no pidfd to open).
    assert await exit_of([PY, "-c", "pass"]) == 0


def test_a_port_taken_by_our_own_process_names_it_in_both_tables():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        assert pstable.port_listener(s.getsockname()[1]) == os.getpid()


def test_a_taken_port_whose_holder_is_hidden_never_reads_free(monkeypatch):
    from tui_manager.core import probes

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert probes.port_holder("127.0.0.1", port) == (
            f"in use by pid {os.getpid()} ({psutil.Process().name()})"
        )
        # What macOS answers a user who may not see the holder (another user's process).
        monkeypatch.setattr(pstable, "port_listener", lambda port: None)
        assert probes.port_holder("127.0.0.1", port) == "in use (holder not visible)"
    assert probes.port_holder("127.0.0.1", port) is None  # and free once it is closed


def test_kill_9_kills_a_grandchild_that_cleared_its_environment(write_config, tmp_path):
    # It carries no marker and is not a direct child: only its process group is left to find
    # it by, which the watchdog was told of.
    pidfile = tmp_path / "bare.pid"
    # ($$$$: the config interpolates as compose does, and $$ is a literal $)
    inner = f"echo $$$$ > {pidfile}.tmp && mv {pidfile}.tmp {pidfile} && exec sleep 300"
    path = write_config(
        STACK + f'[services.bare]\ncommand = ["sh", "-c", "env -i sh -c \'{inner}\' & wait"]\n'
    )
    up = Up(path.parent)
    try:
        up.wait_ready("fg", "bare")
        wait_until_sync(pidfile.exists)
        bare = int(pidfile.read_text())
        assert pid_alive(bare) and MARKER_VAR not in psutil.Process(bare).environ()
        up.proc.kill()
        up.finish()
        wait_until_sync(lambda: not pid_alive(bare), 2.0, "the bare grandchild gone")
    finally:
        if pidfile.exists() and pid_alive(int(pidfile.read_text())):
            os.kill(int(pidfile.read_text()), signal.SIGKILL)


async def test_anything_a_spawn_raises_fails_that_service_and_never_blocks_the_stop(write_config):
    # An embedded NUL cannot reach exec: Popen raises ValueError, not an OSError.
    path = write_config(f"""
        [services.bad]
        command = {fx("sleeper.py")}
        env = {{ BROKEN = "a\\u0000b" }}
        [services.fg]
        command = {fx("sleeper.py")}
    """)
    async with supervised(path) as sup:
        await wait_until(lambda: state(sup, "bad") == "failed", 5)
        assert row(sup, "bad").reason == "cannot start: ValueError: embedded null byte"
        await wait_until(lambda: state(sup, "fg") == "ready", 5)
        sup.request_shutdown("test")
        assert await asyncio.wait_for(sup.wait(), 10) == 0
    failed = [e for e in events(sup) if e["event"] == "failed"]
    assert failed[-1]["service"] == "bad" and "ValueError" in failed[-1]["reason"]


def test_one_ctrl_c_ends_a_stack_whose_spawn_raised(write_config):
    path = write_config(f"""
        [services.bad]
        command = {fx("sleeper.py")}
        env = {{ BROKEN = "a\\u0000b" }}
        [services.fg]
        command = {fx("sleeper.py", "fg")}
    """)
    up = Up(path.parent)
    up.wait_ready("fg")
    assert "bad failed: cannot start: ValueError" in up.output()
    status = json.loads(cli("status", "--json", cwd=path.parent).stdout)
    bad = next(s for s in status["services"] if s["name"] == "bad")
    assert bad["state"] == "failed" and "ValueError" in bad["reason"]
    fg = up.pids()["fg"]
    up.proc.send_signal(signal.SIGINT)
    assert up.finish(10) == 0
    assert not pid_alive(fg)


def test_in_portable_mode_a_warm_eligible_service_restarts_cold_saying_why(tmp_path, monkeypatch):
    (tmp_path / "app.py").write_text("import time\nprint('app v1', flush=True)\ntime.sleep(300)\n")
    (tmp_path / "autogpt-dev.toml").write_text(
        f'[services.app]\ncommand = ["{PY}", "-m", "app"]\nready = {{ log = "app v" }}\n'
    )
    monkeypatch.setenv(platform.PORTABLE_VAR, "1")
    up = Up(tmp_path, "--dev")
    try:
        up.wait_ready("app")
        wait_until_sync(lambda: "watching" in up.output(), 10, "the watcher armed")
        (tmp_path / "app.py").write_text(
            "import time\nprint('app v2', flush=True)\ntime.sleep(300)\n"
        )
        wait_until_sync(lambda: "app v2" in up.output(), 10, "the new code running")

        def reload() -> dict[str, object] | None:
            rows = [e for e in events_of(tmp_path) if e["event"] == "reload"]
            return rows[-1] if rows else None

        wait_until_sync(lambda: reload() is not None, 10, "the reload event")
        assert reload() == {**reload(), "kind": "cold", "why": "warm restarts need Linux"}  # type: ignore[dict-item]
    finally:
        up.proc.send_signal(signal.SIGTERM)
        assert up.finish() == 0


def events_of(root: Path) -> list[dict[str, object]]:
    path = root / ".autogpt-dev/logs/events.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_the_c_heap_is_measured_and_trimmed_under_glibc():
    """`memory` shows the C heap: a burst of big-ish buffers is in use, and once freed,
    trim_malloc gives its pages back (RSS falls). Elsewhere (portable mode, macOS) there is no
    figure, rather than a wrong one."""
    if platform.CAPS.portable:
        assert platform.malloc_stats() is None
        return
    me = psutil.Process()
    before = platform.malloc_stats()
    before_rss = me.memory_info().rss
    assert before is not None and before["in_use"] > 0
    # 80 MB written, from the heap, with a small block kept after every ninth: the holes that
    # freeing the burst leaves are fragments free() cannot return (a long run's heap)
    burst, keep = [], []
    for i in range(20_000):
        (keep if i % 10 == 9 else burst).append(bytearray(b"x") * (600 if i % 10 == 9 else 4400))
    during = platform.malloc_stats()
    assert during is not None and during["in_use"] > before["in_use"] + 70e6
    del burst
    held = me.memory_info().rss  # freed between blocks in use: glibc keeps the pages
    assert held > before_rss + 60e6
    platform.trim_malloc()
    after = platform.malloc_stats()
    assert after is not None and after["in_use"] < before["in_use"] + 10e6
    assert me.memory_info().rss < held - 60e6  # the pages went back to the system
    del keep


QUIET_AND_BUSY = """
import json, os, sys
from pathlib import Path
from tui_manager import platform
from tui_manager.core.logs import ServiceLog
from tui_manager.core.process import ChildProcess, _on_readable

platform.settle_malloc()  # as `up` does
how, out = sys.argv[1], Path(sys.argv[2])
quiet, busy = ServiceLog(out / "quiet.log", 10**9, 0), ServiceLog(out / "busy.log", 10**9, 0)
child = ChildProcess(0, "marker")
q, qw = os.pipe()
b, bw = os.pipe()
child._fds = {q: "stdout", b: "stdout"}


def drain(fd, log):
    if how == "os.read":  # what the reader did before: a 64 KiB read, shrunk to what came
        log.feed("stdout", os.read(fd, 65536))
    else:
        _on_readable(None, child, fd, log.feed)


for i in range(30_000):
    os.write(qw, b"%d a quiet service says one line now and then\\n" % i)
    drain(q, quiet)
    if i % 3 == 0:  # a busy one: blocks of a few KiB that its ring keeps a while
        os.write(bw, b"x" * (3000 + i * 7919 % 20000) + b"\\n")
        drain(b, busy)
    if i % 1000 == 0:
        platform.trim_malloc()  # as `up` does every minute
platform.trim_malloc()
print(json.dumps({"rings": len(quiet.ring) + len(busy.ring), **platform.malloc_stats()}))
"""


def test_a_quiet_services_lines_do_not_pin_the_heap(tmp_path):
    """A line kept in a ring for hours must not keep the 64 KiB it was read into: the soak's C
    heap grew 8 MB/h that way. The control: the same lines read the old way (os.read, 64 KiB
    shrunk to what came) leave megabytes of free chunks that nothing can reuse."""
    if platform.malloc_stats() is None:
        pytest.skip("the C heap is measured under glibc only (Linux, not portable mode)")

    def free_chunks(how: str) -> int:
        run = subprocess.run(
            [PY, "-c", QUIET_AND_BUSY, how, str(tmp_path)],
            capture_output=True, text=True, timeout=60, cwd=ROOT, check=True,
        )  # fmt: skip
        said = json.loads(run.stdout)
        assert said["rings"] > 5000  # both rings full: the lines are kept
        return int(said["free"])

    assert free_chunks("os.read") > 8 << 20  # the measure sees the fragmentation
    assert free_chunks("ours") < 2 << 20
