"""What a file means, as far as a running service is concerned: a Python module's AST (so a
formatter's rewrite or an edited comment is no change), a dotenv file's values, anything else
its bytes. Dev mode restarts a service only when a fingerprint it depends on really changed."""

from __future__ import annotations

import ast
import hashlib
from pathlib import Path


def fingerprint(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return "missing"
    except OSError as e:
        return f"unreadable:{e.errno}"
    if path.suffix == ".py":
        try:
            tree = ast.parse(data, str(path))
        except (SyntaxError, ValueError):
            return "broken:" + hashlib.sha1(data).hexdigest()  # a broken edit is a change
        return "ast:" + hashlib.sha1(ast.dump(tree).encode()).hexdigest()
    return "bytes:" + hashlib.sha1(data).hexdigest()


class Seen:
    """The last fingerprint acted upon, per file (learnt lazily: the first change always
    counts, so nothing is parsed at start-up)."""

    def __init__(self) -> None:
        self._last: dict[Path, str] = {}

    def changed(self, path: Path) -> bool:
        now = fingerprint(path)
        if self._last.get(path) == now:
            return False
        self._last[path] = now
        return True
