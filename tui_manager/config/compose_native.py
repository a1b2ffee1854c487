"""A compose service whose image is known infrastructure (native_images.py): run here by its
own program when it is installed, else left to Docker with the `docker run` line to use. Either
way, how the other services reach it here (compose_hosts.py)."""

from __future__ import annotations

import os
import shlex
from typing import TYPE_CHECKING

from . import native_images

if TYPE_CHECKING:
    from .compose_map import Mapper


def run_natively(m: Mapper) -> tuple[str | None, bool]:
    """(its command, whether it is a known infrastructure image). A known image (redis,
    postgres, ...) whose program is installed runs here: the table is filled and its command
    returned; one whose program is missing gets no command and its `docker run` line."""
    image = m.typed("image", m.body.get("image"))
    runs = native_images.known(image) if image and m.body.get("build") is None else None
    published = {t: p for p, t in m.ports() if t and p}
    if runs is None or image is None:
        m.out.reach = dict(published)
        m.out.how = f"in docker: `docker compose up -d {m.svc.name}` publishes it"
        return None, False
    cmd = m.body.get("command")
    extra = m._argv("command", cmd) if cmd is not None else []
    if extra and os.path.basename(extra[0]) == runs.program:
        extra = extra[1:]  # `redis-server --requirepass x`: its options, after ours
    elif extra:
        return None, False  # something else in that image: the usual way
    why = native_images.missing(runs, m.ctx.path)
    ports = [int(published.get(str(p)) or p) for p in runs.ports]
    m.out.reach = {str(p): str(here) for p, here in zip(runs.ports, ports, strict=True)}
    if why is not None:
        env = {k: str(v) for k, v in m._raw_env().items() if v is not None}
        line = native_images.docker_run(image, [(p, t) for t, p in published.items()], env)
        m.out.how = f"in docker: `docker compose up -d {m.svc.name}` publishes it"
        m.out.comments += [f"# {m.svc.name}: {why}: run it with docker:", f"#   {line}"]
        m.note(f"{why}: written disabled (its docker run line is in a comment)")
        return None, True
    data = f".autogpt-dev/data/{m.svc.name}"
    table = native_images.service(runs, ports, data)
    if extra:
        table["command"] += " " + shlex.join(extra)
    m.out.table.update({k: v for k, v in table.items() if k != "command"})
    m.out.how = f"runs here: {runs.program}"
    m.out.comments.append(
        f"# {m.svc.name}: {image} runs here as {runs.program}"
        + (f", its data in {data}" if runs.data else "")
    )
    return str(table["command"]), True
