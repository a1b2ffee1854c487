"""The commands that talk to a running stack: status, start/stop/restart, logs, down, attach.
Stdlib only (plus the wire format): no pydantic, no Textual, no validation of the config."""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import sys
from typing import Any

from ..base import paths
from ..base.fmt import duration, exit_cell, templates_summary
from ..base.tail import follow, tail_with_position
from ..config.locate import Located, locate
from ..control import memory, wire
from ..control.client import ControlClient, NotRunning, Refused
from .common import config_errors, err, print_table


def _client(
    args: argparse.Namespace, timeout: float | None = None
) -> tuple[Located, ControlClient]:
    where = locate(args.config)
    return where, ControlClient(where.state_dir, timeout)


def _run(func: Any) -> Any:
    """Not running -> exit 1; the manager refused -> its message and code."""

    @config_errors
    def wrapper(args: argparse.Namespace) -> int:
        try:
            code: int = func(args)
            return code
        except NotRunning as e:
            err(str(e))
            return 1
        except Refused as e:
            err(str(e))
            return e.code

    return wrapper


def status_rows(services: list[dict[str, Any]]) -> list[list[str]]:
    rows = [["NAME", "STATE", "PID", "UPTIME", "RESTARTS", "EXIT", "HEALTH", "REASON"]]
    for s in services:
        rows.append(
            [
                s["name"] + (" *" if s["foreground"] else ""),
                s["state"],
                str(s["pid"] or "-"),
                duration(s["uptime"]),
                str(s["restarts"]),
                exit_cell(s["exit_code"], s["exit_signal"]),
                s["probe"] or "-",
                "; ".join(
                    x for x in (s["reason"], s.get("log_error") and f"log: {s['log_error']}") if x
                ),
            ]
        )
    return rows


@_run
def cmd_status(args: argparse.Namespace) -> int:
    _, client = _client(args)
    answer = client.request(wire.Request("status"))
    if args.json:
        print(json.dumps(answer, indent=2))
    else:
        print_table(status_rows(answer["services"]))
        templates = templates_summary([s.get("warm") for s in answer["services"]])
        if templates:
            print(templates)
        held = [
            f"{s['name']} {', '.join(s['listen'])}" for s in answer["services"] if s.get("listen")
        ]
        if held:
            print(f"sockets held by the manager: {'; '.join(held)}")
    return 0


def _unknown(where: Located, names: list[str]) -> bool:
    for name in names:
        if name not in where.services:
            err(f"unknown service {name!r} (known: {', '.join(sorted(where.services))})")
            return True
    return False


@_run
def cmd_action(args: argparse.Namespace) -> int:
    where, client = _client(args)
    if _unknown(where, args.services):
        return 2
    req = wire.Request(args.command, services=tuple(args.services), wait=not args.no_wait)
    answer = client.request(req)
    code = 0
    for s in answer["services"]:
        print(f"{s['name']}: {s['state']}" + (f" ({s['reason']})" if s["reason"] else ""))
        if not args.no_wait and s["state"] == "failed":
            code = 1
    return code


@_run
def cmd_down(args: argparse.Namespace) -> int:
    _, client = _client(args)
    return int(client.request(wire.Request("down")).get("code", 0))


@_run
def cmd_logs(args: argparse.Namespace) -> int:
    where = locate(args.config)
    if _unknown(where, [args.service]):
        return 2
    path = paths.log_path(where.state_dir, args.service)
    out = sys.stdout.buffer
    try:
        data, position = tail_with_position(path, args.n)
        out.write(data)
        out.flush()
        if args.follow:
            with contextlib.suppress(KeyboardInterrupt):
                follow(path, out, start=position)
    except BrokenPipeError:  # `logs -f | head`: the reader is gone, and that is fine
        _quiet_stdout()
    return 0


def _quiet_stdout() -> None:
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


