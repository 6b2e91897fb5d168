"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import (
    BigInteger,
    DateTime,
    String,
    Uuid,
    insert,
    inspect,
    select,
    text,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql import column as sql_column
from sqlalchemy.sql import table as sql_table

from insights.db import make_engine, migrate
from insights.models import Base, MemberKey, Workspace
from tests.support.databases import Database


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


def test_member_keys_survive_the_change_of_their_primary_key(empty_database: str) -> None:
    """0002 re-keys the dictionary by key; the keys and their IDs survive it both ways."""
    workspace = uuid.uuid4()
    rows = [(f"key-{n:03d}", n) for n in (5, 3, 9, 0, 7)]

    def dictionary() -> list[tuple[str, int]]:
        with engine.connect() as connection:
            query = text("SELECT key, member_id FROM member_keys ORDER BY member_id")
            return [(row[0], row[1]) for row in connection.execute(query)]

    member_keys = Base.metadata.tables[MemberKey.__tablename__]  # MemberKey.__table__, typed
    migrate(empty_database, "0001")
    engine = make_engine(empty_database)
    try:
        with engine.begin() as connection:
            connection.execute(
                insert(member_keys),
                [{"workspace_id": workspace, "key": k, "member_id": i} for k, i in rows],
            )
        migrate(empty_database)
        assert dictionary() == sorted(rows, key=lambda row: row[1])
        key_columns = inspect(engine).get_pk_constraint("member_keys")["constrained_columns"]
        assert key_columns == ["workspace_id", "key"]
        with engine.begin() as connection, pytest.raises(IntegrityError):
            connection.execute(
                insert(member_keys),
                [{"workspace_id": workspace, "key": "key-005", "member_id": 11}],
            )
        migrate(empty_database, "0001", down=True)
        assert dictionary() == sorted(rows, key=lambda row: row[1])
        inspector = inspect(engine)
        assert inspector.get_pk_constraint("member_keys")["constrained_columns"] == [
            "workspace_id",
            "member_id",
        ]
        assert [index["column_names"] for index in inspector.get_indexes("member_keys")] == [
            ["workspace_id", "key"]
        ]
    finally:
        engine.dispose()


def test_the_dictionary_size_is_filled_in_from_the_keys(empty_database: str) -> None:
    """0007 stores each workspace's dictionary size: it starts equal to its rows."""
    counts = {uuid.uuid4(): 3, uuid.uuid4(): 0, uuid.uuid4(): 5}
    # The workspaces table as it was at 0005 (the model's has the new column).
    workspaces = sql_table(
        "workspaces",
        sql_column("id", Uuid()),
        sql_column("name", String()),
        sql_column("timezone", String()),
        sql_column("next_member_id", BigInteger()),
        sql_column("created_at", DateTime()),
        sql_column("updated_at", DateTime()),
    )
    migrate(empty_database, "0005")
    engine = make_engine(empty_database)
    try:
        with engine.begin() as connection:
            when = datetime(2026, 1, 1)
            for workspace, count in counts.items():
                connection.execute(
                    insert(workspaces).values(
                        id=workspace,
                        name="w",
                        timezone="UTC",
                        next_member_id=count,
                        created_at=when,
                        updated_at=when,
                    )
                )
                keys = [
                    {"workspace_id": workspace, "key": f"k{n}", "member_id": n}
                    for n in range(count)
                ]
                if keys:
                    connection.execute(insert(Base.metadata.tables["member_keys"]), keys)
        migrate(empty_database)
        with engine.connect() as connection:
            query = select(Workspace.id, Workspace.member_key_count)
            assert dict(connection.execute(query).tuples().all()) == counts
    finally:
        engine.dispose()
