"""The member counts behind the overlap report, computed with bitmap operations."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from insights.members import Members

# Up to this many audiences the report lists every exclusive region (2**8 - 1 = 255).
MAX_REGION_AUDIENCES = 8


@dataclass
class OverlapCounts:
    """Counts of n audiences; `regions[mask]` is the exclusive region of the audiences whose
    bits are set in mask (bit i = position i); None above MAX_REGION_AUDIENCES."""

    n: int
    sizes: list[int]
    exclusive: list[int]
    overlap: int
    union: int
    pairs: dict[tuple[int, int], int]
    distribution: list[int]  # index k - 1: members in exactly k audiences
    regions: list[int] | None

    def pair_indexes(self) -> Iterator[tuple[int, int]]:
        return ((i, j) for i in range(self.n) for j in range(i + 1, self.n))


def count_overlap(bitmaps: Sequence[Members]) -> OverlapCounts:
    if len(bitmaps) <= MAX_REGION_AUDIENCES:
        return _from_regions(bitmaps)
    return _from_set_operations(bitmaps)


def intersection_sizes(bitmaps: Sequence[Members]) -> list[int]:
    """|intersection of the audiences in mask| for every mask, by walking the subset lattice:
    a mask's intersection is its parent's (the mask without its top bit) with the top one.
    Masks that end with the last audience have no children, so only their size is taken."""
    n = len(bitmaps)
    sizes = [0] * (1 << n)
    kept: dict[int, Members] = {}
    for mask in range(1, 1 << n):
        top = mask.bit_length() - 1
        parent = mask ^ (1 << top)
        if not parent:
            kept[mask], sizes[mask] = bitmaps[top], len(bitmaps[top])
            continue
        base = kept.get(parent)
        if base is None:
            continue  # an empty intersection stays empty
        if top == n - 1:
            sizes[mask] = base.intersection_cardinality(bitmaps[top])
            continue
        both = base & bitmaps[top]
        sizes[mask] = len(both)
        if both:
            kept[mask] = both
    return sizes


def exclusive_regions(intersections: list[int], n: int) -> list[int]:
    """Exclusive region sizes from intersection sizes (Moebius inversion over supersets)."""
    regions = list(intersections)
    for bit in range(n):
        step = 1 << bit
        for mask in range(1, 1 << n):
            if not mask & step:
                regions[mask] -= regions[mask | step]
    return regions


def _from_regions(bitmaps: Sequence[Members]) -> OverlapCounts:
    n = len(bitmaps)
    intersections = intersection_sizes(bitmaps)
    regions = exclusive_regions(intersections, n)
    distribution = [0] * n
    for mask in range(1, 1 << n):
        distribution[mask.bit_count() - 1] += regions[mask]
    return OverlapCounts(
        n=n,
        sizes=[len(bitmap) for bitmap in bitmaps],
        exclusive=[regions[1 << i] for i in range(n)],
        overlap=regions[(1 << n) - 1],
        union=sum(distribution),
        pairs={(i, j): intersections[1 << i | 1 << j] for i in range(n) for j in range(i + 1, n)},
        distribution=distribution,
        regions=regions,
    )


def _from_set_operations(bitmaps: Sequence[Members]) -> OverlapCounts:
    n = len(bitmaps)
    first, rest = bitmaps[0], bitmaps[1:]
    return OverlapCounts(
        n=n,
        sizes=[len(bitmap) for bitmap in bitmaps],
        exclusive=_exclusive_sizes(bitmaps),
        overlap=len(first.intersection(*rest)),
        union=len(first.union(*rest)),
        pairs={
            (i, j): bitmaps[i].intersection_cardinality(bitmaps[j])
            for i in range(n)
            for j in range(i + 1, n)
        },
        distribution=_exactly_k(bitmaps),
        regions=None,
    )


def _exclusive_sizes(bitmaps: Sequence[Members]) -> list[int]:
    """|B_i minus every other| through prefix and suffix unions: O(n) unions, not O(n**2)."""
    n = len(bitmaps)
    empty = bitmaps[0] - bitmaps[0]
    prefix, suffix = [empty] * (n + 1), [empty] * (n + 1)
    for i in range(n):
        prefix[i + 1] = prefix[i] | bitmaps[i]
        suffix[n - 1 - i] = suffix[n - i] | bitmaps[n - 1 - i]
    return [bitmaps[i].difference_cardinality(prefix[i] | suffix[i + 1]) for i in range(n)]


def _exactly_k(bitmaps: Sequence[Members]) -> list[int]:
    """Members in exactly k audiences, k = 1..n, from the sets of members in at least k."""
    at_least: list[Members] = []
    for bitmap in bitmaps:
        for k in range(len(at_least) - 1, -1, -1):
            carried = at_least[k] & bitmap
            if k + 1 == len(at_least):
                if carried:
                    at_least.append(carried)
            else:
                at_least[k + 1] = at_least[k + 1] | carried
        at_least = [at_least[0] | bitmap, *at_least[1:]] if at_least else [bitmap]
    sizes = [len(level) for level in at_least] + [0] * (len(bitmaps) - len(at_least) + 1)
    return [sizes[k] - sizes[k + 1] for k in range(len(bitmaps))]
