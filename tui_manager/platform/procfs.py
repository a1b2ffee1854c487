"""The process table as Linux's /proc shows it: liveness, parent links and the run marker,
without psutil (these run on every stop and must be cheap to import and to call). The portable
twin is pstable.py; proctable.py picks one."""

from __future__ import annotations

import os

from . import MARKER_VAR
from .sweep import Index, SweepCache

_VAR = MARKER_VAR.encode() + b"="


def _stat_fields(pid: int) -> list[bytes] | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    # The command name may hold spaces and parentheses: the fields start after the last ')'.
    return data.rsplit(b")", 1)[1].split()


def pid_alive(pid: int) -> bool:
    """True for a running (or stopped) process, False for a zombie or a free pid."""
    fields = _stat_fields(pid)
    return fields is not None and fields[0] != b"Z"


def process_state(pid: int) -> str | None:
    """The /proc state letter (R, S, D, T, Z, ...), or None if there is no such process."""
    fields = _stat_fields(pid)
    return fields[0].decode() if fields else None


def rss_bytes(pid: int) -> int | None:
    """Resident memory of one process (/proc/<pid>/statm), or None if it is gone."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, IndexError, ValueError):
        return None


def my_children() -> set[int]:
    """This process's children (every thread's), reparented orphans included."""
    out: set[int] = set()
    try:
        tids = os.listdir("/proc/self/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/self/task/{tid}/children", "rb") as f:
                out.update(int(p) for p in f.read().split())
        except (OSError, ValueError):
            continue
    return out


def _children_of(pid: int) -> list[int]:
    out: list[int] = []
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", "rb") as f:
                out += [int(p) for p in f.read().split()]
        except (OSError, ValueError):
            continue
    return out


def tree(pid: int) -> list[int]:
    """Every descendant of pid, walked down from it (O(the tree), where a sweep reads every
    process on the machine): the dashboard's CPU and memory figures, every 2 s."""
    out: list[int] = []
    seen = {pid}
    todo = _children_of(pid)
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        out.append(p)
        todo += _children_of(p)
    return out


def _sweep() -> Index:
    """marker value -> pids, and parent pid -> child pids, in one pass over /proc."""
    me = os.getpid()
    index: dict[str, list[int]] = {}
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        fields = _stat_fields(int(entry))
        if fields is None:
            continue
        try:
            children.setdefault(int(fields[1]), []).append(int(entry))  # state, ppid, ...
            with open(f"/proc/{entry}/environ", "rb") as f:
                env = f.read()
        except (OSError, IndexError, ValueError):
            continue
        start = env.find(_VAR)
        if start < 0 or (start > 0 and env[start - 1] != 0):
            continue
        end = env.find(b"\0", start)
        value = env[start + len(_VAR) : end if end >= 0 else None]
        index.setdefault(value.decode(errors="replace"), []).append(int(entry))
    return index, children


_cache = SweepCache(_sweep)
descendants = _cache.descendants
marked_pids = _cache.marked_pids
