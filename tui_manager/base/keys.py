"""Every dashboard key binding, as data (stdlib only).

The dashboard's bindings and footer, its command palette, the help screen, the README's key
table and the `[keys]` config table (user keymaps, checked against the ids) are all generated
from KEYS.
"""

from __future__ import annotations

from typing import NamedTuple


class Key(NamedTuple):
    id: str
    keys: str  # Textual key names, comma-separated
    action: str  # a Dashboard action, with arguments as Textual writes them
    label: str  # the footer's few words
    description: str  # the help screen, the palette, the README
    footer: bool = True  # shown in the footer
    palette: bool = True  # also a command in the command palette
    priority: bool = False


KEYS: tuple[Key, ...] = (
    Key("restart", "r", "restart", "Restart", "Restart the selected service"),
    Key("stop", "s", "stop", "Stop", "Stop the selected service"),
    Key("start", "a,S", "start", "Start", "Start the selected service"),
    Key("restart-all", "R", "restart_all", "Restart all", "Restart all services"),
    Key("error", "e", "open_error", "Error", "Open the selected service's last error in $EDITOR"),
    Key("errors", "E", "errors", "Errors", "The errors of every service, grouped"),
    Key("show-all", "0", "show_all", "All logs", "Show every service's log, merged"),
    Key("search", "slash", "search", "Search", "Search the log", palette=False),
    Key("next-match", "n", "next_match(1)", "Next", "Next match", False, False),
    Key("prev-match", "N", "next_match(-1)", "Previous", "Previous match", False, False),
    Key("follow", "f,end", "follow", "Follow", "Follow the tail"),
    Key("wrap", "w", "wrap", "Wrap", "Toggle line wrap"),
    Key("timestamps", "t", "timestamps", "Times", "Toggle timestamps", footer=False),
    Key("copy", "c", "copy", "Copy", "Copy the visible log", footer=False),
    Key("pager", "p", "pager", "Pager", "Open the full log in $PAGER", footer=False),
    Key("deps", "d", "deps", "Deps", "Dependency view and startup timeline"),
    Key("maximise", "m", "maximise", "Max", "Maximise the foreground pane", footer=False),
    Key("grow", "plus", "resize(5)", "Grow", "Grow the foreground pane", False, False),
    Key("shrink", "minus", "resize(-5)", "Shrink", "Shrink the foreground pane", False, False),
    Key("help", "question_mark", "help", "Help", "Help: every key", palette=False),
    Key(
        "quit",
        "q,ctrl+q,ctrl+c",
        "quit",
        "Quit",
        "Quit (orderly stop; again: kill now)",
        priority=True,
    ),
    *(
        Key(f"select-{i}", str(i), f"select({i})", f"#{i}", f"Select service #{i}", False, False)
        for i in range(1, 10)
    ),
)
BINDING_IDS: tuple[str, ...] = tuple(k.id for k in KEYS)

# The footer, narrowest first: these two always show (help, and the palette Textual adds);
# the other footer keys follow in the order of KEYS while they fit, whole.
FOOTER_ALWAYS = ("quit", "help")

# How Textual names keys -> how a person types them.
_DISPLAY = {"slash": "/", "question_mark": "?", "plus": "+", "minus": "-", "end": "End"}


def display(keys: str) -> str:
    """'q,ctrl+q' -> 'q, ctrl+q'; 'slash' -> '/'."""
    return ", ".join(_DISPLAY.get(k.strip(), k.strip()) for k in keys.split(","))


def markdown_table() -> str:
    """The README's key table (the select-N rows folded into one)."""
    rows = ["| key | id | action |", "|---|---|---|"]
    for k in KEYS:
        if k.id.startswith("select-"):
            if k.id == "select-1":
                rows.append("| `1`..`9` | `select-1`..`select-9` | Select a service by its row |")
            continue
        shown = " / ".join(f"`{x}`" for x in display(k.keys).split(", "))
        rows.append(f"| {shown} | `{k.id}` | {k.description} |")
    rows.append("| `ctrl+p` | | Command palette: every action, per service |")
    return "\n".join(rows)
