"""UpSet charts as SVG: one column per exclusive region, its size as a bar above and the
audiences it takes as filled dots below; readable where a Venn diagram of 4+ sets is not."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from markupsafe import Markup

from insights.dashboard.charts.plots import nice_ticks, short
from insights.dashboard.formats import compact, number

NAME_WIDTH = 230  # room for a 24-character name at 13px
COLUMN = 38
ROW = 28
BARS = 180
TOP = 14
MAX_COLUMNS = 40


def upset_columns(
    regions: Sequence[dict[str, Any]], limit: int = MAX_COLUMNS
) -> tuple[list[dict[str, Any]], int]:
    """The non-empty regions, largest first (then fewer audiences, then the report's order),
    at most `limit`; and how many non-empty ones were left out."""
    ranked = sorted(
        (r for r in regions if r["size"]),
        key=lambda r: (-int(r["size"]), len(r["audience_ids"])),
    )
    return ranked[:limit], max(0, len(ranked) - limit)


def _bar_axis(ticks: list[float], scale: float, width: float) -> list[Markup]:
    parts = []
    for tick in ticks:
        y = TOP + BARS - tick * scale
        parts.append(
            Markup(
                '<line class="grid" x1="{}" x2="{:.1f}" y1="{:.1f}" y2="{:.1f}"/>'
                '<text class="tick" x="{}" y="{:.1f}" text-anchor="end" '
                'dominant-baseline="middle">{}</text>'
            ).format(NAME_WIDTH, width, y, y, NAME_WIDTH - 6, y, compact(int(tick)))
        )
    return parts


def _column(
    index: int, region: dict[str, Any], ids: list[str], names: list[str], scale: float
) -> Markup:
    x = NAME_WIDTH + index * COLUMN + COLUMN / 2
    members = sorted(ids.index(str(a)) for a in region["audience_ids"])
    joined = ",".join(str(a) for a in region["audience_ids"])
    return Markup('<g class="upset-column" data-region="{}" data-size="{}">{}{}</g>').format(
        joined,
        int(region["size"]),
        _bar(x, int(region["size"]), " and ".join(names[m] for m in members), scale),
        _dots(x, members, len(ids)),
    )


def _bar(x: float, size: int, label: str, scale: float) -> Markup:
    top = TOP + BARS - size * scale
    return Markup(
        '<rect class="bar" x="{:.1f}" y="{:.1f}" width="{}" height="{:.1f}">'
        "<title>only {}: {}</title></rect>"
        '<text class="bar-label" x="{:.1f}" y="{:.1f}" text-anchor="middle">{}</text>'
    ).format(
        x - COLUMN * 0.35,
        top,
        round(COLUMN * 0.7),
        size * scale,
        label,
        number(size),
        x,
        top - 4,
        compact(size),
    )


def _dots(x: float, members: list[int], rows: int) -> Markup:
    """The column's matrix: a dot per audience, filled for its members, joined by a line."""
    parts = [
        Markup('<line class="link" x1="{:.1f}" x2="{:.1f}" y1="{}" y2="{}"/>').format(
            x, x, _row_y(members[0]), _row_y(members[-1])
        )
    ]
    for row in range(rows):
        css = "dot on" if row in members else "dot off"
        parts.append(
            Markup('<circle class="{}" cx="{:.1f}" cy="{}" r="7"/>').format(css, x, _row_y(row))
        )
    return Markup("").join(parts)


def _row_y(row: int) -> int:
    return TOP + BARS + 16 + row * ROW + ROW // 2


def _row_names(names: list[str], sizes: list[int], width: float) -> list[Markup]:
    parts = []
    for row, (name, size) in enumerate(zip(names, sizes, strict=True)):
        y = _row_y(row)
        css = "row-band" if row % 2 == 0 else "row-band odd"
        parts.append(
            Markup(
                '<rect class="{}" x="0" y="{}" width="{:.1f}" height="{}"/>'
                '<text class="set-name" x="{}" y="{}" text-anchor="end" '
                'dominant-baseline="middle"><title>{}: {} members</title>{}</text>'
            ).format(
                css,
                y - ROW // 2,
                width,
                ROW,
                NAME_WIDTH - 10,
                y,
                name,
                number(size),
                short(name, 24),
            )
        )
    return parts


def upset_svg(audiences: Sequence[dict[str, Any]], regions: Sequence[dict[str, Any]]) -> Markup:
    """The chart of 2 to 8 audiences ({id, name, size}) and the report's exclusive regions."""
    columns, _ = upset_columns(regions)
    if not columns:
        return Markup('<p class="empty">These audiences have no members.</p>')
    ids = [str(a["id"]) for a in audiences]
    names = [a["name"] for a in audiences]
    sizes = [int(a["size"] or 0) for a in audiences]
    ticks = nice_ticks(0, max(int(c["size"]) for c in columns), 4)
    scale = BARS / ticks[-1]
    width = NAME_WIDTH + len(columns) * COLUMN + 12
    height = _row_y(len(ids) - 1) + ROW // 2 + 6
    label = "UpSet chart of the exclusive overlaps of " + ", ".join(names)
    parts = [
        Markup(
            '<svg class="chart upset" viewBox="0 0 {:.0f} {}" width="{:.0f}" height="{}" '
            'role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg">'
        ).format(width, height, width, height, label)
    ]
    parts += _row_names(names, sizes, width)
    parts += _bar_axis(ticks, scale, width)
    parts += [_column(i, c, ids, names, scale) for i, c in enumerate(columns)]
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)
