"""The non-TTY view: `HH:MM:SS name | line` for every line, the manager's own under `system`.
Output goes through a BoundedWriter, so a paused or closed stdout never stalls the engine."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from typing import BinaryIO

from .core.engine import Engine
from .core.events import Lifecycle, LogLines, Message, describe
from .output import BoundedWriter

# Bright, distinct ANSI colours for service names; `system` is always dim.
_PALETTE = ["36", "33", "35", "32", "34", "91", "96", "93", "95", "92", "94"]


def use_colour(fd: int) -> bool:
    return os.isatty(fd) and "NO_COLOR" not in os.environ


class TextFormat:
    """Prefixes every line of a block of whole lines: one C-level replace, no per-line work.
    The child's bytes pass through untouched (invalid UTF-8, ANSI, \\r included)."""

    def __init__(self, names: list[str], colour: bool) -> None:
        self.width = max(len(n) for n in [*names, "system"])
        self._prefix: dict[str, str] = {}
        for i, name in enumerate(["system", *names]):
            padded = name.ljust(self.width)
            code = "2" if name == "system" else _PALETTE[(i - 1) % len(_PALETTE)]
            self._prefix[name] = f"\x1b[{code}m{padded} |\x1b[0m " if colour else f"{padded} | "

    def prefix(self, name: str) -> str:
        if name not in self._prefix:
            self._prefix[name] = f"{name.ljust(self.width)} | "
        return self._prefix[name]

    def __call__(self, msg: Message) -> bytes:
        if isinstance(msg, LogLines):
            name, block, ts = msg.service, msg.block, msg.ts
        elif isinstance(msg, Lifecycle):
            name, block, ts = "system", describe(msg).encode() + b"\n", msg.ts
        else:
            return b""
        head = (time.strftime("%H:%M:%S ", time.localtime(ts)) + self.prefix(name)).encode()
        # One replace and one join: a flood's block is a MiB, so every copy counts.
        body = block.replace(b"\n", b"\n" + head)  # ends in "\n" + head: cut that head off
        return b"".join((head, memoryview(body)[: -len(head)]))


class JsonFormat:
    """`--log-format json`: one object per line for log shippers: ts, service, stream, line."""

    def __init__(self, names: list[str], colour: bool) -> None:
        pass

    def __call__(self, msg: Message) -> bytes:
        if isinstance(msg, LogLines):
            # The fields but the line are the same for the whole block: encoded once.
            head = (
                f'{{"ts": {json.dumps(msg.ts)}, "service": {json.dumps(msg.service)}, '
                f'"stream": {json.dumps(msg.stream)}, "line": '
            )
            dumps = json.dumps
            return "".join([f"{head}{dumps(line)}}}\n" for line in msg.lines]).encode()
        if isinstance(msg, Lifecycle):
            event = json.loads(msg.to_json())
            row = {
                "ts": msg.ts,
                "service": "system",
                "stream": "system",
                "line": describe(msg),
                "event": event,
            }
            return (json.dumps(row) + "\n").encode()
        return b""


def _fileno(out: BinaryIO | None) -> int:
    """Our stdout's fd; 1 when sys.stdout is not a real file (pytest, an IDE replaced it)."""
    try:
        return (out or sys.stdout).fileno()
    except (AttributeError, OSError, ValueError):
        return 1


class HeadlessView:
    """Prints the engine's messages to a file descriptor (stdout by default)."""

    def __init__(self, json_lines: bool = False, out: BinaryIO | int | None = None) -> None:
        self.fd = out if isinstance(out, int) else _fileno(out)
        self.json_lines = json_lines
        self.writer: BoundedWriter | None = None
        self.engine: Engine | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def attach(self, engine: Engine) -> None:
        """Subscribe before the engine starts, so the first line is printed too."""
        self.engine = engine
        self._loop = asyncio.get_running_loop()
        fmt_cls = JsonFormat if self.json_lines else TextFormat
        fmt = fmt_cls(list(engine.info.order), use_colour(self.fd))
        self.writer = BoundedWriter(self.fd, on_closed=self._stdout_closed)
        writer = self.writer
        engine.subscribe(lambda msg: writer.write(fmt(msg)))

    def _stdout_closed(self) -> None:
        # Runs on the writer thread: hand the stop to the engine's loop.
        engine, loop = self.engine, self._loop
        if engine is not None and loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(engine.request_shutdown, "stdout closed")

    async def run(self) -> None:
        assert self.engine is not None
        await self.engine.wait()

    def stop(self) -> None:
        if self.writer is None:
            return
        self.writer.close(timeout=1.0)
        if self.writer.closed:  # nobody reads us: nothing at exit may write (or complain) there
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self.fd)
            os.close(devnull)
