"""What the commands share: the error line, tables, and config errors as exit code 2."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from ..config.errors import ConfigError

T = TypeVar("T")


def err(line: str) -> None:
    print(f"autogpt-dev: {line}", file=sys.stderr)


def print_table(rows: list[list[str]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())


def config_errors(func: Callable[..., int]) -> Callable[..., int]:
    """A ConfigError becomes its lines on stderr and exit 2."""

    @wraps(func)
    def wrapper(*args: object) -> int:
        try:
            return func(*args)
        except ConfigError as e:
            for line in e.problems:
                print(line, file=sys.stderr)
            return 2

    return wrapper
