"""Config discovery, validation errors (one clear line each), .env and overrides."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tui_manager.config import ConfigError, discover, json_schema, load
from tui_manager.core.environment import child_env


def problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as e:
        load(path)
    return e.value.problems


def test_minimal_config_defaults(write_config):
    cfg = load(write_config('[services.a]\ncommand = "echo hi"\n'))
    a = cfg.services["a"]
    assert cfg.foreground == "a"
    assert cfg.restart_policy("a") == "no"  # the foreground is not restarted by default
    assert a.stop_timeout == 5 and a.backoff == 0.5 and a.max_restarts == 5
    assert cfg.argv("a") == ["echo", "hi"]
    assert cfg.state_dir == (cfg.root / ".autogpt-dev").resolve()


def test_foreground_defaults_to_last_and_background_restarts_on_failure(write_config):
    cfg = load(write_config('[services.a]\ncommand = "x"\n[services.b]\ncommand = "y"\n'))
    assert cfg.foreground == "b"
    assert cfg.restart_policy("a") == "on-failure"


def test_invalid_toml_gives_line_and_column(write_config):
    (line,) = problems(write_config('[services.a]\ncommand = "x\n'))
    assert "autogpt-dev.toml" in line and "invalid TOML" in line and "line 2" in line


def test_unknown_key_names_file_service_and_key_with_hint(write_config):
    (line,) = problems(write_config('[services.a]\ncommand = "x"\nstop_timout = 3\n'))
    assert line.endswith("[services.a] stop_timout: unknown key (did you mean 'stop_timeout'?)")


def test_one_line_per_problem_and_wrong_types(write_config):
    lines = problems(
        write_config('[services.a]\ncommand = 3\nstop_timeout = -1\n[services.b]\ncommand = ""\n')
    )
    assert len(lines) == 3
    assert any("[services.a] command:" in ln for ln in lines)
    assert any(
        "[services.a] stop_timeout:" in ln and "greater than or equal to 0" in ln for ln in lines
    )
    assert any("[services.b] command: must not be empty" in ln for ln in lines)


def test_cycle_is_spelled_out(write_config):
    lines = problems(
        write_config("""
        [services.a]
        command = "x"
        depends_on = ["b"]
        [services.b]
        command = "y"
        depends_on = ["c"]
        [services.c]
        command = "z"
        depends_on = ["a"]
    """)
    )
    assert lines == [
        f"{Path(lines[0].split(':')[0])}: [services.a] depends_on: "
        "dependency cycle: a -> b -> c -> a"
    ]


def test_unknown_dependency_two_foregrounds_missing_env_file(write_config):
    lines = problems(
        write_config("""
        [services.a]
        command = "x"
        foreground = true
        env_file = "nope.env"
        [services.b]
        command = "y"
        foreground = true
        depends_on = { ghost = "ready" }
    """)
    )
    text = "\n".join(lines)
    assert "only one service may be foreground" in text
    assert "[services.a] env_file: file not found" in text
    assert "[services.b] depends_on: unknown dependency 'ghost'" in text


def test_probe_needs_exactly_one_kind(write_config):
    (line,) = problems(
        write_config('[services.a]\ncommand = "x"\nready = { http = "http://x:1/", tcp = "x:1" }\n')
    )
    assert "[services.a] ready: needs exactly one of http, tcp, exec, log" in line


def test_bad_signal_and_bad_condition(write_config):
    lines = problems(
        write_config("""
        [services.a]
        command = "x"
        stop_signal = "SIGNOPE"
        [services.b]
        command = "y"
        depends_on = { a = "whenever" }
    """)
    )
    assert any("[services.a] stop_signal: unknown signal 'SIGNOPE'" in ln for ln in lines)
    assert any("[services.b] depends_on.a" in ln for ln in lines)


def test_dotenv_loaded_and_env_overrides_manager(tmp_path, write_config, monkeypatch):
    monkeypatch.delenv("AUTOGPT_DEV_NAME", raising=False)
    monkeypatch.delenv("FROM_DOTENV", raising=False)
    (tmp_path / ".env").write_text("FROM_DOTENV=yes\nAUTOGPT_DEV_LOG_BACKUPS=7\n")
    (tmp_path / "svc.env").write_text("A=from-file\nB=from-file\n")
    monkeypatch.setenv("AUTOGPT_DEV_NAME", "from-env")
    cfg = load(
        write_config("""
        [manager]
        name = "from-file"
        [services.a]
        command = "x"
        env_file = "svc.env"
        env = { B = "inline" }
    """)
    )
    assert cfg.manager.name == "from-env"
    assert cfg.manager.log_backups == 7
    env = child_env(cfg, "a")
    assert env["FROM_DOTENV"] == "yes"
    assert env["A"] == "from-file" and env["B"] == "inline"
    assert env["PYTHONUNBUFFERED"] == "1"
    # Loading never changes the manager's own environment: the values are layered per child.
    assert "FROM_DOTENV" not in os.environ and "AUTOGPT_DEV_LOG_BACKUPS" not in os.environ


def test_discovery_order(tmp_path, monkeypatch):
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    (tmp_path / "pyproject.toml").write_text('[tool.autogpt-dev.services.x]\ncommand = "y"\n')
    assert discover(sub) == tmp_path / "pyproject.toml"
    (tmp_path / "a" / "autogpt-dev.toml").write_text('[services.x]\ncommand = "y"\n')
    assert discover(sub) == tmp_path / "a" / "autogpt-dev.toml"
    cfg = load(tmp_path / "pyproject.toml")
    assert list(cfg.services) == ["x"]


def test_procfile(tmp_path):
    (tmp_path / "Procfile").write_text("web: python -m http.server\n# c\nworker: echo hi $X\n")
    assert discover(tmp_path) == tmp_path / "Procfile"
    cfg = load(tmp_path / "Procfile")
    assert cfg.foreground == "worker"
    assert cfg.argv("worker") == ["/bin/sh", "-c", "echo hi $X"]


def test_schema_comes_from_the_models():
    schema = json_schema()
    svc = schema["$defs"]["ServiceConfig"]["properties"]
    assert {"command", "depends_on", "ready", "stop_timeout", "watch"} <= set(svc)
    assert schema["properties"]["manager"]["properties"]["log_backups"]["default"] == 3


def norm(value: object) -> object:
    """An absent collection is written None, [], () or {} depending on the side: one value."""
    if value in (None, [], (), {}):
        return "empty"
    return tuple(value) if isinstance(value, list) else value


def test_the_engine_specs_and_the_schema_agree_on_every_field_and_default():
    # The engine runs on config/spec.py; a validated file is dumped without its unset keys,
    # so each record default must be the schema's default.

    from tui_manager.config import model, spec

    pairs = [
        (model.ServiceConfig, spec.ServiceSpec),
        (model.Probe, spec.ProbeSpec),
        (model.Dependency, spec.DependencySpec),
        (model.ManagerConfig, spec.ManagerSpec),
        (model.EnvFile, spec.EnvFileSpec),
    ]
    for schema, runtime in pairs:
        fields = [f for f in runtime._fields if f != "explicit"]
        assert set(fields) == set(schema.model_fields), runtime.__name__
        for name, info in schema.model_fields.items():
            if info.is_required():
                continue
            want = info.default_factory() if info.default_factory else info.default  # type: ignore[call-arg]
            have = runtime._field_defaults[name]
            assert norm(have) == norm(want), f"{runtime.__name__}.{name}: {have!r} != {want!r}"
