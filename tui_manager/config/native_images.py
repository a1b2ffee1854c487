"""Infrastructure images whose program can run here instead of in a container: a small table of
data (the image, the program, a command template, a readiness probe, whether it keeps data),
so a developer who has redis or postgres installed (brew, apt) needs no Docker for them.

A template's `{p0}`, `{p1}` are the ports it listens on here (the published ones, else the
image's own), `{data}` its data directory under the state dir (removed by nothing but the
user). An image whose program is missing stays disabled, with the `docker run` line to use.
"""

from __future__ import annotations

import os
import shlex
import shutil
from typing import Any, NamedTuple


class Native(NamedTuple):
    images: tuple[str, ...]  # repositories (no registry, no tag)
    program: str  # must be on PATH
    ports: tuple[int, ...]  # the image's ports, the main one first
    command: str  # split like a shell; run by one where `shell` (its $VARS: the service's env)
    ready: str  # "tcp", or an exec probe
    needs: tuple[str, ...] = ()  # more programs it runs
    data: bool = False  # it keeps a data directory
    not_root: bool = False  # it refuses to run as root
    shell: bool = False  # the command is a script (else the program is the service's process)


# $$ is a literal $ in our config: the shell gets the service's own variables. A one-shot
# initdb (the image's POSTGRES_* variables), then postgres itself; a failed init stops there.
# TCP only (-k ''): a socket path under a deep project folder can pass macOS's 103 bytes.
_POSTGRES = (
    "mkdir -p {data} && {{ [ -f {data}/PG_VERSION ] || {{ umask 077 && "
    "printf '%s\\n' \"$${{POSTGRES_PASSWORD:-postgres}}\" > {data}.pw && "
    'initdb -D {data} -U "$${{POSTGRES_USER:-postgres}}" --pwfile={data}.pw -A scram-sha-256 '
    ">/dev/null && rm -f {data}.pw && "
    '{{ [ -z "$${{POSTGRES_DB:-}}" ] || [ "$$POSTGRES_DB" = "$${{POSTGRES_USER:-postgres}}" ] || '
    'echo "CREATE DATABASE \\"$$POSTGRES_DB\\"" | postgres --single -D {data} postgres '
    ">/dev/null; }}; }}; }} && exec postgres -D {data} -p {p0} -h 127.0.0.1 -k ''"
)

NATIVE: tuple[Native, ...] = (
    Native(
        ("redis",),
        "redis-server",
        (6379,),
        "redis-server --port {p0} --bind 127.0.0.1 --save '' --appendonly no",
        "redis-cli -p {p0} ping",
    ),
    Native(
        ("valkey/valkey",),
        "valkey-server",
        (6379,),
        "valkey-server --port {p0} --bind 127.0.0.1 --save '' --appendonly no",
        "valkey-cli -p {p0} ping",
    ),
    Native(("memcached",), "memcached", (11211,), "memcached -l 127.0.0.1 -p {p0} -U 0", "tcp"),
    Native(
        ("axllent/mailpit",),
        "mailpit",
        (1025, 8025),
        "mailpit --smtp 127.0.0.1:{p0} --listen 127.0.0.1:{p1}",
        "tcp",
    ),
    Native(
        ("mailhog/mailhog",),
        "MailHog",
        (1025, 8025),
        "MailHog -smtp-bind-addr 127.0.0.1:{p0} -api-bind-addr 127.0.0.1:{p1} "
        "-ui-bind-addr 127.0.0.1:{p1}",
        "tcp",
    ),
    Native(
        ("postgres",),
        "postgres",
        (5432,),
        _POSTGRES,
        "tcp",
        ("initdb",),
        data=True,
        not_root=True,
        shell=True,
    ),
)


def repository(image: str) -> str:
    """`docker.io/library/redis:7-alpine` -> `redis`; `axllent/mailpit:v1` -> `axllent/mailpit`."""
    name = image.split("@")[0]
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name = name[: len(name) - len(last)] + last.split(":")[0]
    parts = name.split("/")
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        parts = parts[1:]  # a registry host
    if parts[:1] == ["library"]:
        parts = parts[1:]
    return "/".join(parts)


def known(image: str) -> Native | None:
    repo = repository(image)
    return next((n for n in NATIVE if repo in n.images), None)


def missing(native: Native, path: str) -> str | None:
    """Why it cannot run here (a program not installed, root for postgres), or None."""
    for program in (native.program, *native.needs):
        if shutil.which(program, path=path) is None:
            return f"`{program}` is not installed here"
    if native.not_root and hasattr(os, "geteuid") and os.geteuid() == 0:
        return f"{native.program} refuses to run as root"
    return None


def service(native: Native, ports: list[int], data: str) -> dict[str, Any]:
    """The service table that runs it here, listening on `ports` (the image's, in order)."""
    fields = {f"p{i}": p for i, p in enumerate(ports)} | {"data": shlex.quote(data)}
    table: dict[str, Any] = {"command": native.command.format(**fields)}
    if native.shell:
        table["shell"] = True
    probe: dict[str, Any] = (
        {"tcp": f"127.0.0.1:{ports[0]}"}
        if native.ready == "tcp"
        else {"exec": native.ready.format(**fields)}
    )
    table["ready"] = {**probe, "interval": 0.2}
    return table


def docker_run(image: str, ports: list[tuple[str, str]], env: dict[str, str]) -> str:
    """The `docker run` line that runs the image as compose would, for a comment."""
    words = ["docker", "run", "--rm"]
    for published, target in ports:
        words += ["-p", f"{published}:{target}" if published else target]
    for k, v in env.items():
        words += ["-e", f"{k}={v}"]
    return shlex.join([*words, image])
