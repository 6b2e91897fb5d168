"""The one pagination helper: page a SELECT and count its total."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

MAX_PAGE_SIZE = 100
# Far beyond any real list, and small enough that the row offset fits a 64-bit integer.
MAX_PAGE = 10_000_000


@dataclass(frozen=True)
class Page:
    page: int = 1
    page_size: int = 20

    def fetch(self, session: Session, query: Select[Any]) -> tuple[list[Any], int]:
        """(the rows of this page, the total over all pages)."""
        total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
        rows = session.scalars(
            query.limit(self.page_size).offset((self.page - 1) * self.page_size)
        ).all()
        return list(rows), int(total or 0)

    def body(self, data: list[Any], total: int) -> dict[str, Any]:
        return {
            "data": data,
            "pagination": {"page": self.page, "page_size": self.page_size, "total": total},
        }
