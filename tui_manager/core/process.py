"""One child process: spawn in its own session, read its pipes, reap it by pid, kill its tree.

Lessons applied (ARCHITECTURE.md): the child is reaped through a pidfd, never by waiting for its
pipes to close (a setsid grandchild may hold them open forever); pipes are read in 64 KiB chunks
off the event loop's selector; the whole tree is found three ways (process group, /proc
descendants, the run-marker environment variable) so nothing that double-forked survives a stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pty
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

from ..base.procfs import MARKER_VAR, descendants, marked_pids, pid_alive
from . import orphan
from .states import ExitStatus

READ_CHUNK = 65536

OutputCallback = Callable[[str, bytes | None], None]  # (stream, data); None = end of stream


class SpawnError(Exception):
    """A spawn that failed for a reason the user can fix (command not found, ...)."""


@dataclass
class SpawnSpec:
    argv: list[str] | None  # exec this, or
    target: Callable[[], object] | None  # call this in a forked child (the AppProcess API)
    cwd: str
    env: dict[str, str]
    marker: str  # value of MARKER_VAR: "<run id>:<service>"
    tty: bool = False


def _decode_status(status: int) -> ExitStatus:
    if os.WIFSIGNALED(status):
        return ExitStatus(None, os.WTERMSIG(status))
    return ExitStatus(os.WEXITSTATUS(status), None)


@dataclass
class ChildProcess:
    pid: int
    marker: str
    command: list[str] = field(default_factory=list)
    started_at: float = field(default_factory=time.time)
    status: ExitStatus | None = None
    _exited: asyncio.Future[ExitStatus] | None = None
    _fds: dict[int, str] = field(default_factory=dict)
    _drained: asyncio.Event = field(default_factory=asyncio.Event)

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
        return await self.wait()

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


def _pgid(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except OSError:
        return None


def _child_setup(parent: int) -> None:
    # Runs in the child between fork and exec. The session makes terminal signals and our
    # killpg target the child's group only; PDEATHSIG covers a SIGKILLed manager.
    orphan.set_parent_death_signal(signal.SIGTERM)
    if os.getppid() != parent:  # the manager died before prctl took effect
        os._exit(1)


def _fd_stream(fd: int) -> TextIO:
    """A line-buffered text stream on a raw fd, which it does not own."""
    return open(fd, "w", buffering=1, closefd=False, encoding="utf-8", errors="backslashreplace")


def _forked_child(spec: SpawnSpec, out_w: int, err_w: int, parent: int) -> None:
    """The AppProcess path: run a Python callable in a forked child, then _exit."""
    code = 1
    try:
        os.setsid()
        _child_setup(parent)
        for fd in orphan.MANAGER_ONLY_FDS:
            with contextlib.suppress(OSError):
                os.close(fd)
        signal.set_wakeup_fd(-1)  # the parent loop's wakeup fd must not be written to from here
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD):
            signal.signal(sig, signal.SIG_DFL)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(out_w, 1)
        os.dup2(err_w, 2)
        os.chdir(spec.cwd)
        os.environ.clear()
        os.environ.update(spec.env)
        # The parent's sys.stdout may not be fd 1 at all (pytest, an IDE, Jupyter replace it):
        # the child's streams are its own fds 1 and 2, the pipes, line-buffered.
        sys.stdout, sys.stderr = _fd_stream(1), _fd_stream(2)
        assert spec.target is not None
        result = spec.target()
        code = result if isinstance(result, int) else 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException:
        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


async def spawn(spec: SpawnSpec, on_output: OutputCallback) -> ChildProcess:
    """Start the child; output goes to on_output from the running loop. Raises SpawnError."""
    loop = asyncio.get_running_loop()
    env = dict(spec.env)
    env[MARKER_VAR] = spec.marker
    spec = SpawnSpec(spec.argv, spec.target, spec.cwd, env, spec.marker, spec.tty)
    parent = os.getpid()
    if spec.tty:
        out_r, out_w = pty.openpty()
        err_r, err_w = -1, out_w
    else:
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
    try:
        if spec.target is not None:
            pid = os.fork()
            if pid == 0:
                _forked_child(spec, out_w, err_w, parent)
        else:
            assert spec.argv is not None
            try:
                popen = subprocess.Popen(
                    spec.argv,
                    cwd=spec.cwd,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=out_w,
                    stderr=err_w,
                    start_new_session=True,
                    preexec_fn=lambda: _child_setup(parent),
                )
            except FileNotFoundError:
                raise SpawnError(f"command not found: {spec.argv[0]}") from None
            except PermissionError:
                raise SpawnError(f"permission denied: {spec.argv[0]}") from None
            except NotADirectoryError:
                raise SpawnError(f"not a directory: {spec.cwd}") from None
            except OSError as e:
                raise SpawnError(f"cannot run {spec.argv[0]}: {e.strerror}") from None
            pid = popen.pid
            popen.returncode = 0  # we reap it ourselves; keep Popen.__del__ from waiting on it
    finally:
        os.close(out_w)
        if err_w != out_w:
            os.close(err_w)

    child = ChildProcess(pid, spec.marker, list(spec.argv or []))
    child._exited = loop.create_future()
    for fd, stream in ((out_r, "stdout"), (err_r, "stderr")):
        if fd >= 0:
            os.set_blocking(fd, False)
            child._fds[fd] = stream
            loop.add_reader(fd, _on_readable, loop, child, fd, on_output)

    pidfd = os.pidfd_open(pid)

    def on_exit() -> None:
        try:
            reaped, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            reaped, status = pid, 0
        if reaped == 0:
            return  # spurious wake-up
        loop.remove_reader(pidfd)
        os.close(pidfd)
        child.status = _decode_status(status)
        if child._exited and not child._exited.done():
            child._exited.set_result(child.status)

    loop.add_reader(pidfd, on_exit)
    return child


def _on_readable(
    loop: asyncio.AbstractEventLoop, child: ChildProcess, fd: int, on_output: OutputCallback
) -> None:
    stream = child._fds[fd]
    # Drain up to 1 MiB per wake-up and hand it on as one piece: under a flood that is one
    # file write and one message per MiB, yet every stream still gets its turn.
    chunks: list[bytes] = []
    eof = False
    for _ in range(16):
        try:
            data = os.read(fd, READ_CHUNK)
        except BlockingIOError:
            break
        except OSError:  # EIO: the pty's other side is closed
            data = b""
        if not data:
            eof = True
            break
        chunks.append(data)
        if len(data) < READ_CHUNK:
            break
    if chunks:
        on_output(stream, b"".join(chunks))
    if eof:
        loop.remove_reader(fd)
        os.close(fd)
        del child._fds[fd]
        on_output(stream, None)
        if not child._fds:
            child._drained.set()
