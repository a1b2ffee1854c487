"""Property-based: malformed configs always give exit 2 / ConfigError with one clear line per
problem naming the file; never a traceback, never anything started."""

from __future__ import annotations

import json
import math
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import PY
from tui_manager.config import ConfigError
from tui_manager.config.loader import validate
from tui_manager.config.model import ServiceConfig

FIELDS = list(ServiceConfig.model_fields)
scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
names = st.one_of(st.sampled_from(["db", "api", "web", "worker"]), st.text(min_size=0, max_size=12))
service = st.dictionaries(
    st.one_of(st.sampled_from(FIELDS), st.text(max_size=10)), values, max_size=6
)
configs = st.one_of(
    st.fixed_dictionaries({"services": st.dictionaries(names, service, max_size=4)}),
    st.dictionaries(st.text(max_size=10), values, max_size=3),
    st.fixed_dictionaries(
        {
            "services": st.dictionaries(names, service, max_size=3),
            "manager": st.dictionaries(st.text(max_size=12), values, max_size=3),
        }
    ),
)


def check(data: dict[str, Any], path: Path) -> list[str] | None:
    try:
        validate(data, path)
    except ConfigError as e:
        return e.problems
    return None  # a valid config: fine too


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs)
def test_any_malformed_config_is_one_clear_line_per_problem(data: dict[str, Any]) -> None:
    path = Path("/nonexistent/project/autogpt-dev.toml")
    problems = check(data, path)
    if problems is None:
        return
    assert problems
    for line in problems:
        assert line.startswith(f"{path}: ") and "\n" not in line and "Traceback" not in line


@settings(max_examples=50, deadline=None)
@given(st.integers(min_value=2, max_value=12))
def test_cycles_of_any_length_are_spelled_out(n: int) -> None:
    ring = [f"s{i}" for i in range(n)]
    services = {
        name: {"command": "x", "depends_on": [ring[(i + 1) % n]]} for i, name in enumerate(ring)
    }
    path = Path(tempfile.gettempdir()) / "autogpt-dev.toml"  # a real dir: no cwd problems
    problems = check({"services": services}, path)
    assert problems == [
        f"{path}: [services.s0] depends_on: dependency cycle: " + " -> ".join([*ring, "s0"])
    ]


def toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return (
            "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
        )
    if isinstance(v, int):
        return str(v) if abs(v) < 2**63 else json.dumps(str(v))
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(x)}" for k, x in v.items()) + "}"


def to_toml(data: dict[str, Any]) -> str:
    out = []
    for section, table in data.items():
        if section == "services" and isinstance(table, dict):
            for name, body in table.items():
                out.append(f"[services.{json.dumps(name)}]")
                out += [f"{json.dumps(k)} = {toml_value(v)}" for k, v in body.items()]
        else:
            out.append(f"{json.dumps(section)} = {toml_value(table)}")
    return "\n".join(out) + "\n"


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.fixed_dictionaries({"services": st.dictionaries(names, service, min_size=1, max_size=3)}))
def test_the_cli_never_shows_a_traceback(tmp_path: Path, data: dict[str, Any]) -> None:
    cfg = tmp_path / "autogpt-dev.toml"
    cfg.write_text(to_toml(data))
    r = subprocess.run(
        [PY, "-m", "tui_manager", "check", "-c", str(cfg)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert "Traceback" not in r.stderr
    assert r.returncode in (0, 2)
    if r.returncode == 2:
        assert all(line.startswith(str(cfg)) for line in r.stderr.strip().splitlines())
