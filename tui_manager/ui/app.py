"""The dashboard: services table, the selected service's live log, the pinned foreground pane.

It is a subscriber of the engine's bus: messages are buffered as they come and applied once
per frame (`FRAME`), so a service printing 100k lines/s costs one batched write per frame.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import signal
import subprocess
from collections import deque
from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import Any

from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Container
from textual.screen import Screen
from textual.widgets import Footer, Header, Input

from ..config.load import Config
from ..control.server import ControlServer
from ..control.statedir import StateDir
from ..core.events import Lifecycle, LogLines, Message, StateChanged, describe
from ..core.stats import StatsSampler
from ..core.supervisor import Supervisor
from .screens.deps import DepsScreen
from .screens.help import HelpScreen
from .screens.shutdown import ShutdownScreen
from .screens.viewer import LogViewer
from .widgets.log_pane import MAX_LINES, LogPane, newest_lines
from .widgets.services_table import ServicesTable

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
    # Keys are data: every binding has an id, so `set_keymap` can remap any of them.
    BINDINGS = [
        Binding("r", "restart", "Restart", id="restart"),
        Binding("s", "stop", "Stop", id="stop"),
        Binding("a,S", "start", "Start", id="start"),
        Binding("R", "restart_all", "Restart all", id="restart-all"),
        Binding("0", "show_all", "All logs", id="show-all"),
        Binding("slash", "search", "Search", id="search"),
        Binding("n", "next_match(1)", "Next match", show=False, id="next-match"),
        Binding("N", "next_match(-1)", "Previous match", show=False, id="prev-match"),
        Binding("f,end", "follow", "Follow", id="follow"),
        Binding("w", "wrap", "Wrap", id="wrap"),
        Binding("t", "timestamps", "Timestamps", show=False, id="timestamps"),
        Binding("c", "copy", "Copy log", show=False, id="copy"),
        Binding("p", "pager", "Pager", show=False, id="pager"),
        Binding("d", "deps", "Deps", id="deps"),
        Binding("m", "maximise", "Max fg", show=False, id="maximise"),
        Binding("plus", "resize(5)", "Grow fg", show=False, id="grow"),
        Binding("minus", "resize(-5)", "Shrink fg", show=False, id="shrink"),
        Binding("question_mark", "help", "Help", id="help"),
        Binding("q,ctrl+q", "quit", "Quit", id="quit", priority=True),
        *(
            Binding(str(i), f"select({i})", f"Select #{i}", show=False, id=f"select-{i}")
            for i in range(1, 10)
        ),
    ]

    def __init__(
        self,
        sup: Supervisor,
        state: StateDir | None = None,
        dev: bool = False,
        attached: bool = False,
    ) -> None:
        super().__init__()
        # `sup` is the engine itself, or (attached) a RemoteSupervisor speaking to it over the
        # control socket: the dashboard uses the same handful of methods of either.
        self.sup = sup
        self.attached = attached
        self.state = state
        self.dev = dev
        self.selected: str = next(iter(sup.order), ALL)
        self.pending: list[Message] = []
        self.merged: deque[LogLines] = deque(maxlen=MAX_LINES)
        self.sampler = StatsSampler()
        self.stats: dict[str, Any] = {}
        self.fg_height = 40
        self.exit_code: int | None = None
        self._shutdown_screen: ShutdownScreen | None = None

    # -- layout & start ------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="◆")
        table = ServicesTable(list(self.sup.config.services), id="services")
        table.border_title = self.sup.config.manager.name
        yield table
        with Container(id="panes"):
            yield LogPane(id="log", merged=False)
            fg = LogPane(id="fg")
            fg.border_title = f"★ {self.sup.foreground} (foreground)"
            yield fg
        yield Input(
            placeholder="search the log (enter: find, escape: cancel)",
            id="search",
            classes="hidden",
        )
        yield Footer()

    def on_mount(self) -> None:
        mode = "  [dev mode]" if self.dev else "  [attached]" if self.attached else ""
        self.sub_title = self.sup.config.path.name + mode
        self.sup.bus.subscribe(self.on_engine_message)
        self.set_interval(FRAME, self.flush)
        self.run_worker(self.engine(), name="engine", exit_on_error=True)
        self.set_timer(0.1, self.sample_stats)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(sig, self.sup.request_shutdown, sig.name)
        loop.add_signal_handler(signal.SIGINT, lambda: self.call_later(self.action_quit))
        self.show(self.selected)
        self.query_one(ServicesTable).focus()

    def setup_panes(self) -> None:
        """Once the engine is known (an attached one only after connecting)."""
        fg = self.query_one("#fg", LogPane)
        fg.display = self.sup.foreground is not None
        fg.border_title = f"★ {self.sup.foreground} (foreground)"
        if self.selected == ALL and self.sup.order:
            self.show(self.sup.order[0])
        if self.sup.foreground:
            fg.replace(
                (self.sup.foreground, ln) for ln in self.sup.logs(self.sup.foreground, SHOW_LINES)
            )

    async def engine(self) -> None:
        """Run the supervisor (plus control socket and dev watcher); exit with its code."""
        await self.sup.start()
        self.setup_panes()
        self.sync_table()
        server = ControlServer(self.sup, self.state.socket_path()) if self.state else None
        if server:
            await server.start()
        reloader = None
        if self.dev:
            from ..core.reload import Reloader

            reloader = Reloader(self.sup)
            await reloader.start()
        self.exit_code = await self.sup.wait()
        if reloader:
            await reloader.stop()
        if server:
            await server.close()
        self.flush()
        self.exit(self.exit_code)

    def on_engine_message(self, msg: Message) -> None:
        self.pending.append(msg)  # cheap: everything else waits for the next frame

    # -- the per-frame flush -------------------------------------------------------------------
    def flush(self) -> None:
        if not self.pending:
            return
        batch, self.pending = self.pending, []
        logs: list[LogLines] = []
        states_changed = False
        for msg in batch:
            if isinstance(msg, LogLines):
                logs.append(msg)
            elif isinstance(msg, StateChanged):
                states_changed = True
            elif isinstance(msg, Lifecycle):
                self.toast(msg)
                logs.append(LogLines.text("system", "system", [describe(msg)]))
        self.merged.extend(logs)  # undecoded: only what a pane shows is ever decoded
        log = self.query_one("#log", LogPane)
        shown = logs if self.selected == ALL else [m for m in logs if m.service == self.selected]
        log.append_newest(shown, FRAME_LINES)
        if self.sup.foreground:
            fg = [m for m in logs if m.service == self.sup.foreground]
            self.query_one("#fg", LogPane).append_newest(fg, FRAME_LINES)
        if states_changed:
            self.sync_table()

    def sync_table(self) -> None:
        statuses = self.sup.snapshot()
        with self.batch_update():
            self.query_one(ServicesTable).sync(statuses, self.stats)
        ready = sum(s.state == "ready" for s in statuses)
        title = f"{self.sup.config.manager.name}: {ready}/{len(statuses)} ready"
        if title != self.title:  # a header repaint only when it says something new
            self.title = title
        if self._shutdown_screen is not None:
            self._shutdown_screen.update(statuses)

    async def sample_stats(self) -> None:
        pids = {s.name: s.pid for s in self.sup.snapshot()}
        self.stats = await asyncio.to_thread(self.sampler.sample, pids)  # off the UI thread
        self.sync_table()
        self.set_timer(1.0, self.sample_stats)  # re-armed after the sample, never piling up

    def toast(self, ev: Lifecycle) -> None:
        svc = ev.service
        if (
            ev.event == "exit"
            and svc
            and not self.sup.services[svc].stop_requested
            and (ev.extra.get("code") not in (0, None) or ev.extra.get("signal"))
        ):
            self.notify(describe(ev), title="crashed", severity="warning")
        elif ev.event == "failed" and svc:
            tail = "\n".join(ln.text[:120] for ln in self.sup.logs(svc, 3))
            self.notify(
                f"{ev.extra.get('reason')}\n{tail}".strip(),
                title=f"{svc} failed",
                severity="error",
                timeout=10,
            )
        elif ev.event in ("unhealthy", "reload"):
            self.notify(
                describe(ev),
                title=ev.event,
                severity="warning" if ev.event == "unhealthy" else "information",
            )

    # -- selection -------------------------------------------------------------------------------
    def show(self, name: str) -> None:
        self.selected = name
        pane = self.query_one("#log", LogPane)
        pane.merged = name == ALL
        pane.border_title = "all services" if name == ALL else f"{name} log"
        if name == ALL:
            pane.replace(newest_lines(list(self.merged), SHOW_LINES))
        else:
            pane.replace((name, ln) for ln in self.sup.logs(name, SHOW_LINES))

    def on_data_table_row_highlighted(self, event: ServicesTable.RowHighlighted) -> None:
        if event.data_table.id == "services" and event.row_key.value != self.selected:
            self.show(str(event.row_key.value))

    def target(self) -> str | None:
        name = self.selected if self.selected != ALL else None
        if name is None:
            self.notify("select a service first (1-9 or the table)", severity="warning")
        return name

    # -- actions ---------------------------------------------------------------------------------
    def _act(self, verb: str, names: Iterable[str]) -> None:
        method = {
            "restart": self.sup.restart_service,
            "stop": self.sup.stop_service,
            "start": self.sup.start_service,
        }[verb]
        for name in names:
            self.run_worker(method(name, "user"), group="actions", exit_on_error=False)

    def action_restart(self) -> None:
        if name := self.target():
            self._act("restart", [name])

    def action_stop(self) -> None:
        if name := self.target():
            self._act("stop", [name])

    def action_start(self) -> None:
        if name := self.target():
            self._act("start", [name])

    def action_restart_all(self) -> None:
        self._act("restart", self.sup.order)

    def action_select(self, index: int) -> None:
        if 0 < index <= len(self.sup.order):
            self.query_one(ServicesTable).select(self.sup.order[index - 1])

    def action_show_all(self) -> None:
        self.show(ALL)

    def action_search(self) -> None:
        box = self.query_one("#search", Input)
        box.remove_class("hidden")
        box.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        pane = self.query_one("#log", LogPane)
        found = pane.search(event.value)
        event.input.add_class("hidden")
        pane.focus()
        self.notify(f"{found} matches for {event.value!r}" if event.value else "search cleared")

    def on_key(self, event: Any) -> None:
        box = self.query_one("#search", Input)
        if event.key == "escape" and box.has_focus:
            box.add_class("hidden")
            self.query_one(ServicesTable).focus()

    def action_next_match(self, step: int) -> None:
        self.query_one("#log", LogPane).next_match(step)

    def action_follow(self) -> None:
        self.query_one("#log", LogPane).set_follow(True)
        self.query_one("#fg", LogPane).set_follow(True)

    def action_wrap(self) -> None:
        for pane in self.query(LogPane):
            pane.wrap = not pane.wrap
            pane.rerender()

    def action_timestamps(self) -> None:
        for pane in self.query(LogPane):
            pane.timestamps = not pane.timestamps
            pane.rerender()

    def action_copy(self) -> None:
        text = self.query_one("#log", LogPane).visible_text()
        self.copy_to_clipboard(text)  # OSC 52: works over ssh and in tmux with set-clipboard
        self.notify(f"copied {text.count(chr(10)) + bool(text)} lines to the clipboard")

    def action_pager(self) -> None:
        if not (name := self.target()):
            return
        path = Path(self.sup.log_path(name))
        pager = shlex.split(os.environ.get("PAGER", "less -R"))
        try:
            with self.suspend():
                subprocess.run([*pager, str(path)], check=False)
        except Exception:  # no terminal to hand over (web, tests): the built-in viewer
            self.push_screen(LogViewer(path))

    def action_deps(self) -> None:
        self.push_screen(DepsScreen(self.sup.snapshot()))

    def action_help(self) -> None:
        self.push_screen(HelpScreen(list(self.BINDINGS)))  # type: ignore[arg-type]

    def action_maximise(self) -> None:
        fg = self.query_one("#fg", LogPane)
        log = self.query_one("#log", LogPane)
        fg.toggle_class("maximised")
        log.set_class(fg.has_class("maximised"), "hidden")

    def action_resize(self, delta: int) -> None:
        self.fg_height = max(10, min(90, self.fg_height + delta))
        self.query_one("#fg", LogPane).styles.height = f"{self.fg_height}%"

    async def action_quit(self) -> None:
        if self.attached:  # detach: the stack goes on running
            self.sup.request_shutdown("detach")
            return
        if self.sup.shutting_down:
            self.sup.force_kill()  # the second quit: kill everything now
            return
        self._shutdown_screen = ShutdownScreen()
        await self.push_screen(self._shutdown_screen)
        self.sup.request_shutdown("quit")
        self.sync_table()

    # -- command palette: every action, per service --------------------------------------------
    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for name in self.sup.order:
            for verb in ("restart", "stop", "start"):
                yield SystemCommand(
                    f"{verb.capitalize()} {name}",
                    f"{verb} the {name} service",
                    partial(self._act, verb, [name]),
                )
            yield SystemCommand(
                f"Show {name} log",
                f"select {name}",
                partial(self.query_one(ServicesTable).select, name),
            )
        for title, action in [
            ("Restart all services", self.action_restart_all),
            ("Show all services' logs", self.action_show_all),
            ("Dependency view", self.action_deps),
            ("Toggle wrap", self.action_wrap),
            ("Toggle timestamps", self.action_timestamps),
            ("Copy the visible log", self.action_copy),
            ("Open the full log in the pager", self.action_pager),
            ("Maximise the foreground pane", self.action_maximise),
        ]:
            yield SystemCommand(title, title, action)


def run_attached(config: Config) -> int:
    """`autogpt-dev attach`: the dashboard of a stack running in another process."""
    from ..control.remote import RemoteSupervisor

    app = Dashboard(RemoteSupervisor(config), attached=True)  # type: ignore[arg-type]
    app.run()
    return 0


def run_dashboard(
    config: Config, only: Iterable[str] = (), exclude: Iterable[str] = (), dev: bool = False
) -> int:
    state = StateDir(config.state_dir)
    state.acquire()
    try:
        app = Dashboard(Supervisor(config, only, exclude), state, dev)
        code = app.run()
        if not app.sup.finished:  # the UI died on its own: never leave the children behind
            app.sup.force_kill()
            return 1
        return code if code is not None else (app.exit_code or 0)
    finally:
        state.release()
