"""The bench's and the soak's machine line: judged by the load before the run (the load at the
end is the run's own work too, and had marked every full bench run busy)."""

from __future__ import annotations

from bench.machine import describe


def test_the_verdict_is_the_load_at_the_start_and_the_end_is_only_shown():
    idle_then_loaded = describe((0.05, 0.1, 0.2), (1.6, 1.4, 1.4))
    assert idle_then_loaded.endswith(": idle at the start")
    assert "1.60/1.40/1.40 at the end (the run's own work included)" in idle_then_loaded
    assert describe((999.0, 999.0, 999.0), (0.0, 0.0, 0.0)).endswith("busy when it started**")
