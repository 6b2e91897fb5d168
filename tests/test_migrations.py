"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from insights.models import Base
from tests.conftest import Database


def test_migrated_schema_matches_the_models(db: Database) -> None:
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_every_workspace_table_leads_its_primary_key_with_workspace_id(db: Database) -> None:
    inspector = inspect(db.engine)
    for table in Base.metadata.sorted_tables:
        if table.name == "workspaces":
            continue
        primary_key = inspector.get_pk_constraint(table.name)["constrained_columns"]
        assert primary_key[0] == "workspace_id", table.name
        for foreign_key in inspector.get_foreign_keys(table.name):
            assert "workspace_id" in foreign_key["constrained_columns"], table.name
