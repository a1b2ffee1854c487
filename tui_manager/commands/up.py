"""`up`: the stack under the dashboard (on a terminal) or headless (a pipe, CI, `--headless`)."""

from __future__ import annotations

import argparse
import asyncio
import sys

from ..config.loader import load
from ..control.statedir import AlreadyRunning
from ..core.engine import UnknownService
from .common import config_errors, err


@config_errors
def cmd_up(args: argparse.Namespace) -> int:
    config = load(args.config, args.env_file)
    for warning in config.warnings:
        err(f"warning: {warning}")
    for name in [*args.services, *args.exclude]:
        if name not in config.services:
            err(str(UnknownService(name, config.services)))
            return 2
    from .. import runner

    if args.web or args.headless or not sys.stdout.isatty():
        from ..headless import HeadlessView

        view: runner.View = HeadlessView(json_lines=args.log_format == "json")
    else:
        from ..ui.view import DashboardView

        view = DashboardView(dev=args.dev)
    try:
        return asyncio.run(
            runner.run(
                config,
                view,
                args.services,
                args.exclude,
                args.dev,
                web_port=args.port if args.web else None,
            )
        )
    except AlreadyRunning as e:
        err(str(e))
        return 1
