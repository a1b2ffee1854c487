"""The state directory: one live manager per directory, its pid, and where its socket is.

An flock on `manager.lock` is the truth about liveness: the kernel drops it when the manager dies,
however it dies, so a stale pid file or socket can never block a new `up`.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from ..base import paths


class AlreadyRunning(Exception):
    def __init__(self, pid: int | None, state_dir: Path) -> None:
        super().__init__(
            f"another autogpt-dev manager (pid {pid if pid else '?'}) is already running "
            f"for {state_dir}"
        )
        self.pid = pid


class StateDir:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock_fd = -1

    def socket_path(self) -> Path:
        return paths.socket_path(self.path)

    def read_pid(self) -> int | None:
        try:
            return int(paths.pid_file(self.path).read_text().strip())
        except (OSError, ValueError):
            return None

    def acquire(self) -> None:
        """Become the manager of this directory, or raise AlreadyRunning."""
        paths.logs_dir(self.path).mkdir(parents=True, exist_ok=True)
        fd = os.open(paths.lock_file(self.path), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise AlreadyRunning(self.read_pid(), self.path) from None
        os.set_inheritable(fd, False)  # (and every child is exec'd with close_fds)
        self._lock_fd = fd
        # Whatever is left here is from a manager that died: the lock says so.
        sock = self.socket_path()
        with contextlib.suppress(FileNotFoundError):
            sock.unlink()
        paths.pid_file(self.path).write_text(f"{os.getpid()}\n")
        if sock.parent != self.path:
            paths.socket_pointer(self.path).write_text(f"{sock}\n")

    def is_locked(self) -> bool:
        """True if a live manager holds this directory."""
        try:
            fd = os.open(paths.lock_file(self.path), os.O_RDWR)
        except OSError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
        return False

    def release(self) -> None:
        for p in (
            self.socket_path(),
            paths.pid_file(self.path),
            paths.socket_pointer(self.path),
        ):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1
