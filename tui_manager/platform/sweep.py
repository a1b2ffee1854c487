"""One sweep of the process table serves every caller for a moment: 200 services stopping at
once would otherwise each read every process's environment on every poll (quadratic). Both
process tables (procfs.py, pstable.py) answer trees and marker look-ups from it."""

from __future__ import annotations

import time
from collections.abc import Callable

# marker value -> pids, and parent pid -> child pids
Index = tuple[dict[str, list[int]], dict[int, list[int]]]
MAX_AGE = 0.02


class SweepCache:
    def __init__(self, sweep: Callable[[], Index]) -> None:
        self._sweep = sweep
        self._at = 0.0
        self._index: Index = ({}, {})

    def fresh(self) -> Index:
        if time.monotonic() - self._at > MAX_AGE:
            self._index = self._sweep()
            # Aged from its end: a sweep of a busy machine takes longer than MAX_AGE, and the
            # stops of a whole wave (200 services at once) must share one, not take one each.
            self._at = time.monotonic()
        return self._index

    def descendants(self, pid: int) -> list[int]:
        """Every descendant of pid (by parent links, so also those that left its session)."""
        children = self.fresh()[1]
        out: list[int] = []
        seen = {pid}
        todo = list(children.get(pid, []))
        while todo:
            p = todo.pop()
            if p in seen:  # pids are reused between reads of the table: never loop
                continue
            seen.add(p)
            out.append(p)
            todo.extend(children.get(p, []))
        return out

    def marked_pids(self, marker: str, prefix: bool = False) -> list[int]:
        """Pids whose environment has MARKER_VAR=marker (or a value starting with it, if
        prefix). Callers must treat a pid as a candidate (it may have died since the sweep)."""
        index = self.fresh()[0]
        if prefix:
            return [p for value, pids in index.items() if value.startswith(marker) for p in pids]
        return list(index.get(marker, []))
