"""Small server-side SVG charts: axes with nice ticks, a line chart and a stacked bar."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from markupsafe import Markup

from insights.dashboard.formats import compact, number


def nice_step(span: float, count: int) -> float:
    """A round step (1, 2, 2.5 or 5 times a power of ten) giving about `count` intervals."""
    raw = max(span, 1e-9) / max(count, 1)
    magnitude: float = 10.0 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)


def nice_ticks(low: float, high: float, count: int = 4, whole: bool = True) -> list[float]:
    """Tick values covering [low, high] at a round step; whole numbers for counts."""
    if high <= low:
        pad = max(1.0, abs(high) * 0.1)
        low, high = max(0.0, low - pad) if low >= 0 else low - pad, high + pad
    step = nice_step(high - low, count)
    if whole:
        step = max(1.0, math.ceil(step))
    first = math.floor(low / step) * step
    ticks = [first]
    while ticks[-1] < high - 1e-9:
        ticks.append(ticks[-1] + step)
    return ticks


@dataclass(frozen=True)
class Frame:
    """The plot area inside an SVG of width x height."""

    width: int = 560
    height: int = 200
    left: int = 64
    right: int = 16
    top: int = 22
    bottom: int = 30

    @property
    def plot_width(self) -> float:
        return self.width - self.left - self.right

    @property
    def plot_height(self) -> float:
        return self.height - self.top - self.bottom


def svg_open(frame: Frame, label: str, css: str) -> Markup:
    return Markup(
        '<svg class="chart {}" viewBox="0 0 {} {}" role="img" aria-label="{}" '
        'xmlns="http://www.w3.org/2000/svg">'
    ).format(css, frame.width, frame.height, label)


def y_axis(
    frame: Frame,
    ticks: Sequence[float],
    y_of: Callable[[float], float],
    label: Callable[[float], str] | None = None,
) -> list[Markup]:
    """Grid lines and labels at the ticks; counts by default ("950, 1,000", not "950, 1k")."""
    label = label or (count_label if ticks[-1] < 10_000 else compact_label)
    parts = []
    for tick in ticks:
        y = y_of(tick)
        parts.append(
            Markup(
                '<line class="grid" x1="{}" x2="{}" y1="{:.1f}" y2="{:.1f}"/>'
                '<text class="tick" x="{}" y="{:.1f}" text-anchor="end" '
                'dominant-baseline="middle">{}</text>'
            ).format(frame.left, frame.width - frame.right, y, y, frame.left - 8, y, label(tick))
        )
    return parts


def count_label(tick: float) -> str:
    return number(int(tick))


def compact_label(tick: float) -> str:
    return compact(int(tick))


def date_ticks(first: date, last: date, count: int = 5) -> list[date]:
    span = (last - first).days
    if span == 0:
        return [first]
    picks = {first + timedelta(days=round(i * span / (count - 1))) for i in range(count)}
    return sorted(picks)


def x_axis(frame: Frame, ticks: Sequence[date], x_of: Callable[[date], float]) -> list[Markup]:
    base = frame.height - frame.bottom
    parts = [
        Markup('<line class="axis" x1="{}" x2="{}" y1="{}" y2="{}"/>').format(
            frame.left, frame.width - frame.right, base, base
        )
    ]
    for tick in ticks:
        x = x_of(tick)
        parts.append(
            Markup(
                '<line class="axis" x1="{:.1f}" x2="{:.1f}" y1="{}" y2="{}"/>'
                '<text class="tick" x="{:.1f}" y="{}" text-anchor="middle">{}</text>'
            ).format(x, x, base, base + 4, x, base + 18, f"{tick:%b} {tick.day}")
        )
    return parts


def _scales(
    points: Sequence[tuple[date, int]], frame: Frame
) -> tuple[Callable[[date], float], Callable[[float], float], list[float]]:
    """x of a date, y of a value, and the y ticks (which set the value range)."""
    first, last = points[0][0], points[-1][0]
    span = max((last - first).days, 1)
    values = [value for _, value in points]
    ticks = nice_ticks(min(values), max(values))
    low, high = ticks[0], ticks[-1]

    def x_of(day: date) -> float:
        if first == last:
            return frame.left + frame.plot_width / 2
        return frame.left + (day - first).days / span * frame.plot_width

    def y_of(value: float) -> float:
        return frame.top + (high - value) / (high - low) * frame.plot_height

    return x_of, y_of, ticks


def line_chart(
    points: Sequence[tuple[date, int]],
    label: str,
    unit: str = "members",
    frame: Frame | None = None,
) -> Markup:
    """Size over time: a line through (date, value), a y axis of `unit`, dated x ticks."""
    frame = frame or Frame()
    if not points:
        return Markup('<p class="empty">No evaluations in this window.</p>')
    x_of, y_of, ticks = _scales(points, frame)
    coords = [(x_of(day), y_of(value)) for day, value in points]
    parts = [svg_open(frame, label, "line-chart")]
    parts.append(Markup('<text class="axis-title" x="{}" y="10">{}</text>').format(4, unit))
    parts += y_axis(frame, ticks, y_of)
    parts += x_axis(frame, date_ticks(points[0][0], points[-1][0]), x_of)
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    parts.append(Markup('<polyline class="series" points="{}"/>').format(path))
    show_all = len(points) <= 62  # past that, markers would merge into a band
    for index, ((day, value), (x, y)) in enumerate(zip(points, coords, strict=True)):
        if show_all or index == len(points) - 1:
            parts.append(_marker(x, y, day, value))
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


def _marker(x: float, y: float, day: date, value: int) -> Markup:
    return Markup(
        '<circle class="point" cx="{:.1f}" cy="{:.1f}" r="3.5" tabindex="-1" '
        'data-date="{}" data-size="{}"><title>{}: {}</title></circle>'
    ).format(x, y, day.isoformat(), value, day.isoformat(), number(value))


def stacked_bar(segments: Sequence[tuple[str, int, str]], label: str) -> Markup:
    """One horizontal bar split into (name, count, css class) segments, widths by count."""
    total = sum(count for _, count, _ in segments)
    width, height = 600, 24
    parts = [
        Markup(
            '<svg class="chart stacked-bar" viewBox="0 0 {} {}" role="img" aria-label="{}" '
            'preserveAspectRatio="none" xmlns="http://www.w3.org/2000/svg">'
        ).format(width, height, label)
    ]
    if total == 0:
        parts.append(Markup('<rect class="track" width="{}" height="{}"/>').format(width, height))
    x = 0.0
    for name, count, css in segments:
        share = count / total * width if total else 0
        if share > 0:
            parts.append(
                Markup(
                    '<rect class="{}" x="{:.2f}" width="{:.2f}" height="{}">'
                    "<title>{}: {}</title></rect>"
                ).format(css, x, share, height, name, number(count))
            )
        x += share
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


def heat_level(value: float | None, top: float = 100.0, levels: int = 10) -> str:
    """A CSS class for a heat-map cell: heat-0 (lowest) to heat-9; heat-none for null."""
    if value is None:
        return "heat-none"
    level = min(levels - 1, max(0, int(value / top * levels)))
    return f"heat-{level}"


def short(text: str, limit: int = 24) -> str:
    """A name cut to fit a chart label; the full name goes in a <title>."""
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"
