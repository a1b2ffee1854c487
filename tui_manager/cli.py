"""The console script: parse (parser.py) and dispatch (commands/); nothing else."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Sequence

from . import parser as cli_parser

VALUED_OPTIONS = ("-c", "--config", "--env-file")


def command_first(args: list[str]) -> list[str]:
    """The command at the front: `-c FILE status` is `status -c FILE` (as `docker compose -f`
    users type it), and no command at all means `up`."""
    i = 0
    while i < len(args) and args[i].startswith("-") and args[i] not in ("-h", "--help"):
        i += 2 if args[i] in VALUED_OPTIONS else 1
    if i < len(args) and args[i] in cli_parser.COMMANDS:
        return [args[i], *args[:i], *args[i + 1 :]]
    if args and args[0] in ("-h", "--help", "--version"):
        return args
    return ["up", *args]


def main(argv: Sequence[str] | None = None) -> int:
    from .platform import unsupported

    if (why := unsupported()) is not None:  # before anything imports a POSIX-only module
        print(f"autogpt-dev: {why}", file=sys.stderr)
        return 2
    args_list = command_first(list(sys.argv[1:] if argv is None else argv))
    first = args_list[0] if args_list else None
    # Running a command needs only its own subparser; the top-level help needs them all.
    parser = cli_parser.build(only=first if first in cli_parser.COMMANDS else None)
    args = parser.parse_args(args_list)
    if args.command == "up":
        from .base import early_signals

        early_signals.defer()  # a Ctrl+C while starting is an orderly stop, never a traceback
    from . import commands

    try:
        code = commands.dispatch(args)
    except KeyboardInterrupt:
        code = 130
    if args.command == "up" and argv is None:  # the program itself, not a caller's main([...])
        exit_now(code)
    return code


def exit_now(code: int) -> None:
    """`up` is over: the stack is down, every log written with os.write and closed, the
    terminal restored. What Python would still do is tear down its modules' objects, 0.12 s
    of a dashboard's quit: the output is flushed and the process ends here instead."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # (a closed pipe: nothing left to say)
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
