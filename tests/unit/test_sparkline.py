"""The table's sparklines: the highest value is a full bar, but an idle service's CPU noise is
never drawn as a peak."""

from __future__ import annotations

from tui_manager.core.stats import BARS, CPU_SCALE, sparkline


def test_the_highest_value_is_a_full_bar_without_a_scale():
    assert sparkline([1.0, 2.0, 4.0, 8.0]) == "▁▂▄█"
    assert sparkline([0.1, 0.3]) == "▃█"  # relative: memory's line keeps its shape


def test_cpu_noise_stays_low_and_a_real_load_is_drawn_full():
    idle = [0.0, 0.0, 0.3, 0.0, 0.1]
    assert sparkline(idle) == "▁▁█▁▃"  # the control: unscaled, a 0.3 % blip is a full bar
    assert sparkline(idle, scale=CPU_SCALE) == "▁" * 5
    assert sparkline([0.0, 2.5, 100.0], scale=CPU_SCALE) == "▁▁█"
    assert sparkline([0.0, CPU_SCALE / 2, CPU_SCALE], scale=CPU_SCALE) == "▁▄█"


def test_only_the_last_width_values_are_drawn():
    line = sparkline([float(i) for i in range(30)], width=10)
    assert len(line) == 10 and line[-1] == BARS[-1]
    assert sparkline([]) == ""
