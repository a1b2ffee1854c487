"""One child process: spawn in its own session, read its pipes, reap it by pid, kill its tree.

Lessons applied (ARCHITECTURE.md): the child is reaped by pid (platform/exits.py), never by
waiting for its pipes to close (a setsid grandchild may hold them open forever); pipes are read
off the event loop's selector into one reused buffer, up to 1 MiB per wake-up; the whole tree
is found three ways (process group, descendants in the process table, the run-marker
environment variable) so nothing that double-forked survives a stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import itertools
import mmap
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import NamedTuple

from .. import platform
from ..platform import MARKER_VAR, exits
from ..platform.proctable import descendants, marked_pids, pid_alive
from .states import ExitStatus

DRAIN_MAX = 1 << 20  # the most one wake-up takes from one pipe (one read into _ReadBuffer)
LISTEN_FDS_START = 3  # systemd's SD_LISTEN_FDS_START: where held sockets are handed over
# A bigger stdout pipe (where the system allows one) lets a flooding child run ahead of our reads
# instead of blocking every 64 KiB (1M lines through `up --headless`: 0.24 s -> 0.18 s). All
# enlarged pipes together stay within a quarter of Linux's default per-user budget (64 MiB),
# past which every new pipe of the user, ours or not, would shrink to two pages.
PIPE_SIZE = 256 << 10
PIPE_BUDGET = 16 << 20
_enlarged: set[int] = set()

OutputCallback = Callable[[str, bytes | None], None]  # (stream, data); None = end of stream


class SpawnError(Exception):
    """A spawn that failed for a reason the user can fix (command not found, ...)."""


class SpawnSpec(NamedTuple):
    argv: list[str]  # exec this (an AppProcess: the bootstrap, see bootstrap.py)
    cwd: str
    env: dict[str, str]
    marker: str  # the service's: "<run id>:<service>" (each start's adds a number: start_marker)
    tty: bool = False
    blocked: frozenset[int] = frozenset()  # signals the program starts with blocked
    listen: tuple[int, ...] = ()  # the manager's held sockets: the program's fds 3, 4, ...


def _decode_status(status: int) -> ExitStatus:
    if os.WIFSIGNALED(status):
        return ExitStatus(None, os.WTERMSIG(status))
    return ExitStatus(os.WEXITSTATUS(status), None)


class ChildProcess:
    def __init__(self, pid: int, marker: str, command: list[str] | None = None) -> None:
        self.pid = pid
        self.marker = marker
        self.command = command or []
        self.started_at = time.time()
        self.status: ExitStatus | None = None
        self._exited: asyncio.Future[ExitStatus] | None = None
        self._fds: dict[int, str] = {}
        self._drained = asyncio.Event()
        self.on_released: Callable[[], None] | None = None  # its group is empty (the watchdog)

    @property
    def running(self) -> bool:
        return self.status is None

    async def wait(self) -> ExitStatus:
        assert self._exited is not None
        return await asyncio.shield(self._exited)

    async def drained(self, timeout: float) -> bool:
        """Until every output stream hit EOF (all lines delivered), or timeout."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._drained.wait(), timeout)
        return self._drained.is_set()

    def tree(self) -> set[int]:
        """Every live process of this child's tree: descendants plus marked ones."""
        pids = set(marked_pids(self.marker))
        if self.status is None:
            pids.add(self.pid)
            pids.update(descendants(self.pid))
        pids.discard(os.getpid())
        return {p for p in pids if pid_alive(p)}

    def signal_tree(self, sig: int) -> set[int]:
        """Signal every process of the tree exactly once (a second SIGINT/SIGTERM means "force
        quit" to many servers): the group with killpg, the ones that left it one by one."""
        pids = self.tree()
        group: set[int] = set()
        if self.status is None:
            with contextlib.suppress(OSError):
                os.killpg(self.pid, sig)  # own session: pgid == pid
                group = {p for p in pids if _pgid(p) == self.pid}
        for p in pids - group:
            with contextlib.suppress(OSError):
                os.kill(p, sig)
        return pids

    async def stop(self, sig: int, timeout: float) -> ExitStatus:
        """sig to the whole tree; SIGKILL to whatever is left after `timeout`."""
        self.signal_tree(sig)
        # A stopped process (SIGSTOP, a debugger, ctrl+z in its own tty) acts on the signal only
        # once it runs again: continue it, as systemd does after its stop signal.
        if sig not in (signal.SIGKILL, signal.SIGCONT):
            self.signal_tree(signal.SIGCONT)
        deadline = time.monotonic() + timeout
        if self.status is None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wait(), timeout)
        # The main process is gone (or timed out); its tree may still be alive.
        while time.monotonic() < deadline and self.tree():
            await asyncio.sleep(0.05)
        await self.kill()
        status = await self.wait()
        self.release()
        return status

    async def kill(self) -> None:
        """SIGKILL the tree until nothing marked is left (catches forks racing the kill)."""
        for _ in range(20):
            if not self.signal_tree(signal.SIGKILL) and self.status is not None:
                return
            await asyncio.sleep(0.02)
            if self.status is None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wait(), 0.5)

    def kill_now(self) -> None:
        """Synchronous SIGKILL of the tree (second Ctrl+C, interpreter exit)."""
        for _ in range(3):
            if not self.signal_tree(signal.SIGKILL):
                break

    def release(self) -> None:
        """The process has exited and its tree is gone: tell whoever tracks its group, once."""
        hook, self.on_released = self.on_released, None
        if hook is not None and self.status is not None:
            hook()


