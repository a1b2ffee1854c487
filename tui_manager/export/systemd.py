"""systemd: one unit per service plus a target that starts them all (`systemd-analyze verify`)."""

from __future__ import annotations

import shlex
from pathlib import Path

from ..base import graph
from ..config.config import Config
from .common import Export, absolute_argv, comment_block

RESTART = {"no": "no", "on-failure": "on-failure", "always": "always"}


def _quote_env(key: str, value: str) -> str:
    return '"' + f"{key}={value}".replace("\\", "\\\\").replace('"', '\\"') + '"'


def write(config: Config, out: Path) -> Export:
    result = Export()
    prefix = config.manager.name
    target = f"{prefix}.target"
    edges = config.edges()
    names = [n for wave in graph.start_waves(edges) for n in wave]
    for name in names:
        svc = config.services[name]
        warnings = []
        if svc.ready is not None:
            warnings.append(
                f"{name}: the ready probe ({svc.ready.kind}) has no systemd "
                "equivalent; dependents only wait for the start (use Type=notify)"
            )
        if svc.health is not None:
            warnings.append(f"{name}: the health probe is not exported (use a watchdog or timer)")
        deps = [f"{prefix}-{d}.service" for d in sorted(edges[name])]
        exec_start = shlex.join(absolute_argv(config, name)).replace("%", "%%")
        env = " ".join(_quote_env(k, v) for k, v in svc.env.items())
        lines = [
            comment_block(warnings).rstrip("\n"),
            "[Unit]",
            f"Description={prefix}: {name}",
            f"PartOf={target}",
            *([f"Requires={' '.join(deps)}", f"After={' '.join(deps)}"] if deps else []),
            f"StartLimitIntervalSec={int(svc.restart_window)}",
            f"StartLimitBurst={max(1, svc.max_restarts)}",
            "",
            "[Service]",
            "Type=simple",
            f"WorkingDirectory={config.resolve(svc.cwd)}",
            f"ExecStart={exec_start}",
            *([f"Environment={env}"] if env else []),
            # A leading "-": systemd skips a missing file (compose's required: false).
            *(f"EnvironmentFile={'' if r else '-'}{path}" for path, r in config.env_files(name)),
            "Environment=PYTHONUNBUFFERED=1",
            f"Restart={RESTART[config.restart_policy(name)]}",
            f"RestartSec={svc.backoff}",
            f"KillSignal={svc.stop_signal_name}",
            f"TimeoutStopSec={svc.stop_timeout}",
            "KillMode=control-group",
            "",
            "[Install]",
            f"WantedBy={target}",
            "",
        ]
        path = out / f"{prefix}-{name}.service"
        path.write_text("\n".join(line for line in lines if line is not None).lstrip("\n"))
        result.files.append(path)
        result.warnings += warnings
    units = " ".join(f"{prefix}-{n}.service" for n in names)
    (out / target).write_text(
        f"[Unit]\nDescription={prefix}: the whole stack\nWants={units}\nAfter={units}\n\n"
        "[Install]\nWantedBy=multi-user.target\n"
    )
    result.files.append(out / target)
    return result
