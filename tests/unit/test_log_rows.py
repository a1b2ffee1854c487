"""The virtual log view's bookkeeping: rows per line when wrapping, locating a screen row,
trimming old lines (absolute numbers stay valid for caches), and visible widths."""

import pytest

from tui_manager.ui.widgets.log_rows import LogRows, visible_width


def rows(max_lines: int = 100) -> LogRows[str]:
    return LogRows(max_lines, visible_width)


def test_one_row_per_line_without_wrap():
    r = rows()
    r.extend(["a", "bb" * 50, ""])
    assert r.row_count == 3 and r.max_width == 100
    assert [r.locate(i) for i in range(3)] == [(0, 0), (1, 0), (2, 0)]
    with pytest.raises(IndexError):
        r.locate(3)


def test_wrapping_counts_rows_like_a_terminal_and_locates_them():
    r = rows()
    r.extend(["x" * 25, "", "y" * 10])
    r.relayout(10)
    assert r.row_count == 3 + 1 + 1  # 25 cells at 10 columns: 3 rows; an empty line: 1
    assert [r.locate(i) for i in range(5)] == [(0, 0), (0, 1), (0, 2), (1, 0), (2, 0)]
    assert [r.row_of(i) for i in range(3)] == [0, 3, 4]
    r.extend(["z" * 11])  # appended while wrapped: counted on the way in
    assert r.row_count == 7 and r.locate(6) == (3, 1)
    r.relayout(0)
    assert r.row_count == 4


def test_trimming_keeps_absolute_numbers_and_reports_the_rows_gone():
    r = rows(max_lines=3)
    r.relayout(4)
    assert r.extend(["aaaaaaaa", "b", "c"]) == 0  # 2 + 1 + 1 rows
    assert r.extend(["d"]) == 2  # the first line (two rows) went
    assert r.items == ["b", "c", "d"] and r.first == 1 and r.row_count == 3
    assert r.locate(0) == (0, 0)
    r.clear()
    assert r.first == 4 and r.row_count == 0


def test_visible_width_ignores_escapes_and_counts_wide_characters():
    assert visible_width("\x1b[31mred\x1b[0m") == 3
    assert visible_width("\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\") == 4
    assert visible_width("日本") == 4
    assert visible_width("a\tb") == 9
