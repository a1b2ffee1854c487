"""`init --from`: a corpus of compose files and Procfiles written in the shapes real projects use
(tests/fixtures/compose, tests/fixtures/procfiles). Whatever init writes passes `check` and every
export; then each shape is checked for what it became, and one import really runs."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, PY, free_port, wait_until_sync
from tests.integration.test_cli import Up, cli
from tui_manager.cli import main
from tui_manager.config import load
from tui_manager.config.compose_file import COMPOSE_NAMES
from tui_manager.core.environment import child_env
from tui_manager.export import FORMATS

CORPUS = sorted(p for p in (FIXTURES / "compose").iterdir() if p.is_dir())
PROCFILES = sorted((FIXTURES / "procfiles").iterdir())
SOURCES = COMPOSE_NAMES


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def imported(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys, *flags: str
) -> tuple[Path, str]:
    """Copy a corpus project, run init in it; (its folder, what init said on stderr)."""
    work = tmp_path / case
    shutil.copytree(FIXTURES / "compose" / case, work)
    monkeypatch.chdir(work)
    source = next(s for s in SOURCES if (work / s).exists())
    code, _out, err = run(capsys, "init", "--from", source, *flags)
    assert code == 0, err
    return work, err


@pytest.fixture
def only_python_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """PATH with python, sh and bash only: which programs are 'installed' is then the same on
    every machine (a developer's postgres or redis must not change what init writes)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, target in (("python", PY), ("sh", "/bin/sh"), ("bash", "/bin/bash")):
        (bin_dir / name).symlink_to(target)
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    monkeypatch.setattr(sys, "prefix", sys.base_prefix)  # no venv to put first on PATH


# ---- the invariant, over the whole corpus ---------------------------------------------------
@pytest.mark.parametrize("case", CORPUS, ids=lambda p: p.name)
def test_every_compose_file_imports_checks_and_exports(case, tmp_path, monkeypatch, capsys):
    _work, err = imported(case.name, tmp_path, monkeypatch, capsys)
    lines = err.splitlines()
    assert all(line.startswith("autogpt-dev: note: ") for line in lines), err  # one line each
    assert not any(x in err for x in ("['", "{'", "Traceback", "None")), err  # no Python reprs
    code, _out, err = run(capsys, "check")
    assert code == 0, err
    for fmt in FORMATS:
        code, _out, err = run(capsys, "export", fmt, "-o", str(tmp_path / "export" / fmt))
        assert code == 0, err


@pytest.mark.parametrize("procfile", PROCFILES, ids=lambda p: p.name)
def test_every_procfile_imports_checks_and_exports(procfile, tmp_path, monkeypatch, capsys):
    shutil.copy(procfile, tmp_path / procfile.name)
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "init", "--from", procfile.name)
    assert code == 0 and "foreground: " in out, err
    assert run(capsys, "check")[0] == 0
    for fmt in FORMATS:
        assert run(capsys, "export", fmt, "-o", str(tmp_path / fmt))[0] == 0


# ---- what each shape became ------------------------------------------------------------------
def test_anchors_merge_keys_profiles_and_crlf(tmp_path, monkeypatch, capsys):
    work, err = imported("airflow-anchors", tmp_path, monkeypatch, capsys)
    cfg = load(work / "autogpt-dev.toml")
    init = cfg.services["airflow-init"]
    assert init.env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"  # from the anchor
    assert (
        init.env["_AIRFLOW_DB_MIGRATE"] == "true" and init.env["_PIP_ADDITIONAL_REQUIREMENTS"] == ""
    )
    assert init.command == ("/bin/bash", "-c", 'echo "init done"\n')
    web = cfg.services["airflow-webserver"]
    deps = {n: d.condition for n, d in web.depends_on.items()}
    assert deps == {"redis": "ready", "postgres": "ready", "airflow-init": "completed"}
    assert web.ready is not None and web.ready.http == "http://localhost:8080/health"
    assert web.ready_timeout == 30 + 5 * 30  # start_period + retries x interval
    assert web.ready.interval == 1 and web.health and web.health.interval == 30
    assert not cfg.services["flower"].enabled
    assert "airflow-webserver: user has no meaning outside a container" in err
    assert cfg.foreground == "airflow-webserver"
    text = (work / "autogpt-dev.toml").read_text()
    assert "# profile flower: `init --profile flower` enables it" in text
    (work / "autogpt-dev.toml").unlink()
    work, _ = imported(
        "airflow-anchors", tmp_path / "again", monkeypatch, capsys, "--profile", "flower"
    )
    assert load(work / "autogpt-dev.toml").services["flower"].enabled


