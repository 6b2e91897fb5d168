"""sync-duration and sync-throughput computed as columns of every sync (reports.day_columns):
their JSON, byte for byte, is the response model's dump of the contract oracle's answer,
with rows past int64 and rates past 2**53, syncs without runs or with only instant ones, and
windows that start on a local midnight or inside a day; and the column helpers keep exact
values where int64 or a float could not."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from sqlalchemy.orm import Session

from insights.reports import day_columns, run_series
from insights.reports.day_columns import DayColumns
from insights.reports.sync_duration import SyncDuration, SyncDurationResponse, sync_duration
from insights.reports.sync_throughput import Rate, SyncThroughputResponse, sync_throughput
from insights.schemas.base import built
from insights.web.reports import json_body
from tests.support import oracle
from tests.support.databases import Database
from tests.support.factories import make_sync, make_sync_run, make_workspace
from tests.support.oracle import Run, utc

ZONE = "America/New_York"
BIG = 2**63 - 1
NOWS = [
    utc(2024, 3, 14, 15, 30, 0),  # the window's first local day is cut
    utc(2024, 3, 12, 5, 0, 0),  # 7 days before: 5 March 00:00 EST, a whole first day
    utc(2024, 3, 11, 4, 59, 59),  # a second before a local midnight
]
Histories = dict[uuid.UUID, tuple[str, list[Run]]]
Entry = Callable[[list[Run], datetime, int, ZoneInfo], dict[str, object]]


def _history(rng: random.Random, kind: str, first_order: int) -> list[Run]:
    if kind == "none":
        return []
    runs = []
    for index in range(rng.randrange(20, 60)):
        started = utc(2024, 3, 14, 15, 30, 0) - timedelta(seconds=rng.randrange(9 * 86400))
        seconds = {
            "instant": 0,
            "huge rows": rng.choice([1, 2, 3600]),
            "mixed": rng.choice([0, 0, 1, 59, 3600, 86400]),
            "long": rng.choice([0, 10**9, 3 * 10**9]),
        }[kind]
        rows = BIG - rng.randrange(3) if kind == "huge rows" else rng.choice([0, 7, 2**40])
        status = rng.choice(["completed"] * 5 + ["failed"])
        completed = started + timedelta(seconds=seconds)
        runs.append(Run(started, status, completed, rows=rows, order=first_order + index))
    return runs


@pytest.fixture
def histories(db: Database) -> tuple[uuid.UUID, Histories]:
    rng = random.Random(13_3)
    found: Histories = {}
    with db.session() as session, session.begin():
        workspace_id = make_workspace(session, timezone=ZONE).id
        kinds = ["none", "instant", "huge rows", "mixed", "long", "mixed"]
        for number, kind in enumerate(kinds):
            name = f"S{number} {kind}"
            sync_id = make_sync(session, workspace_id, name=name).id
            runs = _history(rng, kind, number * 1000)
            _store(session, workspace_id, sync_id, runs)
            found[sync_id] = (name, runs)
    return workspace_id, found


def _store(session: Session, workspace_id: uuid.UUID, sync_id: uuid.UUID, runs: list[Run]) -> None:
    for run in runs:
        make_sync_run(
            session,
            workspace_id,
            sync_id,
            id=uuid.UUID(int=run.order),
            started_at=run.started_at,
            status=run.status,
            completed_at=run.completed_at,
            rows_created=run.rows,
        )


@pytest.mark.parametrize("now", NOWS)
@pytest.mark.parametrize("days", [1, 7])
def test_answers_are_the_oracles_dumped_by_the_response_models(
    db: Database, histories: tuple[uuid.UUID, Histories], now: datetime, days: int
) -> None:
    workspace_id, found = histories
    zone = ZoneInfo(ZONE)
    ordered = sorted(found.items(), key=lambda item: (item[1][0], item[0]))

    def expected(entry: Entry) -> list[dict[str, object]]:
        return [
            {"sync_id": sync_id, "sync_name": name, **entry(runs, now, days, zone)}
            for sync_id, (name, runs) in ordered
        ]

    with db.read() as session:
        duration = sync_duration(session, workspace_id, days=days, sync_ids=None, now=now)
        throughput = sync_throughput(session, workspace_id, days=days, sync_ids=None, now=now)
    wanted_duration = SyncDurationResponse.model_validate(
        {"syncs": expected(oracle.duration_entry)}
    )
    wanted_throughput = SyncThroughputResponse.model_validate(
        {"syncs": expected(oracle.throughput_entry)}
    )
    assert duration.model_dump_json(by_alias=True) == wanted_duration.model_dump_json(by_alias=True)
    assert throughput.model_dump_json(by_alias=True) == wanted_throughput.model_dump_json(
        by_alias=True
    )


def test_days_out_of_order_are_put_in_order_within_each_sync() -> None:
    lists = {"a": ["3,1,2", "30,10,20"], "b": ["5", "50"]}
    found = day_columns.parsed(lists, ["day", "runs"], with_durations=False)
    assert found.keys == ["a", "b"]
    assert found.columns["day"].tolist() == [1, 2, 3, 5]
    assert found.columns["runs"].tolist() == [10, 20, 30, 50]
    assert found.bounds.tolist() == [0, 3, 4]


def test_the_cut_day_comes_first_and_a_sync_of_either_side_is_kept() -> None:
    names = ["day", "runs", "duration_sum", "duration_max", "durations"]
    later = day_columns.parsed(
        {"a": ["11,12", "1,2", "5,7", "5,4", "5,3,4"], "b": ["12", "1", "9", "9", "9"]},
        names,
        with_durations=True,
    )
    cut = day_columns.cut_day({"c": ("0,6", 0, 0), "a": ("2,8,0", 0, 0)}, 10, names)
    joined = day_columns.prepended(cut, later)
    assert joined.keys == ["a", "b", "c"]
    assert joined.bounds.tolist() == [0, 3, 4, 5]
    assert joined.columns["day"].tolist() == [10, 11, 12, 12, 10]
    assert joined.columns["runs"].tolist() == [3, 1, 2, 1, 2]
    assert joined.columns["duration_sum"].tolist() == [10, 5, 7, 9, 6]
    assert joined.columns["duration_max"].tolist() == [8, 5, 4, 9, 6]
    assert joined.durations is not None
    assert [sorted(values.tolist()) for values in joined.durations] == [
        [0, 2, 3, 4, 5, 8],
        [9],
        [0, 6],
    ]


def test_rows_past_int64_stay_exact() -> None:
    highs = np.array([2**40, 1, 2**31 - 1], np.int64)
    lows = np.array([5, 2**33, 2**62], np.int64)
    exact = [(h << 32) + low for h, low in zip(highs.tolist(), lows.tolist(), strict=True)]
    assert day_columns.joined_rows(highs, lows) is None
    assert day_columns.exact_rows({"timed_rows_high": highs, "timed_rows_low": lows}) == exact
    small = highs[1:2], lows[1:2]
    assert day_columns.joined_rows(*small) is not None
    bounds = np.array([0, 2, 3], np.int64)
    values = np.array([BIG, BIG, 4], np.int64)
    assert run_series.segment_sums(values, bounds) == [2 * BIG, 4]
    assert run_series.segment_sums(np.array([1, 2, 3], np.int64), bounds) == [3, 3]


def test_whole_series_of_lists_are_columns_with_rows_halved() -> None:
    per_key = {"a": [[1, 2], [1, 1], [2**70, 5]], "b": [[3], [4], [0]]}
    found = DayColumns.of_lists(per_key, ["day", "runs", "timed_rows"], None)
    assert found.bounds.tolist() == [0, 2, 3]
    assert day_columns.exact_rows(found.columns) == [2**70, 5, 0]


def test_a_rate_against_its_baseline_is_the_exact_comparison() -> None:
    rng = random.Random(8_3)
    for _ in range(3000):
        rows, seconds = rng.choice([0, 1, 7, 2**70]) + rng.randrange(-3, 50), rng.randrange(1, 90)
        base_rows = rng.choice([1, 2, 13, 2**66]) * rng.choice([1, -1])
        base_seconds = rng.randrange(1, 90) * rng.choice([1, 1, -1])
        current, baseline = Fraction(rows, seconds), Fraction(base_rows, base_seconds)
        change, degraded = Rate(rows, seconds).against(Rate(base_rows, base_seconds))
        assert change == oracle.half_up((current - baseline) / baseline * 100, 1)
        assert degraded == (current < baseline / 2)


def test_a_served_answer_is_the_response_models_dump_byte_for_byte() -> None:
    rng = random.Random(13_4)
    names = ["Customers to Salesforce", 'quote " and \\ back', "naïve 東京 \U0001f680", "\x00\x1f"]
    entries: list[dict[str, object]] = [
        {
            "sync_id": uuid.UUID(int=rng.getrandbits(128)),
            "sync_name": rng.choice(names),
            "runs": rng.choice([0, 3, BIG]),
            "rows_synced": rng.choice([0, 2**70]),
            "avg_rows_per_second": rng.choice([None, 0.1, 1e16, 2.5e-7, 12345678.9]),
            "current_rows_per_second": None,
            "baseline_rows_per_second": 30.8,
            "change_percent": rng.choice([None, -61.6]),
            "degraded": rng.random() < 0.5,
            "data_points": [],
        }
        for _ in range(20)
    ]
    answer = SyncThroughputResponse.model_validate({"syncs": entries})
    assert json_body(answer) == answer.model_dump_json(by_alias=True).encode()


def test_dates_of_days_far_apart_are_each_made_once() -> None:
    days = np.array([19_000, 2_900_000, 19_000, 19_001], np.int64)  # 2_900_000: year 9909
    found = DayColumns(["a"], np.array([0, 4], np.int64), {"day": days}, None)
    dates = found.dates()
    assert [d.isoformat() for d in dates] == [
        "2022-01-08",
        "9909-12-07",
        "2022-01-08",
        "2022-01-09",
    ]
    assert dates[0] is dates[2]


def test_an_entry_built_directly_is_model_constructs() -> None:
    fields: dict[str, object] = {
        "sync_id": uuid.UUID(int=7),
        "sync_name": "S",
        "runs": 2,
        "avg_duration_seconds": 3,
        "p50_duration_seconds": None,
        "p95_duration_seconds": 4,
        "max_duration_seconds": 5,
        "data_points": [],
    }
    ours = built(SyncDuration, dict(fields))
    theirs = SyncDuration.model_construct(**fields)  # type: ignore[arg-type]
    assert ours == theirs
    assert ours.model_fields_set == theirs.model_fields_set
    assert ours.model_dump_json() == theirs.model_dump_json()
    assert ours.__pydantic_extra__ is theirs.__pydantic_extra__
    assert ours.__pydantic_private__ == theirs.__pydantic_private__
