"""Bitmaps of member IDs: building one from IDs, applying a change, counting a change."""

from __future__ import annotations

from array import array
from collections.abc import Iterable

import numpy as np
from numpy.typing import NDArray
from pyroaring import AbstractBitMap, BitMap, FrozenBitMap

__all__ = [
    "AbstractBitMap",
    "BitMap",
    "FrozenBitMap",
    "Members",
    "apply_delta",
    "bitmap_from_ids",
    "change_counts",
    "union",
]

# Bitmaps handed out by this package may be frozen (shared through the cache): read-only.
Members = AbstractBitMap


def bitmap_from_ids(ids: NDArray[np.integer] | Iterable[int]) -> BitMap:
    """A bitmap from IDs in any order: a sorted array('I') is the fastest input pyroaring
    takes (BASELINES: ten times faster than unsorted input or a numpy array)."""
    values = np.sort(np.asarray(ids if isinstance(ids, np.ndarray) else list(ids), np.uint32))
    packed = array("I")
    packed.frombytes(values.tobytes())
    return BitMap(packed)


def apply_delta(base: AbstractBitMap, added: AbstractBitMap, removed: AbstractBitMap) -> BitMap:
    """`base` without `removed`, plus `added` (a key in both lists ends up a member)."""
    return BitMap(base.difference(removed).union(added))


def change_counts(old: AbstractBitMap, new: AbstractBitMap) -> tuple[int, int]:
    """(members added, members removed) from `old` to `new`."""
    return new.difference_cardinality(old), old.difference_cardinality(new)


def union(bitmaps: Iterable[AbstractBitMap]) -> BitMap:
    """Every member of any of `bitmaps`."""
    return BitMap().union(*bitmaps)
