"""A horizontal bar chart as a standalone SVG: one per scenario, no plotting dependency."""

from __future__ import annotations

from html import escape
from pathlib import Path

OURS = "#2e7d32"
OTHER = "#90a4ae"


def bar_chart(title: str, unit: str, values: dict[str, float], path: Path) -> Path:
    left = 20 + 7 * max(len(n) for n in values)  # room for the longest label
    width, bar_h, gap, top = left + 510, 26, 10, 44
    height = top + len(values) * (bar_h + gap) + 16
    top_value = max(values.values()) or 1.0
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="13">',
        '<rect width="100%" height="100%" fill="white"/>',
        f'<text x="10" y="24" font-size="15" font-weight="bold">{escape(title)}</text>',
    ]
    for i, (name, value) in enumerate(values.items()):
        y = top + i * (bar_h + gap)
        w = max(2.0, (width - left - 110) * value / top_value)
        parts += [
            f'<text x="{left - 8}" y="{y + 18}" text-anchor="end">{escape(name)}</text>',
            f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" '
            f'fill="{OURS if name.startswith("autogpt-dev") else OTHER}"/>',
            f'<text x="{left + w + 6:.1f}" y="{y + 18}">{value:.3g} {escape(unit)}</text>',
        ]
    parts.append("</svg>")
    path.write_text("\n".join(parts) + "\n")
    return path
