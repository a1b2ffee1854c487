"""One compose service -> one autogpt-dev service table, and a note for everything that could not
be carried over (docs/coming-from.md lists every key and what it becomes).

Strings that run (commands, environment values) keep their ${VARS}, re-written in our dialect, so
`.env` still applies at run time. Typed values (durations, retries, restart) are resolved now from
`.env` and the environment, or reported with their source text and left at our default.
"""

from __future__ import annotations

import os
import shlex
import shutil
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from . import dockerfile
from .compose_file import Service, as_mapping
from .compose_native import run_natively
from .compose_text import Mapped, ServiceText
from .compose_values import (
    CONDITIONS,
    CONTAINER_ONLY,
    MAPPED,
    REPORTED,
    RESTARTS,
    container_paths,
    native_probe,
    signal_name,
)
from .loader import create_hint, env_template


@dataclass
class Context:
    compose_path: Path
    out_dir: Path  # where autogpt-dev.toml is written: paths are relative to it
    lookup: dict[str, str]  # .env, then the environment: for the values resolved now
    profiles: set[str]
    names: set[str]
    healthy: set[str]  # services with a healthcheck
    path: str  # PATH that programs are looked up in (the project's venv first)


class Mapper(ServiceText):
    def __init__(self, ctx: Context, svc: Service) -> None:
        super().__init__(ctx.lookup, svc)
        self.ctx, self.body = ctx, svc.body
        self.image = self._dockerfile()

    # -- the mapping -----------------------------------------------------------------------------
    def map(self) -> Mapped:
        body, t = self.body, self.out.table
        profiles = [str(p) for p in body.get("profiles") or []]
        self.out.enabled = not profiles or bool(set(profiles) & self.ctx.profiles)
        cwd, cwd_container = self._cwd()
        native, known = run_natively(self)  # known: an infrastructure image, here or in docker
        command = native if known else self._program(cwd_container)
        if isinstance(command, (str, list)):  # the command leads the table, as users write it
            rest = dict(t)
            t.clear()
            t["command"] = command
            t.update(rest)
        if cwd != "." and not known:
            t["cwd"] = cwd
        self._environment()
        self._env_files()
        self._depends_on()
        if not known:  # (a native image has its own probe: its healthcheck names ports)
            self._healthcheck(runs_here=command is not None and self.out.enabled)
        else:
            self.out.long_running = True
        self._restart_and_stop()
        self.out.published = bool(body.get("ports"))
        if str(body.get("tty", "")).lower() == "true":
            t["tty"] = True
        if profiles and not self.out.enabled:
            flags = " ".join(f"--profile {p}" for p in profiles)
            self.out.comments.append(f"# profile {', '.join(profiles)}: `init {flags}` enables it")
        if not self.out.enabled or command is None:
            t["enabled"] = False
            self.out.enabled = False
        else:
            self._report(cwd_container)
        if not known and command is not None:  # a program of its own, run here: it
            self.out.reach, self.out.how = {}, "runs here"  # listens on its own ports
        return self.out

    def _raw_env(self) -> dict[str, Any]:
        return as_mapping(self.body.get("environment"), "environment", self.svc.origin, "")

    def _dockerfile(self) -> dockerfile.Image | None:
        build = self.body.get("build")
        if build is None:
            return None
        if isinstance(build, str):
            context, name, target = build, "Dockerfile", None
        else:
            context = str(build.get("context", "."))
            name = str(build.get("dockerfile", "Dockerfile"))
            target = build.get("target")
        return dockerfile.read(self.svc.origin.parent / context / name, target)

    def _what(self) -> str:
        """What a service without a command is, in the note that says it cannot run here."""
        if not self.body:
            return "an empty definition"
        build, context = self.body.get("build"), self._build_context()
        if build is not None and context is not None:
            name = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
            where = self._rel(context / str(name))
            if self.image is not None:
                return f"built from {where}, which has no CMD or ENTRYPOINT,"
            return f"built from {where} (which could not be read)"
        return f"image {self.typed('image', self.body.get('image')) or '(none)'}"

    def _build_context(self) -> Path | None:
        build = self.body.get("build")
        if build is None:
            return None
        context = build if isinstance(build, str) else build.get("context", ".")
        return (self.svc.origin.parent / str(context)).resolve()

    def _rel(self, path: Path) -> str:
        return os.path.relpath(path, self.ctx.out_dir)

    @cached_property
    def binds(self) -> list[tuple[Path, str]]:
        """Bind mounts: (host path, container path)."""
        out = []
        for v in self.body.get("volumes") or []:
            if isinstance(v, dict) and v.get("type") == "bind":
                host = self.typed("volumes", v.get("source", ""))
                target = str(v.get("target", ""))
            elif isinstance(v, str):
                text = self.typed("volumes", v)  # `${DIR:-.}/dags:/opt/dags` has its own colons
                if text is None or ":" not in text or not text.startswith((".", "/", "~")):
                    continue
                host, target = text.split(":")[0], text.split(":")[1]
            else:
                continue
            if host:
                out.append(((self.svc.origin.parent / os.path.expanduser(host)).resolve(), target))
        return out

    def _cwd(self) -> tuple[str, str | None]:
        """(cwd relative to the output, the container dir it stands for)."""
        workdir = self.typed("working_dir", self.body.get("working_dir"))
        if workdir is None and self.image is not None:
            workdir = self.image.workdir
        context = self._build_context()
        if workdir:
            for host, target in self.binds:
                if workdir == target or workdir.startswith(target.rstrip("/") + "/"):
                    path = host / workdir[len(target) :].lstrip("/")
                    if path.is_dir():
                        return self._rel(path), workdir
            if context is not None and context.is_dir():  # where the Dockerfile copied it from
                copied = self.image.host_dir(workdir, context) if self.image else None
                return self._rel(copied or context), workdir
            self.note(f"working_dir {workdir} is a path in the container: cwd is the project root")
            return ".", None
        if context is not None and context.is_dir():
            return self._rel(context), None
        return ".", None

    def _argv(self, key: str, raw: Any) -> list[str]:
        if isinstance(raw, list):
            return [self.runtime(key, x) for x in raw]
        return shlex.split(self.runtime(key, raw))

    def _program(self, container_dir: str | None) -> str | list[str] | None:
        body, image = self.body, self.image
        ep, cmd = body.get("entrypoint"), body.get("command")
        if ep is not None:  # compose's entrypoint replaces the image's, and drops its CMD
            argv: str | list[str] = self._argv("entrypoint", ep) + (
                self._argv("command", cmd) if cmd is not None else []
            )
        elif cmd is not None and image is not None and image.entrypoint:
            argv = image.entrypoint + self._argv("command", cmd)
        elif cmd is not None:
            argv = (
                self._argv("command", cmd)
                if isinstance(cmd, list)
                else self.runtime("command", cmd)
            )
        elif image is not None and (image.entrypoint or image.cmd):
            argv = (image.entrypoint or []) + (image.cmd or [])
        else:
            what = self._what()
            self.out.comments += [
                f"# {self.svc.name}: {what} with no command: it runs in a container, not here.",
                f"# Run it with docker (`docker compose up -d {self.svc.name}`), or install it",
                "# here, put its command in `command` and set enabled = true.",
            ]
            self.note(f"{what} has no command to run outside a container: written disabled")
            return None
        words = shlex.split(argv) if isinstance(argv, str) else argv
        if not words:
            return None
        if words[0].startswith("-"):
            self.out.comments.append(
                f"# {self.svc.name}: the command `{shlex.join(words)}` is arguments to the "
                "image's entrypoint: put the program in front of them and set enabled = true."
            )
            self.note("its command is arguments to an image's entrypoint: written disabled")
            return None
        if container_dir and isinstance(argv, list):  # /app/manage.py -> manage.py
            prefix = container_dir.rstrip("/") + "/"
            argv = [a[len(prefix) :] if a.startswith(prefix) else a for a in argv]
        program = words[0]
        inside = container_paths(words) if self.body.get("build") is None else []
        if inside:
            image_name = self.typed("image", body.get("image")) or "its image"
            self.out.comments += [
                f"# {self.svc.name}: its command uses {inside[0]}, which exists only in",
                f"# {image_name}: run it with docker (`docker compose up -d {self.svc.name}`),",
                "# or adapt the command to this machine and set enabled = true.",
            ]
            self.note(f"its command uses {inside[0]}, which is only in {image_name}: disabled")
            return None
        if "$" not in program and shutil.which(program, path=self.ctx.path) is None:
            if self.body.get("build") is None:
                image_name = self.typed("image", body.get("image")) or "its image"
                self.out.comments += [
                    f"# {self.svc.name}: `{program}` comes with {image_name} and is not installed",
                    f"# here: run it with docker (`docker compose up -d {self.svc.name}`), or",
                    "# install it and set enabled = true.",
                ]
                self.note(f"`{program}` is not installed here (it runs in {image_name}): disabled")
                return None
            self.note(f"`{program}` is not on PATH here yet (install the project's dependencies)")
        return argv

    def _environment(self) -> None:
        env = self._raw_env()
        inherited = [k for k, v in env.items() if v is None]
        values = {k: self.runtime(f"environment.{k}", v) for k, v in env.items() if v is not None}
        if values:
            self.out.table["env"] = values
        if inherited:
            self.out.comments.append(
                f"# from the environment, as compose passes them: {', '.join(inherited)}"
            )

    def _env_files(self) -> None:
        raw = self.body.get("env_file")
        items = raw if isinstance(raw, list) else [] if raw is None else [raw]
        files: list[Any] = []
        for item in items:
            path_text = item.get("path") if isinstance(item, dict) else item
            required = (
                str(item.get("required", "true")).lower() != "false"
                if isinstance(item, dict)
                else True
            )
            text = self.typed("env_file", path_text)
            if text is None:
                continue
            full = (self.svc.origin.parent / text).resolve()
            # init notes the project's own .env once, when it has an example to copy
            project_env = full == self.ctx.compose_path.parent / ".env" and env_template(full)
            if required and not full.is_file() and not project_env:  # a fresh clone: say how
                self.note(f"env_file {self._rel(full)} does not exist yet: {create_hint(full)}")
            rel = self._rel(full)
            files.append(rel if required else {"path": rel, "required": False})
        if files:
            self.out.table["env_file"] = (
                files[0] if len(files) == 1 and isinstance(files[0], str) else files
            )

    def _depends_on(self) -> None:
        deps = as_mapping(self.body.get("depends_on"), "depends_on", self.svc.origin, "")
        table: dict[str, Any] = {}
        for dep, spec in deps.items():
            spec = spec if isinstance(spec, dict) else {"condition": "service_started"}
            required = str(spec.get("required", "true")).lower() != "false"
            if dep not in self.ctx.names:
                if required:
                    raise self._fail("depends_on", f"no service `{dep}` in this project")
                self.note(f"depends_on {dep} (required: false) is not in this project: left out")
                continue
            cond = CONDITIONS.get(str(spec.get("condition", "service_started")), "started")
            if cond == "ready" and dep not in self.ctx.healthy:
                self.note(
                    f"depends_on {dep}: service_healthy, but {dep} has no healthcheck: started"
                )
                cond = "started"
            restart = str(spec.get("restart", "false")).lower() == "true"
            table[dep] = {"condition": cond, "restart": True} if restart else cond
        if table:
            self.out.table["depends_on"] = table

    def _healthcheck(self, runs_here: bool) -> None:
        hc = self.body.get("healthcheck")
        if not isinstance(hc, dict) or str(hc.get("disable", "")).lower() == "true":
            return
        test = hc.get("test")
        if isinstance(test, list) and test:
            kind = str(test[0]).upper()
            if kind == "NONE":
                return
            words = [self.runtime("healthcheck.test", x) for x in test[1:]]
            cmd = words[0] if kind == "CMD-SHELL" and words else shlex.join(words)
        elif isinstance(test, str) and test.strip():
            cmd = self.runtime("healthcheck.test", test)
        else:
            return
        probe = native_probe(cmd)
        if probe is None:
            probe = {"exec": cmd}
            program = shlex.split(cmd)[0] if cmd.strip() else ""
            missing = shutil.which(program, path=self.ctx.path) is None if program else False
            if runs_here and "$" not in program and missing:
                self.note(f"its healthcheck runs `{program}`, which is not installed here")
        interval = self.seconds("healthcheck.interval", hc.get("interval")) or 30.0
        timeout = self.seconds("healthcheck.timeout", hc.get("timeout")) or 30.0
        start_period = self.seconds("healthcheck.start_period", hc.get("start_period")) or 0.0
        start_interval = self.seconds("healthcheck.start_interval", hc.get("start_interval"))
        retries_text = self.typed("healthcheck.retries", hc.get("retries"))
        retries = int(retries_text) if retries_text and retries_text.isdigit() else 3
        # Readiness polls often (compose's start_interval, else 1 s); its budget is the whole
        # start_period + retries x interval, so a 30 s interval never makes it fail early.
        ready_every = start_interval or min(1.0, interval)
        self.out.table["ready"] = {**probe, "interval": ready_every, "timeout": timeout}
        self.out.table["ready_timeout"] = max(10.0, start_period + retries * interval)
        self.out.table["health"] = {
            **probe,
            "interval": interval,
            "timeout": timeout,
            "failures": retries,
        }
        self.out.long_running = True

    def _restart_and_stop(self) -> None:
        t = self.out.table
        policy = self.typed("restart", self.body.get("restart"))
        if policy:
            name, _, limit = policy.partition(":")
            if name not in RESTARTS:
                self.note(f"restart `{policy}` is not a compose policy: on-failure")
            t["restart"] = RESTARTS.get(name, "on-failure")
            if limit.isdigit():
                t["max_restarts"] = int(limit)
            self.out.long_running |= name in ("always", "unless-stopped")
        sig = self.typed("stop_signal", self.body.get("stop_signal"))
        if sig:
            t["stop_signal"] = sig if not sig.isdigit() else signal_name(int(sig))
        grace = self.seconds("stop_grace_period", self.body.get("stop_grace_period"))
        if grace is not None:
            t["stop_timeout"] = grace

    def _report(self, cwd_container: str | None) -> None:
        for published, container in self.ports():
            if self.out.how.startswith("runs here:"):  # a known image listens where published
                break
            if published and container and published != container:
                self.note(
                    f"port {published}:{container}: the process listens on {container} itself"
                )
        for host, target in self.binds:
            if cwd_container is None or not cwd_container.startswith(target):
                self.note(f"volume {self._rel(host)}:{target} is not mounted: paths are the host's")
        for key in REPORTED:
            if self.body.get(key):
                self.note(f"{key} has no meaning outside a container here: left out")
        for key in sorted(set(self.body) - MAPPED - CONTAINER_ONLY - set(REPORTED)):
            self.note(f"{key} is not a compose key autogpt-dev knows: left out")
        if str(self.body.get("network_mode", "")).startswith(("service:", "container:")):
            self.note("network_mode shares another container's network: every process shares ours")
        replicas = (
            (self.body.get("deploy") or {}).get("replicas")
            if isinstance(self.body.get("deploy"), dict)
            else None
        )
        for key, value in (("scale", self.body.get("scale")), ("deploy.replicas", replicas)):
            if value is not None and str(value) not in ("0", "1"):
                self.note(f"{key} {value}: one process is started")