def test_extends_across_files_and_chains(tmp_path, monkeypatch, capsys):
    work, _ = imported("extends-files", tmp_path, monkeypatch, capsys)
    cfg = load(work / "autogpt-dev.toml")
    api, worker = cfg.services["api"], cfg.services["worker"]
    assert api.command == "python -m api" and api.env == {"LOG_LEVEL": "info", "SERVICE": "api"}
    assert [f.path for f in api.env_file] == ["common/app.env"]  # relative to the base's file
    assert api.restart == "on-failure" and api.max_restarts == 3 and api.stop_timeout == 90
    assert set(api.depends_on) == {"cache"}  # its own and the base's, merged
    assert worker.command == "python -m worker" and worker.stop_signal == "SIGINT"
    assert set(worker.depends_on) == {"cache"}  # inherited through extends, as Compose v2 does
    assert worker.stop_timeout == 90  # a chain of three
    assert child_env(cfg, "api")["DATABASE_URL"] == "sqlite:///app.db"


def test_extends_in_one_file_merges_mappings_and_replaces_commands(tmp_path, monkeypatch, capsys):
    work, err = imported("extends-same-file", tmp_path, monkeypatch, capsys)
    cfg = load(work / "autogpt-dev.toml")
    web, web2 = cfg.services["web"], cfg.services["web2"]
    assert web.env == {"A": "1", "B": "override", "C": "3"}
    assert web.health and web.health.failures == 6 and web.health.http  # test kept, retries new
    assert web2.command == "python -m http.server 8071"
    assert "web: port 9070:8070: the process listens on 8070 itself" in err


def test_profiles_are_disabled_unless_asked_for(tmp_path, monkeypatch, capsys):
    work, _ = imported("profiles", tmp_path, monkeypatch, capsys)
    cfg = load(work / "autogpt-dev.toml")
    assert [n for n, s in cfg.services.items() if s.enabled] == ["app"]
    work, _ = imported("profiles", tmp_path / "b", monkeypatch, capsys, "--profile", "debug")
    assert load(work / "autogpt-dev.toml").services["debugger"].enabled


