"""Opening a file at a line in the user's editor ($VISUAL, else $EDITOR), in its own syntax."""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping

# vi, vim, nvim, nano, emacs, micro, helix and most others take +LINE FILE: the default.
GOTO_FLAG = ("code", "code-insiders", "cursor", "codium", "windsurf")  # -g FILE:LINE
COLON_LINE = ("subl", "zed", "mate")  # FILE:LINE
HOW_TO_SET = "set $VISUAL or $EDITOR to open files at a line (e.g. export EDITOR=vim)"


def editor_command(path: str, line: int, env: Mapping[str, str] = os.environ) -> list[str] | None:
    """The argv that opens `path` at `line`; None when no editor is set."""
    chosen = env.get("VISUAL") or env.get("EDITOR")
    if not chosen or not chosen.strip():
        return None
    words = shlex.split(chosen)
    name = os.path.basename(words[0])
    if name in GOTO_FLAG:
        return [*words, "-g", f"{path}:{line}"]
    if name in COLON_LINE:
        return [*words, f"{path}:{line}"]
    return [*words, f"+{line}", path]  # vi and friends, and the common default
