"""The audience-overlap page: the picker, the Venn or UpSet chart, the Jaccard heat map."""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

from sqlalchemy.orm import Session

from insights.dashboard.charts.plots import heat_level
from insights.dashboard.charts.upset import upset_columns, upset_svg
from insights.dashboard.charts.venn import venn_svg
from insights.dashboard.views import api_url, audience_choices
from insights.reports import params
from insights.reports.audience_overlap import (
    MAX_REGION_AUDIENCES,
    MIN_AUDIENCES,
    audience_overlap,
    parse_overlap_ids,
)

# A Venn diagram reads up to 3 audiences, an UpSet chart the report's regions (up to 8).
MAX_AUDIENCES = MAX_REGION_AUDIENCES
MAX_VENN = 3


def _lenient_ids(raw_ids: str | None) -> list[uuid.UUID]:
    """The IDs of a refused request that parse, to keep them ticked in the form."""
    ids = []
    for part in (raw_ids or "").split(","):
        with contextlib.suppress(ValueError):
            ids.append(uuid.UUID(part.strip()))
    return ids


def overlap_form(
    session: Session, workspace_id: uuid.UUID, raw_ids: str | None, raw_min: str | None = None
) -> dict[str, Any]:
    return {
        "choices": audience_choices(session, workspace_id),
        "selected": set(_lenient_ids(raw_ids)),
        "min_audiences": MIN_AUDIENCES,
        "max_audiences": MAX_AUDIENCES,
        "min_count": raw_min or "",
        "report": None,
        "api_urls": [],
    }


def audience_overlap_page(
    session: Session, workspace_id: uuid.UUID, raw_ids: str | None, raw_min: str | None = None
) -> dict[str, Any]:
    """Without a selection, only the picker; else the report of 2 to 8 audiences, with
    counts under `raw_min` suppressed as the API suppresses them."""
    form = overlap_form(session, workspace_id, raw_ids, raw_min)
    if raw_ids is None:
        return form
    ids = parse_overlap_ids(raw_ids, max_count=MAX_AUDIENCES)
    min_count = params.parse_min_count(raw_min)
    report = audience_overlap(session, workspace_id, audience_ids=ids, min_count=min_count)
    data = report.model_dump(mode="json")
    audiences = data["audiences"]
    regions = data.get("regions") or []
    joined = ",".join(str(i) for i in ids)
    return {
        **form,
        "report": data,
        # Drawn to scale, a chart would show what the suppressed counts hide: none then.
        "chart": None if report.suppressed else _chart(audiences, data.get("pairs") or [], regions),
        "chart_kind": "venn" if len(ids) <= MAX_VENN else "upset",
        "heat": heat_rows(audiences, data.get("pairs") or []),
        "regions": _named_regions(audiences, regions),
        "hidden_columns": upset_columns(regions)[1]
        if len(ids) > MAX_VENN and not report.suppressed
        else 0,
        "api_urls": [
            api_url(workspace_id, "audience-overlap", audience_ids=joined, min_count=min_count)
        ],
    }


def _chart(
    audiences: list[dict[str, Any]], pairs: list[dict[str, Any]], regions: list[dict[str, Any]]
) -> Any:
    if len(audiences) <= MAX_VENN:
        return venn_svg(audiences, pairs, regions)
    return upset_svg(audiences, regions)


def heat_rows(
    audiences: list[dict[str, Any]], pairs: list[dict[str, Any]]
) -> list[list[dict[str, Any]]]:
    """An n x n matrix of pairwise Jaccard cells ({value, css, pair}); None on the diagonal."""
    index = {str(a["id"]): i for i, a in enumerate(audiences)}
    by_pair: dict[tuple[int, int], dict[str, Any]] = {}
    for pair in pairs:
        i, j = (index[str(x)] for x in pair["audience_ids"])
        by_pair[(i, j)] = by_pair[(j, i)] = pair
    rows = []
    for i in range(len(audiences)):
        row = []
        for j in range(len(audiences)):
            found = by_pair.get((i, j))
            value = None if found is None else found["jaccard"]
            css = "heat-self" if i == j else heat_level(value)
            row.append({"value": value, "css": css, "pair": found})
        rows.append(row)
    return rows


def _named_regions(
    audiences: list[dict[str, Any]], regions: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    names = {str(a["id"]): a["name"] for a in audiences}
    return [
        {
            "ids": ",".join(str(x) for x in region["audience_ids"]),
            "names": [names[str(x)] for x in region["audience_ids"]],
            "size": region["size"],
        }
        for region in regions
    ]
