"""supervisord: one standalone supervisord.conf that `supervisord -c` runs as is."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from ..base import graph
from ..config.config import Config
from ..core.environment import child_env
from .common import Export, comment_block

AUTORESTART = {"no": "false", "on-failure": "unexpected", "always": "true"}


def _env(values: dict[str, str], warnings: list[str], name: str) -> str:
    """KEY="value",...: supervisord splits this with non-POSIX shlex, so a value is quoted with
    the quote it does not contain (no escapes exist); `%` is doubled (it expands %(here)s)."""
    pairs = []
    for k, v in values.items():
        if '"' in v and "'" in v:
            warnings.append(f"{name}: env {k} has both quote kinds; supervisord cannot hold it")
            continue
        quote = "'" if '"' in v else '"'
        pairs.append(f"{k}={quote}{v}{quote}".replace("%", "%%"))
    return ",".join(pairs)


def write(config: Config, out: Path) -> Export:
    result = Export()
    run = out.resolve()
    waves = graph.start_waves(config.edges())
    for name, svc in config.enabled().items():
        if svc.dependencies():
            result.warnings.append(
                f"{name}: depends_on becomes start priority only; "
                "supervisord does not wait for readiness"
            )
        if svc.env_file:
            result.warnings.append(f"{name}: env_file is inlined as of export time")
    parts = [
        comment_block(result.warnings, "; "),
        f"[unix_http_server]\nfile={run}/supervisor.sock\nchmod=0700\n",
        f"[supervisord]\nlogfile={run}/supervisord.log\npidfile={run}/supervisord.pid\n"
        f"childlogdir={run}\n",
        "[rpcinterface:supervisor]\n"
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n",
        f"[supervisorctl]\nserverurl=unix://{run}/supervisor.sock\n",
    ]
    for i, wave in enumerate(waves, 1):
        for name in wave:
            svc = config.services[name]
            env = child_env(config, name)
            own = {k: v for k, v in env.items() if k in svc.env or k == "PYTHONUNBUFFERED"}
            if svc.env_file:
                own.update({k: v for k, v in env.items() if k not in own and k not in os.environ})
            policy = config.restart_policy(name)
            parts.append(
                f"[program:{name}]\n"
                f"command={shlex.join(config.argv(name)).replace('%', '%%')}\n"
                f"directory={config.resolve(svc.cwd)}\n"
                + (f"environment={_env(own, result.warnings, name)}\n" if own else "")
                + f"priority={100 * i}\n"
                f"autostart=true\nautorestart={AUTORESTART[policy]}\n"
                f"startsecs=0\nstartretries={svc.max_restarts}\n"
                f"stopsignal={svc.stop_signal_name.removeprefix('SIG')}\n"
                f"stopwaitsecs={max(1, int(svc.stop_timeout))}\n"
                "stopasgroup=true\nkillasgroup=true\n"
                f"stdout_logfile={run}/{name}.log\nredirect_stderr=true\n"
            )
    path = out / "supervisord.conf"
    path.write_text("\n".join(parts))
    result.files.append(path)
    return result
