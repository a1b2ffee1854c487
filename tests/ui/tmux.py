"""The dashboard in a real terminal, as a person uses it: tmux runs it, send-keys types and
capture-pane reads the screen. Each test gets its own tmux server (its own socket)."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.conftest import wait_until_sync


class Tmux:
    def __init__(
        self, cwd: Path, command: list[str], size: tuple[int, int] = (80, 24), **env: str
    ) -> None:
        if shutil.which("tmux") is None:
            pytest.skip("tmux is not installed")
        self.socket = f"autogpt-dev-test-{uuid.uuid4().hex[:8]}"
        self.code_file = cwd / f".exit-{self.socket}"
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        inner = f"{exports} {shlex.join(command)}; echo $? > {shlex.quote(str(self.code_file))}"
        self.run(
            "new-session", "-d", "-s", "t", "-x", str(size[0]), "-y", str(size[1]),
            "-c", str(cwd), f"TERM=xterm-256color {inner}; sleep 60",
        )  # fmt: skip

    def run(self, *args: str) -> str:
        out = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=False
        )
        return out.stdout

    def keys(self, *keys: str) -> None:
        """One send-keys call: the keys arrive back to back, as a fast typist types them."""
        self.run("send-keys", "-t", "t", *keys)

    def screen(self) -> str:
        return self.run("capture-pane", "-t", "t", "-p")

    def wait_for(self, text: str, timeout: float = 20) -> None:
        screen = self.screen
        wait_until_sync(lambda: text in screen(), timeout, f"{text!r} on screen:\n{screen()}")

    def exit_code(self, timeout: float = 20) -> int:
        wait_until_sync(self.code_file.exists, timeout, f"the exit code:\n{self.screen()}")
        wait_until_sync(lambda: self.code_file.read_text().strip() != "", 5)
        return int(self.code_file.read_text())

    def __enter__(self) -> Tmux:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """The terminal window goes away (as a user closes it)."""
        self.run("kill-server")
        if self.code_file.exists():
            os.unlink(self.code_file)
