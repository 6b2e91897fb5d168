"""Alert rules (contract 9.1), the alerts they opened (9.2) and their deliveries (9.3)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response

from insights.alerts import history, rules
from insights.schemas.alerts import (
    AlertRead,
    AlertRuleCreate,
    AlertRuleRead,
    AlertRuleUpdate,
    DeliveryRead,
)
from insights.schemas.base import Paginated
from insights.types import ID
from insights.web.deps import AccessFirstRoute, PageDep, ReadAccess, SessionDep, WriteAccess
from insights.web.openapi import ERROR_RESPONSES
from insights.web.state import app_state

router = APIRouter(
    prefix="/api/v1/workspaces/{workspace_id}",
    tags=["alerts"],
    route_class=AccessFirstRoute,
    responses=ERROR_RESPONSES,
)


def _allow_private(request: Request) -> bool:
    return app_state(request).settings.webhook_allow_private


@router.post(
    "/alert-rules",
    status_code=201,
    response_model=AlertRuleRead,
    summary="Create an alert rule (or get it back: an id it already has, same content)",
    responses={200: {"model": AlertRuleRead, "description": "The same rule, sent again"}},
)
def create_alert_rule(
    workspace_id: ID,
    body: AlertRuleCreate,
    access: WriteAccess,
    session: SessionDep,
    request: Request,
    response: Response,
) -> Any:
    rule, created = rules.create(session, access.workspace_id, body, _allow_private(request))
    if not created:
        response.status_code = 200
    return rules.read(rule)


@router.get(
    "/alert-rules",
    response_model=Paginated[AlertRuleRead],
    summary="List the alert rules, newest first",
)
def list_alert_rules(
    workspace_id: ID, access: ReadAccess, session: SessionDep, page: PageDep
) -> Any:
    return rules.list_page(session, access.workspace_id, page)


@router.get("/alert-rules/{rule_id}", response_model=AlertRuleRead, summary="Get one alert rule")
def get_alert_rule(workspace_id: ID, rule_id: ID, access: ReadAccess, session: SessionDep) -> Any:
    return rules.read(rules.get(session, access.workspace_id, rule_id))


@router.put(
    "/alert-rules/{rule_id}",
    response_model=AlertRuleRead,
    summary="Update an alert rule: the fields sent change, the rest stay",
)
def update_alert_rule(
    workspace_id: ID,
    rule_id: ID,
    body: AlertRuleUpdate,
    access: WriteAccess,
    session: SessionDep,
    request: Request,
) -> Any:
    rule = rules.change(session, access.workspace_id, rule_id, body, _allow_private(request))
    return rules.read(rule)


@router.delete(
    "/alert-rules/{rule_id}",
    status_code=204,
    summary="Delete an alert rule (its alerts stay, resolved)",
)
def delete_alert_rule(
    workspace_id: ID, rule_id: ID, access: WriteAccess, session: SessionDep
) -> Response:
    rules.remove(session, access.workspace_id, rule_id)
    return Response(status_code=204)


@router.get(
    "/alerts",
    response_model=Paginated[AlertRead],
    summary="List the alerts, newest opened first",
)
def list_alerts(
    workspace_id: ID,
    access: ReadAccess,
    session: SessionDep,
    page: PageDep,
    state: Annotated[
        Literal["firing", "resolved"] | None, Query(description="Only alerts in this state.")
    ] = None,
    rule_id: Annotated[ID | None, Query(description="Only the alerts of this rule.")] = None,
) -> Any:
    return history.list_page(session, access.workspace_id, page, state, rule_id)


@router.get(
    "/alerts/{alert_id}/deliveries",
    response_model=list[DeliveryRead],
    summary="List an alert's notifications and how their delivery went",
)
def get_alert_deliveries(
    workspace_id: ID, alert_id: ID, access: ReadAccess, session: SessionDep
) -> Any:
    return history.deliveries(session, access.workspace_id, alert_id)