def _pgid(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except OSError:
        return None


def resolve(argv0: str, cwd: str, env: dict[str, str]) -> str:
    """The program `argv0` will run, as execvp finds it; SpawnError with a clear reason."""
    if "/" in argv0:
        path = os.path.join(cwd, argv0)
        if not os.path.exists(path):
            raise SpawnError(f"command not found: {argv0}")
        if not os.access(path, os.X_OK) or os.path.isdir(path):
            raise SpawnError(f"permission denied: {argv0}")
        return path
    found = shutil.which(argv0, path=env.get("PATH", os.defpath))
    if found is None:
        raise SpawnError(f"command not found: {argv0}")
    return found


def make_pipes(tty: bool = False) -> tuple[int, int, int, int]:
    """(out_r, out_w, err_r, err_w) for a child; a tty child has one pty for both (err_r -1)."""
    if tty:
        import pty  # only for tty = true services

        out_r, out_w = pty.openpty()
        return out_r, out_w, -1, out_w
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    if (len(_enlarged) + 1) * PIPE_SIZE <= PIPE_BUDGET and platform.enlarge_pipe(out_r, PIPE_SIZE):
        _enlarged.add(out_r)
    return out_r, out_w, err_r, err_w


async def spawn(spec: SpawnSpec, on_output: OutputCallback) -> ChildProcess:
    """Start the child; output goes to on_output from the running loop. Raises SpawnError."""
    env = dict(spec.env)
    env[MARKER_VAR] = marker = start_marker(spec.marker)
    if not os.path.isdir(spec.cwd):
        raise SpawnError(f"not a directory: {spec.cwd}")
    resolve(spec.argv[0], spec.cwd, env)
    # No Python code runs between fork and exec (the manager has threads): the parent-death
    # signal, where there is one, is set by a tool that then execs the command; the held
    # sockets are moved to fds 3, 4, ... by another (sockets.exec_prefix).
    passed = high_copies(spec.listen) if spec.listen else []
    held = exec_prefix(passed) if passed else []
    argv = [*platform.spawn_prefix(), *held, *spec.argv]
    try:
        return _spawn(spec, argv, env, passed, on_output, marker)
    finally:
        for fd in passed:
            os.close(fd)


def _spawn(
    spec: SpawnSpec,
    argv: list[str],
    env: dict[str, str],
    passed: list[int],
    on_output: OutputCallback,
    marker: str,
) -> ChildProcess:
    out_r, out_w, err_r, err_w = make_pipes(spec.tty)
    # The signal mask is inherited through fork and exec: blocked here, for this one call.
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, spec.blocked) if spec.blocked else None
    try:
        popen = subprocess.Popen(
            argv,
            cwd=spec.cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out_w,
            stderr=err_w,
            start_new_session=True,
            pass_fds=passed,
        )
    except BaseException as e:  # our ends too: a failed spawn (ValueError...) leaks nothing
        close_pipes(out_r, err_r)
        if isinstance(e, OSError):
            raise SpawnError(f"cannot run {spec.argv[0]}: {e.strerror}") from None
        raise
    finally:
        if mask is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        os.close(out_w)
        if err_w != out_w:
            os.close(err_w)
    popen.returncode = 0  # we reap it ourselves; keep Popen.__del__ from waiting on it
    pid = popen.pid
    return attach(pid, spec, out_r, err_r, on_output, marker)


_HELPER = (
    "import os,sys\n"
    "n=int(sys.argv[1]);src=[int(x) for x in sys.argv[2:2+n]];argv=sys.argv[2+n:]\n"
    "for i,fd in enumerate(src): os.dup2(fd,3+i)\n"
    "for fd in src:\n"
    " if fd>=3+n: os.close(fd)\n"
    "os.environ['LISTEN_PID']=str(os.getpid())\n"
    "os.execvp(argv[0],argv)\n"
)


