"""Audience evaluations: sizes, member lists and changes (contract 4.3), on both databases."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from insights.models import AudienceEvaluation, MemberKey
from tests.support.api import Api
from tests.support.databases import Database

FIELDS = {"id", "audience_id", "evaluated_at", "size", "members_added", "members_removed"}


def day(n: int) -> str:
    return f"2024-01-{n:02d}T00:00:00Z"


@pytest.fixture
def evaluations(api: Api) -> str:
    """The evaluations path of a fresh audience."""
    return f"/audiences/{api.create('audiences', name='High-Value')['id']}/evaluations"


def post(api: Api, path: str, status: int = 201, **body: Any) -> dict[str, Any]:
    response = api.post(path, json=body)
    assert response.status_code == status, response.text
    created: dict[str, Any] = response.json()
    return created


def audience_of(api: Api, path: str) -> dict[str, Any]:
    audience: dict[str, Any] = api.get(path.removesuffix("/evaluations")).json()
    return audience


def stored_state(
    db: Database, api: Api, path: str
) -> tuple[dict[str, Any], dict[str, Any], int | None, int | None]:
    """Everything an evaluation could have written, to compare before and after."""
    with db.session() as session:
        evaluations = session.scalar(select(func.count()).select_from(AudienceEvaluation))
        keys = session.scalar(select(func.count()).select_from(MemberKey))
    return api.get(path).json(), audience_of(api, path), evaluations, keys


# --- the three forms ---------------------------------------------------------------------


def test_member_list_evaluation_counts_distinct_members(api: Api, evaluations: str) -> None:
    body = post(api, evaluations, evaluated_at=day(1), members=["a", "b", "c", "a", "b"])
    assert set(body) >= FIELDS
    assert body["size"] == 3
    assert body["evaluated_at"] == day(1)
    assert body["audience_id"] == evaluations.split("/")[2]
    assert body["members_added"] is None and body["members_removed"] is None
    audience = audience_of(api, evaluations)
    assert audience["current_size"] == 3 and audience["evaluated_at"] == day(1)


def test_size_only_evaluation_stores_the_size_without_changes(api: Api, evaluations: str) -> None:
    body = post(api, evaluations, evaluated_at=day(3), size=4250)
    assert body["size"] == 4250
    assert body["members_added"] is None and body["members_removed"] is None
    assert audience_of(api, evaluations)["current_size"] == 4250


def test_added_and_removed_apply_to_the_previous_member_list(api: Api, evaluations: str) -> None:
    post(api, evaluations, evaluated_at=day(1), members=["a", "b", "c"])
    body = post(api, evaluations, evaluated_at=day(2), added=["d", "e", "a"], removed=["b", "zz"])
    assert body["size"] == 4  # a, c, d, e
    assert body["members_added"] == 2
    assert body["members_removed"] == 1
    # The stored list is exactly a, c, d, e: restating it changes nothing.
    same = post(api, evaluations, evaluated_at=day(3), members=["e", "d", "c", "a"])
    assert (same["size"], same["members_added"], same["members_removed"]) == (4, 0, 0)


def test_added_only_or_removed_only_is_a_change(api: Api, evaluations: str) -> None:
    post(api, evaluations, evaluated_at=day(1), members=["a", "b"])
    assert post(api, evaluations, evaluated_at=day(2), added=["c"])["size"] == 3
    assert post(api, evaluations, evaluated_at=day(3), removed=["a", "b"])["size"] == 1
    assert post(api, evaluations, evaluated_at=day(4), removed=["c"])["size"] == 0


def test_change_without_a_previous_member_list_is_409(api: Api, evaluations: str) -> None:
    post(api, evaluations, evaluated_at=day(1), size=10)
    post(api, evaluations, 409, evaluated_at=day(2), added=["a"])
    assert api.get(evaluations).json()["pagination"]["total"] == 1


def test_new_member_list_reports_added_and_removed_against_the_previous(
    api: Api, evaluations: str
) -> None:
    post(api, evaluations, evaluated_at=day(1), members=["a", "b", "c"])
    post(api, evaluations, evaluated_at=day(2), size=99)  # size-only: not a member list
    body = post(api, evaluations, evaluated_at=day(3), members=["b", "c", "d", "e", "f"])
    assert (body["size"], body["members_added"], body["members_removed"]) == (5, 3, 1)


MALFORMED = [
    {},
    {"evaluated_at": day(1)},
    {"members": ["a"], "size": 1},
    {"members": ["a"], "added": ["b"]},
    {"added": ["a"], "size": 1},
    {"size": -1},
    {"size": "5"},
    {"size": 2**63},  # does not fit a BIGINT
    {"members": "a,b"},
    {"members": [1, 2]},
    {"members": ["a"], "colour": "red"},
    {"members": ["a"], "evaluated_at": "2024-01-01T00:00:00"},
    {"size": 1, "evaluated_at": 1704067200},
]


def test_malformed_evaluation_is_400_and_stores_nothing(api: Api, evaluations: str) -> None:
    for body in MALFORMED:
        response = api.post(evaluations, json=body)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["error"]
    assert api.get(evaluations).json()["pagination"]["total"] == 0


def test_key_both_added_and_removed_is_400(api: Api, evaluations: str) -> None:
    post(api, evaluations, evaluated_at=day(1), members=["a"])
    message = post(api, evaluations, 400, evaluated_at=day(2), added=["b"], removed=["b"])["error"]
    assert "'b'" in message


def test_evaluated_at_defaults_to_now(api: Api, evaluations: str) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    body = post(api, evaluations, members=["a"])
    evaluated = datetime.strptime(body["evaluated_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert before <= evaluated <= datetime.now(UTC)


def test_evaluated_at_is_converted_to_utc(api: Api, evaluations: str) -> None:
    body = post(api, evaluations, evaluated_at="2024-01-01T02:00:00.900+02:00", size=1)
    assert body["evaluated_at"] == "2024-01-01T00:00:00Z"


def test_evaluation_of_an_unknown_audience_is_404(api: Api) -> None:
    missing = str(uuid.uuid4())
    path = f"/audiences/{missing}/evaluations"
    assert missing in post(api, path, 404, size=1)["error"]
    assert api.get(path).status_code == 404


# --- order of member lists ----------------------------------------------------------------


def test_member_list_must_be_newer_than_the_latest_member_list(api: Api, evaluations: str) -> None:
    post(api, evaluations, evaluated_at=day(5), members=["a"])
    for when in (day(5), day(4)):
        post(api, evaluations, 409, evaluated_at=when, members=["b"])
        post(api, evaluations, 409, evaluated_at=when, added=["b"])
    assert api.get(evaluations).json()["pagination"]["total"] == 1
    assert post(api, evaluations, evaluated_at=day(6), members=["b"])["size"] == 1


def test_size_only_evaluation_may_be_backfilled_at_any_time(api: Api, evaluations: str) -> None:
    post(api, evaluations, evaluated_at=day(10), members=["a", "b"])
    for n in (1, 10, 9, 2):
        assert post(api, evaluations, evaluated_at=day(n), size=n * 100)["size"] == n * 100
    # The backfilled sizes leave the member list of day 10 as the current members.
    assert api.get(evaluations).json()["pagination"]["total"] == 5
    assert post(api, evaluations, evaluated_at=day(11), members=["a"])["members_removed"] == 1


def test_member_list_may_be_newer_than_a_later_size_only_evaluation(
    api: Api, evaluations: str
) -> None:
    post(api, evaluations, evaluated_at=day(1), members=["a"])
    post(api, evaluations, evaluated_at=day(9), size=50)
    body = post(api, evaluations, evaluated_at=day(5), members=["a", "b"])
    assert body["members_added"] == 1
    assert audience_of(api, evaluations)["current_size"] == 50


# --- member keys -------------------------------------------------------------------------


def test_member_keys_are_case_sensitive(api: Api, evaluations: str) -> None:
    body = post(api, evaluations, evaluated_at=day(1), members=["user@x.com", "USER@x.com", "a"])
    assert body["size"] == 3
    later = post(api, evaluations, evaluated_at=day(2), removed=["A"])
    assert later["size"] == 3 and later["members_removed"] == 0


def test_unicode_member_keys_round_trip(api: Api, evaluations: str) -> None:
    keys = ["müller", "名前", "😀", "e\u0301", "\u00e9", "tab\there", " padded "]
    assert post(api, evaluations, evaluated_at=day(1), members=keys)["size"] == len(keys)
    again = post(api, evaluations, evaluated_at=day(2), members=list(reversed(keys)))
    assert (again["size"], again["members_added"], again["members_removed"]) == (len(keys), 0, 0)


def test_member_key_of_256_characters_is_accepted(api: Api, evaluations: str) -> None:
    assert post(api, evaluations, evaluated_at=day(1), members=["k" * 256])["size"] == 1


BAD_KEYS = ["line\nbreak", "carriage\rreturn", "", "k" * 257, "nul\x00", 5, None]


def test_bad_member_key_is_400_and_nothing_is_stored(
    db: Database, api: Api, evaluations: str
) -> None:
    post(api, evaluations, evaluated_at=day(1), members=["a", "b"])
    before = stored_state(db, api, evaluations)
    for bad in BAD_KEYS:
        for form in ("members", "added", "removed"):
            body = {"evaluated_at": day(2), form: ["fresh-1", "fresh-2", bad, "fresh-3"]}
            message = post(api, evaluations, 400, **body)["error"]
            assert form in message, (bad, message)
            assert stored_state(db, api, evaluations) == before, (bad, form)


def test_bad_key_after_many_good_ones_stores_nothing(
    db: Database, api: Api, evaluations: str
) -> None:
    before = stored_state(db, api, evaluations)
    keys = [f"member-{i}" for i in range(5000)] + ["bad\n"]
    post(api, evaluations, 400, evaluated_at=day(1), members=keys)
    assert stored_state(db, api, evaluations) == before
    assert audience_of(api, evaluations)["current_size"] is None


# --- list --------------------------------------------------------------------------------


def test_list_is_newest_first_with_since_and_until(api: Api, evaluations: str) -> None:
    ids = {n: post(api, evaluations, evaluated_at=day(n), size=n)["id"] for n in (3, 1, 4, 2)}

    def listed(**params: str) -> list[str]:
        response = api.get(evaluations, params=params)
        assert response.status_code == 200, response.text
        return [e["id"] for e in response.json()["data"]]

    assert listed() == [ids[4], ids[3], ids[2], ids[1]]
    assert listed(since=day(2)) == [ids[4], ids[3], ids[2]]
    assert listed(until=day(3)) == [ids[2], ids[1]]
    assert listed(since=day(2), until=day(4)) == [ids[3], ids[2]]
    assert listed(page_size="1", page="2") == [ids[3]]
    body = api.get(evaluations).json()
    assert body["pagination"] == {"page": 1, "page_size": 20, "total": 4}
    assert set(body["data"][0]) >= FIELDS
    for param in ("since", "until"):
        response = api.get(evaluations, params={param: "2024-01-02T00:00:00"})
        assert response.status_code == 400
        assert param in response.json()["error"]


def test_evaluations_of_one_audience_are_not_listed_under_another(api: Api) -> None:
    first = f"/audiences/{api.create('audiences', name='One')['id']}/evaluations"
    second = f"/audiences/{api.create('audiences', name='Two')['id']}/evaluations"
    post(api, first, evaluated_at=day(1), members=["a", "b"])
    post(api, second, evaluated_at=day(1), members=["a"])
    assert api.get(first).json()["data"][0]["size"] == 2
    assert api.get(second).json()["data"][0]["size"] == 1
    later = post(api, second, evaluated_at=day(2), added=["c"])
    assert later["size"] == 2 and audience_of(api, first)["current_size"] == 2


def test_same_second_evaluations_list_the_latest_reported_first(api: Api, evaluations: str) -> None:
    first = post(api, evaluations, evaluated_at=day(1), size=1)
    second = post(api, evaluations, evaluated_at=day(1), size=2)
    assert [e["id"] for e in api.get(evaluations).json()["data"]] == [second["id"], first["id"]]
    assert audience_of(api, evaluations)["current_size"] == 2
