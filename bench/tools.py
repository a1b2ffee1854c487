"""One adapter per process manager: how to run N commands under it, headless, into files.

Each `command()` returns (argv, extra files to write) for a stack of services given as
{name: shell command}; the last one is the foreground one where the tool has that notion.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Tool:
    name: str

    def available(self) -> bool:
        raise NotImplementedError

    def version(self) -> str:
        return "?"

    def command(self, services: dict[str, str], work: Path) -> list[str]:
        raise NotImplementedError

    def exits_with_foreground(self) -> bool:
        return True


def _version(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=20)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        return "?"


class Ours(Tool):
    def available(self) -> bool:
        return True

    def version(self) -> str:
        from tui_manager import __version__

        return f"autogpt-dev {__version__}"

    def command(self, services: dict[str, str], work: Path) -> list[str]:
        # No rotation, like the supervisord adapter (stdout_logfile_maxbytes=0): whole logs.
        lines = ['[manager]\nstate_dir = "state"\nlog_max_bytes = 1_000_000_000\n']
        for name, cmd in services.items():
            lines.append(f"[services.{name}]\ncommand = {cmd!r}\nshell = true\nstop_timeout = 1\n")
        (work / "autogpt-dev.toml").write_text("".join(lines).replace("'", '"'))
        return [
            sys.executable,
            "-m",
            "tui_manager",
            "up",
            "--headless",
            "-c",
            str(work / "autogpt-dev.toml"),
        ]


class Honcho(Tool):
    def available(self) -> bool:
        return shutil.which("honcho") is not None

    def version(self) -> str:
        return "honcho " + _version(["honcho", "--version"]).split()[-1]

    def command(self, services: dict[str, str], work: Path) -> list[str]:
        (work / "Procfile").write_text("".join(f"{n}: {c}\n" for n, c in services.items()))
        return ["honcho", "start", "-f", str(work / "Procfile")]


class Concurrently(Tool):
    def available(self) -> bool:
        return shutil.which("concurrently") is not None

    def version(self) -> str:
        return "concurrently " + _version(["concurrently", "--version"])

    def command(self, services: dict[str, str], work: Path) -> list[str]:
        return ["concurrently", "--names", ",".join(services), *services.values()]


class Supervisord(Tool):
    def available(self) -> bool:
        return shutil.which("supervisord") is not None

    def version(self) -> str:
        return "supervisord " + _version(["supervisord", "--version"])

    def exits_with_foreground(self) -> bool:
        return False  # supervisord has no foreground notion: it keeps running

    def command(self, services: dict[str, str], work: Path) -> list[str]:
        conf = [
            f"[supervisord]\nnodaemon=true\nlogfile={work}/supervisord.log\n"
            f"pidfile={work}/supervisord.pid\n"
        ]
        for name, cmd in services.items():
            conf.append(
                # exec: the program is supervisord's child itself, not a shell around it (with
                # the shell, SIGTERM ended only the shell, supervisord saw its child exit and
                # never escalated to SIGKILL: the 15 s cap of stop-6-ignore-term).
                f"[program:{name}]\ncommand=/bin/sh -c 'exec {cmd}'\nautorestart=false\n"
                f"startsecs=0\nstopwaitsecs=1\nstdout_logfile={work}/{name}.out\n"
                f"stdout_logfile_maxbytes=0\nredirect_stderr=true\nstopasgroup=true\n"
                "killasgroup=true\n"
            )
        (work / "supervisord.conf").write_text("".join(conf))
        return ["supervisord", "-c", str(work / "supervisord.conf")]


ALL = [
    Ours("autogpt-dev"),
    Honcho("honcho"),
    Supervisord("supervisord"),
    Concurrently("concurrently"),
]
