"""Learning that a child exited, without waiting for its pipes: a setsid grandchild may hold
them open forever (ARCHITECTURE.md). The child is reaped by pid, here, exactly once:

- Linux: a pidfd on the event loop's selector;
- macOS and the BSDs: one kqueue per loop with EVFILT_PROC/NOTE_EXIT per child;
- elsewhere (and Linux in portable mode without kqueue): a thread blocked in waitpid.

`watch(pid, on_exit)` calls `on_exit(raw wait status)` on the running loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import select
import threading
import weakref
from collections.abc import Callable
from typing import Any

from . import CAPS, pidfd_open

_kq: Any = select  # (kqueue exists on macOS and the BSDs only: typed loosely for Linux's mypy)

ExitCallback = Callable[[int], None]
RETRY = 0.005  # a NOTE_EXIT may come a moment before the zombie can be reaped


def _reap(pid: int) -> int | None:
    """The wait status if pid has exited (reaped now), else None. A pid someone else reaped
    counts as a plain exit 0."""
    try:
        reaped, status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return 0
    return status if reaped else None


def watch(pid: int, on_exit: ExitCallback) -> None:
    loop = asyncio.get_running_loop()
    if CAPS.pidfd:
        fd = pidfd_open(pid)
        if fd is not None:
            return _watch_fd(loop, fd, pid, on_exit)
        status = _reap(pid)  # no pidfd for a pid that is already gone
        if status is not None:
            loop.call_soon(on_exit, status)
            return None
    if CAPS.kqueue:
        with contextlib.suppress(OSError):
            return _Kqueue.of(loop).add(pid, on_exit)
    _watch_thread(loop, pid, on_exit)
    return None


def _watch_fd(loop: asyncio.AbstractEventLoop, fd: int, pid: int, on_exit: ExitCallback) -> None:
    def readable() -> None:
        status = _reap(pid)
        if status is None:
            return  # spurious wake-up
        loop.remove_reader(fd)
        os.close(fd)
        on_exit(status)

    loop.add_reader(fd, readable)


def _watch_thread(loop: asyncio.AbstractEventLoop, pid: int, on_exit: ExitCallback) -> None:
    def wait() -> None:
        try:
            _, status = os.waitpid(pid, 0)
        except ChildProcessError:
            status = 0
        with contextlib.suppress(RuntimeError):  # the loop closed: nobody is listening
            loop.call_soon_threadsafe(on_exit, status)

    threading.Thread(target=wait, name=f"waitpid-{pid}", daemon=True).start()


class _Kqueue:
    """One kqueue per event loop, readable on the loop's selector when a watched child exits."""

    _per_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Kqueue] = (
        weakref.WeakKeyDictionary()
    )

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.kq = _kq.kqueue()
        self.callbacks: dict[int, ExitCallback] = {}
        loop.add_reader(self.kq.fileno(), self._readable)

    @classmethod
    def of(cls, loop: asyncio.AbstractEventLoop) -> _Kqueue:
        kq = cls._per_loop.get(loop)
        if kq is None:
            kq = cls._per_loop[loop] = cls(loop)
        return kq

    def add(self, pid: int, on_exit: ExitCallback) -> None:
        event = _kq.kevent(
            pid,
            filter=_kq.KQ_FILTER_PROC,
            flags=_kq.KQ_EV_ADD | _kq.KQ_EV_ONESHOT,
            fflags=_kq.KQ_NOTE_EXIT,
        )
        try:
            self.kq.control([event], 0, 0)
        except OSError as e:
            if e.errno != errno.ESRCH:
                raise
            self._reaped_soon(pid, on_exit)  # it exited before we could register
            return
        self.callbacks[pid] = on_exit

    def _readable(self) -> None:
        for ev in self.kq.control(None, 64, 0):
            on_exit = self.callbacks.pop(int(ev.ident), None)
            if on_exit is not None:
                self._reaped_soon(int(ev.ident), on_exit)

    def _reaped_soon(self, pid: int, on_exit: ExitCallback) -> None:
        status = _reap(pid)
        if status is None:
            self.loop.call_later(RETRY, self._reaped_soon, pid, on_exit)
        else:
            self.loop.call_soon(on_exit, status)
