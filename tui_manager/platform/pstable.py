"""The process table from psutil, for systems without Linux's /proc (macOS reads it through
libproc and sysctl): liveness, parent links and the run marker, as procfs.py gives them on Linux.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

import psutil

from . import MARKER_VAR
from .sweep import Index, SweepCache


def pid_alive(pid: int) -> bool:
    """True for a running (or stopped) process, False for a zombie or a free pid."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def process_state(pid: int) -> str | None:
    """A one-letter state as procfs gives it (R, S, T, Z, ...), or None if there is none."""
    try:
        status = psutil.Process(pid).status()
    except psutil.Error:
        return None
    return {
        psutil.STATUS_ZOMBIE: "Z",
        psutil.STATUS_STOPPED: "T",
        psutil.STATUS_RUNNING: "R",
        psutil.STATUS_DISK_SLEEP: "D",
    }.get(status, "S")


def rss_bytes(pid: int) -> int | None:
    try:
        return int(psutil.Process(pid).memory_info().rss)
    except psutil.Error:
        return None


def _sweep() -> Index:
    """marker value -> pids, and parent pid -> child pids, in one pass over the table."""
    me = os.getpid()
    index: dict[str, list[int]] = {}
    children: dict[int, list[int]] = {}
    for proc in psutil.process_iter(["ppid", "environ"], ad_value=None):
        pid = proc.pid
        if pid == me:
            continue
        info = proc.info
        ppid = info.get("ppid")
        if isinstance(ppid, int):
            children.setdefault(ppid, []).append(pid)
        env = info.get("environ")
        if isinstance(env, dict):
            value = env.get(MARKER_VAR)
            if value is not None:
                index.setdefault(value, []).append(pid)
    return index, children


def _safe_sweep() -> Index:
    try:
        return _sweep()
    except (psutil.Error, OSError):
        return {}, {}


_cache = SweepCache(_safe_sweep)
descendants = _cache.descendants
marked_pids = _cache.marked_pids


def port_listener(port: int) -> int | None:
    """The pid listening on `port`, if this user may see it. Linux shows the whole table to
    anyone; macOS only to root, so there each of the user's own processes is asked instead."""
    from . import CAPS

    if CAPS.procfs:
        with contextlib.suppress(psutil.Error):
            for conn in psutil.net_connections(kind="inet"):
                if _listens_on(conn, port) and conn.pid is not None:
                    return conn.pid
        return None
    for proc in psutil.process_iter():
        try:
            listening = [c for c in proc.net_connections(kind="inet") if _listens_on(c, port)]
        except psutil.Error:  # another user's, or gone
            continue
        if listening:
            return proc.pid
    return None


def _listens_on(conn: Any, port: int) -> bool:
    return bool(conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port)
