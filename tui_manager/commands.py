"""What each CLI command does. Errors a user can cause become one line on stderr + exit code."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from .config import Config, ConfigError, json_schema, load
from .control.client import ControlClient, NotRunning
from .control.statedir import AlreadyRunning
from .core import graph
from .core.supervisor import UnknownService


def err(line: str) -> None:
    print(f"autogpt-dev: {line}", file=sys.stderr)


def dispatch(args: argparse.Namespace) -> int:
    if args.command == "schema":
        print(json.dumps(json_schema(), indent=2))
        return 0
    if args.command == "init":
        return cmd_init(args)
    if args.command == "completion":
        from .completion import script

        print(script(args.shell))
        return 0
    try:
        config = load(args.config, getattr(args, "env_file", None))
    except ConfigError as e:
        for line in e.problems:
            print(line, file=sys.stderr)
        return 2
    handler = {
        "up": cmd_up,
        "check": cmd_check,
        "status": cmd_status,
        "start": cmd_action,
        "stop": cmd_action,
        "restart": cmd_action,
        "logs": cmd_logs,
        "down": cmd_down,
        "export": cmd_export,
        "attach": cmd_attach,
    }[args.command]
    try:
        return handler(config, args)
    except UnknownService as e:
        err(str(e))
        return 2
    except NotRunning as e:
        err(str(e))
        return 1


def _check_names(config: Config, names: list[str]) -> None:
    for n in names:
        if n not in config.services:
            raise UnknownService(n, config.services)


def cmd_attach(config: Config, args: argparse.Namespace) -> int:
    ControlClient(config.state_dir, timeout=5).request({"cmd": "status"})  # running? else exit 1
    from .ui.app import run_attached

    return run_attached(config)


def cmd_up(config: Config, args: argparse.Namespace) -> int:
    _check_names(config, [*args.services, *args.exclude])
    try:
        if args.web or args.headless or not sys.stdout.isatty():
            from .runner import run_headless

            return asyncio.run(
                run_headless(
                    config,
                    args.services,
                    args.exclude,
                    args.dev,
                    json_lines=args.log_format == "json",
                    web_port=args.port if args.web else None,
                )
            )
        from .ui.app import run_dashboard

        code: int = run_dashboard(config, args.services, args.exclude, args.dev)
        return code
    except AlreadyRunning as e:
        err(str(e))
        return 1


def cmd_init(args: argparse.Namespace) -> int:
    from .config.importer import init_text

    candidates = [
        "Procfile",
        "compose.yaml",
        "compose.yml",
        "docker-compose.yml",
        "docker-compose.yaml",
    ]
    source = args.source or next((p for p in map(Path, candidates) if p.exists()), None)
    if source is None or not source.exists():
        err(f"nothing to import: {source or 'no Procfile or compose file here'} (use --from)")
        return 2
    if args.output.exists() and not args.force:
        err(f"{args.output} exists (use --force to overwrite)")
        return 1
    text, warnings = init_text(source)
    args.output.write_text(text)
    for w in warnings:
        err(f"warning: {w}")
    try:
        load(args.output)
    except ConfigError as e:
        err(f"{args.output} needs a look before it runs:")
        for line in e.problems:
            print(line, file=sys.stderr)
        return 2
    print(f"wrote {args.output} from {source}")
    return 0


def cmd_check(config: Config, args: argparse.Namespace) -> int:
    if args.names:
        print("\n".join(config.services))
        return 0
    edges = config.edges()
    waves = graph.start_waves(edges)
    if args.json:
        print(
            json.dumps(
                {
                    "config": str(config.path),
                    "foreground": config.foreground,
                    "waves": waves,
                    "state_dir": str(config.state_dir),
                },
                indent=2,
            )
        )
        return 0
    print(f"config: {config.path}")
    disabled = [n for n, s in config.services.items() if not s.enabled]
    print("start order:")
    for i, wave in enumerate(waves, 1):
        names = [f"{n} (foreground)" if n == config.foreground else n for n in wave]
        print(f"  {i}. {', '.join(names)}")
    if disabled:
        print(f"disabled: {', '.join(disabled)}")
    return 0


def _fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def status_rows(services: list[dict[str, Any]]) -> list[list[str]]:
    rows = [["NAME", "STATE", "PID", "UPTIME", "RESTARTS", "EXIT", "HEALTH", "REASON"]]
    for s in services:
        exit_ = "-" if s["exit_code"] is None else str(s["exit_code"])
        if s["exit_signal"] is not None:
            exit_ = f"sig {s['exit_signal']}"
        rows.append(
            [
                s["name"] + (" *" if s["foreground"] else ""),
                s["state"],
                str(s["pid"] or "-"),
                _fmt_duration(s["uptime"]),
                str(s["restarts"]),
                exit_,
                s["probe"] or "-",
                s["reason"] or "",
            ]
        )
    return rows


def print_table(rows: list[list[str]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())


def cmd_status(config: Config, args: argparse.Namespace) -> int:
    answer = ControlClient(config.state_dir).request({"cmd": "status"})
    if args.json:
        print(json.dumps(answer, indent=2))
    else:
        print_table(status_rows(answer["services"]))
    return 0


def cmd_action(config: Config, args: argparse.Namespace) -> int:
    _check_names(config, args.services)
    answer = ControlClient(config.state_dir).request(
        {"cmd": args.command, "services": args.services, "wait": not args.no_wait}
    )
    if not answer.get("ok"):
        err(answer.get("error", "failed"))
        return int(answer.get("code", 1))
    code = 0
    for s in answer["services"]:
        print(f"{s['name']}: {s['state']}" + (f" ({s['reason']})" if s["reason"] else ""))
        if not args.no_wait and s["state"] == "failed":
            code = 1
    return code


def cmd_export(config: Config, args: argparse.Namespace) -> int:
    from .export import export

    out = args.output or Path.cwd() / "export" / args.format
    result = export(config, args.format, out)
    for w in result.warnings:
        err(f"warning: {w}")
    for f in result.files:
        print(f)
    return 0


def cmd_down(config: Config, args: argparse.Namespace) -> int:
    answer = ControlClient(config.state_dir).request({"cmd": "down"})
    return int(answer.get("code", 0))


def cmd_logs(config: Config, args: argparse.Namespace) -> int:
    _check_names(config, [args.service])
    path = config.state_dir / "logs" / f"{args.service}.log"
    out = sys.stdout.buffer
    out.write(tail_bytes(path, args.n))
    out.flush()
    if not args.follow:
        return 0
    with contextlib.suppress(KeyboardInterrupt):
        follow(path, out)
    return 0


def tail_bytes(path: Path, n: int) -> bytes:
    """The last n lines of a log, reaching into rotated backups when the current file is short."""
    files = [path, *(path.with_name(f"{path.name}.{i}") for i in range(1, 100))]
    chunks: list[bytes] = []
    count = 0
    for f in files:
        if not f.exists():
            break
        data = f.read_bytes()
        chunks.insert(0, data)
        count += data.count(b"\n")
        if count >= n:
            break
    data = b"".join(chunks)
    if n <= 0:
        return b""
    lines = data.splitlines(keepends=True)
    return b"".join(lines[-n:])


def follow(path: Path, out: Any, poll: float = 0.05) -> None:
    """tail -F: keep printing what is appended; reopen when the file is rotated."""
    f = path.open("rb") if path.exists() else None
    if f:
        f.seek(0, os.SEEK_END)
    while True:
        if f is None:
            if path.exists():
                f = path.open("rb")
            else:
                time.sleep(poll)
                continue
        data = f.read(65536)
        if data:
            out.write(data)
            out.flush()
            continue
        try:
            rotated = os.stat(path).st_ino != os.fstat(f.fileno()).st_ino
        except FileNotFoundError:
            rotated = True
        if rotated:
            rest = f.read()
            if rest:
                out.write(rest)
                out.flush()
            f.close()
            f = None
            continue
        time.sleep(poll)
