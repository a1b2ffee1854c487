"""The services table's columns, as data: the dashboard (also attached, or in a browser) lays
them out from here for the width it has. The table never scrolls sideways: the columns that do
not fit are left out, the least important first, and `why` takes the room that is left.
"""

from __future__ import annotations

from typing import NamedTuple


class Column(NamedTuple):
    key: str  # the cell's key (services_table.cells_for)
    label: str  # the header
    width: int  # cells; 0: sized by the layout (the name, and `why`)
    rank: int  # 0 is always shown; higher ones go first when the width runs out


# The CPU and memory samples, and the sparklines drawn from them: the bars span what their
# titles say (10 bars of 3 s: "cpu 30s"; at 2 s a sample they had spanned 20 s).
SAMPLE_EVERY = 3.0  # seconds between samples: as often as a person reads them
SPARK_BARS = 10
SPARK_SPAN = f"{SPARK_BARS * SAMPLE_EVERY:.0f}s"

# Left to right, as shown.
COLUMNS: tuple[Column, ...] = (
    Column("n", "#", 1, 0),
    Column("name", "service", 0, 1),
    Column("state", "state", 9, 2),
    Column("pid", "pid", 7, 10),
    Column("uptime", "uptime", 6, 5),
    Column("restarts", "restarts", 8, 4),
    Column("cpu", "cpu", 4, 8),
    Column("mem", "mem", 6, 9),
    Column("spark", f"cpu {SPARK_SPAN}", SPARK_BARS, 11),
    Column("mspark", f"mem {SPARK_SPAN}", SPARK_BARS, 12),
    Column("probe", "health", 14, 6),
    Column("exit", "exit", 6, 7),
    Column("reason", "why", 0, 3),
)
PADDING = 1  # a cell of space on each side of every column
WHY_MIN = 36  # `why` keeps this much before a lesser column is shown (an error and its file:line)
NAME_MIN = 8


def layout(width: int, longest_name: int) -> list[tuple[Column, int]]:
    """The columns that fit in `width` cells, left to right, each with its width."""
    name = longest_name + 2  # room for " ★", the foreground mark
    fixed = {c.key: (name if c.key == "name" else c.width) for c in COLUMNS if c.key != "reason"}
    kept = {c.key for c in COLUMNS if c.rank <= 3}  # #, service, state, why
    used = sum(fixed[k] + 2 * PADDING for k in kept if k != "reason")
    room = width - used - 2 * PADDING  # what `why` gets so far
    if room < WHY_MIN and name > NAME_MIN:  # a name alone does not fit: shorten the names
        cut = min(name - NAME_MIN, WHY_MIN - room)
        fixed["name"] -= cut
        room += cut
    for col in sorted((c for c in COLUMNS if c.rank > 3), key=lambda c: c.rank):
        cost = col.width + 2 * PADDING
        if room - cost >= WHY_MIN:
            kept.add(col.key)
            room -= cost
    widths = {**fixed, "reason": max(room, 1)}
    return [(c, widths[c.key]) for c in COLUMNS if c.key in kept]
