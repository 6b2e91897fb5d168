"""How often a sync is expected to finish, read from its cron `schedule` (contract 8.1,
freshness): the longest gap between consecutive times among the 8 latest fire times at or
before a moment, in the workspace's time zone. Parsed and iterated by cronsim, whose
daylight-saving handling follows Debian cron (a skipped 02:00 runs at 03:00; an ambiguous
01:30 runs once, at its first occurrence)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from cronsim import CronSim, CronSimError

from insights.lru import LruDict

FIRE_TIMES = 8
CACHE_ENTRIES = 4096


@dataclass(frozen=True)
class _Interval:
    """The interval, and the moments between which it holds: from the latest fire time
    it was computed at (inclusive) to the next one (exclusive)."""

    seconds: int
    valid_from: datetime
    valid_until: datetime


class ScheduleIntervals:
    """Intervals by (schedule, zone), kept while no fire time has passed since: a sync's
    interval changes only when its schedule fires, so most requests compute none."""

    def __init__(self, max_entries: int = CACHE_ENTRIES) -> None:
        self._entries: LruDict[tuple[str, str], _Interval] = LruDict(max_entries)

    def interval(self, schedule: str | None, zone: ZoneInfo, at: datetime) -> int | None:
        """Seconds between fire times (the longest of the latest gaps), or None when the
        schedule is absent or not a standard 5-field cron expression."""
        if schedule is None or len(schedule.split()) != 5:
            return None
        key = (schedule, zone.key)
        cached = self._entries.get(key)
        if cached is not None and cached.valid_from <= at < cached.valid_until:
            return cached.seconds
        computed = _compute(schedule, zone, at)
        if computed is None:
            return None
        self._entries.put(key, computed)
        return computed.seconds


def _compute(schedule: str, zone: ZoneInfo, at: datetime) -> _Interval | None:
    # One second past `at`, whole: the first reverse step lands on `at` itself, so a fire
    # time equal to `at` counts as "at or before".
    start = (at.astimezone(zone) + timedelta(seconds=1)).replace(microsecond=0)
    try:
        backwards = CronSim(schedule, start, reverse=True)
        fires = [next(backwards).astimezone(UTC) for _ in range(FIRE_TIMES)]
        upcoming = next(CronSim(schedule, start - timedelta(seconds=1))).astimezone(UTC)
    except (CronSimError, StopIteration, ValueError):
        return None
    gaps = [int((later - earlier).total_seconds()) for later, earlier in pairwise(fires)]
    return _Interval(max(gaps), fires[0], upcoming)


# The process's cache: intervals depend only on the schedule, the zone and the time.
intervals = ScheduleIntervals()
