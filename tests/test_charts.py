"""The dashboard's SVG charts: tick steps, Venn geometry, UpSet columns, escaping."""

from __future__ import annotations

import math
import random
from datetime import date, timedelta
from typing import Any

import pytest

from insights.dashboard.charts.plots import heat_level, line_chart, nice_ticks
from insights.dashboard.charts.upset import upset_columns, upset_svg
from insights.dashboard.charts.venn import (
    Circle,
    distance_for_overlap,
    layout,
    lens_area,
    place_names,
    region_anchors,
    venn_svg,
)


@pytest.mark.parametrize(("low", "high"), [(0, 7), (4100, 4250), (1, 1), (0, 1_234_567)])
def test_ticks_cover_the_range_with_a_round_step(low: int, high: int) -> None:
    ticks = nice_ticks(low, high)
    assert ticks[0] <= low and ticks[-1] >= high
    step = ticks[1] - ticks[0]
    assert step >= 1
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert mantissa in (1, 2, 2.5, 5)
    assert 2 <= len(ticks) <= 7


def test_the_solved_distance_gives_the_overlap_as_lens_area() -> None:
    rng = random.Random(7)
    for _ in range(200):
        r1, r2 = rng.uniform(1, 50), rng.uniform(1, 50)
        overlap = rng.uniform(0.01, 0.99) * math.pi * min(r1, r2) ** 2
        d = distance_for_overlap(r1, r2, overlap)
        assert lens_area(r1, r2, d) == pytest.approx(overlap, rel=1e-6)


def test_disjoint_circles_touch_and_a_subset_sits_inside() -> None:
    assert distance_for_overlap(3, 4, 0) == 7
    assert distance_for_overlap(3, 5, math.pi * 9) == 2
    assert lens_area(3, 5, 2) == pytest.approx(math.pi * 9)


def test_circle_areas_are_the_sizes_and_pairs_overlap_by_their_counts() -> None:
    sizes = [4000, 2500, 1600]
    pairs = {(0, 1): 900, (0, 2): 400, (1, 2): 300}
    circles = layout(sizes, pairs)
    for circle, size in zip(circles, sizes, strict=True):
        assert math.pi * circle.r**2 == pytest.approx(size)
    for (i, j), shared in pairs.items():
        a, b = circles[i], circles[j]
        d = math.hypot(a.x - b.x, a.y - b.y)
        assert lens_area(a.r, b.r, d) == pytest.approx(shared, rel=1e-4)


def test_region_labels_sit_inside_exactly_their_circles() -> None:
    circles = [Circle(120, 130, 100), Circle(250, 130, 90), Circle(185, 200, 70)]
    anchors = region_anchors(circles, list(range(1, 8)))
    assert set(anchors) == set(range(1, 8))
    for mask, (x, y) in anchors.items():
        inside = {i for i, c in enumerate(circles) if math.hypot(x - c.x, y - c.y) < c.r}
        assert inside == {i for i in range(3) if mask >> i & 1}


def test_names_of_three_circles_in_a_row_do_not_collide() -> None:
    circles = [Circle(60, 100, 50), Circle(150, 100, 50), Circle(240, 100, 50)]
    spots = place_names(circles, ["First audience", "Second audience", "Third audience"])
    ys = [y for _, y, _ in spots]
    assert ys[1] != ys[0] or ys[1] != ys[2]  # the middle name goes above or below


def _overlap_input(
    names: list[str],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    audiences = [{"id": f"id-{i}", "name": n, "size": 100 + 10 * i} for i, n in enumerate(names)]
    pairs = [
        {"audience_ids": [f"id-{i}", f"id-{j}"], "size": 20}
        for i in range(len(names))
        for j in range(i + 1, len(names))
    ]
    regions = [
        {"audience_ids": [f"id-{i}" for i in range(len(names)) if mask >> i & 1], "size": mask}
        for mask in range(1, 2 ** len(names))
    ]
    return audiences, pairs, regions


def test_names_are_escaped_in_the_svg() -> None:
    audiences, pairs, regions = _overlap_input(["<script>alert(1)</script>", "B & C"])
    svg = str(venn_svg(audiences, pairs, regions))
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    assert "B &amp; C" in svg
    assert "<script>" not in str(upset_svg(audiences, regions))


def test_an_empty_union_draws_no_circles() -> None:
    audiences = [{"id": "a", "name": "A", "size": 0}, {"id": "b", "name": "B", "size": 0}]
    pairs = [{"audience_ids": ["a", "b"], "size": 0}]
    assert "no members" in str(venn_svg(audiences, pairs, []))


def test_upset_columns_are_the_non_empty_regions_largest_first() -> None:
    regions = [
        {"audience_ids": ["a"], "size": 5},
        {"audience_ids": ["b"], "size": 0},
        {"audience_ids": ["a", "b"], "size": 9},
    ]
    columns, left_out = upset_columns(regions, limit=1)
    assert columns == [regions[2]]
    assert left_out == 1


def test_a_line_chart_has_a_marker_per_point_and_labelled_axes() -> None:
    start = date(2024, 1, 1)
    points = [(start + timedelta(days=i), 4000 + 25 * i) for i in range(10)]
    svg = str(line_chart(points, "Size of <X>"))
    assert svg.count('class="point"') == 10
    assert 'data-size="4225"' in svg
    assert "Jan 1" in svg and "4,200" in svg
    assert "&lt;X&gt;" in svg
    assert "No evaluations" in str(line_chart([], "empty"))


def test_heat_levels_span_ten_shades() -> None:
    assert [heat_level(v) for v in (0, 9.9, 50, 100)] == ["heat-0", "heat-0", "heat-5", "heat-9"]
    assert heat_level(None) == "heat-none"
