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
