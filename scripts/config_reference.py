"""Write docs/configuration.md from the pydantic models, so the reference cannot drift.

python scripts/config_reference.py          (tests/unit/test_docs.py checks it is current)
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tui_manager.config.model import Dependency, ManagerConfig, Probe, ServiceConfig  # noqa: E402

OUT = REPO / "docs" / "configuration.md"


def _type(info: FieldInfo) -> str:
    text = str(info.annotation).replace("typing.", "").replace("NoneType", "None")
    for noise in ("tui_manager.config.model.", "<class '", "'>", "Annotated[", ", FieldInfo"):
        text = text.replace(noise, "")
    return text.split(", Gt")[0].split(", Ge")[0].replace("|", "\\|")  # a table cell


def _default(info: FieldInfo) -> str:
    if info.is_required():
        return "required"
    if info.default_factory is not None:
        return f"`{info.default_factory()!r}`"  # type: ignore[call-arg]
    return f"`{info.default!r}`"


def table(model: type[BaseModel]) -> list[str]:
    rows = ["| key | type | default | meaning |", "|---|---|---|---|"]
    for name, info in model.model_fields.items():
        rows.append(f"| `{name}` | `{_type(info)}` | {_default(info)} | {info.description} |")
    return rows


def render() -> str:
    parts: list[Any] = [
        "# Configuration reference",
        "",
        "Generated from the pydantic models in `tui_manager/config/model.py` by",
        "`scripts/config_reference.py`; `autogpt-dev schema` prints the same as JSON Schema.",
        "Unknown keys are errors. `${VAR}` and `${VAR:-default}` are expanded in every string",
        "(after `.env` is loaded); `$${` is a literal `${`.",
        "",
        "## `[manager]`",
        "",
        "Every field can be overridden by an environment variable `AUTOGPT_DEV_<FIELD>`.",
        "",
        *table(ManagerConfig),
        "",
        "## `[services.<name>]`",
        "",
        "Names: letters, digits, `_`, `.`, `-` (at most 63); `system` and `all` are reserved.",
        "",
        *table(ServiceConfig),
        "",
        "## Probes (`ready`, `health`)",
        "",
        *table(Probe),
        "",
        "## Dependencies (`depends_on` table form)",
        "",
        '`depends_on = ["db"]` means `{ db = "ready" }`. A condition string or a table:',
        "",
        *table(Dependency),
        "",
    ]
    return "\n".join(parts)


if __name__ == "__main__":
    OUT.write_text(render())
    print(OUT.relative_to(REPO))
