"""The process table this system has: /proc on Linux (procfs.py, fast and psutil-free), psutil
elsewhere and in portable mode (pstable.py). Same functions, chosen once."""

from __future__ import annotations

from . import CAPS

if CAPS.procfs:
    from .procfs import descendants, marked_pids, pid_alive, process_state, rss_bytes, tree
else:
    from .pstable import (
        descendants,
        marked_pids,
        pid_alive,
        process_state,
        rss_bytes,
    )

    tree = descendants  # psutil reads the whole table either way

__all__ = ["descendants", "marked_pids", "pid_alive", "process_state", "rss_bytes", "tree"]
