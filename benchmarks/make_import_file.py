"""Writes an NDJSON import file: a workspace's resources, then a history of runs and daily
audience sizes (default: a year of runs of 300 syncs, about a million lines).

    python -m benchmarks.make_import_file /tmp/year.ndjson [--syncs 300] [--runs 1000000]
"""

from __future__ import annotations

import argparse
import heapq
import json
import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import chain
from pathlib import Path
from typing import Any

from insights.demo.runs import GENERIC_ERRORS, RunPlan, epoch, history_rows
from insights.types import format_timestamp

ZERO = uuid.UUID(int=0)


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def resources(rng: random.Random, syncs: int, audiences: int) -> Iterator[dict[str, Any]]:
    """Sources, models, destinations, audiences, syncs (a fifth of them audience-syncs) and
    loaders, parents first."""
    source = {"type": "source", "id": _uuid(rng), "name": "Warehouse", "source_type": "snowflake"}
    yield source
    models = [
        {"type": "model", "id": _uuid(rng), "name": f"Model {i}", "source_id": source["id"]}
        for i in range(10)
    ]
    dests = [
        {
            "type": "destination",
            "id": _uuid(rng),
            "name": f"Destination {i}",
            "destination_type": "google_ads",
        }
        for i in range(10)
    ]
    auds = [
        {"type": "audience", "id": _uuid(rng), "name": f"Audience {i}"} for i in range(audiences)
    ]
    yield from models + dests + auds
    for i in range(syncs):
        dest = dests[i % len(dests)]["id"]
        if i % 5 == 4:
            yield {
                "type": "audience_sync",
                "id": _uuid(rng),
                "name": f"Audience sync {i}",
                "audience_id": auds[i % len(auds)]["id"],
                "destination_id": dest,
            }
        else:
            yield {
                "type": "sync",
                "id": _uuid(rng),
                "name": f"Sync {i}",
                "model_id": models[i % len(models)]["id"],
                "destination_id": dest,
                "schedule": "0 */3 * * *",
            }
    yield {
        "type": "loader",
        "id": _uuid(rng),
        "name": "Events",
        "loader_type": "s3",
        "source_id": source["id"],
    }


def runs(
    rng: random.Random, parents: list[dict[str, Any]], total: int, days: int, now: datetime
) -> Iterator[dict[str, Any]]:
    """About `total` runs spread evenly over the parents and the last `days` days, in the
    order of their start, as a platform would export them."""
    interval = max(60, int(days * 86400 * len(parents) / total))
    record_types = {"sync": "sync_run", "audience_sync": "audience_sync_run"}
    types = {uuid.UUID(p["id"]): record_types.get(p["type"], "loader_run") for p in parents}
    streams = []
    for column, kinds in (("sync_id", ("sync", "audience_sync")), ("loader_id", ("loader",))):
        plans = [
            _plan(parent, interval, days, now) for parent in parents if parent["type"] in kinds
        ]
        streams.append(_records(history_rows(plans, rng, ZERO, epoch(now), column), column, types))
    return heapq.merge(*streams, key=lambda record: record["started_at"])


def _records(
    rows: Iterator[dict[str, Any]], column: str, types: dict[uuid.UUID, str]
) -> Iterator[dict[str, Any]]:
    for row in rows:
        yield _run_record(types[row[column]], column, row)


def _plan(parent: dict[str, Any], interval: int, days: int, now: datetime) -> RunPlan:
    return RunPlan(
        uuid.UUID(parent["id"]),
        interval,
        epoch(now - timedelta(days=days)),
        epoch(now),
        median_seconds=120,
        rows_median=5000,
        fail_start=0.01,
        recover=0.4,
        errors=GENERIC_ERRORS,
    )


def _run_record(record_type: str, column: str, row: dict[str, Any]) -> dict[str, Any]:
    for name in ("workspace_id", "created_at", "updated_at"):
        del row[name]
    record = {"type": record_type, **row, "id": str(row["id"]), column: str(row[column])}
    record["started_at"] = format_timestamp(row["started_at"])
    if row["completed_at"] is None:
        del record["completed_at"]
    else:
        record["completed_at"] = format_timestamp(row["completed_at"])
    if row["error"] is None:
        del record["error"]
    return record


def sizes(audiences: list[dict[str, Any]], days: int, now: datetime) -> Iterator[dict[str, Any]]:
    """One size-only evaluation a day per audience, plus today's member list of the first."""
    for index, audience in enumerate(audiences):
        for day in range(days, 0, -1):
            moment = (now - timedelta(days=day)).replace(hour=6, minute=0, second=0)
            yield {
                "type": "evaluation",
                "audience_id": audience["id"],
                "evaluated_at": format_timestamp(moment),
                "size": 1000 * (index + 1) + day,
            }
    members = [f"cust_{i:09d}" for i in range(0, 20_000, 3)]
    yield {
        "type": "evaluation",
        "audience_id": audiences[0]["id"],
        "evaluated_at": format_timestamp(now.replace(microsecond=0)),
        "members": members,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--syncs", type=int, default=300)
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--audiences", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng, now = random.Random(args.seed), datetime.now(UTC).replace(microsecond=0)
    records = list(resources(rng, args.syncs, args.audiences))
    parents = [r for r in records if r["type"] in ("sync", "audience_sync", "loader")]
    audiences = [r for r in records if r["type"] == "audience"]
    lines = 0
    with args.out.open("w") as out:
        history = runs(rng, parents, args.runs, args.days, now)
        for record in chain(records, history, sizes(audiences, args.days, now)):
            out.write(json.dumps(record, separators=(",", ":")) + "\n")
            lines += 1
    print(f"{lines:,} lines, {args.out.stat().st_size / 1e6:.0f} MB: {args.out}")


if __name__ == "__main__":
    main()