def test_interpolation_exactly_as_compose(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("API_PORT", raising=False)
    work, _err = imported("interpolation", tmp_path, monkeypatch, capsys)
    cfg = load(work / "autogpt-dev.toml")
    api = cfg.services["api"]
    assert api.command == ("python", "-m", "http.server", "8000")
    assert api.env == {
        "LITERAL_DOLLAR": "cost $5",  # $$ is a literal $
        "NESTED": "xy",  # ${A:-x${B:-y}}
        "FROM_DOTENV": "shop",
        "REQUIRED": "dev-only",
        "WORD": "shop-suffix",  # unbraced $VAR, as compose reads it
        "ALT": "configured",
    }
    assert api.stop_timeout == 20 and api.restart == "always"  # variables in durations, policies
    assert api.ready and api.ready.http == "http://localhost:8000/"
    assert api.health and api.health.interval == 15 and api.health.failures == 4
    # Kept for run time: an edit of .env reaches the next load.
    (work / ".env").write_text((work / ".env").read_text().replace("shop", "store"))
    assert load(work / "autogpt-dev.toml").services["api"].env["FROM_DOTENV"] == "store"


def test_a_required_variable_that_is_set_nowhere_is_one_line_and_exit_2(
    tmp_path, monkeypatch, capsys
):
    shutil.copytree(FIXTURES / "compose" / "interpolation", tmp_path / "p")
    (tmp_path / "p" / ".env").unlink()
    monkeypatch.chdir(tmp_path / "p")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    code, _out, err = run(capsys, "init", "--from", "compose.yaml")
    assert code == 2 and len(err.splitlines()) == 1
    assert "compose.yaml: services.api.environment.REQUIRED:" in err
    assert "set SECRET_KEY in .env" in err and not (tmp_path / "p" / "autogpt-dev.toml").exists()


def test_environment_entries_keep_what_the_user_wrote(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TZ", "Europe/Paris")
    work, _ = imported("environment", tmp_path, monkeypatch, capsys)
    cfg = load(work / "autogpt-dev.toml")
    assert cfg.services["list-form"].env == {
        "FEATURE": "on",
        "EMPTY": "",
        "QUOTED": '"kept as written"',
    }
    assert cfg.services["map-form"].env == {
        "DEBUG": "off",
        "VERBOSE": "yes",
        "RETRIES": "3",
        "RATIO": "0.5",
    }
    assert child_env(cfg, "list-form")["TZ"] == "Europe/Paris"  # passed through, not emptied
    text = (work / "autogpt-dev.toml").read_text()
    assert "as compose passes them: TZ, HOME" in text and "NONE_SET, NULL_WORD" in text


def test_healthcheck_forms(tmp_path, monkeypatch, capsys):
    work, _ = imported("healthchecks", tmp_path, monkeypatch, capsys)
    s = load(work / "autogpt-dev.toml").services
    assert s["cmd"].ready and s["cmd"].ready.exec and s["cmd"].ready.interval == 2  # start_interval
    assert s["cmd"].ready_timeout == 10 + 3 * 30 and s["cmd"].ready.timeout == 3
    assert s["shell"].ready and s["shell"].ready.http == "http://localhost:8002/"  # curl
    assert s["string"].ready and s["string"].ready.http == "http://localhost:8003/"  # wget
    assert s["tcp"].ready and s["tcp"].ready.tcp == "127.0.0.1:8004"  # nc -z
    assert s["none"].ready is None and s["disabled"].ready is None


def test_depends_on_forms(tmp_path, monkeypatch, capsys):
    work, err = imported("depends-on", tmp_path, monkeypatch, capsys)
    s = load(work / "autogpt-dev.toml").services
    api = s["api"].depends_on
    assert api["migrate"].condition == "completed"
    assert api["db"].condition == "ready" and api["db"].restart
    assert "optional-cache" not in api and "optional-cache (required: false)" in err
    assert {n: d.condition for n, d in s["worker"].depends_on.items()} == {
        "db": "started",
        "api": "started",
    }
    assert s["worker"].restart == "no" and s["migrate"].restart == "no"  # `no` unquoted too


def test_yaml_oddities(tmp_path, monkeypatch, capsys):
    work, _ = imported("yaml-oddities", tmp_path, monkeypatch, capsys)
    s = load(work / "autogpt-dev.toml").services
    assert list(s) == ["on", "no", "yes", "empty"]
    assert s["on"].enabled and s["no"].enabled and set(s["no"].depends_on) == {"on"}
    assert not s["yes"].enabled and not s["empty"].enabled


def test_dockerfiles_and_working_dirs(tmp_path, monkeypatch, capsys):
    s = load(
        imported("dockerfile-cmd", tmp_path, monkeypatch, capsys)[0] / "autogpt-dev.toml"
    ).services
    assert s["web"].command == ("python", "-m", "http.server", "8000")  # the Dockerfile's CMD
    s = load(
        imported("dockerfile-entrypoint", tmp_path, monkeypatch, capsys)[0] / "autogpt-dev.toml"
    ).services
    assert s["cli"].command == ("python", "tool.py", "--port", "9000", "--reload")  # target dev
    assert s["cli"].cwd == "tool"
    s = load(imported("monorepo", tmp_path, monkeypatch, capsys)[0] / "autogpt-dev.toml").services
    assert (s["api"].cwd, s["worker"].cwd, s["frontend"].cwd) == (
        "services/api",
        "services/worker",
        "frontend",
    )
    s = load(imported("node-mongo", tmp_path, monkeypatch, capsys)[0] / "autogpt-dev.toml").services
    assert s["app"].cwd == "web"  # working_dir mapped back through its bind mount
    s = load(
        imported("entrypoint-command", tmp_path, monkeypatch, capsys)[0] / "autogpt-dev.toml"
    ).services
    assert s["runner"].command == ("python", "-m", "http.server", "8020")
    assert s["shelly"].command == (
        "/bin/sh",
        "-c",
        "echo started && exec python -m http.server 8021",
    )


def test_what_cannot_run_here_is_disabled_with_the_reason(
    tmp_path, monkeypatch, capsys, only_python_on_path
):
    work, err = imported("image-stack", tmp_path, monkeypatch, capsys)
    cfg = load(work / "autogpt-dev.toml")
    assert [n for n, s in cfg.services.items() if s.enabled] == ["functions"]
    assert cfg.foreground == "functions" and cfg.manager.name == "supabase"
    assert "kong: its command uses /docker-entrypoint.sh" in err
    text = (work / "autogpt-dev.toml").read_text()
    assert "docker compose up -d studio" in text
    work, err = imported("args-only", tmp_path, monkeypatch, capsys)
    assert "traefik: its command is arguments to an image's entrypoint" in err
    work, err = imported("django-celery", tmp_path, monkeypatch, capsys)
    assert "redis: `redis-server` is not installed here" in err
    assert "worker: `celery` is not on PATH here yet" in err  # its own code: kept enabled
    cfg = load(work / "autogpt-dev.toml")
    assert cfg.services["worker"].enabled and cfg.foreground == "web"


def test_other_shapes(tmp_path, monkeypatch, capsys):
    s = load(
        imported("restart-stop", tmp_path, monkeypatch, capsys)[0] / "autogpt-dev.toml"
    ).services
    assert (s["always"].restart, s["always"].stop_signal, s["always"].stop_timeout) == (
        "always",
        "SIGINT",
        45,
    )
    assert (s["onfail"].restart, s["onfail"].max_restarts, s["onfail"].stop_signal) == (
        "on-failure",
        5,
        "SIGTERM",
    )
    assert (s["unless"].restart, s["unless"].stop_timeout) == ("always", 0.5)
    s = load(imported("env-files", tmp_path, monkeypatch, capsys)[0] / "autogpt-dev.toml").services
    assert [(f.path, f.required) for f in s["app"].env_file] == [
        ("base.env", True),
        ("local.env", False),
        ("override.env", True),
    ]
    s = load(imported("include", tmp_path, monkeypatch, capsys)[0] / "autogpt-dev.toml").services
    assert s["cache"].cwd == "infra" and s["cache"].env_file[0].path == "infra/cache.env"
    work, err = imported("reserved-name", tmp_path, monkeypatch, capsys)
    s = load(work / "autogpt-dev.toml").services
    assert "system-service" in s and set(s["app"].depends_on) == {"system-service"}
    _, err = imported("scale-develop", tmp_path, monkeypatch, capsys)
    assert "worker: scale 3: one process is started" in err and "api: deploy.replicas 2" in err


@pytest.mark.parametrize(
    "body,needle",
    [
        ("services:\n  a:\n    extends: b\n  b:\n    extends: a\n", "extends itself: a -> b -> a"),
        (
            "services:\n  a:\n    build: .\n    command: x\n    depends_on: [ghost]\n",
            "no service `ghost`",
        ),
        ("services:\n  a: [unclosed\n", "line 3, column 1: invalid YAML"),
    ],
)
def test_bad_input_is_exit_2_and_one_line(tmp_path, monkeypatch, capsys, body, needle):
    (tmp_path / "compose.yaml").write_text(body)
    monkeypatch.chdir(tmp_path)
    code, _out, err = run(capsys, "init", "--from", "compose.yaml")
    assert code == 2 and len(err.splitlines()) == 1 and needle in err, err
    assert "compose.yaml" in err and "Traceback" not in err


# ---- Procfiles --------------------------------------------------------------------------------
def test_procfile_ports_release_duplicates_and_bom(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    shutil.copy(FIXTURES / "procfiles/heroku-django.Procfile", "Procfile")
    code, out, _ = run(capsys, "init")
    cfg = load(tmp_path / "autogpt-dev.toml")
    assert {n: s.env["PORT"] for n, s in cfg.services.items()} == {
        "release": "5000",
        "web": "5100",
        "worker": "5200",
    }
    assert cfg.services["release"].restart == "no" and cfg.foreground == "worker"
    assert all(
        s.depends_on["release"].condition == "completed"
        for n, s in cfg.services.items()
        if n != "release"
    )
    assert "foreground: worker (the last process line, as with foreman)" in out
    code, out, err = run(
        capsys, "init", "--from", str(FIXTURES / "procfiles/duplicates.Procfile"), "-o", "dup.toml"
    )
    assert code == 0 and "web is defined twice; this one is web-2" in err
    assert list(load(tmp_path / "dup.toml").services) == ["web", "assets", "web-2", "log"]
    code, out, err = run(
        capsys, "init", "--from", str(FIXTURES / "procfiles/bom.Procfile"), "-o", "bom.toml"
    )
    assert list(load(tmp_path / "bom.toml").services) == ["api", "ui"]


# ---- and what init writes runs ----------------------------------------------------------------
def test_an_imported_stack_runs(tmp_path):
    db, api = free_port(), free_port()
    (tmp_path / "compose.yaml").write_text(f"""
services:
  db:
    build: .
    command: python -m http.server {db}
    healthcheck:
      test: ["CMD", "curl", "-f", "http://localhost:{db}/"]
      interval: 30s
  api:
    build: .
    command: python -c "print('api up', flush=True); import time; time.sleep(1e9)"
    depends_on:
      db:
        condition: service_healthy
    ports: ["{api}:{api}"]
""")
    env = {**os.environ, "PATH": f"{Path(PY).parent}:{os.environ['PATH']}"}
    r = cli("init", "--from", "compose.yaml", cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stderr
    up = Up(tmp_path)
    try:
        up.wait_ready("api")  # db became ready on its http probe long before its 30 s interval
        wait_until_sync(lambda: "api up" in up.output(), 10)
    finally:
        assert cli("down", cwd=tmp_path).returncode == 0
        assert up.finish() == 0


# ---- a fresh clone of a compose project, run here -----------------------------------------
def test_a_fresh_clone_imports_and_runs_redis_natively_through_mapped_hostnames(tmp_path):
    import signal

    import psutil

    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (CI installs it)")
    project = tmp_path / "redis-app"
    shutil.copytree(FIXTURES / "fresh-clone" / "redis-app", project)
    port = free_port()
    compose = project / "compose.yaml"
    compose.write_text(compose.read_text().replace("6399", str(port)))
    # A fresh clone: .env.example only. init writes the config and says how to make .env.
    done = cli("init", cwd=project)
    assert done.returncode == 0, done.stderr
    assert ".env does not exist yet: cp .env.example .env" in done.stderr
    config = (project / "autogpt-dev.toml").read_text()
    assert f"cache:6379 -> 127.0.0.1:{port} (runs here: redis-server)" in config
    assert "cache -> 127.0.0.1 (runs here: redis-server)" in config
    check = cli("check", cwd=project)  # until .env exists: that one line, exit 2
    assert check.returncode == 2 and len(check.stderr.splitlines()) == 1
    assert "[manager] env_file: file not found" in check.stderr
    assert "(cp .env.example .env)" in check.stderr
    shutil.copy(project / ".env.example", project / ".env")
    assert cli("check", cwd=project).returncode == 0
    up = Up(project)
    try:
        up.wait_ready("cache", "app")
        wait_until_sync(lambda: "hello: +PONG from 127.0.0.1" in up.output(), 10, up.output())
        assert f"+PONG from 127.0.0.1:{port}" in up.output()
        servers = [
            p for p in psutil.process_iter(["name", "cmdline"]) if p.info["name"] == "redis-server"
        ]
        assert any(f":{port}" in " ".join(p.info["cmdline"] or []) for p in servers)  # its title
        up.proc.send_signal(signal.SIGINT)
        assert up.finish() == 0
    finally:
        if up.proc.poll() is None:
            up.proc.kill()
            up.finish()
    wait_until_sync(
        lambda: not [p for p in servers if p.is_running() and p.status() != "zombie"], 5
    )


# ---- the AutoGPT platform, as a fresh clone has it ---------------------------------------
def test_the_autogpt_platform_imports_from_a_fresh_clone_with_its_hosts_on_this_machine(
    tmp_path, monkeypatch, capsys, only_python_on_path
):
    """Its compose file extends two others (anchors merged in, depends_on inherited), its
    ports and secrets come from a .env that a fresh clone has only as .env.default."""
    shutil.copytree(FIXTURES / "fresh-clone" / "AutoGPT", tmp_path / "AutoGPT")
    platform = tmp_path / "AutoGPT" / "autogpt_platform"
    monkeypatch.chdir(platform)
    code, out, err = run(capsys, "init")
    assert code == 0, err
    assert "note: .env does not exist yet: cp .env.default .env (init used its values)" in err
    assert "before `up`: cp .env.default .env" in out
    text = (platform / "autogpt-dev.toml").read_text()
    # redis is not installed (only python is on PATH): it stays in docker with the others
    assert "#   docker compose up -d redis rabbitmq kong db\n" in text
    assert "#   kong:8000 -> 127.0.0.1:8000 (in docker: `docker compose up -d kong`" in text
    code, _out, err = run(capsys, "check")  # that one line until .env exists
    assert code == 2 and err.count("\n") == 1, err
    assert "[manager] env_file: file not found: " in err and "(cp .env.default .env)" in err
    shutil.copy(platform / ".env.default", platform / ".env")
    assert run(capsys, "check")[0] == 0
    cfg = load(platform / "autogpt-dev.toml")
    backend = ["rest_server", "executor", "websocket_server", "database_manager"]
    backend += ["scheduler_server", "notification_server"]
    assert [n for n, s in cfg.services.items() if s.enabled] == ["migrate", *backend, "frontend"]
    front = cfg.services["frontend"]  # its Dockerfile's dev stage, in the folder COPY took
    assert (front.command, front.cwd) == (("pnpm", "run", "dev"), "frontend")
    assert cfg.foreground == "frontend"
    rest = cfg.services["rest_server"]
    assert rest.command == ("python", "-m", "backend.rest") and rest.cwd == "backend"
    assert {n: d.condition for n, d in rest.depends_on.items()} == {
        "redis": "ready",
        "db": "ready",
        "migrate": "completed",
        "rabbitmq": "ready",
    }  # from the file it extends
    env = child_env(cfg, "rest_server")
    password = "not-a-real-postgres-password-for-tests"  # from .env, at run time
    assert env["DATABASE_URL"] == (
        f"postgresql://postgres:{password}@127.0.0.1:5432/postgres?connect_timeout=60&schema=platform"
    )
    assert (env["REDIS_HOST"], env["REDIS_PORT"]) == ("127.0.0.1", "6379")
    assert (env["RABBITMQ_HOST"], env["SUPABASE_URL"]) == ("127.0.0.1", "http://127.0.0.1:8000")
    assert env["EXECUTIONMANAGER_HOST"] == env["DATABASEMANAGER_HOST"] == "127.0.0.1"
    assert env["PYRO_HOST"] == "0.0.0.0" and env["APP_ENV"] == "local"  # backend/.env.default
    assert child_env(cfg, "executor")["AGENTSERVER_HOST"] == "127.0.0.1"

    # The user's own .env moves Kong: the mapping follows the published port.
    example = (platform / ".env.default").read_text()
    (platform / ".env").write_text(example.replace("KONG_HTTP_PORT=8000", "KONG_HTTP_PORT=8100"))
    code, _out, err = run(capsys, "init", "--force")
    assert code == 0 and ".env does not exist yet" not in err, err
    cfg = load(platform / "autogpt-dev.toml")
    assert child_env(cfg, "rest_server")["SUPABASE_URL"] == "http://127.0.0.1:8100"

    # A build with nothing to run says what it is built from (never "image ?").
    dockerfile = platform / "frontend" / "Dockerfile"
    dockerfile.write_text("FROM node:21-alpine AS dev\nWORKDIR /app\n")
    code, _out, err = run(capsys, "init", "--force")
    assert "frontend: built from frontend/Dockerfile, which has no CMD or ENTRYPOINT," in err
    dockerfile.unlink()
    code, _out, err = run(capsys, "init", "--force")
    assert code == 0 and "image ?" not in err
    assert "frontend: built from frontend/Dockerfile (which could not be read) has no" in err


POSTGRES_APP = """\
services:
  db:
    image: postgres:16-alpine
    environment:
      POSTGRES_USER: app
      POSTGRES_PASSWORD: "s3cret pass"
      POSTGRES_DB: appdb
    ports:
      - "{port}:5432"
    healthcheck:
      test: ["CMD-SHELL", "pg_isready -U app"]
  app:
    build: .
    command: python app.py
    environment:
      DATABASE_URL: postgresql://app:s3cret%20pass@db:5432/appdb
    depends_on:
      db:
        condition: service_healthy
"""
PING_DB = """\
import os, socket, time
from urllib.parse import urlsplit
url = urlsplit(os.environ["DATABASE_URL"])
with socket.create_connection((url.hostname, url.port)) as s:
    print("db says:", s.recv(100).decode().strip(), "at", url.hostname, url.port, flush=True)
time.sleep(600)
"""


def test_postgres_runs_natively_initialised_once_from_the_images_variables(
    tmp_path, monkeypatch, capsys
):
    """initdb and postgres stand-ins (tests/fixtures/fake-postgres) check the script init
    writes: a data dir made, initdb once with the image's user and password, the database
    created, then postgres on the published port, TCP only. (The real programs ran it as a
    non-root user by hand; they refuse root, which CI is.)"""
    from tui_manager.config import native_images

    port = free_port()
    project = tmp_path / "pg-app"
    project.mkdir()
    (project / "compose.yaml").write_text(POSTGRES_APP.format(port=port))
    (project / "Dockerfile").write_text("FROM python:3.12\n")
    (project / "app.py").write_text(PING_DB)
    monkeypatch.chdir(project)
    monkeypatch.setenv("PATH", f"{FIXTURES / 'fake-postgres'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(native_images.os, "geteuid", lambda: 0)  # as root: refused, docker line
    code, _out, err = run(capsys, "init")
    assert code == 0 and "db: postgres refuses to run as root: written disabled" in err
    text = (project / "autogpt-dev.toml").read_text()
    assert f"docker run --rm -p {port}:5432 -e POSTGRES_USER=app" in text
    monkeypatch.setattr(native_images.os, "geteuid", lambda: 1000)
    code, _out, err = run(capsys, "init", "--force")
    assert (
        code == 0
        and "db: postgres:16-alpine runs here as postgres"
        in (project / "autogpt-dev.toml").read_text()
    )
    data = project / ".autogpt-dev" / "data"
    for attempt in (1, 2):  # the second start finds the data dir: no second initdb
        up = Up(project)
        try:
            up.wait_ready("db", "app")
            wait_until_sync(lambda u=up: "db says: fake postgres" in u.output(), 10, up.output())
            assert f"at 127.0.0.1 {port}" in up.output()
        finally:
            assert cli("down", cwd=project).returncode == 0
            assert up.finish() == 0
        inits = (data / "initdb.jsonl").read_text().splitlines()
        assert len(inits) == 1
        assert json.loads(inits[0]) == {
            "user": "app",
            "password": "s3cret pass\n",
            "pwfile_mode": "0o600",
            "auth": "scram-sha-256",
        }
        assert (data / "single.sql").read_text() == 'CREATE DATABASE "appdb"\n'
        starts = [json.loads(line) for line in (data / "postgres.jsonl").read_text().splitlines()]
        assert starts == [{"-p": str(port), "-h": "127.0.0.1", "-k": ""}] * attempt
        assert not (data / "db.pw").exists()  # the password file is gone


@pytest.mark.skipif(
    os.geteuid() == 0 or not (shutil.which("initdb") and shutil.which("postgres")),
    reason="needs PostgreSQL's initdb and postgres on PATH, and a user that is not root",
)
def test_a_real_postgres_runs_natively(tmp_path, monkeypatch, capsys):
    """On a developer's machine with PostgreSQL installed (brew, apt): the real thing."""
    port = free_port()
    project = tmp_path / "pg-app"
    project.mkdir()
    (project / "compose.yaml").write_text(POSTGRES_APP.format(port=port))
    (project / "Dockerfile").write_text("FROM python:3.12\n")
    (project / "app.py").write_text(PING_DB.replace("s.recv(100).decode().strip()", '"ok"'))
    monkeypatch.chdir(project)
    assert run(capsys, "init")[0] == 0
    up = Up(project)
    try:
        up.wait_ready("db", "app", timeout=60)
        wait_until_sync(lambda: f"db says: ok at 127.0.0.1 {port}" in up.output(), 10)
    finally:
        assert cli("down", cwd=project).returncode == 0
        assert up.finish() == 0
