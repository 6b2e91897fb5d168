"""Sums over rows of client-written numbers (row counts of up to 2**63 - 1 each, durations)
that no accepted write can make overflow, exact on both databases.

PostgreSQL's sum() of a bigint is a numeric, which cannot overflow, but `a + b` of two
bigints can: each term is summed on its own and the numerics are added. SQLite's sum() of
integers fails past 64 bits: each term is split at bit 32 and the two halves summed apart
(a sum of high halves stays below 2**63 for a billion rows), and Python joins them."""

from __future__ import annotations

import operator
from dataclasses import dataclass
from decimal import Decimal
from functools import reduce
from typing import Any

from sqlalchemy import ColumnElement, Integer, Label, func, literal_column
from sqlalchemy.orm import QueryableAttribute, Session

from insights.db import is_sqlite

HALF_BITS = 32
LOW_MASK = (1 << HALF_BITS) - 1
# PostgreSQL shifts a bigint by an integer (a bigint bind parameter finds no operator).
SHIFT = literal_column(str(HALF_BITS), Integer)


def halves(
    *terms: ColumnElement[Any] | QueryableAttribute[Any],
) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    """The high and low 32-bit halves of each of `terms`, each added up: two per-row values
    whose sums no accepted write can overflow; total = high_sum * 2**32 + low_sum."""
    high = reduce(operator.add, [term.op(">>")(SHIFT) for term in terms])
    low = reduce(operator.add, [term.op("&")(LOW_MASK) for term in terms])
    return high, low


@dataclass(frozen=True)
class ExactSum:
    """Select `columns` (in an aggregate query), then read the sum of a result row with
    `value`: an int, or on PostgreSQL a Decimal (exact; whole when the terms are)."""

    name: str
    columns: tuple[Label[Any], ...]
    split: bool

    def value(self, row: Any) -> int | Decimal:
        if not self.split:
            total: int | Decimal = getattr(row, self.name) or 0
            return total
        high, low = getattr(row, f"{self.name}_high"), getattr(row, f"{self.name}_low")
        return (int(high or 0) << HALF_BITS) + int(low or 0)


def exact_sum(
    session: Session, name: str, *terms: ColumnElement[Any] | QueryableAttribute[Any]
) -> ExactSum:
    """The sum over the rows of `terms` added together (each a non-negative integer, or on
    PostgreSQL any number), as the columns that compute it on this session's database."""
    if not is_sqlite(session):
        sums = [func.coalesce(func.sum(term), 0) for term in terms]
        return ExactSum(name, (reduce(operator.add, sums).label(name),), split=False)
    high, low = halves(*terms)
    columns = (func.sum(high).label(f"{name}_high"), func.sum(low).label(f"{name}_low"))
    return ExactSum(name, columns, split=True)
