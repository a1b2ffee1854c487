"""The configuration reference is generated from the models: it must be current."""

import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_configuration_reference_is_current():
    spec = importlib.util.spec_from_file_location("ref", REPO / "scripts/config_reference.py")
    assert spec and spec.loader
    ref = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ref)
    assert (REPO / "docs/configuration.md").read_text() == ref.render(), (
        "run: python scripts/config_reference.py"
    )
