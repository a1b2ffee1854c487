"""Processes as /proc shows them: liveness, parent links and the run marker, without psutil
(these run on every stop and must be cheap to import and to call)."""

from __future__ import annotations

import os
import time

MARKER_VAR = "AUTOGPT_DEV_MARK"
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


def thread_count(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/task"))
    except OSError:
        return 0


# One /proc sweep serves every caller for MAX_AGE seconds: 200 services stopping at once would
# otherwise each read every process's environment on every poll (quadratic).
MAX_AGE = 0.02
_index: tuple[float, dict[str, list[int]], dict[int, list[int]]] = (0.0, {}, {})


def _sweep() -> tuple[dict[str, list[int]], dict[int, list[int]]]:
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


def _fresh() -> tuple[float, dict[str, list[int]], dict[int, list[int]]]:
    global _index
    if time.monotonic() - _index[0] > MAX_AGE:
        swept = _sweep()
        # Aged from its end: a sweep of a busy machine takes longer than MAX_AGE, and the stops
        # of a whole wave (200 services at once) must share one, not take one each.
        _index = (time.monotonic(), *swept)
    return _index


def descendants(pid: int) -> list[int]:
    """Every descendant of pid (by parent links, so also those that left its session)."""
    children = _fresh()[2]
    out: list[int] = []
    seen = {pid}
    todo = list(children.get(pid, []))
    while todo:
        p = todo.pop()
        if p in seen:  # pids are reused between reads of /proc: never loop
            continue
        seen.add(p)
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def marked_pids(marker: str, prefix: bool = False) -> list[int]:
    """Pids whose environment has MARKER_VAR=marker (or a value starting with it, if prefix).
    Callers must treat a pid as a candidate (it may have died since the sweep)."""
    index = _fresh()[1]
    if prefix:
        return [p for value, pids in index.items() if value.startswith(marker) for p in pids]
    return list(index.get(marker, []))
