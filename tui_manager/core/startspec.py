"""What one start of a service execs, where and with what: built in one place for the cold
start (lifecycle.py) and for the warm one prepared ahead (warm/pool.py), so the two compare
equal exactly when they would run the same program."""

from __future__ import annotations

from ..base import paths
from ..config.config import Config
from . import sockets
from .environment import with_ours
from .process import SpawnSpec
from .service import Service
from .sockets import Held
from .warm import bootstrap


def start_spec(
    config: Config, svc: Service, run_id: str, base_env: dict[str, str], held: list[Held]
) -> SpawnSpec:
    """`base_env`: the service's environment as read from its files now (child_env); `held`:
    the sockets the manager holds for it (sockets.py)."""
    env = with_ours(config, svc.name, base_env)
    if svc.target is not None:  # an AppProcess: its bootstrap, started with stops held back
        argv = bootstrap.argv(paths.payload_path(config.state_dir, svc.name))
        blocked = bootstrap.BLOCKED
    else:
        argv, blocked = config.argv(svc.name), frozenset()
        if held:  # a known server is told to use them (uvicorn --fd 3, ...)
            argv = sockets.with_sockets(argv, len(held))
    if held:
        env.update(sockets.environment(svc.name, len(held)))
    return SpawnSpec(
        argv=argv,
        cwd=str(config.resolve(svc.spec.cwd)),
        env=env,
        marker=f"{run_id}:{svc.name}",
        tty=svc.spec.tty,
        blocked=blocked,
        listen=tuple(h.sock.fileno() for h in held),
    )
