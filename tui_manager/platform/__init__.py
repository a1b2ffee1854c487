"""What this operating system gives us, named once. Every Linux-only call of the project sits
in this package; the rest of the code asks `CAPS` (or calls a function here), never `sys.platform`.

Linux gives a process table in /proc, a parent-death signal and a child subreaper (prctl),
pidfds, resizable pipes and 108-byte unix socket paths. macOS (and the BSDs) give none of those:
there the process table comes from psutil (libproc, sysctl), a child's exit from kqueue or a
waitpid thread, and sun_path holds 104 bytes. `AUTOGPT_DEV_PORTABLE=1` turns every Linux
capability off on Linux, so the portable paths run (and are tested) here too.

Standard library only: the bottom layer, imported by everything above it.
"""

from __future__ import annotations

import contextlib
import functools
import os
import select
import socket
import sys
from typing import Any, NamedTuple

PORTABLE_VAR = "AUTOGPT_DEV_PORTABLE"
# Every child (and so every descendant, which inherits the environment) carries
# MARKER_VAR=<run id>:<service>:<start> (a template's: <run id>:<service>:template): stops find
# a tree's escapees by the whole value, the watchdog every process of the run by its prefix.
MARKER_VAR = "AUTOGPT_DEV_MARK"
WINDOWS_MESSAGE = "autogpt-dev runs on Linux and macOS; on Windows use WSL2"
# prctl(2) options
_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36


class Capabilities(NamedTuple):
    linux: bool  # the kernel is Linux (whatever the portable switch says)
    portable: bool  # AUTOGPT_DEV_PORTABLE: Linux's extras are not used
    procfs: bool  # /proc with stat, environ and task/*/children
    pdeathsig: bool  # a child can ask to be signalled when its parent dies
    subreaper: bool  # orphans of our descendants are reparented to us
    pidfd: bool  # a pollable fd per child process
    pipe_size: bool  # pipes can be enlarged
    kqueue: bool  # EVFILT_PROC / NOTE_EXIT to learn of a child's exit
    sun_path: int  # bytes in sockaddr_un.sun_path, the NUL included
    steering: bool = False  # SO_REUSEPORT groups a BPF program steers new connections in

    @property
    def max_socket_path(self) -> int:
        return self.sun_path - 1

    @property
    def warm(self) -> bool:
        """Warm restarts fork a service from a template and need it reparented to us."""
        return self.subreaper and self.pidfd and self.pdeathsig

    @property
    def warm_refusal(self) -> str | None:
        return None if self.warm else "warm restarts need Linux"

    def describe(self) -> str:
        """One line for `check`: which paths this system runs."""
        if self.linux and not self.portable:
            return "linux (/proc process table, parent-death signal, pidfd exits, warm restarts)"
        exits = "kqueue exits" if self.kqueue else "waitpid-thread exits"
        why = "AUTOGPT_DEV_PORTABLE" if self.linux else "not Linux"
        return f"portable ({why}: psutil process table, {exits}, no warm restarts)"


def portable_requested(env: dict[str, str] | os._Environ[str] = os.environ) -> bool:
    return env.get(PORTABLE_VAR, "").strip().lower() in ("1", "true", "yes", "on")


def detect() -> Capabilities:
    linux = sys.platform.startswith("linux")
    portable = portable_requested() or not linux
    native = linux and not portable
    fcntl_mod = _fcntl()
    return Capabilities(
        linux=linux,
        portable=portable,
        procfs=native and os.path.isdir("/proc/self/task"),
        pdeathsig=native,
        subreaper=native,
        pidfd=native and hasattr(os, "pidfd_open"),
        pipe_size=native and fcntl_mod is not None and hasattr(fcntl_mod, "F_SETPIPE_SZ"),
        kqueue=hasattr(select, "kqueue"),
        sun_path=108 if native else 104,
        steering=native and hasattr(socket, "SO_REUSEPORT") and hasattr(socket, "TCP_INFO"),
    )


def _fcntl() -> object | None:
    try:
        import fcntl
    except ImportError:  # Windows
        return None
    return fcntl


CAPS = detect()


def unsupported() -> str | None:
    """The one line for a system we do not run on (native Windows), else None."""
    return WINDOWS_MESSAGE if os.name == "nt" else None


@functools.cache
def _setpriv() -> str | None:
    # util-linux's setpriv sets the parent-death signal and then execs the command, so no
    # Python code runs between fork and exec (Debian's base system has it).
    import shutil  # (not at import: `unsupported()` must run before any POSIX-only import)

    return shutil.which("setpriv") if CAPS.pdeathsig else None


def spawn_prefix() -> list[str]:
    """What to put before a child's argv so it gets the parent-death signal (SIGTERM) before it
    runs anything: setpriv where we may, else nothing (the watchdog covers that child)."""
    tool = _setpriv()
    return [tool, "--pdeathsig", "TERM", "--"] if tool else []


@functools.cache
def _libc() -> object:
    import ctypes

    return ctypes.CDLL(None, use_errno=True)


