"""What each CLI command does, one module per kind of command; each imports only what it
needs (a control command never imports pydantic or Textual, headless `up` never Textual).
Errors a user can cause become one line on stderr and an exit code, never a traceback."""

from __future__ import annotations

import argparse
import importlib

HANDLERS = {
    "up": ("up", "cmd_up"),
    "attach": ("control", "cmd_attach"),
    "status": ("control", "cmd_status"),
    "start": ("control", "cmd_action"),
    "stop": ("control", "cmd_action"),
    "restart": ("control", "cmd_action"),
    "logs": ("control", "cmd_logs"),
    "down": ("control", "cmd_down"),
    "memory": ("control", "cmd_memory"),
    "errors": ("control", "cmd_errors"),
    "check": ("check", "cmd_check"),
    "export": ("check", "cmd_export"),
    "schema": ("check", "cmd_schema"),
    "init": ("init", "cmd_init"),
    "completion": ("check", "cmd_completion"),
    "mcp": ("mcp", "cmd_mcp"),
}


def dispatch(args: argparse.Namespace) -> int:
    module, func = HANDLERS[args.command]
    handler = getattr(importlib.import_module(f"{__name__}.{module}"), func)
    code: int = handler(args)
    return code
