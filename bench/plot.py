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


def line_chart(title: str, unit: str, points: list[tuple[float, float]], path: Path) -> Path:
    """One series over time (x in seconds), y axis from zero so a flat line looks flat."""
    width, height, left, top, bottom = 640, 260, 60, 40, 36
    plot_w, plot_h = width - left - 20, height - top - bottom
    x_max = max((x for x, _ in points), default=1.0) or 1.0
    y_max = max((y for _, y in points), default=1.0) * 1.15 or 1.0

    def xy(x: float, y: float) -> str:
        return f"{left + plot_w * x / x_max:.1f},{top + plot_h * (1 - y / y_max):.1f}"

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="12">',
        '<rect width="100%" height="100%" fill="white"/>',
        f'<text x="10" y="22" font-size="15" font-weight="bold">{escape(title)}</text>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
        'stroke="#444"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#444"/>',
    ]
    for frac in (0.0, 0.5, 1.0):
        y = y_max * frac
        parts.append(
            f'<text x="{left - 6}" y="{top + plot_h * (1 - frac) + 4:.1f}" '
            f'text-anchor="end">{y:.3g}</text>'
        )
        parts.append(
            f'<text x="{left + plot_w * frac:.1f}" y="{height - 14}" text-anchor="middle">'
            f"{x_max * frac / 60:.0f} min</text>"
        )
    parts.append(f'<text x="{left + 6}" y="{top - 6}">{escape(unit)}</text>')
    if points:
        line = " ".join(xy(x, y) for x, y in points)
        parts.append(f'<polyline points="{line}" fill="none" stroke="{OURS}" stroke-width="2"/>')
    parts.append("</svg>")
    path.write_text("\n".join(parts) + "\n")
    return path
