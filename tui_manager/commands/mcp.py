"""`mcp`: the Model Context Protocol server on stdio (see tui_manager/mcp)."""

from __future__ import annotations

import argparse

from .common import err


def cmd_mcp(args: argparse.Namespace) -> int:
    try:
        from ..mcp.server import serve
    except ImportError as e:  # a broken or partial install: say what is missing
        err(f"the MCP server needs the `mcp` package ({e}): pip install 'mcp>=2'")
        return 1
    return serve(args.config, args.read_only)
