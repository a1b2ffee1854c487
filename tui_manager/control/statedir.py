"""The state directory: one live manager per directory, its pid, and where its socket is.

An flock on `manager.lock` is the truth about liveness: the kernel drops it when the manager dies,
however it dies, so a stale pid file or socket can never block a new `up`.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import tempfile
from pathlib import Path

from ..core.orphan import MANAGER_ONLY_FDS

# sockaddr_un.sun_path is 108 bytes including the NUL.
MAX_SOCKET_PATH = 107


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

    @property
    def pid_file(self) -> Path:
        return self.path / "manager.pid"

    @property
    def logs(self) -> Path:
        return self.path / "logs"

    @property
    def socket_pointer(self) -> Path:
        """Holds the real socket path when `control.sock` here would be too long."""
        return self.path / "control.sock.path"

    def socket_path(self) -> Path:
        direct = self.path / "control.sock"
        if len(os.fsencode(direct)) <= MAX_SOCKET_PATH:
            return direct
        if self.socket_pointer.is_file():
            return Path(self.socket_pointer.read_text().strip())
        runtime = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
        digest = hashlib.sha1(os.fsencode(self.path)).hexdigest()[:16]
        return Path(runtime) / f"autogpt-dev-{digest}.sock"

    def read_pid(self) -> int | None:
        try:
            return int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None

    def acquire(self) -> None:
        """Become the manager of this directory, or raise AlreadyRunning."""
        self.path.mkdir(parents=True, exist_ok=True)
        self.logs.mkdir(exist_ok=True)
        fd = os.open(self.path / "manager.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise AlreadyRunning(self.read_pid(), self.path) from None
        os.set_inheritable(fd, False)
        self._lock_fd = fd
        MANAGER_ONLY_FDS.add(fd)  # a forked AppProcess child must not keep the lock alive
        # Whatever is left here is from a manager that died: the lock says so.
        sock = self.socket_path()
        with contextlib.suppress(FileNotFoundError):
            sock.unlink()
        self.pid_file.write_text(f"{os.getpid()}\n")
        if sock.parent != self.path:
            self.socket_pointer.write_text(f"{sock}\n")

    def is_locked(self) -> bool:
        """True if a live manager holds this directory."""
        try:
            fd = os.open(self.path / "manager.lock", os.O_RDWR)
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
        for p in (self.socket_path(), self.pid_file, self.socket_pointer):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
        if self._lock_fd >= 0:
            MANAGER_ONLY_FDS.discard(self._lock_fd)
            os.close(self._lock_fd)
            self._lock_fd = -1
