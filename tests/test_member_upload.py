"""The streaming member upload: line parsing, the recorded evaluation, the PUT route."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx2
import pytest
from sqlalchemy import select

from insights.errors import BadRequest, Conflict
from insights.members import NDJSON, TEXT, KeyParser, KeySpool
from insights.models import AudienceEvaluation, MemberKey
from insights.uploads import record_member_upload
from tests.support.api import Api, make_settings, new_workspace_api
from tests.support.bitmaps import current_members
from tests.support.databases import Database
from tests.support.factories import make_audience

T0 = datetime(2024, 1, 15, 12, 0, tzinfo=UTC)


def _keys(kind: str, *chunks: bytes, batch_keys: int = 3) -> list[list[str]]:
    parser = KeyParser(kind, batch_keys)
    batches = [batch for chunk in chunks for batch in parser.feed(chunk)]
    return batches + parser.close()


def _error(kind: str, *chunks: bytes) -> str:
    with pytest.raises(BadRequest) as caught:
        _keys(kind, *chunks)
    return caught.value.message


# Parsing -------------------------------------------------------------------------------


def test_text_lines_are_keys_in_batches() -> None:
    batches = _keys(TEXT, b"a\r\nb\n\nc", b"d\ne\xc3", b"\xa9\n", b"last")
    assert batches == [["a", "b", "cd"], ["e\u00e9", "last"]]


def test_text_keeps_spaces_and_case() -> None:
    assert _keys(TEXT, b" a \nA\n\ta\n") == [[" a ", "A", "\ta"]]


def test_text_skips_a_byte_order_mark() -> None:
    assert _keys(TEXT, b"\xef\xbb\xbfa\nb\n") == [["a", "b"]]


def test_ndjson_lines_are_json_strings() -> None:
    batches = _keys(NDJSON, b'"a"\n"b"\r\n\n  \n"c', b'd"\n"\\u00e9"\n"x\\ty"')
    assert batches == [["a", "b", "cd"], ["\u00e9", "x\ty"]]


@pytest.mark.parametrize(
    ("kind", "body", "expected"),
    [
        (TEXT, b"a\nb\rc\n", "Line 2: a member key must not contain a line break"),
        (TEXT, b"a\n\n\xff\n", "Line 3: the line is not valid UTF-8"),
        (TEXT, b"a\n" + b"x" * 257 + b"\n", "Line 2: a member key must be at most 256"),
        (NDJSON, b'"a"\n1\n', "Line 2: a member key must be a string"),
        (NDJSON, b'"a"\n"b", "c"\n', "Line 2: the line is not a JSON string"),
        (NDJSON, b'"a"\n\n""\n', "Line 3: a member key must not be empty"),
        (NDJSON, b'"a"\n"x\\ny"\n', "Line 2: a member key must not contain a line break"),
        (NDJSON, b'"a"\nb\n', "Line 2: the line is not a JSON string"),
    ],
)
def test_a_bad_line_is_named_with_its_reason(kind: str, body: bytes, expected: str) -> None:
    assert _error(kind, body).startswith(expected)


def test_bad_line_numbers_count_across_chunks() -> None:
    assert _error(TEXT, b"a\nb\n", b"c\n", b"\n" + b"y" * 300 + b"\n").startswith("Line 5:")


def test_a_line_without_end_is_refused_before_it_fills_memory() -> None:
    assert _error(TEXT, b"a\n", b"y" * 5000, b"y" * 5000).startswith("Line 2:")


# Recording -----------------------------------------------------------------------------


def _spooled(text: str, size: int = 4) -> Iterator[bytes]:
    """The blocks of keys a spool makes of `text`, fed `size` bytes at a time."""
    data = text.encode()
    with KeySpool(TEXT) as spool:
        for start in range(0, len(data), size):
            spool.feed(data[start : start + size])
        spool.finish()
        yield from spool.blocks()


def test_upload_records_a_member_evaluation(db: Database, workspace_id: uuid.UUID) -> None:
    with db.session() as session, session.begin():
        audience = make_audience(session, workspace_id)
        first = record_member_upload(
            session, workspace_id, audience.id, T0, _spooled("a\nb\nb\nc\n")
        )
        later = T0.replace(hour=13)
        second = record_member_upload(
            session, workspace_id, audience.id, later, _spooled("b\nc\nd")
        )
        assert (first.size, first.members_added, first.members_removed) == (3, None, None)
        assert (second.size, second.members_added, second.members_removed) == (3, 1, 1)
        assert second.has_members
        _, bitmap = current_members(session, workspace_id, audience.id)
        keys = dict(session.execute(select(MemberKey.member_id, MemberKey.key)).tuples().all())
        assert sorted(keys[i] for i in bitmap) == ["b", "c", "d"]


def test_upload_must_be_newer_than_the_latest_member_list(
    db: Database, workspace_id: uuid.UUID
) -> None:
    with db.session() as session, session.begin():
        audience = make_audience(session, workspace_id)
        record_member_upload(session, workspace_id, audience.id, T0, [b"a"])
        with pytest.raises(Conflict):
            record_member_upload(session, workspace_id, audience.id, T0, [b"b"])


# HTTP ----------------------------------------------------------------------------------


@pytest.fixture
def upload_api(db: Database) -> Iterator[Api]:
    """An API client whose app has the upload route (added here until the app lists it)."""
    from fastapi.testclient import TestClient

    from insights.api import members as members_api
    from insights.app import create_app

    app = create_app(make_settings(db, max_body_bytes=4096))
    if not any(getattr(r, "path", "").endswith("/members") for r in app.routes):
        app.include_router(members_api.router)
    with TestClient(app) as client:
        yield new_workspace_api(db, client)


def _put(
    api: Api,
    audience_id: str,
    body: bytes | Iterator[bytes],
    content_type: str = TEXT,
    **params: str,
) -> httpx2.Response:
    return api.put(
        f"/audiences/{audience_id}/members",
        content=body,
        headers={"Content-Type": content_type},
        params=params,
    )


def test_put_members_streams_a_full_list(db: Database, upload_api: Api) -> None:
    audience = upload_api.create("audiences", name="Buyers", status="active")
    chunks = (line.encode() for line in ["k1\n", "k2\nk", "3\n", "k1\n"])
    response = _put(upload_api, audience["id"], chunks, evaluated_at="2024-01-15T12:00:00Z")
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["size"], body["members_added"], body["evaluated_at"]) == (
        3,
        None,
        "2024-01-15T12:00:00Z",
    )
    response = _put(
        upload_api, audience["id"], b'"k3"\n"k4"\n', NDJSON, evaluated_at="2024-01-16T00:00:00Z"
    )
    assert (response.json()["members_added"], response.json()["members_removed"]) == (1, 2)
    overlap_path = f"/audiences/{audience['id']}/evaluations"
    assert upload_api.get(overlap_path).json()["pagination"]["total"] == 2


def test_put_members_with_a_bad_line_stores_nothing(db: Database, upload_api: Api) -> None:
    audience = upload_api.create("audiences", name="Buyers", status="active")
    response = _put(upload_api, audience["id"], b"a\nb\n" + b"x" * 300 + b"\n")
    assert response.status_code == 400
    assert response.json()["error"].startswith("Line 3:")
    with db.read() as session:
        assert session.scalar(select(AudienceEvaluation.id)) is None
        assert session.scalar(select(MemberKey.key)) is None


def test_put_members_refuses_other_content_types(upload_api: Api) -> None:
    audience = upload_api.create("audiences", name="Buyers", status="active")
    response = _put(upload_api, audience["id"], b'["a"]', "application/json")
    assert response.status_code == 400 and "Content-Type" in response.json()["error"]


def test_put_members_of_unknown_audience_is_404(upload_api: Api) -> None:
    assert _put(upload_api, str(uuid.uuid4()), b"a\n").status_code == 404


def test_put_members_over_the_body_limit_is_413(db: Database, upload_api: Api) -> None:
    audience = upload_api.create("audiences", name="Buyers", status="active")
    chunks = (b"k%05d\n" % i for i in range(1000))
    assert _put(upload_api, audience["id"], chunks).status_code == 413
    with db.read() as session:
        assert session.scalar(select(AudienceEvaluation.id)) is None


def test_put_members_needs_a_write_key(upload_api: Api) -> None:
    audience = upload_api.create("audiences", name="Buyers", status="active")
    read_key = upload_api.new_key("read")
    response = upload_api.put(
        f"/audiences/{audience['id']}/members",
        key=read_key,
        content=b"a\n",
        headers={"Content-Type": TEXT},
    )
    assert response.status_code == 403


# CLI -----------------------------------------------------------------------------------


def test_cli_uploads_a_file(
    db: Database, workspace_id: uuid.UUID, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from click.testing import CliRunner

    from insights.cli import main
    from insights.cli.members import members_group
    from insights.settings import get_settings

    if "members" not in main.commands:
        main.add_command(members_group)
    with db.session() as session, session.begin():
        audience_id = make_audience(session, workspace_id).id
    path = tmp_path / "members.ndjson"
    path.write_text('"a"\n"b"\n"a"\n')
    monkeypatch.setenv("INSIGHTS_DATABASE_URL", db.url)
    get_settings.cache_clear()
    args = ["members", "upload", "--workspace", str(workspace_id), "--audience", str(audience_id)]
    try:
        result = CliRunner().invoke(
            main, [*args, "--evaluated-at", "2024-01-15T12:00:00Z", str(path)]
        )
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout.splitlines()[-1])["size"] == 2
        again = CliRunner().invoke(
            main, [*args, "--evaluated-at", "2024-01-15T12:00:00Z", str(path)]
        )
        assert again.exit_code == 1 and "evaluated_at must be after" in again.output
    finally:
        get_settings.cache_clear()
