"""Inline SVG charts for the bulletin: weekly counts as lines, and this week's counts as bars against a reference.

Sizes are CSS pixels; values are incident counts. Labels come from the data
and are escaped here. Colours are presentation attributes, not CSS classes:
PDF renderers draw inline SVG without the page's style sheet.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass

PALETTE = ("#1565c0", "#c62828", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f", "#5d4037", "#ad1457", "#9e9d24",
           "#455a64")
TEXT = 'font-size="11" fill="#1d2733"'
GRID = 'stroke="#e3e7ec" stroke-width="1"'


def nice_ticks(top: float, count: int = 5) -> list[float]:
    """Round tick values from 0 up to at least ``top`` (1, 2 or 5 × a power of ten apart)."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return [step * k for k in range(math.ceil(top / step - 1e-9) + 1)]


def _fmt(value: float) -> str:
    return f"{value:g}"


@dataclass(frozen=True)
class Series:
    """One line: its label (untrusted text) and a value per x position."""

    label: str
    values: Sequence[float]


def line_chart(x_labels: Sequence[str], series: Sequence[Series], *, title: str, width: int = 640,
               height: int = 280) -> str:
    """A line per series over the x positions, with y gridlines and a legend on the right."""
    left, right, top, bottom = 44, 170, 16, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    ticks = nice_ticks(max((v for s in series for v in s.values), default=0))
    y_max = ticks[-1]
    n = max(len(x_labels), 1)

    def x_at(i: int) -> float:
        return left + (plot_w * (i + 0.5) / n)

    def y_at(v: float) -> float:
        return top + plot_h * (1 - v / y_max)

    out = [f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
           f'aria-label="{html.escape(title)}">']
    for t in ticks:
        out.append(f'<line {GRID} x1="{left}" x2="{left + plot_w}" y1="{y_at(t):.1f}" y2="{y_at(t):.1f}"/>'
                   f'<text {TEXT} x="{left - 6}" y="{y_at(t) + 4:.1f}" text-anchor="end">{_fmt(t)}</text>')
    for i, label in enumerate(x_labels):
        out.append(f'<text {TEXT} x="{x_at(i):.1f}" y="{height - 10}" text-anchor="middle">'
                   f'{html.escape(label)}</text>')
    for k, s in enumerate(series):
        colour = PALETTE[k % len(PALETTE)]
        points = " ".join(f"{x_at(i):.1f},{y_at(v):.1f}" for i, v in enumerate(s.values))
        out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>')
        out += [f'<circle fill="{colour}" cx="{x_at(i):.1f}" cy="{y_at(v):.1f}" r="2.5"/>'
                for i, v in enumerate(s.values)]
        ly = top + 14 * k + 6
        out.append(f'<rect fill="{colour}" x="{left + plot_w + 12}" y="{ly - 5}" width="12" height="4"/>'
                   f'<text {TEXT} x="{left + plot_w + 30}" y="{ly}">{html.escape(s.label)}</text>')
    out.append("</svg>")
    return "".join(out)


def bar_chart(labels: Sequence[str], values: Sequence[float], references: Sequence[float], *, title: str,
              width: int = 640, bar_h: int = 16) -> str:
    """Horizontal bars (this week) with a tick at each reference value (the mean of the weeks before)."""
    left, right, top = 150, 40, 8
    plot_w = width - left - right
    height = top * 2 + bar_h * len(labels) + 20
    ticks = nice_ticks(max([*values, *references], default=0), count=4)
    x_max = ticks[-1]

    def x_at(v: float) -> float:
        return left + plot_w * v / x_max

    out = [f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
           f'aria-label="{html.escape(title)}">']
    axis_y = top + bar_h * len(labels)
    for t in ticks:
        out.append(f'<line {GRID} x1="{x_at(t):.1f}" x2="{x_at(t):.1f}" y1="{top}" y2="{axis_y}"/>'
                   f'<text {TEXT} x="{x_at(t):.1f}" y="{axis_y + 14}" text-anchor="middle">{_fmt(t)}</text>')
    for i, (label, value, ref) in enumerate(zip(labels, values, references, strict=True)):
        y = top + bar_h * i
        out.append(f'<text {TEXT} x="{left - 6}" y="{y + bar_h * 0.7:.1f}" text-anchor="end">'
                   f'{html.escape(label)}</text>'
                   f'<rect fill="#90a4ae" x="{left}" y="{y + 2}" width="{x_at(value) - left:.1f}" '
                   f'height="{bar_h - 4}"/>'
                   f'<line stroke="#b71c1c" stroke-width="2" x1="{x_at(ref):.1f}" x2="{x_at(ref):.1f}" y1="{y}" '
                   f'y2="{y + bar_h}"/>')
    out.append("</svg>")
    return "".join(out)
