"""Generated docs must be current: the configuration reference (from the models) and the
README's key table (from base/keys.py)."""

import importlib.util
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[2]


def reference() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ref", REPO / "scripts/config_reference.py")
    assert spec and spec.loader
    ref = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ref)
    return ref


def test_configuration_reference_is_current():
    assert (REPO / "docs/configuration.md").read_text() == reference().render(), (
        "run: python scripts/config_reference.py"
    )


def test_readme_key_table_is_generated_from_the_bindings():
    ref = reference()
    readme = (REPO / "README.md").read_text()
    assert ref.KEYS_START in readme and "| `r` | `restart` |" in readme
    assert readme == ref.readme_with_keys(readme), "run: python scripts/config_reference.py"


def test_ci_runs_the_readme_test_command_and_stops_on_its_failure():
    readme = (REPO / "README.md").read_text()
    command = (
        "python3 -m venv .venv && .venv/bin/pip install -e '.[dev]' && .venv/bin/python -m pytest"
    )
    assert f"```bash\n{command}\n```" in readme
    ci = (REPO / ".ci/run").read_text()
    assert f"( {command} )" in ci  # in a subshell, so a failed install fails the run
    assert "set -euo pipefail" in ci


def test_a_failing_left_side_fails_the_ci_line(tmp_path):
    # The positive control of the line above: the same shape with a failing install.
    import subprocess

    script = tmp_path / "ci.sh"
    script.write_text("set -euo pipefail\n( false && true )\necho reached\n")
    out = subprocess.run(["bash", str(script)], capture_output=True, text=True)
    assert out.returncode != 0 and "reached" not in out.stdout
    script.write_text("set -euo pipefail\nfalse && true\necho reached\n")
    out = subprocess.run(["bash", str(script)], capture_output=True, text=True)
    assert "reached" in out.stdout  # the hole the subshell closes


def test_generated_types_read_as_a_user_writes_them():
    text = (REPO / "docs/configuration.md").read_text()
    for leak in ("annotation=", "metadata=", "typing.", "<class", "Optional[", "FieldInfo"):
        assert leak not in text, leak
    rows: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("| `"):
            rows.setdefault(line.split("|")[1].strip(), line)  # the first table that has it
    assert "`float > 0 \\| None`" in rows["`interval`"]
    assert '`"no" \\| "on-failure" \\| "always" \\| None`' in rows["`restart`"]
    assert "`int >= 1`" in rows["`failures`"] and "`str \\| false`" in rows["`venv`"]
