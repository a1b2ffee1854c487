"""The README's benchmark section, generated from the newest results file: every number the
README quotes is one that a run measured (tests/unit/test_docs.py checks they match).

    python -m bench.readme          # rewrite the block in README.md
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"
# (the section of the results file, the first cell of the rows the README shows)
PICKS = [
    ("## Command costs", ("up of one `true` service",)),
    (
        "## Dashboard in a real terminal",
        ("idle, 6 services: CPU %", "idle, 6 services, past", "100k lines/s: quit"),
    ),
    ("## Dev mode: file write", ("import-heavy ASGI app",)),
]


def newest() -> Path:
    dated = [p for p in RESULTS.glob("20*.md") if re.fullmatch(r"\d{4}-\d{2}-\d{2}\.md", p.name)]
    return max(dated, key=lambda p: p.name)


def _table_after(lines: list[str], heading: str) -> list[str]:
    """The first markdown table after the heading that starts with `heading`."""
    start = next((i for i, line in enumerate(lines) if line.startswith(heading)), None)
    if start is None:
        return []
    rows: list[str] = []
    for line in lines[start + 1 :]:
        if line.startswith("|"):
            rows.append(line)
        elif rows or line.startswith("## "):
            break
    return rows


def block(results: Path) -> str:
    lines = results.read_text().splitlines()
    commit = next((ln for ln in lines if ln.startswith("Commit measured:")), "")
    machine = next((ln for ln in lines if ln.startswith("Machine: load")), "")
    out = [
        START,
        f"From [{results.name}](bench/results/{results.name}), written by `python -m bench --all`"
        f" ({commit[len('Commit measured: ') :].rstrip('.')}); this block by `python -m "
        "bench.readme`. Times in seconds unless marked; a ratio under 1.00x is ahead of the best "
        "peer installed on the machine.",
        "",
    ]
    if machine:
        out += [machine, ""]
    out += _table_after(lines, "## Summary")
    for heading, firsts in PICKS:
        table = _table_after(lines, heading)
        picked = [row for row in table[2:] if row.lstrip("| ").startswith(firsts)]
        if picked:
            out += ["", *table[:2], *picked]
    return "\n".join([*out, END])


def main() -> int:
    readme = REPO / "README.md"
    text = readme.read_text()
    if START not in text or END not in text:
        print(f"README.md has no {START} ... {END} block", file=sys.stderr)
        return 1
    before, rest = text.split(START, 1)
    _, after = rest.split(END, 1)
    readme.write_text(before + block(newest()) + after)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
