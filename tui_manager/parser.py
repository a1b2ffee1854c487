"""The command line, declared once: the CLI parses with it and shell completion is generated
from it (see completion.py). Cheap to import; `build(only=...)` builds one subcommand, which is
what running a command needs (argparse costs a few milliseconds per argument it is given)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from ._version import __version__
from .export import FORMATS

SHELLS = ("bash", "zsh", "fish")
# Positional arguments that take service names (completed from the config's services).
SERVICE_ARGS = ("services", "service")

EPILOG = """\
examples:
  autogpt-dev                          start the stack in ./autogpt-dev.toml (dashboard on a tty)
  autogpt-dev up --headless --dev      prefixed logs, restart services whose code changed
  autogpt-dev up agent_server          agent_server and everything it depends on
  autogpt-dev status                   from another terminal
  autogpt-dev restart scheduler
  autogpt-dev logs agent_server -f
  autogpt-dev down
  autogpt-dev check                    validate the config, print the start order

exit codes: 0 clean stop, 1 could not start / no running instance, 2 usage or config error,
N the foreground service's exit code, 130 killed by a second Ctrl+C
"""

Parser = argparse.ArgumentParser


def _up(sp: Parser) -> None:
    sp.add_argument(
        "services", nargs="*", metavar="SERVICE", help="start only these (and what they depend on)"
    )
    sp.add_argument("--headless", action="store_true", help="prefixed logs, no dashboard")
    sp.add_argument("--dev", action="store_true", help="restart services whose code changed")
    sp.add_argument(
        "--except",
        dest="exclude",
        action="append",
        default=[],
        metavar="NAME",
        help="do not start NAME (dependents treat it as running elsewhere)",
    )
    sp.add_argument("--env-file", type=Path, metavar="PATH", help="dotenv file to load first")
    sp.add_argument(
        "--log-format",
        choices=["text", "json"],
        default="text",
        help="headless output: prefixed text, or one JSON object per line",
    )
    sp.add_argument(
        "--web",
        action="store_true",
        help="also serve the dashboard to a browser (textual-serve, 127.0.0.1)",
    )
    sp.add_argument("--port", type=int, default=8765, help="port of --web (default 8765)")


def _status(sp: Parser) -> None:
    sp.add_argument("--json", action="store_true", help="machine-readable output")


def _action(sp: Parser) -> None:
    sp.add_argument("services", nargs="+", metavar="NAME")
    sp.add_argument("--no-wait", action="store_true", help="do not wait for the result")


def _logs(sp: Parser) -> None:
    sp.add_argument("service", metavar="NAME")
    sp.add_argument("-n", type=int, default=100, metavar="N", help="lines (default 100)")
    sp.add_argument("-f", "--follow", action="store_true", help="keep printing new lines")


def _errors(sp: Parser) -> None:
    sp.add_argument("service", nargs="?", metavar="NAME", help="only this service's")
    sp.add_argument("--json", action="store_true", help="machine-readable output")


def _memory(sp: Parser) -> None:
    sp.add_argument("-n", type=int, default=10, metavar="N", help="growth rows (default 10)")
    sp.add_argument("--json", action="store_true", help="machine-readable output")


def _check(sp: Parser) -> None:
    sp.add_argument("--json", action="store_true", help="machine-readable output")
    sp.add_argument("--names", action="store_true", help="only the service names (completion)")


def _export(sp: Parser) -> None:
    sp.add_argument("format", choices=FORMATS)
    sp.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="DIR",
        help="directory to write into (default: ./export/FORMAT)",
    )


def _init(sp: Parser) -> None:
    sp.add_argument(
        "--from",
        dest="source",
        type=Path,
        metavar="FILE",
        help="Procfile or compose file (default: the one found here)",
    )
    sp.add_argument(
        "--profile",
        dest="profiles",
        action="append",
        default=[],
        metavar="NAME",
        help="compose: also enable the services of this profile",
    )
    sp.add_argument("-o", "--output", type=Path, default=Path("autogpt-dev.toml"))
    sp.add_argument("--force", action="store_true", help="overwrite an existing file")


def _completion(sp: Parser) -> None:
    sp.add_argument("shell", choices=SHELLS)


def _mcp(sp: Parser) -> None:
    sp.add_argument("--read-only", action="store_true", help="only the tools that change nothing")


def _nothing(sp: Parser) -> None:
    pass


# name -> (help, example, takes -c/--config, its arguments)
COMMANDS: dict[str, tuple[str, str, bool, Callable[[Parser], None]]] = {
    "up": ("start the stack and supervise it until quit", "autogpt-dev up --dev", True, _up),
    "attach": (
        "open the dashboard of the running instance (q detaches)",
        "autogpt-dev attach",
        True,
        _nothing,
    ),
    "status": (
        "state of every service of the running instance",
        "autogpt-dev status",
        True,
        _status,
    ),
    **{
        a: (f"{a} services of the running instance", f"autogpt-dev {a} scheduler", True, _action)
        for a in ("start", "stop", "restart")
    },
    "logs": (
        "print the last lines of a service's log",
        "autogpt-dev logs scheduler -f",
        True,
        _logs,
    ),
    "down": ("stop the running instance gracefully", "autogpt-dev down", True, _nothing),
    "memory": (
        "the running manager's memory (RSS, objects; with AUTOGPT_DEV_TRACEMALLOC, what grew)",
        "autogpt-dev memory",
        True,
        _memory,
    ),
    "errors": (
        "the Python errors services crashed with (file:line, count), newest first",
        "autogpt-dev errors agent_server",
        True,
        _errors,
    ),
    "check": (
        "validate the config and print the start order",
        "autogpt-dev check",
        True,
        _check,
    ),
    "export": (
        "write the stack for systemd, supervisord, compose or kubernetes",
        "autogpt-dev export systemd -o deploy/",
        True,
        _export,
    ),
    "schema": ("print the JSON Schema of the config file", "autogpt-dev schema", False, _nothing),
    "init": (
        "write autogpt-dev.toml from a Procfile or compose file",
        "autogpt-dev init --from docker-compose.yml",
        False,
        _init,
    ),
    "completion": (
        "print a shell completion script",
        "autogpt-dev completion bash >> ~/.bashrc",
        False,
        _completion,
    ),
    "mcp": (
        "a Model Context Protocol server on stdio, for coding agents (drives the running stack)",
        "autogpt-dev mcp --read-only",
        True,
        _mcp,
    ),
}


def build(only: str | None = None) -> Parser:
    """The parser; with `only`, just that subcommand (enough to run it)."""
    p = argparse.ArgumentParser(
        prog="autogpt-dev",
        description="Run a multi-service Python stack: dependency order, health, restarts, logs.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"autogpt-dev {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for name, (help, example, config, define) in COMMANDS.items():
        if only is not None and name != only:
            continue
        sp = sub.add_parser(
            name,
            help=help,
            description=help,
            epilog=f"example:\n  {example}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        if config:
            sp.add_argument(
                "-c",
                "--config",
                type=Path,
                metavar="PATH",
                help="config file (default: discovered from the current directory)",
            )
        define(sp)
    return p


def subcommands(parser: Parser) -> dict[str, Parser]:
    """The subcommand parsers, by name, from the parser itself."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}
