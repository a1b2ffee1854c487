"""One psutil sampler for every service: CPU % and RSS of each service's whole process tree.

`sample()` is blocking (it reads the process table); views call it off their UI thread every
base.columns.SAMPLE_EVERY seconds and re-arm their timer only after it returns, so a slow
sample never piles up.
"""

from __future__ import annotations

import contextlib
from collections import deque

import psutil

from ..base.columns import SPARK_BARS
from ..platform.proctable import tree

HISTORY = 30


class ServiceStats:
    __slots__ = ("cpu", "cpu_history", "procs", "rss", "rss_history")

    def __init__(self) -> None:
        self.cpu = 0.0  # percent of one core, the whole tree
        self.rss = 0  # bytes, the whole tree
        self.procs = 0
        self.cpu_history: deque[float] = deque(maxlen=HISTORY)
        self.rss_history: deque[int] = deque(maxlen=HISTORY)


class StatsSampler:
    def __init__(self) -> None:
        self._procs: dict[int, psutil.Process] = {}  # cached: cpu_percent needs the last sample
        self.stats: dict[str, ServiceStats] = {}

    def sample(self, pids: dict[str, int | None]) -> dict[str, ServiceStats]:
        seen: set[int] = set()
        for name, pid in pids.items():
            st = self.stats.setdefault(name, ServiceStats())
            cpu, rss, n = 0.0, 0, 0
            for proc in self._tree(pid):
                seen.add(proc.pid)
                with contextlib.suppress(psutil.Error):
                    with proc.oneshot():
                        cpu += proc.cpu_percent(None)
                        rss += proc.memory_info().rss
                    n += 1
            st.cpu, st.rss, st.procs = cpu, rss, n
            st.cpu_history.append(cpu)
            st.rss_history.append(rss)
        for gone in set(self._procs) - seen:
            del self._procs[gone]
        return self.stats

    def _tree(self, pid: int | None) -> list[psutil.Process]:
        if pid is None:
            return []
        try:
            root = self._cached(pid)
        except psutil.Error:
            return []
        # Walked down from the service (Linux); elsewhere one sweep of the table serves every
        # service of this sample (psutil's children() would read the whole table each time).
        out = [root]
        for child in tree(pid):
            with contextlib.suppress(psutil.Error):
                out.append(self._cached(child))
        return out

    def _cached(self, pid: int) -> psutil.Process:
        proc = self._procs.get(pid)
        if proc is None or not proc.is_running():
            proc = self._procs[pid] = psutil.Process(pid)
        return proc


BARS = "▁▂▃▄▅▆▇█"


CPU_SCALE = 5.0  # the CPU sparkline's least full scale, % of a core


def sparkline(values: list[float], width: int = SPARK_BARS, scale: float = 0.0) -> str:
    """The last `width` values as bars, the highest full; with `scale`, never a full bar for
    less than it (an idle service's 0.3 % blip is noise, not a peak: drawn full, it looked
    like one, and redrew its row each time)."""
    vals = values[-width:]
    if not vals:
        return ""
    top = max(max(vals), scale, 1e-9)
    return "".join(BARS[min(len(BARS) - 1, int(v / top * (len(BARS) - 1)))] for v in vals)


def human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "K", "M", "G"):
        if size < 1024 or unit == "G":
            return f"{size:.0f}{unit}" if unit in ("B", "K") else f"{size:.1f}{unit}"
        size /= 1024
    return f"{size:.1f}G"
