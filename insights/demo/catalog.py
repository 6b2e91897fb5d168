"""The demo's names and proportions: what a mid-size company's CDP workspace holds."""

from __future__ import annotations

import random
from typing import Any

HISTORY_DAYS = 90
UNIVERSE = 250_000  # customers at scale 1; every audience is drawn from them
SOURCES = (
    ("Snowflake Warehouse", "snowflake"),
    ("BigQuery Analytics", "bigquery"),
    ("Postgres App DB", "postgres"),
)
MODELS = (
    "Customers",
    "Orders",
    "Accounts",
    "Product Events",
    "Subscriptions",
    "Leads",
    "Web Sessions",
    "Support Tickets",
)
DESTINATIONS = (
    ("Salesforce", "salesforce"),
    ("Google Ads", "google_ads"),
    ("Meta Ads", "meta_ads"),
    ("HubSpot", "hubspot"),
    ("Braze", "braze"),
    ("Iterable", "iterable"),
    ("Klaviyo", "klaviyo"),
    ("TikTok Ads", "tiktok_ads"),
    ("LinkedIn Ads", "linkedin_ads"),
    ("Zendesk", "zendesk"),
)
AD_AND_MESSAGING = {
    "google_ads",
    "meta_ads",
    "tiktok_ads",
    "linkedin_ads",
    "braze",
    "iterable",
    "klaviyo",
    "hubspot",
}
LOADERS = (
    ("Segment Events", "segment"),
    ("Stripe Payments", "fivetran"),
    ("S3 Clickstream", "s3"),
    ("Kafka Orders Stream", "kafka"),
)
INTERVAL_HOURS = (1, 2, 3, 4, 4, 6, 6, 8, 12, 24)
# Sync roles and their counts at scale 1; every other sync is active and healthy. Together
# they put syncs in every band of the health score (demo/builder.py says how).
ROLES = (
    ("failing", 3),
    ("error", 2),
    ("paused", 5),
    ("never_ran", 2),
    ("flaky", 3),
    ("stale", 2),
    ("slow", 2),
    ("collapsed", 1),
    ("weekdays", 2),
)
DEFAULTS = {
    "sources": 3,
    "models": 8,
    "destinations": 10,
    "audiences": 20,
    "model_syncs": 22,
    "audience_syncs": 18,
    "loaders": 4,
}


def numbered_names(catalog: tuple[Any, ...], count: int) -> list[tuple[str, Any]]:
    """`count` (name, extra) pairs from the catalog, numbered once it runs out."""
    pairs = []
    for index in range(count):
        entry = catalog[index % len(catalog)]
        name, extra = (entry, None) if isinstance(entry, str) else entry
        lap = index // len(catalog)
        pairs.append((f"{name} {lap + 1}" if lap else name, extra))
    return pairs


def spread_pairs(parents: list[Any], targets: list[Any], count: int) -> list[tuple[Any, Any]]:
    """`count` distinct (parent, target) pairs, going round the parents so each gets one
    before any gets two."""
    pairs = [
        (parent, targets[(index * 3 + lap) % len(targets)])
        for lap in range(len(targets))
        for index, parent in enumerate(parents)
    ]
    return pairs[:count]


def sync_roles(count: int) -> list[str]:
    roles: list[str] = []
    for role, default in ROLES:
        wanted = max(1, round(default * count / 40))
        roles += [role] * min(wanted, max(0, count - 1 - len(roles)))
    return roles + ["healthy"] * (count - len(roles))


WEEKDAY_CRON = "0 9 * * 1-5"  # the "weekdays" role: 09:00 local, Monday to Friday


def cron(hours: int, rng: random.Random) -> str:
    minute = rng.randrange(60)
    if hours >= 24:
        return f"{minute} {rng.randrange(24)} * * *"
    return f"{minute} * * * *" if hours == 1 else f"{minute} */{hours} * * *"
