"""Every export format checked by the tool that owns it (with a broken control for each)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.conftest import PY, free_port, fx
from tui_manager.config import load
from tui_manager.export import export

REPO = Path(__file__).resolve().parents[2]


def stack(write_config, port: int) -> Path:
    return write_config(f"""
[manager]
name = "demo"
[services.db]
command = {fx("ready_after.py", port, 0)}
env = {{ LOG_LEVEL = "warning", QUOTE = "a \\"b\\" %c" }}
ready = {{ http = "http://127.0.0.1:{port}/health" }}
health = {{ tcp = "127.0.0.1:{port}", interval = 5 }}
[services.api]
command = {fx("sleeper.py", "api")}
depends_on = {{ db = {{ condition = "ready", restart = true }} }}
restart = "always"
stop_signal = "SIGINT"
[services.fg]
command = {fx("sleeper.py", "fg")}
depends_on = {{ api = "started" }}
""")


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze missing")
def test_systemd_units_pass_systemd_analyze_verify(write_config, tmp_path):
    result = export(load(stack(write_config, 18001)), "systemd", tmp_path / "out")
    files = [str(f) for f in result.files]
    assert sorted(Path(f).name for f in files) == [
        "demo-api.service",
        "demo-db.service",
        "demo-fg.service",
        "demo.target",
    ]
    verify = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *files], capture_output=True, text=True
    )
    assert verify.returncode == 0, verify.stderr
    api = (tmp_path / "out/demo-api.service").read_text()
    assert "Requires=demo-db.service" in api and "Restart=always" in api
    assert "KillSignal=SIGINT" in api
    assert any("ready probe" in w for w in result.warnings)
    broken = tmp_path / "out/demo-api.service"  # control: the tool does reject a bad unit
    broken.write_text(api.replace("ExecStart=", "ExecStart=relative/"))
    assert (
        subprocess.run(
            ["systemd-analyze", "verify", "--man=no", *files], capture_output=True
        ).returncode
        != 0
    )


def test_supervisord_runs_the_export_with_every_program_running(write_config, tmp_path):
    port = free_port()
    result = export(load(stack(write_config, port)), "supervisord", tmp_path / "sv")
    conf = str(result.files[0])
    bindir = Path(sys.executable).parent
    supervisord, ctl = str(bindir / "supervisord"), str(bindir / "supervisorctl")
    subprocess.run([supervisord, "-c", conf], check=True, timeout=30)
    try:
        deadline = time.monotonic() + 20
        while True:
            status = subprocess.run([ctl, "-c", conf, "status"], capture_output=True, text=True)
            rows = [line.split() for line in status.stdout.splitlines()]
            if len(rows) == 3 and all(r[1] == "RUNNING" for r in rows):
                break
            assert time.monotonic() < deadline, status.stdout
            time.sleep(0.2)
        assert [r[0] for r in rows] == ["api", "db", "fg"]
    finally:
        subprocess.run([ctl, "-c", conf, "shutdown"], capture_output=True, timeout=30)
        pid = tmp_path / "sv/supervisord.pid"
        deadline = time.monotonic() + 15
        while pid.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
    text = Path(conf).read_text()
    assert "priority=100" in text and "priority=300" in text and "stopsignal=INT" in text


def test_compose_validates_against_the_compose_specification(write_config, tmp_path):
    # compose-spec wraps the Rust compose_spec crate: a strict parser of the current Compose
    # Specification (the JSON schema copies on PyPI/npm predate `name` and `depends_on.restart`).
    from compose_spec import PyCompose

    result = export(load(stack(write_config, 18002)), "compose", tmp_path)
    text = result.files[0].read_text()
    assert PyCompose.from_yaml(text).service_names() == ["db", "api", "fg"]
    doc = yaml.safe_load(text)
    assert doc["services"]["api"]["depends_on"]["db"] == {
        "condition": "service_healthy",
        "restart": True,
    }
    assert doc["services"]["fg"]["depends_on"]["api"]["condition"] == "service_started"
    assert doc["services"]["db"]["healthcheck"]["retries"] == 3
    with pytest.raises(ValueError, match="restart"):  # control: a bad file is rejected
        PyCompose.from_yaml(text.replace('"restart": "always"', '"restart": "sometimes"'))


def test_kubernetes_manifests_pass_kubernetes_validate(write_config, tmp_path):
    result = export(load(stack(write_config, 18003)), "kubernetes", tmp_path)
    manifest = result.files[0]
    docs = list(yaml.safe_load_all(manifest.read_text()))
    assert [d["kind"] for d in docs] == ["Deployment", "Service", "Deployment", "Deployment"]
    db = docs[0]["spec"]["template"]["spec"]["containers"][0]
    assert db["readinessProbe"]["httpGet"] == {"path": "/health", "port": 18003}
    assert db["livenessProbe"]["tcpSocket"] == {"port": 18003}
    validate = [sys.executable, "-m", "kubernetes_validate", "--strict", str(manifest)]
    r = subprocess.run(validate, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    bad = tmp_path / "bad.yaml"  # control
    bad.write_text(manifest.read_text().replace('"replicas": 1', '"replicas": "one"'))
    assert subprocess.run([*validate[:-1], str(bad)], capture_output=True).returncode != 0


def test_export_cli_writes_files_and_prints_warnings(tmp_path):
    r = subprocess.run(
        [
            PY,
            "-m",
            "tui_manager",
            "export",
            "compose",
            "-c",
            str(REPO / "autogpt-dev.toml"),
            "-o",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(tmp_path / "compose.yaml")
    assert "warning:" in r.stderr
    assert set(yaml.safe_load((tmp_path / "compose.yaml").read_text())["services"]) == {
        "database_manager",
        "websocket_server",
        "notification_manager",
        "agent_server",
        "scheduler",
        "execution_manager",
    }
