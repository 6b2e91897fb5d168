"""Audience overlap (contract 5.4): sizes, intersection, union, pairs, distribution, regions."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from insights.errors import Conflict, NotFound
from insights.members import load_bitmaps
from insights.models import Audience, MemberBitmap
from insights.reports import params
from insights.reports.common import round_half_up
from insights.reports.overlap_counts import MAX_REGION_AUDIENCES, OverlapCounts, count_overlap
from insights.reports.overlap_suppression import Cell, region_vector, shown_cells
from insights.schemas.base import ResponseModel, example

MIN_AUDIENCES = 2
MAX_AUDIENCES = 20


def parse_overlap_ids(raw: str | None, max_count: int = MAX_AUDIENCES) -> list[uuid.UUID]:
    """The `audience_ids` of an overlap: MIN_AUDIENCES to `max_count` distinct IDs, in
    the order given (the dashboard asks for at most MAX_REGION_AUDIENCES, to draw them)."""
    return params.parse_audience_ids(
        raw, required=True, min_count=MIN_AUDIENCES, max_count=max_count, allow_repeats=False
    )


class OverlapAudience(ResponseModel):
    id: uuid.UUID
    name: str
    size: int | None
    exclusive_size: int | None
    percent_in_overlap: float | None


class Overlap(ResponseModel):
    size: int | None
    percent_of_first: float | None
    percent_of_second: float | None


class OverlapPair(ResponseModel):
    audience_ids: list[uuid.UUID]
    size: int | None
    percent_of_first: float | None
    percent_of_second: float | None
    jaccard: float | None


class OverlapDistribution(ResponseModel):
    audience_count: int
    size: int | None


class OverlapRegion(ResponseModel):
    audience_ids: list[uuid.UUID]
    size: int | None


class AudienceOverlapResponse(ResponseModel):
    model_config = example(
        {
            "audiences": [
                {
                    "id": "0b5d3f4e-1c2a-4d6b-8e9f-1a2b3c4d5e6f",
                    "name": "High-Value",
                    "size": 4250,
                    "exclusive_size": 1050,
                    "percent_in_overlap": 75.3,
                },
                {
                    "id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
                    "name": "Recent Buyers",
                    "size": 8100,
                    "exclusive_size": 4900,
                    "percent_in_overlap": 39.5,
                },
            ],
            "overlap": {"size": 3200, "percent_of_first": 75.3, "percent_of_second": 39.5},
            "union_size": 9150,
            "jaccard": 35.0,
            "pairs": [
                {
                    "audience_ids": [
                        "0b5d3f4e-1c2a-4d6b-8e9f-1a2b3c4d5e6f",
                        "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
                    ],
                    "size": 3200,
                    "percent_of_first": 75.3,
                    "percent_of_second": 39.5,
                    "jaccard": 35.0,
                }
            ],
            "distribution": [
                {"audience_count": 1, "size": 5950},
                {"audience_count": 2, "size": 3200},
            ],
            "regions": [
                {"audience_ids": ["0b5d3f4e-1c2a-4d6b-8e9f-1a2b3c4d5e6f"], "size": 1050},
                {"audience_ids": ["9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"], "size": 4900},
                {
                    "audience_ids": [
                        "0b5d3f4e-1c2a-4d6b-8e9f-1a2b3c4d5e6f",
                        "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
                    ],
                    "size": 3200,
                },
            ],
            "suppressed": False,
        }
    )

    audiences: list[OverlapAudience]
    overlap: Overlap
    union_size: int | None
    jaccard: float | None
    pairs: list[OverlapPair]
    distribution: list[OverlapDistribution]
    regions: list[OverlapRegion] | None
    suppressed: bool


def audience_overlap(
    session: Session,
    workspace_id: uuid.UUID,
    *,
    audience_ids: list[uuid.UUID],
    min_count: int | None = None,
) -> AudienceOverlapResponse:
    """The overlap of the audiences' current members, in the order given.

    With `min_count`, counts above 0 and below it are null, and so is every other count
    from which one of them could be worked out (see overlap_suppression), and every
    percentage whose numerator or denominator is null."""
    names, evaluations = _audiences(session, workspace_id, audience_ids)
    bitmaps = load_bitmaps(session, workspace_id, evaluations)
    for audience_id in audience_ids:
        if audience_id not in bitmaps:  # deleted since _audiences looked (PostgreSQL)
            raise NotFound(f"Audience {audience_id} does not exist.")
    counts = count_overlap([bitmaps[audience_id] for audience_id in audience_ids])
    show = _suppress(counts, min_count)
    ids = list(audience_ids)
    return AudienceOverlapResponse(
        audiences=[
            OverlapAudience(
                id=audience_id,
                name=names[audience_id],
                size=show.size(i),
                exclusive_size=show.exclusive(i),
                percent_in_overlap=_percent(show.overlap(), show.size(i)),
            )
            for i, audience_id in enumerate(audience_ids)
        ],
        overlap=Overlap(
            size=show.overlap(),
            percent_of_first=_percent(show.overlap(), show.size(0)),
            percent_of_second=_percent(show.overlap(), show.size(1)),
        ),
        union_size=show.union(),
        jaccard=_percent(show.overlap(), show.union()),
        pairs=[_pair(show, ids, i, j) for i, j in counts.pair_indexes()],
        distribution=[
            OverlapDistribution(audience_count=k, size=show.distribution(k))
            for k in range(1, counts.n + 1)
        ],
        regions=None
        if counts.regions is None
        else [
            OverlapRegion(audience_ids=[ids[i] for i in _members(mask)], size=show.region(mask))
            for mask in region_order(counts.n)
        ],
        suppressed=show.suppressed,
    )


def _audiences(
    session: Session, workspace_id: uuid.UUID, audience_ids: list[uuid.UUID]
) -> tuple[dict[uuid.UUID, str], dict[uuid.UUID, uuid.UUID]]:
    """Names and current member evaluations, in one query: a 404 for an unknown audience
    (as params.load_audiences words it), a 409 for one without a member list."""
    rows = session.execute(
        select(Audience.id, Audience.name, MemberBitmap.evaluation_id)
        .outerjoin(
            MemberBitmap,
            (MemberBitmap.workspace_id == Audience.workspace_id)
            & (MemberBitmap.audience_id == Audience.id),
        )
        .where(Audience.workspace_id == workspace_id, Audience.id.in_(audience_ids))
    ).all()
    names = {row.id: row.name for row in rows}
    evaluations = {row.id: row.evaluation_id for row in rows}
    for audience_id in audience_ids:
        if audience_id not in names:
            raise NotFound(f"Audience {audience_id} does not exist.")
    for audience_id in audience_ids:
        if evaluations[audience_id] is None:
            raise Conflict(f"Audience {audience_id} has no member list to compute overlap on.")
    return names, evaluations


def _pair(show: _Shown, ids: list[uuid.UUID], i: int, j: int) -> OverlapPair:
    size = show.pair(i, j)
    union = None
    if size is not None and show.size(i) is not None and show.size(j) is not None:
        union = show.size(i) + show.size(j) - size  # type: ignore[operator]
    return OverlapPair(
        audience_ids=[ids[i], ids[j]],
        size=size,
        percent_of_first=_percent(size, show.size(i)),
        percent_of_second=_percent(size, show.size(j)),
        jaccard=_percent(size, union),
    )


def _percent(numerator: int | None, denominator: int | None) -> float | None:
    if numerator is None or denominator is None:
        return None
    return round_half_up(numerator * 100, denominator, 1)


def _members(mask: int) -> list[int]:
    return [i for i in range(mask.bit_length()) if mask >> i & 1]


def region_order(n: int) -> list[int]:
    """Region masks by number of audiences, then by position in the list (lexicographic)."""
    return sorted(range(1, 1 << n), key=lambda mask: (mask.bit_count(), _members(mask)))


class _Shown:
    """The counts the suppression rule lets through; None for the others."""

    def __init__(self, counts: OverlapCounts, keys: list[tuple[str, int]], shown: list[bool]):
        self.counts = counts
        self.visible = {key for key, ok in zip(keys, shown, strict=True) if ok}
        self.suppressed = not all(shown)

    def _get(self, key: tuple[str, int], value: int) -> int | None:
        return value if key in self.visible else None

    def size(self, i: int) -> int | None:
        return self._get(("size", i), self.counts.sizes[i])

    def exclusive(self, i: int) -> int | None:
        return self._get(("exclusive", i), self.counts.exclusive[i])

    def overlap(self) -> int | None:
        return self._get(("overlap", 0), self.counts.overlap)

    def union(self) -> int | None:
        return self._get(("union", 0), self.counts.union)

    def pair(self, i: int, j: int) -> int | None:
        return self._get(("pair", 1 << i | 1 << j), self.counts.pairs[i, j])

    def distribution(self, k: int) -> int | None:
        return self._get(("distribution", k), self.counts.distribution[k - 1])

    def region(self, mask: int) -> int | None:
        assert self.counts.regions is not None
        return self._get(("region", mask), self.counts.regions[mask])


def _suppress(counts: OverlapCounts, min_count: int | None) -> _Shown:
    """Every count as a cell over the regions, in priority order, through the rule."""
    n = counts.n
    values: dict[tuple[str, int], int] = {("size", i): counts.sizes[i] for i in range(n)}
    values[("overlap", 0)] = counts.overlap
    values[("union", 0)] = counts.union
    values.update({("exclusive", i): counts.exclusive[i] for i in range(n)})
    values.update({("pair", 1 << i | 1 << j): counts.pairs[i, j] for i, j in counts.pair_indexes()})
    values.update({("distribution", k): counts.distribution[k - 1] for k in range(1, n + 1)})
    if counts.regions is not None:
        values.update({("region", mask): counts.regions[mask] for mask in region_order(n)})
    keys = list(values)
    if not min_count:
        return _Shown(counts, keys, [True] * len(keys))
    # Vectors over the regions; above 8 audiences there are none (see overlap_suppression).
    dim = (1 << n) - 1 if counts.regions is not None else 0
    cells = [
        Cell(values[key], region_vector(dim, _cell_masks(key, n)) if dim else None) for key in keys
    ]
    return _Shown(counts, keys, shown_cells(cells, min_count))


def _cell_masks(key: tuple[str, int], n: int) -> list[int]:
    """The regions (as masks) whose sum the count named by `key` is."""
    kind, arg = key
    full = (1 << n) - 1
    every = range(1, full + 1)
    if kind == "size":
        return [mask for mask in every if mask >> arg & 1]
    if kind == "pair":
        return [mask for mask in every if mask & arg == arg]
    if kind == "distribution":
        return [mask for mask in every if mask.bit_count() == arg]
    if kind == "union":
        return list(every)
    if kind == "overlap":
        return [full]
    return [1 << arg] if kind == "exclusive" else [arg]


__all__: Sequence[str] = [
    "MAX_AUDIENCES",
    "MAX_REGION_AUDIENCES",
    "MIN_AUDIENCES",
    "AudienceOverlapResponse",
    "audience_overlap",
    "parse_overlap_ids",
    "region_order",
]
