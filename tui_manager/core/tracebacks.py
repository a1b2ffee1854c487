"""Python tracebacks in a service's output, read the way Python prints them (3.11 to 3.13):
chained exceptions ("During handling...", "The above exception..."), exception groups,
SyntaxError with its caret and no "Traceback" header, "[Previous line repeated N more times]",
3.13's colours, and other log lines in between. Standard library only.

One reader per output stream, fed the blocks the service writes. A block without the marks of
a traceback costs one `in` test: a flood pays nothing here. Every view (the table, toasts, the
headless line, `status`, the `exit` event, `autogpt-dev errors`, MCP) gets its error from here.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, NamedTuple

from .logs import decode_lines

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+)(?:, in (?P<func>.+))?$')
EXCEPTION = re.compile(r"^(?P<type>[A-Za-z_][\w.]*)(?:: (?P<msg>.*))?$")
GROUP_LINE = re.compile(r"^\s*[|+]")  # the drawing an exception group is printed in
GROUP_CONTENT = re.compile(r"^\s*\| ?(?P<rest>.*)$")
START = "Traceback (most recent call last):"
GROUP_START = "Exception Group Traceback (most recent call last):"
CHAINS = (
    "During handling of the above exception, another exception occurred:",
    "The above exception was the direct cause of the following exception:",
)
LOG_LEVELS = {"DEBUG", "INFO", "WARNING", "WARN", "ERROR", "CRITICAL", "FATAL", "TRACE"}
# What a block must hold to be read line by line: a traceback's header (an exception group's
# "Exception Group Traceback (most recent call last)" holds it too) or a frame line (a
# SyntaxError at start-up prints frames without a header). Each is a scan of the whole block.
MARKS = (b"Traceback (most recent call last)", b'  File "')
FOLLOWING = 20  # lines after the exception line within which the output still "ends" in it


class Frame(NamedTuple):
    file: str
    line: int
    function: str | None  # None: a SyntaxError's location


class PyError(NamedTuple):
    type: str
    message: str
    frames: tuple[Frame, ...]
    chain: tuple[str, ...] = ()  # the exceptions before it in the chain, "Type: message"

    def project_frame(self, root: Path, cwd: Path | None = None) -> Frame | None:
        """The innermost frame in the project's own code (not site-packages, the standard
        library, a virtualenv or autogpt-dev itself), its file relative to `root`."""
        for f in reversed(self.frames):
            if f.file.startswith("<"):
                continue
            path = Path(f.file)
            if not path.is_absolute():
                path = (cwd or root) / path
            if ours(path, root):
                return f._replace(file=path.relative_to(root).as_posix())
        return None


def ours(path: Path, root: Path) -> bool:
    if not path.is_relative_to(root):
        return False
    parts = path.relative_to(root).parts
    outside = {"site-packages", "dist-packages", ".venv", "venv", ".tox", ".nox"}
    return not outside.intersection(parts) and "tui_manager" not in parts[:1]


def record(err: PyError, root: Path, cwd: Path | None = None) -> dict[str, Any]:
    """The JSON-able error record every view shows (`status`'s last_error, the exit event)."""
    where = err.project_frame(root, cwd)
    return {
        "type": err.type,
        "message": err.message,
        "file": where.file if where else None,
        "line": where.line if where else None,
        "function": where.function if where else None,
        "chain": list(err.chain),
    }


def summary(rec: dict[str, Any]) -> str:
    """`KeyError: 'missing_setting' · app/api.py:5` (the table's `why`)."""
    head = f"{rec['type']}: {rec['message']}" if rec.get("message") else str(rec["type"])
    return f"{head} · {rec['file']}:{rec['line']}" if rec.get("file") else head


def sentence(service: str, rec: dict[str, Any]) -> str:
    """`api crashed: KeyError: 'missing_setting' at app/api.py:5` (toasts, headless)."""
    head = f"{rec['type']}: {rec['message']}" if rec.get("message") else str(rec["type"])
    where = f" at {rec['file']}:{rec['line']}" if rec.get("file") else ""
    return f"{service} crashed: {head}{where}"


class TracebackReader:
    """The tracebacks of one stream, as its lines arrive."""

    def __init__(self) -> None:
        self.errors: list[PyError] = []  # every one seen, oldest first
        self.after = 0  # lines since the last one's exception line
        self._state = "idle"  # idle | frames | exception | syntax | group
        self._frames: list[Frame] = []
        self._chain: list[str] = []
        self._pending: PyError | None = None  # complete unless a chained one follows
        self._group: PyError | None = None

    def feed_block(self, block: bytes) -> None:
        if self._state == "idle" and self._pending is None and not any(m in block for m in MARKS):
            if self.after <= FOLLOWING:  # beyond it only "more than FOLLOWING" matters
                self.after += block.count(b"\n")
            return
        for line in decode_lines(block):
            self.feed(line)

    def feed(self, raw: str) -> None:
        line = ANSI.sub("", raw).rstrip("\r")
        self.after += 1
        if self._state == "group":
            self._group_line(line)
        elif self._state == "syntax":
            self._syntax_line(line)
        elif self._state == "frames":
            self._frames_line(line)
        elif self._pending is not None:
            self._after_exception(line)
        else:
            self._idle(line)

    def flush(self) -> None:
        """The stream ended: what is complete is complete."""
        if self._state == "group" and self._group is not None:
            self._emit(self._group)
        elif self._pending is not None:
            self._emit(self._pending)
        self._reset()

    # ---- the states -----------------------------------------------------------------------
    def _idle(self, line: str) -> None:
        text = line.strip()
        if text == START:
            self._state, self._frames = "frames", []
        elif text.startswith("+ ") and text[2:] == GROUP_START:
            self._state, self._frames, self._group = "group", [], None
        elif (m := FRAME.match(line)) and m["func"] is None and line.startswith("  File"):
            self._state, self._frames = "syntax", [_frame(m)]  # a SyntaxError, no header

    def _frames_line(self, line: str) -> None:
        if (m := FRAME.match(line)) is not None:
            self._frames.append(_frame(m))
        elif not line.startswith((" ", "\t")) and (exc := _exception(line)) is not None:
            self._pending = PyError(exc[0], exc[1], tuple(self._frames), tuple(self._chain))
            self._state, self.after = "idle", 0
        # else: source lines, carets, "[Previous line repeated N more times]", or a line of
        # another writer between two of ours: none of them ends the traceback

    def _after_exception(self, line: str) -> None:
        text = line.strip()
        if not text:
            return
        if text in CHAINS and self._pending is not None:
            self._chain.append(f"{self._pending.type}: {self._pending.message}".rstrip(": "))
            self._pending = None
            return
        if text == START and self._chain:
            self._state, self._frames = "frames", []
            return
        assert self._pending is not None
        self._emit(self._pending)  # anything else: it was the last of its chain
        self._reset()
        self._idle(line)

    def _syntax_line(self, line: str) -> None:
        if line.startswith((" ", "\t")):
            return  # the source line and its caret
        exc = _exception(line)
        if exc is not None:
            self._pending = PyError(exc[0], exc[1], tuple(self._frames))
            self.after = 0
        self._state = "idle"

    def _group_line(self, line: str) -> None:
        if not GROUP_LINE.match(line):  # the drawing ended: so did the group
            if self._group is not None:
                self._emit(self._group)
            self._reset()
            self._idle(line)
            return
        content = GROUP_CONTENT.match(line)
        if content is None or self._group is not None:
            return  # a separator, or a sub-exception's lines (the group's own line came)
        rest = content["rest"]
        if (m := FRAME.match(rest)) is not None:
            self._frames.append(_frame(m))
        elif not rest.startswith((" ", "\t")) and (exc := _exception(rest)) is not None:
            self._group = PyError(exc[0], exc[1], tuple(self._frames), tuple(self._chain))
            self.after = 0

    def _emit(self, err: PyError) -> None:
        self.errors.append(err)
        del self.errors[:-50]  # the recent ones are what anyone asks for

    def _reset(self) -> None:
        self._state, self._frames, self._chain = "idle", [], []
        self._pending = self._group = None


def _frame(m: re.Match[str]) -> Frame:
    return Frame(m["file"], int(m["line"]), m["func"])


def _exception(line: str) -> tuple[str, str] | None:
    m = EXCEPTION.match(line)
    if m is None or m["type"] in LOG_LEVELS:
        return None
    return m["type"], m["msg"] or ""


def ends_in_traceback(readers: list[TracebackReader]) -> PyError | None:
    """The error a service's output ended with, if it ended with one (within FOLLOWING lines
    after the exception line, on whichever stream)."""
    candidates = [r for r in readers if r.errors and r.after <= FOLLOWING]
    if not candidates:
        return None
    return min(candidates, key=lambda r: r.after).errors[-1]


def grouped(events: list[dict[str, Any]], service: str | None = None) -> list[dict[str, Any]]:
    """`exit` events that carry an error, one row per service and error (type, file, line),
    with a count and when it was first and last seen; the most recently seen first."""
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    for ev in events:
        err = ev.get("error")
        if ev.get("event") != "exit" or not isinstance(err, dict):
            continue
        if service is not None and ev.get("service") != service:
            continue
        key = (ev.get("service"), err.get("type"), err.get("file"), err.get("line"))
        row = rows.get(key)
        if row is None:
            row = rows[key] = {"service": ev.get("service"), **err, "count": 0}
            row["first_seen"] = ev.get("ts")
        row.update(err)  # the newest message wins
        row["count"] += 1
        row["last_seen"] = ev.get("ts")
    return sorted(rows.values(), key=lambda r: r.get("last_seen") or 0, reverse=True)
