"""A `python` command line read the way CPython reads it (Modules/main.c, Python/getopt.c), so the
watch set and the warm plan agree with what the interpreter will really run.

    python [options] (-c CMD | -m MODULE | SCRIPT | -) [args...]

Short options may be bundled (`-Bu`); an option that takes a value (`-c`, `-m`, `-W`, `-X`) takes
the rest of its bundle, or else the next argument (`-Xdev`, `-X dev`, `-Bm mod`, `-Werror::x`).
`--check-hash-based-pycs` takes a value; `--` ends the options; the first other argument is the
script, and everything after the target belongs to the program.
"""

from __future__ import annotations

from typing import NamedTuple

VALUED = frozenset("cmWX")  # short options that take a value
FLAGS = frozenset("bBdEhiIJOPqRsStuvVx?")
LONG_VALUED = frozenset({"--check-hash-based-pycs"})
LONG_FLAGS = frozenset({"--help", "--help-all", "--help-env", "--help-xoptions", "--version"})


class PyCommand(NamedTuple):
    options: list[str]  # the interpreter's own options, one token each ("-X", "dev" as two)
    mode: str  # "module" | "path" | "command" | "stdin" | "none" | "invalid"
    target: str  # the module name, the script path, the -c code; "" otherwise
    args: list[str]  # what the program gets as sys.argv[1:]
    flags: frozenset[str] = frozenset()  # the single-letter flags given (i, u, B, ...)

    @property
    def interactive(self) -> bool:
        return "i" in self.flags


def parse(args: list[str]) -> PyCommand:
    """`args` is everything after the interpreter's own path."""
    options: list[str] = []
    flags: set[str] = set()
    i = 0
    while i < len(args):
        a = args[i]
        i += 1
        if a == "--":
            break
        if a == "-":
            return PyCommand(options, "stdin", "", args[i:], frozenset(flags))
        if a.startswith("--"):
            name, eq, value = a.partition("=")
            if name in LONG_VALUED:
                if not eq:
                    if i >= len(args):
                        return PyCommand(options, "invalid", name, [], frozenset(flags))
                    value = args[i]
                    i += 1
                options += [name, value]
            elif name in LONG_FLAGS:
                options.append(name)
            else:
                return PyCommand(options, "invalid", a, [], frozenset(flags))
            continue
        if not a.startswith("-"):
            return PyCommand(options, "path", a, args[i:], frozenset(flags))
        bundle = a[1:]
        for j, ch in enumerate(bundle):
            if ch in VALUED:
                value = bundle[j + 1 :]
                if not value:
                    if i >= len(args):
                        return PyCommand(options, "invalid", f"-{ch}", [], frozenset(flags))
                    value = args[i]
                    i += 1
                if ch == "m":
                    return PyCommand(options, "module", value, args[i:], frozenset(flags))
                if ch == "c":
                    return PyCommand(options, "command", value, args[i:], frozenset(flags))
                options += [f"-{ch}", value]
                break
            if ch not in FLAGS:
                return PyCommand(options, "invalid", f"-{ch}", [], frozenset(flags))
            flags.add(ch)
            options.append(f"-{ch}")
    if i < len(args):  # after "--": the script (or "-", stdin)
        mode = "stdin" if args[i] == "-" else "path"
        return PyCommand(
            options, mode, "" if mode == "stdin" else args[i], args[i + 1 :], frozenset(flags)
        )
    return PyCommand(options, "none", "", [], frozenset(flags))
