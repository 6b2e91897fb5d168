"""What each demo sync's role does to its schedule, SLA targets and runs, so that the demo
shows every band of the health score, SLAs met and breached, a sync that got slower and
one whose throughput collapsed, hourly and weekday schedules."""

from __future__ import annotations

import random
from dataclasses import replace
from zoneinfo import ZoneInfo

from insights.demo.catalog import INTERVAL_HOURS, WEEKDAY_CRON, cron
from insights.demo.runs import RunPlan, at

DAY = 86400


def schedule(role: str, rng: random.Random) -> tuple[str, int]:
    """(cron schedule, hours between runs) for a sync of this role."""
    if role == "weekdays":
        return WEEKDAY_CRON, 24
    hours = 1 if role == "stale" else rng.choice(INTERVAL_HOURS)
    return cron(hours, rng), hours


def sla_targets(role: str, hours: int, rng: random.Random) -> dict[str, int | None]:
    """Targets: the stale syncs breach their freshness target, the slow ones their
    duration target; a share of healthy ones meet generous targets; the rest have none."""
    if role == "stale":
        return {"sla_freshness_minutes": hours * 90, "sla_duration_seconds": None}
    if role == "slow":
        return {"sla_freshness_minutes": None, "sla_duration_seconds": 900}
    if role == "weekdays":  # a weekend is 2.5 days without a run: a 4-day target is met
        return {"sla_freshness_minutes": 4 * 24 * 60, "sla_duration_seconds": 3 * 3600}
    if role == "healthy" and rng.random() < 0.3:
        return {"sla_freshness_minutes": hours * 180, "sla_duration_seconds": 3 * 3600}
    return {"sla_freshness_minutes": None, "sla_duration_seconds": None}


def shape(plan: RunPlan, role: str, rng: random.Random, zone: ZoneInfo) -> RunPlan:
    """The plan of a healthy sync, reshaped by its role."""
    if role == "flaky":  # failures through the week: a warning
        return replace(plan, fail_start=0.3, recover=0.5, failing_tail=rng.randint(1, 2))
    if role == "stale":  # stopped running days ago, after two failures: degraded
        return replace(plan, end=plan.end - rng.randint(3, 4) * DAY, failing_tail=2)
    if role == "slow":  # the latest run took five times the usual
        return replace(plan, last_duration_factor=5.0, median_seconds=200.0, fail_start=0.08)
    if role == "collapsed":  # the latest run moved a sixth of the rows in 2.5 times as long
        return replace(plan, last_duration_factor=2.5, last_rows_factor=1 / 6)
    if role == "weekdays":
        return replace(plan, skip=lambda slot: _weekend(slot, zone))
    return plan


def _weekend(slot: int, zone: ZoneInfo) -> bool:
    return at(slot).astimezone(zone).weekday() >= 5
