"""Charts of values per calendar date over a whole window: columns (above or below zero),
marks across a column (a maximum) and lines with gaps, on optional background bands (the
health score's). Each mark carries its date and value, and a <title> for its tooltip."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup

from insights.dashboard.charts.plots import (
    Frame,
    date_ticks,
    nice_ticks,
    svg_open,
    x_axis,
    y_axis,
)
from insights.dashboard.formats import number

MARKERS_UP_TO = 62  # dates; past that, a line's markers would merge into a band
BAR_WIDTH = 16  # at most, in SVG units


def tick_text(value: float) -> str:
    """A tick label: whole numbers with separators, else up to 2 decimals (0.25, 1.5)."""
    if float(value).is_integer():
        return number(int(value))
    return f"{value:,.2f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class Series:
    """One named series: a value per date (a date missing or None: nothing is drawn there,
    a gap in a line). `kind` is "line", "bar" or "mark" (a short bar across a column)."""

    name: str
    css: str
    values: Mapping[date, float | None]
    kind: str = "line"
    text: Callable[[float], str] = tick_text  # a value as its tooltip writes it


@dataclass(frozen=True)
class Scale:
    """The y axis: its title, the values' divisor for display (seconds shown as minutes:
    60), tick labels, fixed ticks when the values have a fixed range, whole-number ticks."""

    title: str
    divisor: float = 1
    label: Callable[[float], str] = tick_text
    ticks: Sequence[float] | None = None
    whole: bool = True


@dataclass(frozen=True)
class Band:
    """A background stripe between two values, named on the right (the score's bands)."""

    low: float
    high: float
    name: str
    css: str


@dataclass(frozen=True)
class _Plot:
    frame: Frame
    first: date
    slot: float
    low: float
    high: float
    divisor: float

    def x(self, day: date) -> float:
        return self.frame.left + ((day - self.first).days + 0.5) * self.slot

    def y(self, raw: float) -> float:
        value = raw / self.divisor
        return (
            self.frame.top + (self.high - value) / (self.high - self.low) * self.frame.plot_height
        )

    @property
    def bar_width(self) -> float:
        return max(1.0, min(self.slot * 0.7, BAR_WIDTH))


def daily_chart(
    first: date,
    last: date,
    series: Sequence[Series],
    label: str,
    scale: Scale,
    bands: Sequence[Band] = (),
    frame: Frame | None = None,
) -> Markup:
    """Every date from `first` to `last` gets a column of the plot; the series are drawn
    in order over the bands, grid and axes."""
    frame = frame or Frame()
    ticks = _ticks(series, scale)
    if ticks is None:
        return Markup('<p class="empty">Nothing to draw in this window.</p>')
    slot = frame.plot_width / ((last - first).days + 1)
    plot = _Plot(frame, first, slot, ticks[0], ticks[-1], scale.divisor)
    parts = [svg_open(frame, label, "daily-chart")]
    parts.append(Markup('<text class="axis-title" x="4" y="10">{}</text>').format(scale.title))
    parts += [_band(plot, band) for band in bands]
    parts += y_axis(frame, ticks, lambda value: plot.y(value * scale.divisor), scale.label)
    parts += x_axis(frame, date_ticks(first, last), plot.x)
    for one in series:
        parts += _DRAW[one.kind](plot, one)
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


def _ticks(series: Sequence[Series], scale: Scale) -> list[float] | None:
    if scale.ticks is not None:
        return list(scale.ticks)
    shown = [v / scale.divisor for one in series for v in one.values.values() if v is not None]
    if not shown:
        return None
    return nice_ticks(min(0.0, *shown), max(0.0, *shown), whole=scale.whole)


def _band(plot: _Plot, band: Band) -> Markup:
    frame = plot.frame
    top, bottom = plot.y(band.high * plot.divisor), plot.y(band.low * plot.divisor)
    return Markup(
        '<rect class="band {}" x="{}" y="{:.1f}" width="{:.1f}" height="{:.1f}"/>'
        '<text class="band-label {}" x="{}" y="{:.1f}" dominant-baseline="middle">{}</text>'
    ).format(
        band.css,
        frame.left,
        top,
        frame.plot_width,
        bottom - top,
        band.css,
        frame.width - frame.right + 6,
        (top + bottom) / 2,
        band.name,
    )


def _title(one: Series, day: date, value: float) -> Markup:
    return Markup("<title>{}, {}: {}</title>").format(day.isoformat(), one.name, one.text(value))


def _data(one: Series, day: date, value: float) -> Markup:
    return Markup('data-series="{}" data-date="{}" data-value="{}"').format(
        one.name, day.isoformat(), value
    )


def _points(one: Series) -> list[tuple[date, float]]:
    return sorted((day, value) for day, value in one.values.items() if value is not None)


def _bars(plot: _Plot, one: Series) -> list[Markup]:
    base, width = plot.y(0), plot.bar_width
    parts = []
    for day, value in _points(one):
        y = plot.y(value)
        parts.append(
            Markup(
                '<rect class="bar {}" x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" {}>'
                "{}</rect>"
            ).format(
                one.css,
                plot.x(day) - width / 2,
                min(y, base),
                width,
                max(abs(base - y), 1.0),  # a zero still shows, on the axis
                _data(one, day, value),
                _title(one, day, value),
            )
        )
    return parts


def _marks(plot: _Plot, one: Series) -> list[Markup]:
    width = plot.bar_width + 4
    return [
        Markup(
            '<rect class="mark {}" x="{:.1f}" y="{:.1f}" width="{:.1f}" height="3" {}>{}</rect>'
        ).format(
            one.css,
            plot.x(day) - width / 2,
            plot.y(value) - 1.5,
            width,
            _data(one, day, value),
            _title(one, day, value),
        )
        for day, value in _points(one)
    ]


def _lines(plot: _Plot, one: Series) -> list[Markup]:
    """A polyline through each run of consecutive dates; a missing date breaks the line."""
    points = _points(one)
    runs: list[list[tuple[date, float]]] = []
    for day, value in points:
        if runs and (day - runs[-1][-1][0]).days == 1:
            runs[-1].append((day, value))
        else:
            runs.append([(day, value)])
    parts = [
        Markup('<polyline class="line {}" points="{}"/>').format(
            one.css, " ".join(f"{plot.x(d):.1f},{plot.y(v):.1f}" for d, v in run)
        )
        for run in runs
        if len(run) > 1
    ]
    show_all = (points[-1][0] - points[0][0]).days < MARKERS_UP_TO if points else False
    for index, (day, value) in enumerate(points):
        if show_all or index == len(points) - 1:
            parts.append(
                Markup(
                    '<circle class="point {}" cx="{:.1f}" cy="{:.1f}" r="3.5" {}>{}</circle>'
                ).format(
                    one.css,
                    plot.x(day),
                    plot.y(value),
                    _data(one, day, value),
                    _title(one, day, value),
                )
            )
    return parts


_DRAW: dict[str, Callable[[_Plot, Series], list[Markup]]] = {
    "bar": _bars,
    "mark": _marks,
    "line": _lines,
}


def legend(series: Sequence[Series]) -> Markup:
    """The series' names beside their swatches (the chart's colours, never alone: each mark's
    tooltip and the table below name the series)."""
    items = [
        Markup('<li><span class="swatch {} swatch-{}" aria-hidden="true"></span>{}</li>').format(
            one.css, one.kind, one.name
        )
        for one in series
    ]
    return Markup('<ul class="legend chart-legend">{}</ul>').format(Markup("").join(items))
