"""Warm templates (dev mode): one per Python service, an interpreter that has imported the
service's third-party modules (zygote.py runs in it). A restart forks the service from it, so
only project code is imported again; when that is not safe or not possible the restart is cold,
and the reason is recorded for the `reload` event.

A template is stale, and rebuilt in the background, when the service's environment or command
changed, the installed packages changed (site-packages, or a packaging file of the project), or
it died. No template outlives the manager: each is started like a service (own session, the
parent-death signal, the run's marker, so the watchdog and stops find it).
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import json
import os
import socket
import subprocess
from pathlib import Path
from typing import Any, NamedTuple

from ... import platform
from ...platform import MARKER_VAR
from ...platform.proctable import rss_bytes
from ..process import (
    ChildProcess,
    OutputCallback,
    SpawnSpec,
    attach,
    close_pipes,
    make_pipes,
    start_marker,
)
from . import bootstrap
from .plan import RUNTIME_IMPORTS, WarmPlan

ZYGOTE = (Path(__file__).with_name("zygote.py")).read_text
LINUX_HELPERS = Path(platform.__file__).with_name("child.py")
BUILD_TIMEOUT = 120.0
FORK_TIMEOUT = 10.0
PACKAGING_FILES = (
    "pyproject.toml",
    "setup.py",
    "setup.cfg",
    "requirements*.txt",
    "*.lock",  # uv.lock, poetry.lock, pdm.lock, Pipfile.lock
)


class Hold(NamedTuple):
    go: int  # the read end of the pipe the manager writes its go-ahead to
    ready: int  # the write end of the pipe the process says "prepared cleanly" on
    prepare: dict[str, Any]  # what it runs ahead while waiting (entry.py, zygote.run_ahead)


class Refused(Exception):
    """This start cannot be warm; the message says why."""


def site_fingerprint(dirs: list[str]) -> list[tuple[str, int]]:
    """What `pip install`/`uninstall` changes: the entries of each site-packages directory."""
    out: list[tuple[str, int]] = []
    for d in dirs:
        with contextlib.suppress(OSError), os.scandir(d) as it:
            out += sorted((e.path, e.stat(follow_symlinks=False).st_mtime_ns) for e in it)
    return out


class Template:
    def __init__(
        self, name: str, plan: WarmPlan, cwd: str, env: dict[str, str], marker: str, log: Path
    ) -> None:
        self.name, self.plan, self.cwd, self.env = name, plan, cwd, env
        self.marker, self.log = marker, log
        self.state = "building"  # -> ready | failed
        self.reason: str | None = None
        self.preload: list[str] = []
        self.info: dict[str, Any] = {}
        self.proc: subprocess.Popen[bytes] | None = None
        self.site: list[tuple[str, int]] = []
        self.forks = 0
        self._sock: socket.socket | None = None
        self._lock = asyncio.Lock()

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc and self.proc.poll() is None else None

    async def build(self, preload: list[str]) -> None:
        """Start the template and wait until it has imported `preload` (or failed)."""
        self.preload = preload
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._sock = mine
        mine.setblocking(False)
        argv = [
            *self.plan.interpreter,
            *("-c", ZYGOTE(), str(theirs.fileno()), str(os.getpid()), str(LINUX_HELPERS)),
        ]
        self.log.parent.mkdir(parents=True, exist_ok=True)
        try:
            with self.log.open("ab") as err:
                self.proc = subprocess.Popen(
                    [*platform.spawn_prefix(), *argv],
                    cwd=self.cwd,
                    env={**self.env, MARKER_VAR: self.marker},
                    stdin=subprocess.DEVNULL,
                    stdout=err,
                    stderr=err,
                    pass_fds=(theirs.fileno(),),
                    start_new_session=True,
                )
        except OSError as e:
            return self._fail(f"cannot start the template: {e.strerror}")
        finally:
            theirs.close()
        try:
            self._send({"preload": preload})
            reply = await asyncio.wait_for(self._recv(), BUILD_TIMEOUT)
        except (OSError, TimeoutError, ValueError) as e:
            return self._fail(f"the template did not answer ({e or type(e).__name__})")
        if not reply.get("ready"):
            why = reply.get("refused") or reply.get("failed") or "it exited while importing"
            return self._fail(str(why))
        self.info = reply
        self.site = site_fingerprint(list(reply.get("site", [])))
        self.state = "ready"

    def _fail(self, why: str) -> None:
        self.state, self.reason = "failed", why
        self.close()

    def stale(self, plan: WarmPlan, env: dict[str, str]) -> str | None:
        """Why this template cannot serve a start with this command and environment."""
        if self.state != "ready" or self.pid is None:
            if self.state == "building":
                return "the template is still importing"
            return self.reason or "the template exited"
        if plan != self.plan:
            return "the command changed"
        if env != self.env:
            keys = env.keys() | self.env.keys()
            changed = sorted(k for k in keys if env.get(k) != self.env.get(k))
            return f"the environment changed ({', '.join(changed[:3])})"
        if site_fingerprint(list(self.info.get("site", []))) != self.site:
            return "installed packages changed (site-packages)"
        return None

    async def fork(
        self, spec: SpawnSpec, on_output: OutputCallback, hold: Hold | None = None
    ) -> ChildProcess:
        """A service process forked from the template; Refused if the template says no.
        With `hold` (the read end of a pipe, and project modules), the process imports those
        modules and then waits for a byte on the pipe before it runs the entry."""
        async with self._lock:
            marker = start_marker(spec.marker)
            out_r, out_w, err_r, err_w = make_pipes()
            request = {
                "manager": os.getpid(),
                "mode": self.plan.mode,
                "target": self.plan.target,
                "args": self.plan.args,
                "cwd": spec.cwd,
                "env": {**spec.env, MARKER_VAR: marker},
                "blocked": self.plan.target == bootstrap.MODULE,  # it unblocks them itself
            }
            sent = [out_w, err_w]
            if hold is not None:
                request.update(hold=True, prepare=hold.prepare)
                sent += [hold.go, hold.ready]
            request["listen"] = len(spec.listen)  # the held sockets, last: its fds 3, 4, ...
            sent += list(spec.listen)
            try:
                self._send(request, sent)
                reply = await asyncio.wait_for(self._recv(), FORK_TIMEOUT)
            except (OSError, TimeoutError, ValueError) as e:
                close_pipes(out_r, err_r)
                self._fail(f"the template did not answer ({e or type(e).__name__})")
                raise Refused(self.reason) from None
            finally:
                os.close(out_w)
                os.close(err_w)
            if "pid" not in reply:
                close_pipes(out_r, err_r)
                self._fail(str(reply.get("refused", "the template refused")))
                raise Refused(self.reason)
            self.forks += 1
            return attach(int(reply["pid"]), spec, out_r, err_r, on_output, marker)

    def _send(self, obj: dict[str, Any], fds: list[int] | None = None) -> None:
        assert self._sock is not None
        data = json.dumps(obj).encode()
        anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))] if fds else []
        self._sock.sendmsg([data], anc)

    async def _recv(self) -> dict[str, Any]:
        assert self._sock is not None
        data = await asyncio.get_running_loop().sock_recv(self._sock, 1 << 20)
        if not data:
            raise OSError("the template exited")
        reply = json.loads(data)
        if not isinstance(reply, dict):
            raise ValueError("a malformed reply")
        return reply

    def rss(self) -> int | None:
        pid = self.pid
        return rss_bytes(pid) if pid else None

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()  # the template sees EOF and exits
            self._sock = None
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(OSError):
                os.killpg(self.proc.pid, 15)

    def reap(self) -> None:
        """After close(): wait for the process (it exits on EOF or SIGTERM)."""
        if self.proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(2)
            if self.proc.poll() is None:
                with contextlib.suppress(OSError):
                    os.killpg(self.proc.pid, 9)
                self.proc.wait()

    def status(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "pid": self.pid,
            "rss": self.rss(),
            "reason": self.reason,
            "modules": self.info.get("modules"),
            "import_seconds": self.info.get("seconds"),
            "forks": self.forks,
        }


def preload_list(external: tuple[str, ...], plan: WarmPlan, target_in_project: bool) -> list[str]:
    """What the template imports: the service's early third-party imports in the order a cold
    start imports them (entry.py), after the launcher and what it imports only once running.
    Never project code: the whole point is that a fork imports that afresh."""
    names: list[str] = []
    if plan.mode == "module" and not target_in_project:
        names.append(plan.target)  # python -m uvicorn ...
    names += RUNTIME_IMPORTS.get(plan.launcher, [])
    names += external
    return list(dict.fromkeys(n for n in names if n and n != "__main__"))


def packaging_file(path: Path) -> bool:
    import fnmatch

    return any(fnmatch.fnmatch(path.name, pattern) for pattern in PACKAGING_FILES)
