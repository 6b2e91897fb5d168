"""Freshness targets over a window (contract 8.4) for many syncs at once: each sync's
completion times, read as one range of an index (migration 0013), and from them its fresh
time, its stale stretches and whether it is stale now, in one vectorised pass over every
sync's completions (a Python loop over them cost ~45 ms at 55,000 completions)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy.orm import Session

from insights.db import is_sqlite
from insights.models import Sync, SyncRun
from insights.reports.run_series import Ints
from insights.reports.sql import epoch_seconds, int_list, parse_int_lists, per_sync

# Before any moment: the stale stretch before a sync's first completion has no start.
NEVER = np.iinfo(np.int64).min


@dataclass(frozen=True)
class Freshness:
    """A freshness target over a window: the seconds it was met, the separate stale
    stretches that overlap the window, and whether the last of them runs to its end."""

    fresh_seconds: int
    breaches: int
    stale_now: bool


def completion_times(
    session: Session,
    workspace_id: uuid.UUID,
    targets: dict[uuid.UUID, int],
    start: datetime,
    now: datetime,
) -> dict[uuid.UUID, Ints]:
    """Per sync of `targets` (sync ID -> freshness target, seconds), the completion times
    (epoch seconds, in the order read: ascending in practice) that can make part of the
    window fresh, from the window start less the longest target up to now. Syncs without
    any are absent."""
    if not targets:
        return {}
    earliest = start - timedelta(seconds=max(targets.values()))
    scanned = (
        SyncRun.workspace_id == Sync.workspace_id,
        SyncRun.sync_id == Sync.id,
        SyncRun.status == "completed",
        SyncRun.completed_at >= earliest,
        SyncRun.completed_at <= now,
    )
    # Unordered: both databases list a sync's group in its index range's order, time order,
    # and freshness() checks that (an ORDER BY cost PostgreSQL a sort per sync, +15 ms).
    columns = [int_list(epoch_seconds(SyncRun.completed_at))]
    query = per_sync(is_sqlite(session), columns, scanned, SyncRun, workspace_id, list(targets))
    found = [row for row in session.execute(query).all() if row[1] is not None]
    lists = parse_int_lists([row[1] for row in found])
    return {row[0]: values for row, values in zip(found, lists, strict=True)}


def freshness(
    completions: Sequence[Ints], targets: Sequence[int], start: int, end: int
) -> list[Freshness]:
    """Per sync, its completions (epoch seconds, any order, none after `end`) against its
    target (seconds) over the window [start, end].

    At t a sync is fresh when a completion lies in [t - target, t]: its fresh time is the
    union of [c, c + target] over its completions c. Sorted, a completion more than the
    target after the one before it opens a new fresh stretch; the stale stretches are the
    gaps before each, and after the last one if it ends before `end`."""
    counts = np.array([len(values) for values in completions], dtype=np.int64)
    syncs = len(counts)
    owner = np.repeat(np.arange(syncs), counts)
    moments = np.concatenate(completions) if syncs else np.empty(0, np.int64)
    if not _ascending(moments, owner):
        order = np.lexsort((moments, owner))  # by sync, then by time
        moments, owner = moments[order], owner[order]
    target = np.asarray(targets, dtype=np.int64)[owner]
    opens = np.ones(len(moments), dtype=bool)
    opens[1:] = (owner[1:] != owner[:-1]) | (moments[1:] > moments[:-1] + target[:-1])
    firsts = np.flatnonzero(opens)
    lasts = np.append(firsts[1:] - 1, len(moments) - 1)[: len(firsts)]
    begins, finishes, of = moments[firsts], moments[lasts] + target[lasts], owner[firsts]
    first_of_sync = np.ones(len(of), dtype=bool)
    first_of_sync[1:] = of[1:] != of[:-1]
    before = np.where(first_of_sync, NEVER, np.roll(finishes, 1))
    breached = (before < end) & (begins > start)  # the gap before it overlaps the window
    pieces = np.maximum(0, np.minimum(finishes, end) - np.maximum(begins, start))
    fresh = np.zeros(syncs, dtype=np.int64)
    if len(pieces):
        fresh[of[first_of_sync]] = np.add.reduceat(pieces, np.flatnonzero(first_of_sync))
    covered = np.full(syncs, NEVER, dtype=np.int64)
    last_of_sync = np.append(first_of_sync[1:], True)[: len(of)]
    covered[of[last_of_sync]] = finishes[last_of_sync]
    stale_now = covered < end
    breaches = np.bincount(of[breached], minlength=syncs) + stale_now
    return [
        Freshness(int(seconds), int(count), bool(stale))
        for seconds, count, stale in zip(fresh, breaches, stale_now, strict=True)
    ]


def _ascending(moments: Ints, owner: Ints) -> bool:
    """Whether each sync's moments ascend (as read: in the index's order), so that the
    sort, most of the pass's time, can be skipped."""
    return bool(np.all((moments[1:] >= moments[:-1]) | (owner[1:] != owner[:-1])))