def exec_prefix(sources: list[int]) -> list[str]:
    """What to run before the program so that it finds `sources` as fds 3, 4, ... and its own
    pid in LISTEN_PID (the pid stays: each step execs the next). bash where there is one (no
    Python start-up to pay; POSIX sh cannot name an fd above 9), else Python."""
    bash = shutil.which("bash")
    if bash:
        moves = " ".join(f"{LISTEN_FDS_START + i}<&{fd}" for i, fd in enumerate(sources))
        closes = " ".join(f"{fd}<&-" for fd in sources)
        script = f'exec {moves} {closes}; export LISTEN_PID=$$; exec "$@"'
        return [bash, "-c", script, "autogpt-dev-listen"]
    return [sys.executable, "-S", "-c", _HELPER, str(len(sources)), *map(str, sources)]


def high_copies(fds: Iterable[int]) -> list[int]:
    """Copies of the fds above 3 + their number (close-on-exec: pass_fds passes them), so that
    moving them to 3, 4, ... in the child never overwrites one not moved yet."""
    fds = list(fds)
    floor = max(10, LISTEN_FDS_START + len(fds))
    return [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, floor) for fd in fds]


def close_pipes(*fds: int) -> None:
    for fd in fds:
        if fd >= 0:
            os.close(fd)
            _enlarged.discard(fd)


_starts = itertools.count(1)


def start_marker(service_marker: str) -> str:
    """The marker one start's processes carry: the service's and a number of its own. A stop
    sweeps for its process's marker; had the starts of a service shared one, the stop of a
    process finishing its requests after an overlapping restart would find the new process
    too, wait its whole stop_timeout for it, and then SIGKILL it."""
    return f"{service_marker}:{next(_starts)}"


def attach(
    pid: int, spec: SpawnSpec, out_r: int, err_r: int, on_output: OutputCallback, marker: str
) -> ChildProcess:
    """Read a started child's pipes and reap it when it exits. The child is ours to wait for:
    started here, or forked by a template and reparented to us. `marker`: its start's."""
    loop = asyncio.get_running_loop()
    child = ChildProcess(pid, marker, list(spec.argv))
    child._exited = loop.create_future()
    for fd, stream in ((out_r, "stdout"), (err_r, "stderr")):
        if fd >= 0:
            os.set_blocking(fd, False)
            child._fds[fd] = stream
            loop.add_reader(fd, _on_readable, loop, child, fd, on_output)

    def on_exit(status: int) -> None:
        child.status = _decode_status(status)
        if child._exited and not child._exited.done():
            child._exited.set_result(child.status)

    exits.watch(pid, on_exit)
    return child


class _ReadBuffer(threading.local):
    """One drain buffer per event-loop thread, reused by every pipe.

    os.read(fd, 64 KiB) mallocs 64 KiB and shrinks it to what came; a quiet service's line then
    stays in its ring for hours at the start of a 64 KiB chunk that nothing as big can reuse,
    and the heap creeps upward (the soak's C heap: +8 MB/h). Reading into one buffer and
    copying out exactly what arrived leaves only exact-size blocks behind. (An anonymous
    mapping: its pages cost nothing until a flood first fills them.)"""

    def __init__(self) -> None:
        self.view = memoryview(mmap.mmap(-1, DRAIN_MAX))


_read_buffer = _ReadBuffer()


def _on_readable(
    loop: asyncio.AbstractEventLoop, child: ChildProcess, fd: int, on_output: OutputCallback
) -> None:
    stream = child._fds[fd]
    # Drain up to 1 MiB per wake-up and hand it on as one piece: under a flood that is one
    # file write and one message per MiB, yet every stream still gets its turn.
    view = _read_buffer.view
    got = 0
    eof = False
    while got < DRAIN_MAX:
        try:
            n = os.readv(fd, [view[got:]])
        except BlockingIOError:
            break
        except OSError:  # EIO: the pty's other side is closed
            n = 0
        if not n:
            eof = True
            break
        short = n < DRAIN_MAX - got  # less than asked for: the pipe is empty for now
        got += n
        if short:
            break
    if got:
        on_output(stream, bytes(view[:got]))
    if eof:
        loop.remove_reader(fd)
        os.close(fd)
        _enlarged.discard(fd)
        del child._fds[fd]
        on_output(stream, None)
        if not child._fds:
            child._drained.set()
