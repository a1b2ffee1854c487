"""The Linux calls a warm template makes, in itself and in each service it forks: zygote.py
loads this file by its path (the template runs the service's own interpreter, which need not
have tui_manager installed). Standard library only, Python 3.8 syntax."""

import ctypes
import os

_PR_SET_PDEATHSIG = 1


def set_parent_death_signal(sig: int) -> None:
    ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0)


def task_count() -> int:
    """Threads of this process, native ones included (a Python thread list misses those)."""
    return len(os.listdir("/proc/self/task"))