def _prctl(option: int, value: int) -> bool:
    return int(_libc().prctl(option, value, 0, 0, 0)) == 0  # type: ignore[attr-defined]


def set_parent_death_signal(sig: int) -> bool:
    """Ask the kernel to send `sig` to this process when its parent dies; False if unsupported."""
    return CAPS.pdeathsig and _prctl(_PR_SET_PDEATHSIG, sig)


def become_subreaper() -> bool:
    """Orphaned descendants are reparented to us instead of init; False if unsupported."""
    return CAPS.subreaper and _prctl(_PR_SET_CHILD_SUBREAPER, 1)


def pidfd_open(pid: int) -> int | None:
    """A pollable fd that becomes readable when `pid` exits; None where there is none (or the
    process is already gone: the caller reaps it at once)."""
    if not CAPS.pidfd:
        return None
    try:
        return os.pidfd_open(pid)
    except OSError:
        return None


def enlarge_pipe(fd: int, size: int) -> bool:
    """Make a pipe's buffer `size` bytes where the system allows it."""
    if not CAPS.pipe_size:
        return False
    import fcntl

    with contextlib.suppress(OSError):  # EPERM: the user is past the pipe budget already
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, size)
        return True
    return False


# ---- listening sockets: steering new connections (Linux) ---------------------------------------
_SO_ATTACH_REUSEPORT_CBPF = 51
_BPF_RET_K = 0x06
_TCPI_UNACKED = 24  # offset of tcpi_unacked in struct tcp_info: a listener's accept queue


def steer_connections(sock: socket.socket, index: int) -> bool:
    """From now on the kernel gives every new connection of `sock`'s SO_REUSEPORT group to
    its `index`-th listener (a one-instruction classic BPF program: return index)."""
    if not CAPS.steering:
        return False
    import ctypes
    import struct

    insn = ctypes.create_string_buffer(struct.pack("HBBI", _BPF_RET_K, 0, 0, index))
    prog = struct.pack("@HP", 1, ctypes.addressof(insn))  # struct sock_fprog
    try:
        sock.setsockopt(socket.SOL_SOCKET, _SO_ATTACH_REUSEPORT_CBPF, prog)
    except OSError:
        return False
    return True


def accept_queue(sock: socket.socket) -> int:
    """Connections waiting in a listener's accept queue (0 where it cannot be known)."""
    if not CAPS.steering:
        return 0
    import struct

    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    except OSError:
        return 0
    return int(struct.unpack_from("I", info, _TCPI_UNACKED)[0])


# glibc's malloc: mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
# A buffer at least this big is mapped on its own, and unmapped when freed. Above the most a
# pipe's wake-up reads (1 MiB): a flood's MiB blocks are reused from the heap instead of being
# mapped and faulted in afresh each time (100 lines of 1 MB: 0.93 -> 0.62 s to the last line).
_BIG = 4 << 20


@functools.cache
def _glibc() -> bool:
    if not (CAPS.linux and not CAPS.portable):
        return False
    try:
        return os.confstr("CS_GNU_LIBC_VERSION") is not None
    except (ValueError, OSError):
        return False


def settle_malloc() -> bool:
    """A manager runs for days: memory freed after a flood must go back to the system. glibc
    raises its mmap threshold each time a big mapped buffer is freed (up to 32 MiB), after
    which even tens of MiB come from the heap and stay there, fragmented; a fixed threshold
    keeps the biggest mapped, so freeing them unmaps them, and the trim threshold and the
    once-a-minute trim_malloc give back the heap's free pages. False where it does not apply."""
    if not _glibc():
        return False
    libc = _libc()
    ok = int(libc.mallopt(_M_MMAP_THRESHOLD, _BIG)) == 1  # type: ignore[attr-defined]
    return ok and int(libc.mallopt(_M_TRIM_THRESHOLD, 2 * _BIG)) == 1  # type: ignore[attr-defined]


def trim_malloc() -> None:
    """Give the heap's free pages back to the system (glibc; a no-op elsewhere)."""
    if _glibc():
        _libc().malloc_trim(0)  # type: ignore[attr-defined]


@functools.cache
def _mallinfo2() -> Any:
    """glibc's mallinfo2 (>= 2.33) returning its struct: ten size_t; None on an older glibc."""
    import ctypes

    class MallInfo2(ctypes.Structure):
        _fields_ = [
            (name, ctypes.c_size_t)
            for name in (
                *("arena", "ordblks", "smblks", "hblks", "hblkhd"),
                *("usmblks", "fsmblks", "uordblks", "fordblks", "keepcost"),
            )
        ]

    fn = getattr(_libc(), "mallinfo2", None)
    if fn is not None:
        fn.restype = MallInfo2
    return fn


def malloc_stats() -> dict[str, int] | None:
    """The C heap (every glibc arena): bytes in use, bytes in free chunks (some of whose pages
    trim_malloc has given back), bytes in mapped blocks; None where it cannot be known."""
    fn = _mallinfo2() if _glibc() else None
    if fn is None:
        return None
    info = fn()
    return {"in_use": info.uordblks, "free": info.fordblks, "mapped": info.hblkhd}
