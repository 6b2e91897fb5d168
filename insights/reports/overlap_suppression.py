"""Which counts of an overlap report may be shown so that no small count can be worked out.

Every count of the report is a sum of exclusive Venn regions, so it is a 0/1 vector over the
2**n - 1 regions. A count above 0 and below `min_count` is suppressed (primary). A shown count
tells the reader one linear equation over the regions; a suppressed count is disclosed exactly
when its vector is a linear combination of the shown ones (any chain of sums and differences
of shown numbers, e.g. union minus the other regions). The rule (complementary suppression):
take the candidates in priority order (sizes, overlap, union, exclusive sizes, pairs,
distribution, regions) and show each one unless, together with those already shown, it would
put a suppressed vector in their span; otherwise withhold it too. Withheld counts need no
protection of their own: if one could be derived, it added nothing to the span.

Arithmetic is modulo a prime, with numpy: a vector that is in the rational span is in the
span modulo p unless p divides every maximal minor of the shown vectors, which for 0/1
matrices of at most 255 columns is negligible (and a false "dependent" only withholds more).
Above 8 audiences there are no regions in the report and 2**n columns are too many, so any
suppression withholds every count that is not 0 (zeros give nothing away: a combination of
zeros is 0, and a suppressed count is not).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

# 2**26 - 5: products stay below 2**52, so 255 of them summed fit in int64.
PRIME = 67_108_859


@dataclass(frozen=True)
class Cell:
    """One count of the report: its value and its 0/1 vector over the regions (or None)."""

    value: int
    vector: NDArray[np.int64] | None


def shown_cells(cells: Sequence[Cell], min_count: int | None) -> list[bool]:
    """For each cell in priority order, whether it may be shown."""
    primary = [min_count is not None and 0 < cell.value < min_count for cell in cells]
    if not any(primary):
        return [True] * len(cells)
    if any(cell.vector is None for cell in cells):
        return [cell.value == 0 for cell in cells]
    secrets = np.array([c.vector for c, p in zip(cells, primary, strict=True) if p]) % PRIME
    span = _Span(secrets)
    return [
        not is_primary and span.try_add(cell.vector)  # type: ignore[arg-type]
        for cell, is_primary in zip(cells, primary, strict=True)
    ]


class _Span:
    """The span of the shown vectors, kept in reduced row echelon form modulo PRIME."""

    def __init__(self, secrets: NDArray[np.int64]) -> None:
        self.rows = np.zeros((0, secrets.shape[1]), dtype=np.int64)
        self.pivots: list[int] = []
        # The suppressed vectors reduced by the span: one reducing to 0 would be disclosed.
        self.secrets = secrets

    def try_add(self, vector: NDArray[np.int64]) -> bool:
        """Adds `vector` to the span unless that would put a secret in it."""
        residual = self._reduce(vector % PRIME)
        nonzero = np.flatnonzero(residual)
        if not len(nonzero):
            return True  # already implied by what is shown: it tells nothing new
        pivot = int(nonzero[0])
        residual = residual * pow(int(residual[pivot]), -1, PRIME) % PRIME
        reduced = (self.secrets - np.outer(self.secrets[:, pivot], residual)) % PRIME
        if not reduced.any(axis=1).all():
            return False
        self.secrets = reduced
        self.rows = (self.rows - np.outer(self.rows[:, pivot], residual)) % PRIME
        self.rows = np.vstack([self.rows, residual])
        self.pivots.append(pivot)
        return True

    def _reduce(self, vector: NDArray[np.int64]) -> NDArray[np.int64]:
        if not self.pivots:
            return vector
        reduced: NDArray[np.int64] = (vector - vector[self.pivots] @ self.rows) % PRIME
        return reduced


def region_vector(dim: int, masks: Sequence[int]) -> NDArray[np.int64]:
    """The 0/1 vector of a count that sums the regions with these masks (mask m at m - 1)."""
    vector = np.zeros(dim, dtype=np.int64)
    vector[np.asarray(masks, dtype=np.int64) - 1] = 1
    return vector
