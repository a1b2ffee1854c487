"""`init`: write an autogpt-dev.toml from a Procfile or a compose file; it always passes check.
It says what it wrote, which service is the foreground and why, and every item it could not
carry over, one line each; bad input is exit 2 with one line naming the file, service and key."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..config.compose_file import COMPOSE_NAMES
from ..config.errors import ConfigError
from .common import config_errors, err

CANDIDATES = ["Procfile", *COMPOSE_NAMES]


@config_errors
def cmd_init(args: argparse.Namespace) -> int:
    from ..config.importer import init
    from ..config.loader import load
    from ..config.project import from_project

    source = args.source or next((p for p in map(Path, CANDIDATES) if p.exists()), None)
    if source is not None and not source.is_file():
        err(f"nothing to import: {source} is not a file")
        return 2
    if args.output.exists() and not args.force:
        err(f"{args.output} exists (use --force to overwrite)")
        return 1
    if source is None:  # no compose file or Procfile: the project's own code, read not run
        imported = from_project(args.output.resolve().parent)
        source = Path("the project's code")
        for line in imported.found:
            print(f"found: {line}")
    else:
        imported = init(source, args.output, args.profiles)
    args.output.write_text(imported.text)
    for note in imported.notes:
        err(f"note: {note}")
    missing: list[str] = []
    try:
        load(args.output)
    except ConfigError as e:
        # An env file a fresh clone does not have yet is the user's to make (the note said
        # how): `check` and `up` say so until it exists. Anything else is a bug of ours.
        missing = [p for p in e.problems if "] env_file: file not found: " in p]
        if len(missing) < len(e.problems):
            err(f"{args.output} does not pass check (please report this):")
            for line in e.problems:
                err(line)
            return 2
    print(f"wrote {args.output} from {source}")
    for line in missing:
        print(f"before `up`: {line.split('(')[-1].rstrip(')')}")
    if imported.foreground:
        print(f"foreground: {imported.foreground} ({imported.why})")
    else:
        print("foreground: none (no service is enabled)")
    return 0