@_run
def cmd_memory(args: argparse.Namespace) -> int:
    """The manager's own footprint: what a long `up` holds, and (traced) where it grew."""
    _, client = _client(args, timeout=30)  # a tracemalloc snapshot of a big heap takes a while
    answer = client.request(wire.Request("memory", n=args.n))
    if args.json:
        print(json.dumps(answer, indent=2))
        return 0
    print(f"RSS {answer['rss'] / 1e6:.1f} MB, {answer['gc_objects']:,} objects")
    if types := answer.get("types"):
        most = sorted(types.items(), key=lambda kv: -kv[1])[:6]
        print("most of them: " + ", ".join(f"{name} {n:,}" for name, n in most))
    if (rings := answer.get("rings")) is not None:
        print(f"log rings {rings['held'] / 1e6:.1f} MB ({rings['lines']:,} lines)")
    if (c_heap := answer.get("heap")) is not None:
        print(
            f"C heap {c_heap['in_use'] / 1e6:.1f} MB in use, {c_heap['free'] / 1e6:.1f} MB in"
            f" free chunks, {c_heap['mapped'] / 1e6:.1f} MB mapped"
        )
    if not answer.get("tracing"):
        print(f"(start up with {memory.ENV}=1 or more to see where it grows)")
        return 0
    print(f"traced {answer['traced'] / 1e6:.1f} MB")
    growth = answer.get("growth")
    if growth is None:
        print("the first ask is the baseline: ask again to see what grew since")
        return 0
    rows = [["GREW", "BLOCKS", "WHERE (caller -> allocation)"]]
    rows += [
        [
            f"{g['size_diff'] / 1e3:+.1f} kB",
            f"{g['count_diff']:+d}",
            " -> ".join(_short(f) for f in g["traceback"][-3:]),  # (--json has every frame)
        ]
        for g in growth
    ]
    print_table(rows)
    return 0


def _short(frame: str) -> str:
    """A frame as people name it: asyncio/events.py:80, tui_manager/core/logs.py:194."""
    for marker in ("/site-packages/", "/dist-packages/"):
        if marker in frame:
            return frame.rsplit(marker, 1)[1]
    if (m := re.search(r"/lib/python3\.\d+/(.*)", frame)) is not None:
        return m.group(1)
    return re.sub(r".*/(tui_manager/)", r"\1", frame)


@_run
def cmd_attach(args: argparse.Namespace) -> int:
    where, client = _client(args, timeout=5)
    client.request(wire.Request("status"))  # running? else exit 1
    from ..ui.view import run_attached

    return run_attached(where.state_dir)


@config_errors
def cmd_errors(args: argparse.Namespace) -> int:
    """From events.jsonl, which the running manager appends to: the same answer whether or
    not a stack runs, and across runs."""
    from ..core.tracebacks import grouped

    where = locate(args.config)
    if args.service and _unknown(where, [args.service]):
        return 2
    events: list[dict[str, Any]] = []
    with contextlib.suppress(FileNotFoundError):
        for line in paths.events_path(where.state_dir).read_text(errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                events.append(json.loads(line))
    rows = grouped(events, args.service)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("no Python errors recorded" + (f" for {args.service}" if args.service else ""))
        return 0
    table = [["SERVICE", "ERROR", "WHERE", "COUNT", "FIRST SEEN", "LAST SEEN"]]
    for r in rows:
        error = f"{r['type']}: {r['message']}" if r.get("message") else str(r["type"])
        place = f"{r['file']}:{r['line']}" if r.get("file") else "-"
        seen = [_when(r.get("first_seen")), _when(r.get("last_seen"))]
        table.append([str(r["service"]), error[:80], place, str(r["count"]), *seen])
    print_table(table)
    return 0


def _when(ts: float | None) -> str:
    import time

    if ts is None:
        return "-"
    today = time.strftime("%Y-%m-%d") == time.strftime("%Y-%m-%d", time.localtime(ts))
    return time.strftime("%H:%M:%S" if today else "%Y-%m-%d %H:%M", time.localtime(ts))
