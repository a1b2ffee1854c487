"""The dashboard: services table, the selected service's live log, the pinned foreground pane.

It only renders an Engine (the in-process Supervisor, or a RemoteEngine over the socket): the
runner starts and stops things. Messages from the engine are buffered as they come and applied
once per frame (`FRAME`), so a service printing 100k lines/s costs one batched write per frame.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable
from functools import partial
from typing import Any

from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Container
from textual.driver import Driver
from textual.message import Message as UIMessage
from textual.screen import Screen
from textual.widgets import Header, Input

from ..base.columns import SAMPLE_EVERY
from ..base.keys import KEYS, display
from ..core.engine import Engine, EngineError, UnknownService
from ..core.events import Lifecycle, LogLines, Message, ShutdownStarted, StateChanged, describe
from ..core.stats import StatsSampler
from ..core.status import ServiceStatus
from . import triage
from .editing import open_in_pager
from .screens.shutdown import ShutdownScreen
from .toasts import toast
from .widgets.keys_footer import KeysFooter
from .widgets.log_pane import LogPane, RecentMessages
from .widgets.services_table import TROUBLE, ServicesTable

FRAME = 1 / 10
# Selecting a service renders this much of its history at once (more is a key away: `p`).
SHOW_LINES = 1000
# A pane renders at most this many new lines per frame: a flood shows its newest lines and a
# marker for the rest (all of it is on disk, `p`), so keys stay responsive.
FRAME_LINES = 120
ALL = "all services"


class Dashboard(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "autogpt-dev"
    # Keys are data (base/keys.py): ids make every one of them remappable with set_keymap.
    BINDINGS = [
        Binding(k.keys, k.action, k.label, show=k.footer, id=k.id, priority=k.priority)
        for k in KEYS
    ]

    def __init__(self, engine: Engine, dev: bool = False, attached: bool = False) -> None:
        super().__init__()
        self.engine = engine
        self.attached = attached
        self.dev = dev
        info = engine.info
        self.selected: str = next(iter(info.order), ALL)
        self.pending: list[Message] = []
        # Messages already in a pane's history (it was filled from the engine's ring, which
        # has them): not to be added to it again when they are flushed. Pane id -> ids.
        self._in_history: dict[str, set[int]] = {"log": set(), "fg": set()}
        self.merged = RecentMessages(SHOW_LINES)
        self._flush_armed = False
        rows, self._unsubscribe = engine.subscribe(self._arrive)  # cheap: all else waits
        self.rows: dict[str, ServiceStatus] = {r.name: r for r in rows}
        self.sampler = StatsSampler()
        self.stats: dict[str, Any] = {}
        self.fg_height = 40
        self.keymap: dict[str, str] = dict(info.keys)
        # The widgets, made once: every frame uses them, and a query per frame costs.
        self.table = ServicesTable(list(info.order), id="services")
        self.log_pane = LogPane(id="log")
        self.fg_pane = LogPane(id="fg")

    # -- layout & start ------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        info = self.engine.info
        yield Header(show_clock=False, icon="◆")
        self.table.border_title = info.name
        yield self.table
        with Container(id="panes"):
            yield self.log_pane
            self.fg_pane.border_title = f"★ {info.foreground} (foreground)"
            self.fg_pane.display = info.foreground is not None
            yield self.fg_pane
        yield Input(
            placeholder="search the log (enter: find, escape: cancel)",
            id="search",
            classes="hidden",
        )
        yield KeysFooter(self.keymap)

    def on_mount(self) -> None:
        info = self.engine.info
        mode = "  [dev mode]" if self.dev else "  [attached]" if self.attached else ""
        self.sub_title = os.path.basename(info.config_path) + mode
        if self.keymap:
            self.set_keymap(self.keymap)
        self._arm_flush()  # what came before the mount
        self.set_timer(0.1, self.sample_stats)
        if info.foreground:
            lines = self.engine.history(info.foreground, 1000)
            self._in_history["fg"] = self._pending_of(info.foreground)
            self.fg_pane.replace((info.foreground, ln) for ln in lines)
        self.show(self.selected)
        self.sync_table()
        self.table.focus()

    def get_driver_class(self) -> type[Driver]:
        from .driver import for_terminal

        return for_terminal(super().get_driver_class())

    def on_unmount(self) -> None:
        self._unsubscribe()

    class Repaint(UIMessage):
        """The terminal reads again after frames were dropped: draw everything anew."""

    def repaint_from_thread(self) -> None:
        self.post_message(self.Repaint())  # thread-safe

    def on_dashboard_repaint(self, _: Repaint) -> None:
        self.refresh(repaint=True, layout=True)

    # -- the per-frame flush -------------------------------------------------------------------
    # A frame's timer runs only when something arrived: an idle dashboard never wakes for it.
    class Arrived(UIMessage):
        """Messages are pending: flush them one frame from now."""

    def _arrive(self, msg: Message) -> None:
        self.pending.append(msg)
        if not self._flush_armed and self.is_running:
            self._flush_armed = True
            self.post_message(self.Arrived())  # (in the app's own context, thread-safe)

    def _arm_flush(self) -> None:
        if self.pending and not self._flush_armed:
            self._flush_armed = True
            self.set_timer(FRAME, self._frame)

    def on_dashboard_arrived(self, _: Arrived) -> None:
        self.set_timer(FRAME, self._frame)

    def _frame(self) -> None:
        self._flush_armed = False
        self.flush()
        self._arm_flush()  # (a message that came during the flush)

    def flush(self) -> None:
        if not self.pending or not self.log_pane.is_attached:  # (the app is closing)
            return
        batch = self.pending.copy()
        self.pending.clear()  # the same list: the engine's subscription appends to it
        logs: list[LogLines] = []
        rows_changed = False
        for msg in batch:
            if isinstance(msg, LogLines):
                logs.append(msg)
            elif isinstance(msg, StateChanged):
                self.rows[msg.service] = msg.status
                rows_changed = True
            elif isinstance(msg, Lifecycle):
                toast(self, msg)
                logs.append(LogLines.text("system", "system", [describe(msg)]))
            elif isinstance(msg, ShutdownStarted) and not self.attached:
                self.show_shutdown()
        self.merged.extend(logs)  # undecoded: only what a pane shows is ever decoded
        skip_log, skip_fg = self._in_history["log"], self._in_history["fg"]
        self._in_history = {"log": set(), "fg": set()}
        shown = logs if self.selected == ALL else [m for m in logs if m.service == self.selected]
        self.log_pane.append_newest([m for m in shown if id(m) not in skip_log], FRAME_LINES)
        if fg_name := self.engine.info.foreground:
            fg = [m for m in logs if m.service == fg_name and id(m) not in skip_fg]
            self.fg_pane.append_newest(fg, FRAME_LINES)
        if rows_changed:
            self.sync_table()

    def sync_table(self) -> None:
        if not self.table.is_attached:  # a late timer while the app closes
            return
        statuses = [self.rows[n] for n in self.engine.info.order if n in self.rows]
        with self.batch_update():
            self.table.sync(statuses, self.stats)
        if self.selected in self.rows:
            title = self._log_title(self.selected)
            if title != self.log_pane.border_title:
                self.log_pane.border_title = title
        ready = sum(s.state == "ready" for s in statuses)
        title = f"{self.engine.info.name}: {ready}/{len(statuses)} ready"
        if title != self.title:  # a header repaint only when it says something new
            self.title = title
        if isinstance(self.screen, ShutdownScreen):
            self.screen.rows = statuses

    async def sample_stats(self) -> None:
        pids = {name: row.pid for name, row in self.rows.items()}
        self.stats = await asyncio.to_thread(self.sampler.sample, pids)  # off the UI thread
        self.sync_table()
        self.set_timer(SAMPLE_EVERY, self.sample_stats)  # re-armed after the sample: no pile-up

    def show_shutdown(self) -> None:
        if not isinstance(self.screen, ShutdownScreen):
            self.push_screen(ShutdownScreen())
            self.call_after_refresh(self.sync_table)

    # -- selection -------------------------------------------------------------------------------
    def _pending_of(self, name: str) -> set[int]:
        """The messages of `name` published but not flushed yet: the engine's history, read
        now, has them already (both engines keep their ring before they publish)."""
        return {id(m) for m in self.pending if isinstance(m, LogLines) and m.service == name}

    def show(self, name: str) -> None:
        self.selected = name
        pane = self.log_pane
        if name == ALL:  # (from flushed messages only: nothing pending is in it)
            pane.show_lines("all services", True, self.merged.newest(SHOW_LINES))
        else:
            self._in_history["log"] = self._pending_of(name)
            lines = ((name, ln) for ln in self.engine.history(name, SHOW_LINES))
            pane.show_lines(self._log_title(name), False, lines)

    def _log_title(self, name: str) -> str:
        """`api log`, and why it is in trouble in full (the table's `why` may be cut)."""
        row = self.rows.get(name)
        if row is not None and row.state in TROUBLE and row.reason:
            return f"{name} log · {row.state}: {row.reason}"
        return f"{name} log"

    def on_services_table_row_highlighted(self, event: ServicesTable.RowHighlighted) -> None:
        if event.name != self.selected:
            self.show(event.name)

    def target(self) -> str | None:
        """The service an action is for: the table's cursor as it is now. Every key typed
        before this one has moved it already, whereas the message that follows a move (and
        changes the log pane) may still be queued: keys act in the order they were typed."""
        name = self.table.selected()
        if name is None:
            self.notify("no service to act on", severity="warning")
        return name

    # -- actions ---------------------------------------------------------------------------------
    def _act(self, verb: str, names: Iterable[str]) -> None:
        method = {
            "restart": self.engine.restart_service,
            "stop": self.engine.stop_service,
            "start": self.engine.start_service,
        }[verb]

        async def act(name: str) -> None:
            try:
                await method(name, "user")
            except (EngineError, UnknownService, OSError) as e:
                self.notify(f"{verb} {name}: {e}", title="refused", severity="error")

        for name in names:
            self.run_worker(act(name), group="actions", exit_on_error=False)

    def action_restart(self) -> None:
        if name := self.target():
            self._act("restart", [name])

    def action_stop(self) -> None:
        if name := self.target():
            self._act("stop", [name])

    def action_start(self) -> None:
        if name := self.target():
            self._act("start", [name])

    def action_open_error(self) -> None:
        if name := self.target():
            triage.open_error(self, name)

    def action_errors(self) -> None:
        triage.show_errors(self)

    def on_log_pane_open_file(self, event: LogPane.OpenFile) -> None:
        triage.open_frame(self, event.path, event.line)

    def action_restart_all(self) -> None:
        self._act("restart", self.engine.info.order)

    def action_select(self, index: int) -> None:
        order = self.engine.info.order
        if 0 < index <= len(order):
            self.table.select(order[index - 1])

    def action_show_all(self) -> None:
        self.show(ALL)

    def action_search(self) -> None:
        box = self.query_one("#search", Input)
        box.remove_class("hidden")
        box.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        pane = self.log_pane
        found = pane.search(event.value)
        event.input.add_class("hidden")
        pane.focus()
        self.notify(f"{found} matches for {event.value!r}" if event.value else "search cleared")

    def on_key(self, event: Any) -> None:
        box = self.query_one("#search", Input)
        if event.key == "escape" and box.has_focus:
            box.add_class("hidden")
            self.table.focus()

    def action_next_match(self, step: int) -> None:
        self.log_pane.next_match(step)

    def action_follow(self) -> None:
        for pane in self.query(LogPane):
            pane.follow = True

    def action_wrap(self) -> None:
        for pane in self.query(LogPane):
            pane.wrap = not pane.wrap

    def action_timestamps(self) -> None:
        for pane in self.query(LogPane):
            pane.timestamps = not pane.timestamps

    def action_copy(self) -> None:
        text = self.log_pane.visible_text()
        self.copy_to_clipboard(text)  # OSC 52: works over ssh and in tmux with set-clipboard
        self.notify(f"copied {text.count(chr(10)) + bool(text)} lines to the clipboard")

    def action_pager(self) -> None:
        if name := self.target():
            open_in_pager(self, self.engine.log_path(name))

    def action_deps(self) -> None:
        from .screens.deps import DepsScreen

        self.push_screen(DepsScreen(list(self.rows.values())))

    def action_help(self) -> None:
        from .screens.help import HelpScreen

        self.push_screen(HelpScreen(self.active_bindings_table()))

    def active_bindings_table(self) -> list[tuple[str, str]]:
        """(keys, description) of every binding, after the user's keymap."""
        return [(self.keymap.get(k.id, k.keys), k.description) for k in KEYS]

    def action_maximise(self) -> None:
        fg = self.fg_pane
        fg.toggle_class("maximised")
        self.log_pane.set_class(fg.has_class("maximised"), "hidden")

    def action_resize(self, delta: int) -> None:
        self.fg_height = max(10, min(90, self.fg_height + delta))
        self.fg_pane.styles.height = f"{self.fg_height}%"

    async def action_quit(self) -> None:
        if self.attached:  # detach: the stack goes on running
            self.engine.request_shutdown("detach")
        elif self.engine.shutting_down:
            self.engine.force_kill()  # the second quit: kill everything now
        else:
            self.engine.request_shutdown("quit")

    # -- command palette: every action of KEYS, and per service ---------------------------------
    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for name in self.engine.info.order:
            for verb in ("restart", "stop", "start"):
                yield SystemCommand(
                    f"{verb.capitalize()} {name}",
                    f"{verb} the {name} service",
                    partial(self._act, verb, [name]),
                )
            yield SystemCommand(
                f"Show {name} log",
                f"select {name}",
                partial(self.table.select, name),
            )
        for k in KEYS:
            if k.palette:  # the help line names its key (not the title once more)
                keys = display(self.keymap.get(k.id, k.keys))
                yield SystemCommand(
                    k.description, f"key: {keys}", partial(self.run_action, k.action)
                )
