"""Charts per calendar date (the sync detail page, membership change): a column per date of
the window, marks carrying their date and value, gaps in lines, bands, axes in minutes."""

from __future__ import annotations

import re
from datetime import date, timedelta

from insights.dashboard.charts.daily import Band, Scale, Series, daily_chart, legend
from insights.dashboard.sync_detail import score_bands, seconds_scale

FIRST = date(2024, 3, 1)


def day(n: int) -> date:
    return FIRST + timedelta(days=n)


def marks(svg: str, tag: str, series: str) -> list[tuple[str, str]]:
    return re.findall(
        rf'<{tag} class="[a-z]+ [^"]*"[^>]*data-series="{series}" data-date="([^"]+)" '
        r'data-value="([^"]+)"',
        svg,
    )


def test_bars_carry_each_date_and_value_and_negatives_go_below_zero() -> None:
    added = Series("added", "s-added", {day(2): 200, day(5): 40}, "bar")
    removed = Series("removed", "s-removed", {day(2): -150}, "bar")
    svg = str(daily_chart(FIRST, day(9), [added, removed], "Change", Scale("members")))
    assert marks(svg, "rect", "added") == [("2024-03-03", "200"), ("2024-03-06", "40")]
    assert marks(svg, "rect", "removed") == [("2024-03-03", "-150")]
    ys = {
        series: float(y)
        for series, y in re.findall(r'class="bar s-([a-z]+)" x="[^"]+" y="([^"]+)"', svg)
    }
    zero = re.search(r'y1="([^"]+)"[^>]*/><text class="tick"[^>]*>0</text>', svg)
    assert zero is not None
    assert ys["removed"] >= float(zero.group(1)) - 0.1 > ys["added"]
    assert "<title>2024-03-03, removed: -150</title>" in svg


def test_every_date_of_the_window_gets_a_column_of_the_same_width() -> None:
    one = Series("runs", "s-avg", {day(0): 1, day(29): 1}, "bar")
    svg = str(daily_chart(FIRST, day(29), [one], "Runs", Scale("runs")))
    xs = [float(x) for x in re.findall(r'<rect class="bar s-avg" x="([^"]+)"', svg)]
    widths = re.findall(r'<rect class="bar s-avg" x="[^"]+" y="[^"]+" width="([^"]+)"', svg)
    width = float(widths[0])
    # 30 columns across the plot: the first and the last are 29 columns apart.
    assert abs((xs[1] - xs[0]) / 29 - (560 - 64 - 16) / 30) < 0.2
    assert width <= 16


def test_a_missing_date_breaks_the_line() -> None:
    values: dict[date, float | None] = {day(0): 90, day(1): 85, day(2): None}
    values |= {day(3): 70, day(4): 72}
    svg = str(daily_chart(FIRST, day(4), [Series("score", "s-score", values)], "S", Scale("x")))
    assert svg.count("<polyline") == 2
    assert [d for d, _ in marks(svg, "circle", "score")] == [
        "2024-03-01",
        "2024-03-02",
        "2024-03-04",
        "2024-03-05",
    ]


def test_score_bands_are_the_contract_bands_named_on_the_right() -> None:
    bands = score_bands()
    assert [(b.low, b.high, b.name) for b in bands] == [
        (80, 100, "Healthy"),
        (60, 80, "Warning"),
        (40, 60, "Degraded"),
        (0, 40, "Critical"),
    ]
    values = {day(0): 55.0}
    svg = str(
        daily_chart(
            FIRST,
            day(0),
            [Series("score", "s-score", values)],
            "Score",
            Scale("score", ticks=(0, 50, 100)),
            [Band(0, 40, "Critical", "band-critical")],
        )
    )
    assert 'class="band band-critical"' in svg and ">Critical</text>" in svg
    assert [t for t in re.findall(r'class="tick"[^>]*>([^<]+)<', svg)][:3] == ["0", "50", "100"]


def test_durations_are_drawn_in_a_readable_unit() -> None:
    assert (seconds_scale(90).title, seconds_scale(90).divisor) == ("seconds", 1)
    assert (seconds_scale(600).title, seconds_scale(600).divisor) == ("minutes", 60)
    assert (seconds_scale(9000).title, seconds_scale(9000).divisor) == ("hours", 3600)
    svg = str(
        daily_chart(
            FIRST, day(1), [Series("avg", "s-avg", {day(0): 240}, "bar")], "D", seconds_scale(240)
        )
    )
    ticks = re.findall(r'class="tick"[^>]*>([^<]+)<', svg)
    assert "4" in ticks and "240" not in ticks  # 240 seconds on a minutes axis
    assert 'data-value="240"' in svg  # the mark keeps the seconds


def test_nothing_to_draw_says_so_and_names_are_escaped() -> None:
    empty = Series("none", "s-avg", {}, "bar")
    assert "Nothing to draw" in str(daily_chart(FIRST, day(3), [empty], "E", Scale("x")))
    named = Series("<b>", "s-avg", {day(0): 1}, "bar")
    svg = str(daily_chart(FIRST, day(0), [named], "<script>", Scale("x")))
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "&lt;b&gt;" in svg
    assert "&lt;b&gt;" in str(legend([named]))
