"""Every write route under parallel requests, on both databases: the service served for real,
N identical or conflicting requests released together, then the stored state checked against
what some sequential order of the accepted requests would have left (no lost or doubled
change, no invalid row), and never a 5xx."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import httpx2
import pytest

from tests.support.api import Api
from tests.support.databases import Database
from tests.support.served import Served, in_parallel, new_id, no_server_errors, served_app, statuses
from tests.support.stored import dangling_member_ids, invalid_runs, member_keys

N = 10
ROUNDS = 4  # races that a fix must win every time are tried this many times
T0 = datetime(2024, 1, 15, 10, 0, tzinfo=UTC)
START = "2024-01-15T10:00:00Z"
END = "2024-01-15T10:05:00Z"


def at(seconds: int) -> str:
    return (T0 + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def served(db: Database) -> Iterator[Served]:
    """The service, with room for every upload of a test at once (the per-workspace bound
    has tests of its own)."""
    with served_app(db, max_uploads_per_workspace=N) as app:
        yield app


@pytest.fixture
def ws(db: Database, served: Served) -> Api:
    return served.workspace(db)


def fire(
    served: Served, ws: Api, calls: list[Callable[[Api], httpx2.Response]]
) -> list[httpx2.Response]:
    """Each call on a client of its own, all at once; fails on any 5xx."""
    apis = [served.api(ws) for _ in calls]
    responses = in_parallel([partial(call, api) for call, api in zip(calls, apis, strict=True)])
    no_server_errors(responses)
    return responses


def post(path: str, **body: Any) -> Callable[[Api], httpx2.Response]:
    return lambda api: api.post(path, json=body)


def put(path: str, **body: Any) -> Callable[[Api], httpx2.Response]:
    return lambda api: api.put(path, json=body)


def delete(path: str) -> Callable[[Api], httpx2.Response]:
    return lambda api: api.delete(path)


def upload(path: str, keys: list[str], evaluated_at: str) -> Callable[[Api], httpx2.Response]:
    content = "".join(f"{key}\n" for key in keys).encode()
    headers = {"Content-Type": "text/plain"}
    params = {"evaluated_at": evaluated_at}
    return lambda api: api.put(path, content=content, headers=headers, params=params)


# --- the objects a scenario needs --------------------------------------------------------


def parents(ws: Api) -> dict[str, str]:
    """One source, model, destination and audience: what every kind may refer to."""
    ids = {"sources": ws.create("sources", name="S", source_type="snowflake")["id"]}
    ids["models"] = ws.create("models", name="M", source_id=ids["sources"])["id"]
    ids["destinations"] = ws.create("destinations", name="D", destination_type="x")["id"]
    ids["audiences"] = ws.create("audiences", name="A")["id"]
    return ids


def create_body(kind: str, ids: dict[str, str], **fields: Any) -> dict[str, Any]:
    """A create body of `kind` naming the objects of `ids`."""
    extra: dict[str, dict[str, Any]] = {
        "sources": {"source_type": "snowflake"},
        "models": {"source_id": ids["sources"]},
        "destinations": {"destination_type": "google_ads"},
        "audiences": {"parent_model_id": ids["models"]},
        "syncs": {"model_id": ids["models"], "destination_id": ids["destinations"]},
        "audience-syncs": {
            "audience_id": ids["audiences"],
            "destination_id": ids["destinations"],
        },
        "loaders": {"loader_type": "s3", "source_id": ids["sources"]},
    }
    return {"name": "N", **extra[kind], **fields}


def run_parent(ws: Api, kind: str, ids: dict[str, str]) -> str:
    return str(ws.create(kind, **create_body(kind, ids, name=f"{kind} parent"))["id"])


KINDS = ["sources", "models", "destinations", "audiences", "syncs", "audience-syncs", "loaders"]
RUN_PARENTS = ["syncs", "audience-syncs", "loaders"]


# --- member lists (issue item 1) ---------------------------------------------------------


def test_parallel_additions_to_one_audience_are_all_kept(
    db: Database, served: Served, ws: Api
) -> None:
    audience = ws.create("audiences", name="A")["id"]
    path = f"/audiences/{audience}/evaluations"
    assert ws.post(path, json={"evaluated_at": at(0), "members": ["base"]}).status_code == 201
    calls = [post(path, evaluated_at=at(1 + i), added=[f"k{i}"]) for i in range(N)]
    responses = fire(served, ws, calls)
    assert set(statuses(responses)) <= {201, 409}
    accepted = [i for i, r in enumerate(responses) if r.status_code == 201]
    assert accepted
    # In any sequential order each accepted addition finds the ones before it.
    assert sorted(responses[i].json()["size"] for i in accepted) == [
        2 + n for n in range(len(accepted))
    ]
    assert member_keys(db, ws.workspace_id, audience) == {"base"} | {f"k{i}" for i in accepted}


def test_parallel_member_lists_leave_the_newest_accepted_one(
    db: Database, served: Served, ws: Api
) -> None:
    audience = ws.create("audiences", name="A")["id"]
    path = f"/audiences/{audience}/evaluations"
    lists = [[f"list{i}-{j}" for j in range(5)] + ["shared"] for i in range(N)]
    calls = [post(path, evaluated_at=at(i), members=keys) for i, keys in enumerate(lists)]
    responses = fire(served, ws, calls)
    assert set(statuses(responses)) <= {201, 409}
    accepted = [i for i, r in enumerate(responses) if r.status_code == 201]
    assert member_keys(db, ws.workspace_id, audience) == set(lists[max(accepted)])
    stored = ws.get(path, params={"page_size": 100}).json()["data"]
    assert sorted(e["evaluated_at"] for e in stored) == [at(i) for i in accepted]


def test_uploads_and_changes_in_one_workspace_lose_nothing(
    db: Database, served: Served, ws: Api
) -> None:
    """Uploads replace B's keys (so garbage collection runs) while changes add to A."""
    a, b = (ws.create("audiences", name=name)["id"] for name in ("A", "B"))
    changes, members = f"/audiences/{a}/evaluations", f"/audiences/{b}/members"
    assert ws.post(changes, json={"evaluated_at": at(0), "members": ["a0"]}).status_code == 201
    assert upload(members, [f"old{j}" for j in range(20)], at(0))(ws).status_code == 201
    lists = [[f"b{i}-{j}" for j in range(20)] for i in range(N // 2)]
    calls = [post(changes, evaluated_at=at(1 + i), added=[f"a{1 + i}"]) for i in range(N // 2)]
    calls += [upload(members, keys, at(1 + i)) for i, keys in enumerate(lists)]
    responses = fire(served, ws, calls)
    assert set(statuses(responses)) <= {201, 409}
    added = [f"a{1 + i}" for i, r in enumerate(responses[: N // 2]) if r.status_code == 201]
    uploaded = [i for i, r in enumerate(responses[N // 2 :]) if r.status_code == 201]
    assert member_keys(db, ws.workspace_id, a) == {"a0", *added}
    assert member_keys(db, ws.workspace_id, b) == set(lists[max(uploaded)])
    assert dangling_member_ids(db, ws.workspace_id) == set()


def test_parallel_size_reports_are_all_stored(served: Served, ws: Api) -> None:
    path = f"/audiences/{ws.create('audiences', name='A')['id']}/evaluations"
    responses = fire(served, ws, [post(path, evaluated_at=at(i), size=i) for i in range(N)])
    assert statuses(responses) == [201] * N
    assert ws.get(path).json()["pagination"]["total"] == N


# --- creates with a client-chosen id (item 2) ---------------------------------------------


def _check_one_winner(
    bodies: list[dict[str, Any]], responses: list[httpx2.Response]
) -> dict[str, Any]:
    """One 201; every request with the winner's content 200, every other one 409."""
    created = [r for r in responses if r.status_code == 201]
    assert len(created) == 1, statuses(responses)
    winner: dict[str, Any] = created[0].json()
    for body, response in zip(bodies, responses, strict=True):
        same = all(winner[field] == value for field, value in body.items())
        assert response.status_code in ((200, 201) if same else (409,)), response.text
    return winner


@pytest.mark.parametrize("kind", KINDS)
def test_parallel_creates_with_one_id_give_one_201_then_200_or_409(
    served: Served, ws: Api, kind: str
) -> None:
    ids, rid = parents(ws), new_id()
    bodies = [create_body(kind, ids, id=rid, name="One" if i % 3 else "Two") for i in range(N)]
    responses = fire(served, ws, [post(f"/{kind}", **body) for body in bodies])
    winner = _check_one_winner(bodies, responses)
    assert ws.get(f"/{kind}/{rid}").json()["name"] == winner["name"]


@pytest.mark.parametrize("parent", RUN_PARENTS)
def test_parallel_run_reports_with_one_id_give_one_201_then_200_or_409(
    served: Served, ws: Api, parent: str
) -> None:
    runs, rid = f"/{parent}/{run_parent(ws, parent, parents(ws))}/runs", new_id()
    bodies = [
        {"id": rid, "status": "running", "started_at": START, "error": None if i % 3 else "x"}
        for i in range(N)
    ]
    responses = fire(served, ws, [post(runs, **body) for body in bodies])
    winner = _check_one_winner(bodies, responses)
    assert ws.get(f"{runs}/{rid}").json()["error"] == winner["error"]
    assert ws.get(runs).json()["pagination"]["total"] == 1


# --- updates and deletes ----------------------------------------------------------------


def test_parallel_updates_of_different_fields_keep_every_change(served: Served, ws: Api) -> None:
    audience = f"/audiences/{ws.create('audiences', name='A')['id']}"
    changes: list[dict[str, Any]] = [
        {"name": "Renamed"},
        {"status": "inactive"},
        {"description": "Described"},
        {"estimated_size": 42},
        {"status_error": "noted"},
    ]
    responses = fire(served, ws, [put(audience, **change) for change in changes])
    assert statuses(responses) == [200] * len(changes)
    stored = ws.get(audience).json()
    assert all(stored[k] == v for change in changes for k, v in change.items())


@pytest.mark.parametrize("kind", KINDS)
def test_parallel_deletes_give_one_204_and_404s(served: Served, ws: Api, kind: str) -> None:
    path = f"/{kind}/{ws.create(kind, **create_body(kind, parents(ws)))['id']}"
    responses = fire(served, ws, [delete(path)] * 5)
    assert statuses(responses) == [204, 404, 404, 404, 404]
    assert ws.get(path).status_code == 404


def test_updates_racing_a_delete_are_applied_before_it_or_404(served: Served, ws: Api) -> None:
    for _ in range(ROUNDS):
        path = f"/destinations/{ws.create('destinations', name='D', destination_type='x')['id']}"
        calls = [delete(path)] + [put(path, name=f"D{i}") for i in range(4)]
        responses = fire(served, ws, calls)
        assert responses[0].status_code == 204
        assert {r.status_code for r in responses[1:]} <= {200, 404}
        assert ws.get(path).status_code == 404


# --- a delete racing what refers to it (item 4) ----------------------------------------------

REFERENCES = [
    ("sources", "models", "source_id"),
    ("sources", "loaders", "source_id"),
    ("models", "audiences", "parent_model_id"),
    ("destinations", "syncs", "destination_id"),
    ("audiences", "audience-syncs", "audience_id"),
]


@pytest.mark.parametrize(("target", "child", "field"), REFERENCES)
def test_a_delete_racing_creates_that_refer_to_it_wins_or_loses_whole(
    served: Served, ws: Api, target: str, child: str, field: str
) -> None:
    ids = parents(ws)
    for _ in range(ROUNDS):
        target_id = ws.create(target, **create_body(target, ids, name="Target"))["id"]
        body = create_body(child, {**ids, target: target_id})
        calls = [delete(f"/{target}/{target_id}")] + [post(f"/{child}", **body)] * 4
        responses = fire(served, ws, calls)
        created = [r.json()["id"] for r in responses[1:] if r.status_code == 201]
        if responses[0].status_code == 204:  # it went first: every create names nothing
            assert statuses(responses[1:]) == [400] * 4
        else:
            assert responses[0].status_code == 409 and created
            assert {r.status_code for r in responses[1:]} <= {201, 400}
        for child_id in created:
            assert ws.get(f"/{child}/{child_id}").json()[field] == target_id


@pytest.mark.parametrize("parent", RUN_PARENTS)
def test_run_reports_racing_the_delete_of_their_parent_are_kept_or_404(
    db: Database, served: Served, ws: Api, parent: str
) -> None:
    ids = parents(ws)
    for _ in range(ROUNDS):
        parent_id = run_parent(ws, parent, ids)
        runs = f"/{parent}/{parent_id}/runs"
        calls = [delete(f"/{parent}/{parent_id}")]
        calls += [post(runs, status="running", started_at=START)] * 4
        responses = fire(served, ws, calls)
        assert responses[0].status_code == 204
        assert {r.status_code for r in responses[1:]} <= {201, 404}
        assert ws.get(runs).status_code == 404  # its runs went with it
    assert invalid_runs(db) == []


def test_evaluations_racing_the_delete_of_their_audience_are_kept_or_404(
    db: Database, served: Served, ws: Api
) -> None:
    for _ in range(ROUNDS):
        audience = ws.create("audiences", name="A")["id"]
        path = f"/audiences/{audience}/evaluations"
        calls = [delete(f"/audiences/{audience}")]
        calls += [post(path, evaluated_at=at(i), members=[f"m{i}"]) for i in range(2)]
        calls += [post(path, evaluated_at=at(i), size=i) for i in range(2)]
        responses = fire(served, ws, calls)
        assert responses[0].status_code == 204
        assert {r.status_code for r in responses[1:]} <= {201, 404, 409}
        assert member_keys(db, ws.workspace_id, audience) is None
    assert dangling_member_ids(db, ws.workspace_id) == set()


# --- run status (item 3) --------------------------------------------------------------


@pytest.mark.parametrize("parent", RUN_PARENTS)
def test_a_finished_run_never_goes_back_to_running(
    db: Database, served: Served, ws: Api, parent: str
) -> None:
    """A queued run told to finish and to start at once: in either order it ends finished
    (finished then running is a 409)."""
    runs = f"/{parent}/{run_parent(ws, parent, parents(ws))}/runs"
    for _ in range(ROUNDS):
        queued = [
            ws.post(runs, json={"status": "queued", "started_at": START}).json()["id"]
            for _ in range(3)
        ]
        calls = []
        for n, run in enumerate(queued):
            finish = put(f"{runs}/{run}", status="completed", completed_at=END)
            start = put(f"{runs}/{run}", status="running")
            calls += [finish, start] if n % 2 else [start, finish]
        responses = fire(served, ws, calls)
        assert {r.status_code for r in responses} <= {200, 409}
        for run in queued:
            stored = ws.get(f"{runs}/{run}").json()
            assert (stored["status"], stored["completed_at"]) == ("completed", END)
    assert invalid_runs(db) == []


def test_two_updates_that_are_valid_alone_but_not_together_are_never_both_applied(
    db: Database, served: Served, ws: Api
) -> None:
    runs = f"/syncs/{run_parent(ws, 'syncs', parents(ws))}/runs"
    for _ in range(ROUNDS * 2):
        run = ws.post(runs, json={"status": "running", "started_at": START}).json()["id"]
        finish = put(f"{runs}/{run}", status="completed", completed_at=at(60))
        later_start = put(f"{runs}/{run}", started_at=at(120))
        responses = fire(served, ws, [finish, later_start])
        assert statuses(responses) == [200, 400]
    assert invalid_runs(db) == []


# --- the workspace and its keys ---------------------------------------------------------


def test_parallel_key_and_workspace_changes_are_all_applied(served: Served, ws: Api) -> None:
    calls = [post("/api-keys", name=f"k{i}", scope="read") for i in range(5)]
    calls += [put("", name="Renamed"), put("", timezone="Europe/Paris")]
    responses = fire(served, ws, calls)
    assert statuses(responses) == [200, 200, 201, 201, 201, 201, 201]
    keys = ws.get("/api-keys").json()["data"]
    assert len(keys) == 6
    workspace = ws.get("").json()
    assert (workspace["name"], workspace["timezone"]) == ("Renamed", "Europe/Paris")
    revoked = keys[0]["id"]
    responses = fire(served, ws, [delete(f"/api-keys/{revoked}")] * 4)
    assert statuses(responses) == [204] * 4
