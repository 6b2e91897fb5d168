"""insights_alerts_firing: the alerts firing now, counted in the database at scrape time, so
every process (and every scrape) reports the same figure whichever process opened them."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from insights.metrics import ALERTS_FIRING, ALERTS_FIRING_HELP
from insights.models import Alert, Workspace

log = logging.getLogger(__name__)


def firing_counts(session: Session) -> dict[tuple[str, str], int]:
    """(workspace name, condition) -> alerts firing now. By name, not ID: an ID may not be a
    label (contract 10), and two workspaces of one name add up."""
    query = (
        select(Workspace.name, Alert.condition, func.count())
        .join(Workspace, Workspace.id == Alert.workspace_id)
        .where(Alert.state == "firing")
        .group_by(Workspace.name, Alert.condition)
    )
    return {(name, condition): count for name, condition, count in session.execute(query)}


class FiringAlerts(Collector):
    """The gauge, read through `sessions` each time it is collected."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def collect(self) -> Iterator[Metric]:
        try:
            with self.sessions() as session:
                counts = firing_counts(session)
        except SQLAlchemyError as exc:
            # The process's own metrics are still worth a scrape without the database's.
            log.warning("%s left out of the scrape: %s", ALERTS_FIRING, exc)
            return
        family = GaugeMetricFamily(
            ALERTS_FIRING, ALERTS_FIRING_HELP, labels=["workspace", "condition"]
        )
        for (workspace, condition), count in sorted(counts.items()):
            family.add_metric([workspace, condition], count)
        yield family
