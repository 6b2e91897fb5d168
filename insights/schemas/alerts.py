"""Request and response models of alert rules, alerts and deliveries (contract 9)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field, Strict

from insights.schemas.base import RequestModel, ResponseModel
from insights.types import ID, Name, OutTimestamp, ShortText

Condition = Literal[
    "sync_failed", "health_below", "sla_breached", "throughput_degraded", "audience_size_change"
]
# A URL of at most 2048 characters; alerts/addresses.py checks its scheme and host.
Url = Annotated[str, Strict(), Field(min_length=1, max_length=2048)]
# A number (never a string or a boolean), exact: 12.5 is 12.5.
Threshold = Annotated[Decimal, Field(allow_inf_nan=False, max_digits=14, decimal_places=4)]


class WebhookChannel(RequestModel):
    type: Literal["webhook"]
    url: Url
    secret: ShortText | None = Field(None, description="Signs each body (HMAC-SHA256).")


class SlackChannel(RequestModel):
    type: Literal["slack"]
    url: Url = Field(description="A Slack incoming webhook URL.")


Channel = Annotated[WebhookChannel | SlackChannel, Field(discriminator="type")]


class AlertRuleCreate(RequestModel):
    id: ID | None = None
    name: Name
    condition: Condition
    threshold: Threshold | None = None
    sync_ids: list[ID] | None = None
    audience_ids: list[ID] | None = None
    enabled: Annotated[bool, Strict()] = True
    channel: Channel


class AlertRuleUpdate(RequestModel):
    name: Name | None = None
    condition: Condition | None = None
    threshold: Threshold | None = None
    sync_ids: list[ID] | None = None
    audience_ids: list[ID] | None = None
    enabled: Annotated[bool, Strict()] | None = None
    channel: Channel | None = None


class ChannelRead(ResponseModel):
    type: str
    url: str
    has_secret: bool


class AlertRuleRead(ResponseModel):
    id: ID
    workspace_id: ID
    name: str
    condition: str
    threshold: float | None
    sync_ids: list[ID] | None
    audience_ids: list[ID] | None
    enabled: bool
    channel: ChannelRead
    created_at: OutTimestamp
    updated_at: OutTimestamp


class AlertRead(ResponseModel):
    id: ID
    rule_id: ID
    rule_name: str
    condition: str
    subject_type: Literal["sync", "audience"]
    subject_id: ID
    subject_name: str
    state: Literal["firing", "resolved"]
    opened_at: OutTimestamp
    resolved_at: OutTimestamp | None
    details: dict[str, Any]


class DeliveryRead(ResponseModel):
    id: ID
    event: str
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: OutTimestamp | None
    delivered_at: OutTimestamp | None
