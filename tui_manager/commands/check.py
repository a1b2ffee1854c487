"""`check` (validate, print the start order and the interpreter), `export`, `schema`,
`completion`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..base import graph
from ..config.config import Config
from ..config.loader import load
from .common import config_errors, err


@config_errors
def cmd_check(args: argparse.Namespace) -> int:
    config = load(args.config)
    if args.names:
        print("\n".join(config.services))
        return 0
    for warning in config.warnings:
        err(f"warning: {warning}")
    waves = graph.start_waves(config.edges())
    from ..core.environment import find_venv, interpreter
    from ..platform import CAPS

    venv, why = find_venv(config)
    first = next(iter(config.enabled()), None)
    python = interpreter(config, first) if first else None
    if args.json:
        doc = {
            "config": str(config.path),
            "foreground": config.foreground,
            "waves": waves,
            "state_dir": str(config.state_dir),
            "python": python,
            "venv": str(venv) if venv else None,
            "platform": CAPS.describe(),
            "listen": {n: list(s.listen) for n, s in config.services.items() if s.listen},
        }
        print(json.dumps(doc, indent=2))
        return 0
    print(f"config: {config.path}")
    print("start order:")
    for i, wave in enumerate(waves, 1):
        names = [f"{n} (foreground)" if n == config.foreground else n for n in wave]
        print(f"  {i}. {', '.join(names)}")
    disabled = [n for n, s in config.services.items() if not s.enabled]
    if disabled:
        print(f"disabled: {', '.join(disabled)}")
    held = [f"{n} {', '.join(s.listen)}" for n, s in config.services.items() if s.listen]
    if held:
        print(f"sockets held by the manager (listen): {'; '.join(held)}")
    servers = _dev_sockets(config)
    if servers:
        print(f"sockets held in dev mode (the server's own address): {'; '.join(servers)}")
    print(f"python: {python or 'not found on PATH'} (venv: {venv or '-'}, {why})")
    print(f"platform: {CAPS.describe()}")
    return 0


def _dev_sockets(config: Config) -> list[str]:
    """Known servers (uvicorn --port, gunicorn -b, ...) without `listen`: held in dev mode."""
    from ..core.sockets import server_line

    out = []
    for name, s in config.services.items():
        if not s.listen and s.command is not None and s.enabled:
            line = server_line(config.argv(name))
            if line is not None:
                out.append(f"{name} {', '.join(line.addresses)} ({line.server})")
    return out


@config_errors
def cmd_export(args: argparse.Namespace) -> int:
    from ..export import export

    config = load(args.config)
    out = args.output or Path.cwd() / "export" / args.format
    result = export(config, args.format, out)
    for w in result.warnings:
        err(f"warning: {w}")
    for f in result.files:
        print(f)
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from ..config.model import json_schema

    print(json.dumps(json_schema(), indent=2))
    return 0


def cmd_completion(args: argparse.Namespace) -> int:
    from ..completion import script

    print(script(args.shell))
    return 0
