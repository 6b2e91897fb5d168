"""`insights alerts evaluate | deliver`: one pass, one delivery round, for cron (or for
when the worker of `insights serve` is switched off with INSIGHTS_ALERT_WORKER=false)."""

from __future__ import annotations

import asyncio
import uuid

import click

from insights import alerts
from insights.cli.base import main, print_json, write_factory
from insights.settings import Settings


@main.group("alerts")
def alerts_group() -> None:
    """Evaluate alert rules and deliver their notifications."""


@alerts_group.command("evaluate")
@click.option("--workspace", "workspace_id", type=click.UUID, help="Only this workspace.")
@click.pass_obj
def evaluate(settings: Settings, workspace_id: uuid.UUID | None) -> None:
    """Evaluate every enabled rule once; prints how many alerts opened and resolved."""
    with write_factory(settings) as write:
        changes = alerts.evaluate_all(write, workspace_id)
    print_json({"opened": changes.opened, "resolved": changes.resolved})


@alerts_group.command("deliver")
@click.pass_obj
def deliver(settings: Settings) -> None:
    """Send every notification that is due; prints how many were delivered, retried and
    failed for good."""
    with write_factory(settings) as write:
        delivery = alerts.Delivery(write, settings.public_url, settings.webhook_allow_private)
        counts = asyncio.run(delivery.round())
    print_json(counts)
