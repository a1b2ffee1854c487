"""`init`: write an autogpt-dev.toml from a Procfile or a compose file; it always passes check."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..config.errors import ConfigError
from ..config.load import load
from .common import err

CANDIDATES = [
    "Procfile",
    "compose.yaml",
    "compose.yml",
    "docker-compose.yml",
    "docker-compose.yaml",
]


def cmd_init(args: argparse.Namespace) -> int:
    from ..config.importer import init_text

    source = args.source or next((p for p in map(Path, CANDIDATES) if p.exists()), None)
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
            err(line)
        return 2
    print(f"wrote {args.output} from {source}")
    return 0
