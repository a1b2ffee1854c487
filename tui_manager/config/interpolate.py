"""`${VAR}` interpolation, parsed once into literal and variable pieces (stdlib only).

Two dialects share the parser:
- config (our TOML): braced forms only, so a shell command's `$PORT` reaches the shell intact;
- compose: also unbraced `$VAR`, as the Compose Specification says.
In both, `$$` is a literal `$`. Braced forms, with a nested word allowed after the operator:
`${V}`, `${V:-word}` / `${V-word}` (default if unset-or-empty / unset), `${V:?msg}` /
`${V?msg}` (error), `${V:+word}` / `${V+word}` (replacement if set-and-non-empty / set).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import NamedTuple

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPS = (":-", ":?", ":+", "-", "?", "+")


class InterpolationError(ValueError):
    """A malformed expression, such as an unclosed `${`."""


class Var(NamedTuple):
    name: str
    op: str | None = None  # one of _OPS, or None for a plain ${V} / $V
    word: tuple[Piece, ...] = ()


Piece = str | Var


class Result:
    def __init__(self, text: str) -> None:
        self.text = text
        self.missing: list[str] = []  # plain ${V} with V unset
        self.errors: list[str] = []  # ${V?msg} with V unset


def parse(text: str, compose: bool = False) -> tuple[Piece, ...]:
    pieces, end = _parse(text, 0, compose, inside=False)
    assert end == len(text)
    return pieces


def _parse(text: str, i: int, compose: bool, inside: bool) -> tuple[tuple[Piece, ...], int]:
    out: list[Piece] = []
    lit: list[str] = []
    n = len(text)
    while i < n:
        c = text[i]
        if inside and c == "}":
            break
        if c != "$":
            lit.append(c)
            i += 1
            continue
        nxt = text[i + 1] if i + 1 < n else ""
        if nxt == "$":
            lit.append("$")
            i += 2
        elif nxt == "{":
            m = _NAME.match(text, i + 2)
            if not m:
                raise InterpolationError(f"invalid variable name after '${{' in {text!r}")
            j = m.end()
            op = next((o for o in _OPS if text.startswith(o, j)), None)
            word: tuple[Piece, ...] = ()
            if op is not None:
                word, j = _parse(text, j + len(op), compose, inside=True)
            if j >= n or text[j] != "}":
                raise InterpolationError(f"unclosed '${{' in {text!r}")
            if lit:
                out.append("".join(lit))
                lit = []
            out.append(Var(m.group(), op, word))
            i = j + 1
        elif compose and (m := _NAME.match(text, i + 1)):
            if lit:
                out.append("".join(lit))
                lit = []
            out.append(Var(m.group()))
            i = m.end()
        else:
            lit.append("$")
            i += 1
    if lit:
        out.append("".join(lit))
    return tuple(out), i


Lookup = Callable[[str], str | None]


def evaluate(pieces: tuple[Piece, ...], lookup: Lookup) -> Result:
    result = Result("")
    parts: list[str] = []
    for p in pieces:
        if isinstance(p, str):
            parts.append(p)
            continue
        value = lookup(p.name)
        word = evaluate(p.word, lookup) if p.word else Result("")
        used_word = False
        if p.op is None:
            if value is None:
                result.missing.append(p.name)
            parts.append(value or "")
        elif p.op in (":-", "-"):
            unset = value is None or (p.op == ":-" and value == "")
            parts.append(word.text if unset else value or "")
            used_word = unset
        elif p.op in (":?", "?"):
            unset = value is None or (p.op == ":?" and value == "")
            if unset:
                result.errors.append(f"{p.name}: {word.text or 'required but not set'}")
            parts.append(value or "")
        else:  # ":+" / "+"
            set_ = value is not None and (p.op == "+" or value != "")
            parts.append(word.text if set_ else "")
            used_word = set_
        if used_word:
            result.missing += word.missing
            result.errors += word.errors
    result.text = "".join(parts)
    return result


def render(pieces: tuple[Piece, ...]) -> str:
    """Back to text in the config dialect: every variable braced, every literal `$` doubled."""
    out = []
    for p in pieces:
        if isinstance(p, str):
            out.append(p.replace("$", "$$"))
        else:
            out.append("${" + p.name + (p.op or "") + render(p.word) + "}")
    return "".join(out)


def variables(pieces: tuple[Piece, ...]) -> list[str]:
    names: list[str] = []
    for p in pieces:
        if isinstance(p, Var):
            names.append(p.name)
            names += variables(p.word)
    return names


def expand(text: str, env: Mapping[str, str], compose: bool = False) -> Result:
    return evaluate(parse(text, compose), env.get)
