"""The demo's customer universe and its audiences: correlated segments with real member
lists, and a daily history of their sizes."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray
from sqlalchemy.orm import Session

from insights import members
from insights.demo.runs import insert_rows
from insights.evaluations import record_member_evaluation
from insights.models import AudienceEvaluation

Mask = NDArray[np.bool_]
EVALUATION_TIME = time(6, 0)  # the platform re-evaluates audiences every morning
CHURN_DAYS = 14  # the last days of an audience with members carry their own member lists


@dataclass(frozen=True)
class Traits:
    """What the warehouse knows of each customer of the universe (arrays of one length)."""

    orders: NDArray[np.int64]
    lifetime_value: NDArray[np.float64]
    recency_days: NDArray[np.float64]
    engagement: NDArray[np.float64]
    subscribed: Mask
    sms: Mask
    app_user: Mask
    visited_7d: Mask
    visited_30d: Mask
    region: NDArray[np.int64]  # 0 US east, 1 US west, 2 US central, 3 EU, 4 rest
    discount_share: NDArray[np.float64]
    reviewer: Mask

    @property
    def purchaser(self) -> Mask:
        return self.orders > 0


def customer_traits(count: int, rng: np.random.Generator) -> Traits:
    """Traits drawn so that segments correlate the way real ones do."""
    engagement = rng.beta(2.0, 3.0, count)
    orders = rng.poisson(0.3 + 4.0 * engagement**2) * (rng.random(count) < 0.2 + 0.6 * engagement)
    value_per_order = rng.lognormal(4.2, 0.7, count)
    recency = rng.exponential(40.0 + 160.0 * (1.0 - engagement), count)
    subscribed = rng.random(count) < 0.35 + 0.5 * engagement
    visited_30d = rng.random(count) < 0.1 + 0.6 * engagement
    return Traits(
        orders=orders.astype(np.int64),
        lifetime_value=orders * value_per_order,
        recency_days=np.where(orders > 0, recency, np.inf),
        engagement=engagement,
        subscribed=subscribed,
        sms=subscribed & (rng.random(count) < 0.3),
        app_user=rng.random(count) < 0.05 + 0.4 * engagement,
        visited_7d=visited_30d & (rng.random(count) < 0.4),
        visited_30d=visited_30d,
        region=rng.choice(5, count, p=[0.3, 0.2, 0.2, 0.2, 0.1]),
        discount_share=rng.beta(1.5, 3.0, count),
        reviewer=(orders > 1) & (rng.random(count) < 0.12),
    )


def _high_value(t: Traits) -> Mask:
    buyers = t.lifetime_value[t.purchaser]
    threshold = np.quantile(buyers, 0.85) if buyers.size else np.inf
    return t.purchaser & (t.lifetime_value >= threshold)


def _top_percent(t: Traits) -> Mask:
    threshold = np.quantile(t.lifetime_value, 0.99)
    return t.lifetime_value >= max(threshold, 1e-9)


def _churn_risk(t: Traits) -> Mask:
    # Mostly lapsing buyers; a few recent buyers whose engagement collapsed.
    lapsing = (t.recency_days > 60) & (t.recency_days < 240) & (t.engagement < 0.35)
    return t.purchaser & (lapsing | (t.engagement < 0.04))


@dataclass(frozen=True)
class Segment:
    name: str
    description: str
    rule: Callable[[Traits], Mask]
    status: str = "active"
    with_members: bool = True  # False: sizes arrive from elsewhere, no member list


SEGMENTS = (
    Segment("Purchasers", "Customers with at least one order", lambda t: t.purchaser),
    Segment("High-Value Customers", "Top 15% of buyers by lifetime value", _high_value),
    Segment("Recent Buyers", "Ordered in the last 30 days", lambda t: t.recency_days < 30),
    Segment(
        "Churn Risk", "Buyers drifting away: no order in 60+ days, low engagement", _churn_risk
    ),
    Segment("Newsletter Subscribers", "Opted in to marketing email", lambda t: t.subscribed),
    Segment(
        "Cart Abandoners (7d)",
        "Visited in the last 7 days without ordering",
        lambda t: t.visited_7d & ~(t.recency_days < 7),
    ),
    Segment("Repeat Buyers", "Two or more orders", lambda t: t.orders >= 2),
    Segment(
        "Lapsed Customers", "No order in 180 days", lambda t: t.purchaser & (t.recency_days > 180)
    ),
    Segment(
        "VIP Loyalty Members",
        "High-value and highly engaged",
        lambda t: _high_value(t) & (t.engagement > 0.5),
    ),
    Segment("SMS Opt-ins", "Opted in to text messages", lambda t: t.sms),
    Segment(
        "First-Time Buyers",
        "Exactly one order, in the last 60 days",
        lambda t: (t.orders == 1) & (t.recency_days < 60),
    ),
    Segment("Mobile App Users", "Signed in to the app at least once", lambda t: t.app_user),
    Segment(
        "Browsed, Never Purchased",
        "Visited in 30 days, never ordered",
        lambda t: t.visited_30d & ~t.purchaser,
    ),
    Segment("EU Customers", "Buyers shipping to the EU", lambda t: t.purchaser & (t.region == 3)),
    Segment(
        "West Coast Shoppers", "Buyers in the US West", lambda t: t.purchaser & (t.region == 1)
    ),
    Segment(
        "Lookalike Seed: Top 1%",
        "Top 1% by lifetime value, sized by the ad platform",
        _top_percent,
        with_members=False,
    ),
    Segment(
        "Discount Seekers",
        "Most orders used a coupon",
        lambda t: t.purchaser & (t.discount_share > 0.6),
    ),
    Segment(
        "Winback Candidates",
        "Lapsed buyers still on the newsletter",
        lambda t: t.purchaser & t.subscribed & (t.recency_days > 180),
    ),
    Segment("Product Reviewers", "Left at least one review", lambda t: t.reviewer),
    Segment(
        "Holiday Gift Buyers 2023",
        "Last season's gift shoppers",
        lambda t: t.purchaser & (t.discount_share > 0.75),
        status="inactive",
        with_members=False,
    ),
)


def universe_keys(count: int) -> list[str]:
    return [f"cust_{index:09d}" for index in range(count)]


def encode_universe(session: Session, workspace_id: uuid.UUID, count: int) -> NDArray[np.uint32]:
    """The universe's member IDs, sorted: encoded once, in one set-based pass, so that a
    segment is a mask over this array instead of a second encoding of its keys."""
    bitmap = members.encode_keys(session, workspace_id, universe_keys(count))
    return np.frombuffer(bitmap.to_array(), dtype=np.uint32)


def evaluation_times(now: datetime, zone: ZoneInfo, days: int) -> list[datetime]:
    """The daily evaluation instants of the last `days` days, oldest first, the last <= now."""
    local_now = now.astimezone(zone)
    day = local_now.date()
    if local_now.time() < EVALUATION_TIME:
        day -= timedelta(days=1)
    days_back = range(days - 1, -1, -1)
    return [datetime.combine(day - timedelta(days=d), EVALUATION_TIME, zone) for d in days_back]


def size_history(final: int, count: int, rng: np.random.Generator) -> list[int]:
    """`count` daily sizes ending at `final`: a trend (growing or shrinking) with noise."""
    growth = rng.uniform(-0.3, 0.45)
    steps = np.arange(count - 1, -1, -1) / 90.0
    noise = 1.0 + rng.normal(0.0, 0.008, count)
    sizes = final * np.exp(-growth * steps) * noise
    sizes[-1] = final
    return [max(0, int(np.rint(size))) for size in sizes]


def record_history(
    session: Session,
    workspace_id: uuid.UUID,
    audience_id: uuid.UUID,
    times: list[datetime],
    sizes: list[int],
    rng: np.random.Generator,
) -> None:
    """Size-only evaluations for `times` with `sizes` (bulk, one statement per batch)."""
    insert_rows(
        session,
        AudienceEvaluation,
        (
            {
                "workspace_id": workspace_id,
                "audience_id": audience_id,
                "has_members": False,
                "id": uuid.UUID(bytes=rng.bytes(16), version=4),
                "evaluated_at": moment,
                "size": size,
                "created_at": moment,
            }
            for moment, size in zip(times, sizes, strict=True)
        ),
    )


def record_members(
    session: Session,
    workspace_id: uuid.UUID,
    audience_id: uuid.UUID,
    times: list[datetime],
    universe: NDArray[np.uint32],
    mask: Mask,
    rng: np.random.Generator,
) -> list[int]:
    """The member lists of the last CHURN_DAYS days (today's is `mask`; each earlier one
    has this audience's own churn undone), so every evaluation knows what it added and
    removed; the older days as sizes only. Returns every day's size, oldest first."""
    lists = [universe[mask]]
    outsiders = universe[~mask]
    churn = rng.uniform(0.002, 0.03)  # some audiences barely move, some churn daily
    for _ in range(min(CHURN_DAYS, len(times)) - 1):
        current = lists[0]
        joined = rng.choice(current, size=int(current.size * churn), replace=False)
        left_count = min(outsiders.size, int(current.size * churn * rng.uniform(0.5, 1.2)))
        left = rng.choice(outsiders, size=left_count, replace=False)
        lists.insert(0, np.concatenate([np.setdiff1d(current, joined, assume_unique=True), left]))
    older = size_history(int(lists[0].size), len(times) - len(lists) + 1, rng)[:-1]
    record_history(session, workspace_id, audience_id, times[: len(older)], older, rng)
    for moment, ids in zip(times[len(older) :], lists, strict=True):
        record_member_evaluation(
            session, workspace_id, audience_id, moment, members.bitmap_from_ids(ids)
        )
    return [*older, *(int(ids.size) for ids in lists)]
