"""Inline SVG charts for reports: horizontal bars and lines, drawn as plain SVG elements (no
JavaScript, no plotting library), so the HTML works offline and WeasyPrint draws them in PDF."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

FONT = "Noto Sans CJK SC, Noto Serif CJK SC, WenQuanYi Micro Hei, sans-serif"
COLOURS = ("#c0392b", "#95a5a6", "#2c7fb8", "#27ae60")


def _nice_max(value: float) -> float:
    """The axis top: 1, 2 or 5 × a power of ten, at least `value`."""
    if value <= 0:
        return 1.0
    step = 1.0
    while step * 10 <= value:
        step *= 10
    for m in (1, 2, 5, 10):
        if m * step >= value:
            return float(m * step)
    return value


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    previous: Sequence[float] | None = None,
    width: int = 640,
    title: str = "",
) -> str:
    """Horizontal bars, one row per label; a thin grey bar under each shows `previous`."""
    row, left, right, top = 26, 150, 60, 28 if title else 8
    height = top + row * len(labels) + 10
    top_value = _nice_max(max([*values, *(previous or []), 0]))
    scale = (width - left - right) / top_value
    parts = [_svg_open(width, height)]
    if title:
        parts.append(_text(8, 18, title, size=13, weight="bold"))
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = top + i * row
        parts.append(_text(left - 6, y + 15, label, anchor="end"))
        parts.append(
            f'<rect x="{left}" y="{y + 3}" width="{max(value * scale, 0):.1f}" height="12" '
            f'fill="{COLOURS[0]}"/>'
        )
        if previous is not None:
            parts.append(
                f'<rect x="{left}" y="{y + 17}" width="{max(previous[i] * scale, 0):.1f}" '
                f'height="4" fill="{COLOURS[1]}"/>'
            )
        parts.append(_text(left + value * scale + 4, y + 14, f"{value:g}"))
    parts.append("</svg>")
    return "".join(parts)


def line_chart(
    x_labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    width: int = 640,
    height: int = 220,
    title: str = "",
) -> str:
    """One polyline per (name, values) over shared x labels, with a legend and a y axis."""
    left, right, top, bottom = 44, 16, 34 if title else 16, 36
    n = max((len(v) for _, v in series), default=0)
    top_value = _nice_max(max((x for _, v in series for x in v), default=0))
    plot_w, plot_h = width - left - right, height - top - bottom
    dx = plot_w / max(n - 1, 1)
    parts = [_svg_open(width, height)]
    if title:
        parts.append(_text(8, 18, title, size=13, weight="bold"))
    for k in range(5):
        y = top + plot_h * k / 4
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" '
            'stroke="#e5e5e5" stroke-width="1"/>'
        )
        parts.append(_text(left - 4, y + 4, f"{top_value * (4 - k) / 4:g}", anchor="end"))
    every = max(1, n // 10)
    for i, label in enumerate(x_labels[:n]):
        if i % every == 0 or i == n - 1:
            parts.append(_text(left + i * dx, height - bottom + 16, label, anchor="middle"))
    for s, (name, values) in enumerate(series):
        colour = COLOURS[s % len(COLOURS)]
        points = " ".join(
            f"{left + i * dx:.1f},{top + plot_h * (1 - v / top_value):.1f}"
            for i, v in enumerate(values)
        )
        if len(values) == 1:
            cx, cy = points.split(",")
            parts.append(f'<circle cx="{cx}" cy="{cy}" r="3" fill="{colour}"/>')
        elif values:
            parts.append(
                f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>'
            )
        lx = width - right - 90 * (len(series) - s)
        parts.append(f'<rect x="{lx}" y="{height - 14}" width="12" height="4" fill="{colour}"/>')
        parts.append(_text(lx + 16, height - 9, name))
    parts.append("</svg>")
    return "".join(parts)


def _svg_open(width: int, height: int) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="{FONT}" font-size="11">'
    )


def _text(
    x: float, y: float, text: str, *, anchor: str = "start", size: int = 11, weight: str = "normal"
) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" '
        f'font-weight="{weight}" fill="#333">{escape(text)}</text>'
    )
