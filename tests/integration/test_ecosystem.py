"""A Procfile alone, completion scripts, JSON headless output (compose import: test_import)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.conftest import PY, fx
from tui_manager.config import load


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PY, "-m", "tui_manager", *args], cwd=cwd, capture_output=True, text=True, timeout=60
    )


def test_init_from_procfile_and_a_procfile_alone_runs(tmp_path):
    (tmp_path / "Procfile").write_text(
        f"web: {PY} {fx('sleeper.py')[1:-1].split(', ')[1]}\nmain: echo done\n"
    )
    r = cli("up", "--headless", cwd=tmp_path)  # a directory with only a Procfile just works
    assert r.returncode == 0 and "main   | done" in r.stdout
    r = cli("init", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    cfg = load(tmp_path / "autogpt-dev.toml")
    assert list(cfg.services) == ["web", "main"] and cfg.foreground == "main"


def test_completion_scripts_offer_commands_and_service_names(tmp_path):
    (tmp_path / "autogpt-dev.toml").write_text(
        '[services.alpha]\ncommand = "x"\n[services.beta]\ncommand = "y"\n'
    )
    assert cli("check", "--names", cwd=tmp_path).stdout.split() == ["alpha", "beta"]
    bash = cli("completion", "bash", cwd=tmp_path).stdout
    env = {**os.environ, "PATH": f"{Path(PY).parent}:{os.environ['PATH']}"}

    def complete(*words: str) -> list[str]:
        script = tmp_path / "c.sh"
        line = " ".join(f'"{w}"' for w in ["autogpt-dev", *words])
        script.write_text(
            f"{bash}\nCOMP_WORDS=({line}); COMP_CWORD={len(words)}; _autogpt_dev; "
            'echo "${COMPREPLY[@]}"\n'
        )
        out = subprocess.run(
            ["bash", str(script)], cwd=tmp_path, capture_output=True, text=True, env=env
        )
        return out.stdout.split()

    assert complete("restart", "") == [
        "-h",
        "--help",
        "-c",
        "--config",
        "--no-wait",
        "alpha",
        "beta",
    ]
    assert complete("re") == ["restart"]
    # Every command of the parser is offered (attach and mcp included), and its own options.
    assert {"attach", "mcp", "init", "completion"} <= set(complete(""))
    assert {"systemd", "supervisord", "compose", "kubernetes"} <= set(complete("export", ""))
    assert "--read-only" in complete("mcp", "--")
    for shell in ("zsh", "fish"):
        text = cli("completion", shell, cwd=tmp_path).stdout
        assert "check --names" in text and "attach" in text and "--read-only" in text


def test_headless_json_lines_for_log_shippers(write_config):
    path = write_config(f"[services.fg]\ncommand = {fx('crash.py', 0)}\n")
    r = cli("up", "--headless", "--log-format", "json", cwd=path.parent)
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert {"ts", "service", "stream", "line"} <= set(rows[0])
    assert {"service": "fg", "stream": "stdout", "line": "crashing with 0"}.items() <= next(
        r for r in rows if r["service"] == "fg"
    ).items()
    assert rows[-1]["event"]["event"] == "manager_stop"
