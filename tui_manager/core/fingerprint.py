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
        return of_tree(tree)
    return "bytes:" + hashlib.sha1(data).hexdigest()


def of_tree(tree: ast.AST) -> str:
    """A parsed module's fingerprint (the import walk parses every watched file anyway)."""
    return "ast:" + hashlib.sha1(ast.dump(tree).encode()).hexdigest()


class Seen:
    """The last fingerprint acted upon, per file. Learnt when dev mode starts (from the import
    walk's own parse, so an edited comment restarts nothing from the first edit on), and for
    a file first seen later, at its first change."""

    def __init__(self) -> None:
        self._last: dict[Path, str] = {}

    def learn(self, fingerprints: dict[Path, str]) -> None:
        """What these files mean now, unless a change of them was acted upon already."""
        for path, fp in fingerprints.items():
            self._last.setdefault(path, fp)

    def changed(self, path: Path) -> bool:
        now = fingerprint(path)
        if self._last.get(path) == now:
            return False
        self._last[path] = now
        return True
