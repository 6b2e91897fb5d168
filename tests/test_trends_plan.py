"""How audience-trends reads the evaluations: its statement is answered by the history
index alone (migration 0015), in the order it asks for, with no visit to the table and no
sort of each second's ties."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from insights.reports.audience_trends import AudienceTrendsResponse, audience_trends
from tests.support.databases import Database
from tests.support.factories import make_audience, make_evaluation, make_workspace
from tests.support.plans import sqlite_plan

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def test_the_evaluations_come_from_the_history_index_alone_in_order(db: Database) -> None:
    if db.kind != "sqlite":
        pytest.skip("PostgreSQL's planner picks by the table's size; SQLite's by the query")
    with db.session() as session, session.begin():
        workspace = make_workspace(session)
        for number in range(3):
            audience = make_audience(session, workspace.id, name=f"Audience {number}")
            for hours in range(0, 24 * 9, 7):
                when = NOW - timedelta(hours=hours)
                make_evaluation(session, workspace.id, audience.id, evaluated_at=when, size=hours)

    def report() -> AudienceTrendsResponse:
        with db.read() as session:
            return audience_trends(session, workspace.id, days=7, audience_ids=None, now=NOW)

    chosen = "SELECT CAST(audience_evaluations.audience_id"
    found, details = sqlite_plan(db, lambda statement: statement.startswith(chosen), report)
    assert [len(trend.data_points) for trend in found.audiences] == [8, 8, 8]
    assert details == [
        "SEARCH audience_evaluations USING COVERING INDEX ix_audience_evaluations_history"
        " (workspace_id=?)"
    ], details


def test_postgresql_plans_the_statement_for_its_values_every_time(db: Database) -> None:
    """A generic plan of the prepared statement scanned the table and sorted it (52 ms for a
    year of 200 audiences, against 16 from the index): the driver does not prepare it, however
    often it runs on a connection, and prepares the connection's other statements as before."""
    if db.kind != "postgresql":
        pytest.skip("SQLite plans every statement for its values")
    with db.session() as session, session.begin():
        workspace = make_workspace(session)
    for _ in range(12):
        with db.read() as session:
            audience_trends(session, workspace.id, days=7, audience_ids=None, now=NOW)
            driver: Any = session.connection().connection.driver_connection
            assert driver.prepare_threshold == 5
            query = text("SELECT statement FROM pg_prepared_statements")
            prepared = list(session.execute(query).scalars())
    # The report's other statements were prepared on the connection; the evaluations' not.
    assert any("FROM workspaces" in statement for statement in prepared), prepared
    assert not any("CAST(audience_evaluations.audience_id" in s for s in prepared), prepared
