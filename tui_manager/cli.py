"""The console script: parse (parser.py) and dispatch (commands/); nothing else."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from . import parser as cli_parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = cli_parser.build()
    known = set(cli_parser.subcommands(parser))
    first = args_list[0] if args_list else None
    if first not in known and first not in ("-h", "--help", "--version"):
        args_list.insert(0, "up")  # no subcommand means `up`
    args = parser.parse_args(args_list)
    if args.command == "up":
        from .base import early_signals

        early_signals.defer()  # a Ctrl+C while starting is an orderly stop, never a traceback
    from . import commands

    try:
        return commands.dispatch(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
