"""Audience overlap (contract 5.4): sizes, intersection, union, pairs, distribution, regions."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence

from pydantic import BaseModel
from sqlalchemy.orm import Session

from insights.errors import Conflict
from insights.members import current_bitmaps
from insights.reports.common import round_half_up
from insights.reports.overlap_counts import OverlapCounts, count_overlap
from insights.reports.overlap_suppression import Cell, region_vector, shown_cells
from insights.reports.params import load_audiences


class OverlapAudience(BaseModel):
    id: uuid.UUID
    name: str
    size: int | None
    exclusive_size: int | None
    percent_in_overlap: float | None


class Overlap(BaseModel):
    size: int | None
    percent_of_first: float | None
    percent_of_second: float | None


class OverlapPair(BaseModel):
    audience_ids: list[uuid.UUID]
    size: int | None
    percent_of_first: float | None
    percent_of_second: float | None
    jaccard: float | None


class OverlapDistribution(BaseModel):
    audience_count: int
    size: int | None


class OverlapRegion(BaseModel):
    audience_ids: list[uuid.UUID]
    size: int | None


class AudienceOverlapResponse(BaseModel):
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
    audiences = load_audiences(session, workspace_id, audience_ids)
    found = current_bitmaps(session, workspace_id, audience_ids)
    for audience in audiences:
        if audience.id not in found:
            raise Conflict(f"Audience {audience.id} has no member list to compute overlap on.")
    counts = count_overlap([found[audience_id][1] for audience_id in audience_ids])
    show = _suppress(counts, min_count)
    ids = list(audience_ids)
    return AudienceOverlapResponse(
        audiences=[
            OverlapAudience(
                id=audience.id,
                name=audience.name,
                size=show.size(i),
                exclusive_size=show.exclusive(i),
                percent_in_overlap=_percent(show.overlap(), show.size(i)),
            )
            for i, audience in enumerate(audiences)
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
    n, full = counts.n, (1 << counts.n) - 1
    # Vectors are only needed when something may be suppressed; above 8 audiences there
    # are none (see overlap_suppression).
    dim = full if min_count and counts.regions is not None else 0
    keys: list[tuple[str, int]] = []
    cells: list[Cell] = []

    def add(key: tuple[str, int], value: int, member: Callable[[int], bool]) -> None:
        keys.append(key)
        masks = [m for m in range(1, full + 1) if member(m)] if dim else []
        cells.append(Cell(value, region_vector(dim, masks) if dim else None))

    for i in range(n):
        add(("size", i), counts.sizes[i], lambda m, i=i: bool(m >> i & 1))
    add(("overlap", 0), counts.overlap, lambda m: m == full)
    add(("union", 0), counts.union, lambda m: True)
    for i in range(n):
        add(("exclusive", i), counts.exclusive[i], lambda m, i=i: m == 1 << i)
    for i, j in counts.pair_indexes():
        pair = 1 << i | 1 << j
        add(("pair", pair), counts.pairs[i, j], lambda m, p=pair: m & p == p)
    for k in range(1, n + 1):
        add(("distribution", k), counts.distribution[k - 1], lambda m, k=k: m.bit_count() == k)
    if counts.regions is not None:
        for mask in region_order(n):
            add(("region", mask), counts.regions[mask], lambda m, r=mask: m == r)
    return _Shown(counts, keys, shown_cells(cells, min_count) if min_count else [True] * len(cells))


__all__: Sequence[str] = ["AudienceOverlapResponse", "audience_overlap", "region_order"]
