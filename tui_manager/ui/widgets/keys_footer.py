"""The footer: the keys that fit the width, whole, in the order of base/keys.py; `? Help` and
`^p palette` always (Textual's own footer cuts a key in half at 80 columns and can lose both).
A key is clickable, as in Textual's footer."""

from __future__ import annotations

from textual.app import RenderResult
from textual.content import Content
from textual.markup import escape
from textual.widget import Widget

from ...base.keys import FOOTER_ALWAYS, KEYS, display

PALETTE = ("^p", "palette", "app.command_palette")


class KeysFooter(Widget):
    DEFAULT_CSS = """
    KeysFooter {
        dock: bottom;
        height: 1;
        background: $footer-background;
        color: $footer-foreground;
    }
    """

    def __init__(self, keymap: dict[str, str], id: str | None = None) -> None:
        super().__init__(id=id)
        self.keymap = keymap

    def items(self) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
        """(optional, always): (key as typed, label, action) of each footer key."""
        optional: list[tuple[str, str, str]] = []
        always: list[tuple[str, str, str]] = []
        for k in KEYS:
            if not k.footer:
                continue
            first = display(self.keymap.get(k.id, k.keys)).split(", ")[0]
            item = (first, k.label, f"app.{k.action}")
            (always if k.id in FOOTER_ALWAYS else optional).append(item)
        return optional, [*always, PALETTE]

    def render(self) -> RenderResult:
        optional, always = self.items()
        width = self.size.width
        cost = sum(_width(i) for i in always)
        shown = []
        for item in optional:
            if cost + _width(item) > width:
                break  # (the rest stay off: a key is never cut in half)
            shown.append(item)
            cost += _width(item)
        parts = [_markup(i) for i in shown]
        gap = max(0, width - cost)
        right = "".join(_markup(i) for i in always)
        return Content.from_markup("".join(parts) + " " * gap + right)


def _width(item: tuple[str, str, str]) -> int:
    key, label, _ = item
    return len(key) + len(label) + 3  # " key label "


def _markup(item: tuple[str, str, str]) -> str:
    key, label, action = item
    return f"[@click={action}] [b $footer-key-foreground]{escape(key)}[/] {escape(label)} [/]"
