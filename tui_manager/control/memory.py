"""Where the manager's memory goes, for the `memory` control command (the soak asks it).

Always: RSS, what the log rings hold (bounded, but a quiet service's ring fills for hours),
the garbage collector's objects counted by type and, under glibc, the C heap: bytes in use,
bytes in free chunks (address space malloc keeps; the pages trim_malloc gave back are not
resident) and bytes mapped. With AUTOGPT_DEV_TRACEMALLOC=N in the manager's environment (N
frames per allocation; tracemalloc makes allocation slower, so it is never on by default): the
allocations that grew most since the previous `memory` request, grouped by traceback, and the
traced total.
"""

from __future__ import annotations

import gc
import os
from collections import Counter
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from .. import platform

if TYPE_CHECKING:
    import tracemalloc

    from ..core.logs import BlockRing

ENV = "AUTOGPT_DEV_TRACEMALLOC"


def start_if_asked() -> None:
    frames = os.environ.get(ENV, "")
    if frames.isdigit() and int(frames) > 0:
        import tracemalloc  # (only then: every `up` starts here)

        tracemalloc.start(int(frames))


class MemoryProbe:
    def __init__(self, rings: Callable[[], Iterable[BlockRing]] | None = None) -> None:
        self._last: tracemalloc.Snapshot | None = None
        self._rings = rings

    def report(self, top: int) -> dict[str, Any]:
        import tracemalloc

        import psutil

        # Counted by type, so that two answers hours apart say which objects accumulate.
        types = Counter(type(o).__qualname__ for o in gc.get_objects())
        out: dict[str, Any] = {
            "rss": psutil.Process().memory_info().rss,
            "gc_objects": types.total(),
            "types": dict(types),
            "tracing": tracemalloc.is_tracing(),
            "heap": platform.malloc_stats(),
        }
        if self._rings is not None:
            rings = list(self._rings())
            out["rings"] = {
                "lines": sum(len(r) for r in rings),
                "bytes": sum(r.bytes for r in rings),
                "held": sum(r.footprint() for r in rings),
            }
        if not tracemalloc.is_tracing():
            return out
        snap = tracemalloc.take_snapshot().filter_traces(
            [tracemalloc.Filter(False, tracemalloc.__file__)]
        )
        out["traced"] = sum(s.size for s in snap.statistics("filename"))
        if self._last is not None:
            diffs = snap.compare_to(self._last, "traceback")
            out["growth"] = [
                {
                    "size_diff": d.size_diff,
                    "count_diff": d.count_diff,
                    "size": d.size,
                    "traceback": [f"{f.filename}:{f.lineno}" for f in d.traceback],
                }
                for d in sorted(diffs, key=lambda d: d.size_diff, reverse=True)[:top]
            ]
        self._last = snap
        return out
