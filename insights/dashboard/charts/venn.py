"""Proportional Venn diagrams of two or three audiences as SVG: circle areas follow sizes,
centre distances are solved numerically so each pairwise lens has the overlap's area."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from markupsafe import Markup

from insights.dashboard.charts.plots import short
from insights.dashboard.formats import compact, number

# The circles are fitted into this box; the labels around them widen the final viewBox.
BOX_WIDTH, BOX_HEIGHT = 380, 260
LABEL_GAP = 12
CHAR_WIDTH, LINE_HEIGHT = 7.8, 18  # of the 13px bold set names, to keep labels apart
# Directions tried for a set's name: outward from the diagram first, then these, in order.
DIRECTIONS = [(0.0, -1.0), (0.0, 1.0), (-1.0, 0.0), (1.0, 0.0)] + [
    (x * 0.7071, y * 0.7071) for x, y in ((-1, -1), (1, -1), (-1, 1), (1, 1))
]
Rect = tuple[float, float, float, float]


@dataclass(frozen=True)
class Circle:
    x: float
    y: float
    r: float


def lens_area(r1: float, r2: float, d: float) -> float:
    """The area two circles of radii r1, r2 share when their centres are d apart."""
    if d >= r1 + r2:
        return 0.0
    if d <= abs(r1 - r2):
        return math.pi * min(r1, r2) ** 2
    a1 = r1 * r1 * math.acos((d * d + r1 * r1 - r2 * r2) / (2 * d * r1))
    a2 = r2 * r2 * math.acos((d * d + r2 * r2 - r1 * r1) / (2 * d * r2))
    kite = (-d + r1 + r2) * (d + r1 - r2) * (d - r1 + r2) * (d + r1 + r2)
    return a1 + a2 - 0.5 * math.sqrt(max(kite, 0.0))


def distance_for_overlap(r1: float, r2: float, overlap: float) -> float:
    """The centre distance at which the lens has area `overlap`, by bisection (the lens
    area falls monotonically as the circles move apart)."""
    if overlap <= 0:
        return r1 + r2
    if overlap >= math.pi * min(r1, r2) ** 2:
        return abs(r1 - r2)
    low, high = abs(r1 - r2), r1 + r2
    for _ in range(60):
        middle = (low + high) / 2
        if lens_area(r1, r2, middle) > overlap:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def layout(sizes: Sequence[int], pair_sizes: dict[tuple[int, int], int]) -> list[Circle]:
    """Circles of area `size` placed so each pair overlaps by its shared count. Three
    circles are placed by their three distances (a triangle); where the distances do not
    form one, the third circle lands on the closest point, so the picture is approximate."""
    radii = [math.sqrt(size / math.pi) for size in sizes]
    d01 = distance_for_overlap(radii[0], radii[1], pair_sizes[(0, 1)])
    circles = [Circle(0.0, 0.0, radii[0]), Circle(d01, 0.0, radii[1])]
    if len(sizes) == 3:
        d02 = distance_for_overlap(radii[0], radii[2], pair_sizes[(0, 2)])
        d12 = distance_for_overlap(radii[1], radii[2], pair_sizes[(1, 2)])
        x = (d02 * d02 - d12 * d12 + d01 * d01) / (2 * d01) if d01 > 1e-9 else d02
        y = math.sqrt(max(d02 * d02 - x * x, 0.0))
        circles.append(Circle(x, y, radii[2]))
    return circles


def _fit(circles: list[Circle]) -> list[Circle]:
    """Scales the circles to fill the drawing box, with the box's top left at (0, 0)."""
    left = min(c.x - c.r for c in circles)
    right = max(c.x + c.r for c in circles)
    top = min(c.y - c.r for c in circles)
    bottom = max(c.y + c.r for c in circles)
    scale = min(BOX_WIDTH / max(right - left, 1e-9), BOX_HEIGHT / max(bottom - top, 1e-9))
    return [Circle((c.x - left) * scale, (c.y - top) * scale, c.r * scale) for c in circles]


def region_anchors(
    circles: list[Circle], masks: list[int], steps: int = 120
) -> dict[int, tuple[float, float]]:
    """For each region (a bit mask of circles), the sampled point inside exactly those
    circles that lies farthest from every circle edge: where its label reads best."""
    xs = np.linspace(0, BOX_WIDTH, steps)
    ys = np.linspace(0, BOX_HEIGHT, steps)
    gx, gy = np.meshgrid(xs, ys)
    pattern = np.zeros(gx.shape, dtype=np.int64)
    clearance = np.full(gx.shape, np.inf)
    for bit, c in enumerate(circles):
        distance = np.hypot(gx - c.x, gy - c.y)
        pattern |= (distance < c.r).astype(np.int64) << bit
        clearance = np.minimum(clearance, np.abs(distance - c.r))
    anchors = {}
    for mask in masks:
        scores = np.where(pattern == mask, clearance, -1.0)
        best = np.unravel_index(int(np.argmax(scores)), scores.shape)
        if scores[best] > 0:
            anchors[mask] = (float(gx[best]), float(gy[best]))
    return anchors


def _label_rect(x: float, y: float, anchor: str, text: str) -> Rect:
    width = CHAR_WIDTH * len(text)
    left = {"start": x, "end": x - width, "middle": x - width / 2}[anchor]
    return (left, y - LINE_HEIGHT / 2, left + width, y + LINE_HEIGHT / 2)


def _overlap(a: Rect, b: Rect) -> float:
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    return max(width, 0.0) * max(height, 0.0)


