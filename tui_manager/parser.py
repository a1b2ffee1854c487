"""The command line, declared once: the CLI parses with it and shell completion is generated
from it (see completion.py). Cheap to import: argparse and a few names."""

from __future__ import annotations

import argparse
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


def build() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="autogpt-dev",
        description="Run a multi-service Python stack: dependency order, health, restarts, logs.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"autogpt-dev {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def cmd(name: str, help: str, example: str) -> argparse.ArgumentParser:
        sp = sub.add_parser(
            name,
            help=help,
            description=help,
            epilog=f"example:\n  {example}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sp.add_argument(
            "-c",
            "--config",
            type=Path,
            metavar="PATH",
            help="config file (default: discovered from the current directory)",
        )
        return sp

    up = cmd("up", "start the stack and supervise it until quit", "autogpt-dev up --dev")
    up.add_argument(
        "services", nargs="*", metavar="SERVICE", help="start only these (and what they depend on)"
    )
    up.add_argument("--headless", action="store_true", help="prefixed logs, no dashboard")
    up.add_argument("--dev", action="store_true", help="restart services whose code changed")
    up.add_argument(
        "--except",
        dest="exclude",
        action="append",
        default=[],
        metavar="NAME",
        help="do not start NAME (dependents treat it as running elsewhere)",
    )
    up.add_argument("--env-file", type=Path, metavar="PATH", help="dotenv file to load first")
    up.add_argument(
        "--log-format",
        choices=["text", "json"],
        default="text",
        help="headless output: prefixed text, or one JSON object per line",
    )

    up.add_argument(
        "--web",
        action="store_true",
        help="also serve the dashboard to a browser (textual-serve, 127.0.0.1)",
    )
    up.add_argument("--port", type=int, default=8765, help="port of --web (default 8765)")
    cmd("attach", "open the dashboard of the running instance (q detaches)", "autogpt-dev attach")
    st = cmd("status", "state of every service of the running instance", "autogpt-dev status")
    st.add_argument("--json", action="store_true", help="machine-readable output")
    for action in ("start", "stop", "restart"):
        a = cmd(
            action, f"{action} services of the running instance", f"autogpt-dev {action} scheduler"
        )
        a.add_argument("services", nargs="+", metavar="NAME")
        a.add_argument("--no-wait", action="store_true", help="do not wait for the result")
    lg = cmd("logs", "print the last lines of a service's log", "autogpt-dev logs scheduler -f")
    lg.add_argument("service", metavar="NAME")
    lg.add_argument("-n", type=int, default=100, metavar="N", help="lines (default 100)")
    lg.add_argument("-f", "--follow", action="store_true", help="keep printing new lines")
    cmd("down", "stop the running instance gracefully", "autogpt-dev down")
    ck = cmd("check", "validate the config and print the start order", "autogpt-dev check")
    ck.add_argument("--json", action="store_true", help="machine-readable output")
    ck.add_argument("--names", action="store_true", help="only the service names (completion)")
    ex = cmd(
        "export",
        "write the stack for systemd, supervisord, compose or kubernetes",
        "autogpt-dev export systemd -o deploy/",
    )
    ex.add_argument("format", choices=FORMATS)
    ex.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="DIR",
        help="directory to write into (default: ./export/FORMAT)",
    )
    sub.add_parser("schema", help="print the JSON Schema of the config file")
    it = sub.add_parser(
        "init",
        help="write autogpt-dev.toml from a Procfile or compose file",
        epilog="example:\n  autogpt-dev init --from docker-compose.yml",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    it.add_argument(
        "--from",
        dest="source",
        type=Path,
        metavar="FILE",
        help="Procfile or compose file (default: the one found here)",
    )
    it.add_argument(
        "--profile",
        dest="profiles",
        action="append",
        default=[],
        metavar="NAME",
        help="compose: also enable the services of this profile",
    )
    it.add_argument("-o", "--output", type=Path, default=Path("autogpt-dev.toml"))
    it.add_argument("--force", action="store_true", help="overwrite an existing file")
    co = sub.add_parser(
        "completion",
        help="print a shell completion script",
        epilog="example:\n  autogpt-dev completion bash >> ~/.bashrc",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    co.add_argument("shell", choices=SHELLS)
    mc = cmd(
        "mcp",
        "a Model Context Protocol server on stdio, for coding agents (drives the running stack)",
        "autogpt-dev mcp --read-only",
    )
    mc.add_argument("--read-only", action="store_true", help="only the tools that change nothing")
    return p


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The subcommand parsers, by name, from the parser itself."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}
