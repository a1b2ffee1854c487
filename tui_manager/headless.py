"""The non-TTY view: `HH:MM:SS name | line` for every line, the manager's own under `system`."""

from __future__ import annotations

import json
import os
import time
from typing import TextIO

from .core.events import Lifecycle, LogLines, Message, describe

# Bright, distinct ANSI colours for service names; `system` is always dim.
_PALETTE = ["36", "33", "35", "32", "34", "91", "96", "93", "95", "92", "94"]


def use_colour(stream: TextIO) -> bool:
    return stream.isatty() and "NO_COLOR" not in os.environ


class HeadlessPrinter:
    """A bus subscriber writing prefixed lines; one write per batch of lines."""

    def __init__(self, names: list[str], out: TextIO, colour: bool | None = None) -> None:
        self.out = out
        self.colour = use_colour(out) if colour is None else colour
        self.width = max(len(n) for n in [*names, "system"])
        self._prefix: dict[str, str] = {}
        for i, name in enumerate(["system", *names]):
            padded = name.ljust(self.width)
            code = "2" if name == "system" else _PALETTE[(i - 1) % len(_PALETTE)]
            self._prefix[name] = (
                f"\x1b[{code}m{padded} |\x1b[0m " if self.colour else f"{padded} | "
            )

    def prefix(self, name: str) -> str:
        if name not in self._prefix:
            self._prefix[name] = f"{name.ljust(self.width)} | "
        return self._prefix[name]

    def __call__(self, msg: Message) -> None:
        if isinstance(msg, LogLines):
            self.write(msg.service, msg.block, msg.ts)
        elif isinstance(msg, Lifecycle):
            self.write("system", describe(msg).encode() + b"\n", msg.ts)

    def write(self, name: str, block: bytes, ts: float) -> None:
        """Prefix every line of a block of whole lines: one C-level replace, no per-line work.
        The child's bytes pass through untouched (invalid UTF-8, ANSI, \\r included)."""
        head = (time.strftime("%H:%M:%S ", time.localtime(ts)) + self.prefix(name)).encode()
        data = head + block[:-1].replace(b"\n", b"\n" + head) + b"\n"
        buffer = getattr(self.out, "buffer", None)
        if buffer is not None:
            self.out.flush()
            buffer.write(data)
            buffer.flush()
        else:
            self.out.write(data.decode("utf-8", "replace"))
            self.out.flush()


class JsonPrinter:
    """`--log-format json`: one object per line for log shippers: ts, service, stream, line."""

    def __init__(self, names: list[str], out: TextIO, colour: bool | None = None) -> None:
        self.out = out

    def __call__(self, msg: Message) -> None:
        if isinstance(msg, LogLines):
            rows = [
                {"ts": msg.ts, "service": msg.service, "stream": msg.stream, "line": line}
                for line in msg.lines
            ]
        elif isinstance(msg, Lifecycle):
            rows = [
                {
                    "ts": msg.ts,
                    "service": "system",
                    "stream": "system",
                    "line": describe(msg),
                    "event": json.loads(msg.to_json()),
                }
            ]
        else:
            return
        self.out.write("".join(json.dumps(r) + "\n" for r in rows))
        self.out.flush()