def _cost(rect: Rect, circles: list[Circle], placed: list[Rect]) -> float:
    """How badly a label at `rect` collides: with circles (sampled) and with other labels."""
    hits = 0
    for fx in (0.0, 0.25, 0.5, 0.75, 1.0):
        for fy in (0.0, 0.5, 1.0):
            x = rect[0] + fx * (rect[2] - rect[0])
            y = rect[1] + fy * (rect[3] - rect[1])
            hits += sum(1 for c in circles if math.hypot(x - c.x, y - c.y) < c.r)
    return hits * 100 + sum(_overlap(rect, other) for other in placed)


def _directions(circles: list[Circle], index: int) -> list[tuple[float, float]]:
    cx = sum(c.x for c in circles) / len(circles)
    cy = sum(c.y for c in circles) / len(circles)
    dx, dy = circles[index].x - cx, circles[index].y - cy
    length = math.hypot(dx, dy)
    outward = [(dx / length, dy / length)] if length > circles[index].r * 0.3 else []
    return outward + DIRECTIONS


def place_names(circles: list[Circle], texts: list[str]) -> list[tuple[float, float, str]]:
    """(x, y, text-anchor) of each set's name: just outside its circle, on the side where
    it collides least with the circles and the names already placed."""
    placed: list[Rect] = []
    spots = []
    for index, (c, text) in enumerate(zip(circles, texts, strict=True)):
        options = []
        for order, (dx, dy) in enumerate(_directions(circles, index)):
            x, y = c.x + dx * (c.r + LABEL_GAP), c.y + dy * (c.r + LABEL_GAP)
            anchor = "end" if dx < -0.3 else "start" if dx > 0.3 else "middle"
            rect = _label_rect(x, y, anchor, text)
            options.append((_cost(rect, circles, placed) + order * 0.01, x, y, anchor, rect))
        _, x, y, anchor, rect = min(options, key=lambda option: option[0])
        placed.append(rect)
        spots.append((x, y, anchor))
    return spots


def _name_label(index: int, spot: tuple[float, float, str], name: str, size: int) -> Markup:
    x, y, anchor = spot
    return Markup(
        '<text class="set-name set-{}" x="{:.1f}" y="{:.1f}" text-anchor="{}" '
        'dominant-baseline="middle"><title>{}: {} members</title>{}</text>'
    ).format(index, x, y, anchor, name, number(size), short(name, 22))


def _view_box(
    circles: list[Circle], spots: list[tuple[float, float, str]], texts: list[str]
) -> str:
    rects = [
        _label_rect(x, y, anchor, text) for (x, y, anchor), text in zip(spots, texts, strict=True)
    ]
    rects += [(c.x - c.r, c.y - c.r, c.x + c.r, c.y + c.r) for c in circles]
    left, top = min(r[0] for r in rects) - 8, min(r[1] for r in rects) - 8
    right, bottom = max(r[2] for r in rects) + 8, max(r[3] for r in rects) + 8
    return f"{left:.0f} {top:.0f} {right - left:.0f} {bottom - top:.0f}"


def _circle(index: int, c: Circle, audience_id: str, name: str, size: int) -> Markup:
    return Markup(
        '<circle class="set set-{}" cx="{:.1f}" cy="{:.1f}" r="{:.1f}" '
        'data-audience-id="{}" data-size="{}"><title>{}: {} members</title></circle>'
    ).format(index, c.x, c.y, c.r, audience_id, size, name, number(size))


def _region_label(anchor: tuple[float, float], ids: str, names: str, size: int) -> Markup:
    return Markup(
        '<text class="region-label" x="{:.1f}" y="{:.1f}" text-anchor="middle" '
        'dominant-baseline="middle" data-region="{}" data-size="{}">'
        "<title>only {}: {}</title>{}</text>"
    ).format(anchor[0], anchor[1], ids, size, names, number(size), compact(size))


def _pair_sizes(ids: list[str], pairs: Sequence[dict[str, Any]]) -> dict[tuple[int, int], int]:
    sizes = {}
    for pair in pairs:
        i, j = sorted(ids.index(str(x)) for x in pair["audience_ids"])
        sizes[(i, j)] = int(pair["size"] or 0)
    return sizes


def venn_svg(
    audiences: Sequence[dict[str, Any]],
    pairs: Sequence[dict[str, Any]],
    regions: Sequence[dict[str, Any]],
) -> Markup:
    """The diagram of 2 or 3 audiences ({id, name, size}), their pairs and exclusive regions
    (the overlap report's fields); an empty union draws nothing."""
    ids = [str(a["id"]) for a in audiences]
    sizes = [int(a["size"] or 0) for a in audiences]
    if sum(sizes) == 0:
        return Markup('<p class="empty">These audiences have no members.</p>')
    circles = _fit(layout(sizes, _pair_sizes(ids, pairs)))
    masks = {sum(1 << ids.index(str(x)) for x in r["audience_ids"]): r for r in regions}
    anchors = region_anchors(circles, [m for m, r in masks.items() if r["size"]])
    texts = [short(a["name"], 22) for a in audiences]
    spots = place_names(circles, texts)
    label = "Proportional Venn diagram of " + ", ".join(a["name"] for a in audiences)
    parts = [
        Markup(
            '<svg class="chart venn" viewBox="{}" role="img" aria-label="{}" '
            'xmlns="http://www.w3.org/2000/svg">'
        ).format(_view_box(circles, spots, texts), label)
    ]
    for i, c in enumerate(circles):
        parts.append(_circle(i, c, ids[i], audiences[i]["name"], sizes[i]))
    for mask, anchor in anchors.items():
        region = masks[mask]
        names = " and ".join(audiences[ids.index(str(x))]["name"] for x in region["audience_ids"])
        joined = ",".join(str(x) for x in region["audience_ids"])
        parts.append(_region_label(anchor, joined, names, int(region["size"])))
    for i, spot in enumerate(spots):
        parts.append(_name_label(i, spot, audiences[i]["name"], sizes[i]))
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)
