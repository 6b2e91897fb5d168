"""The dashboard: server-rendered pages over the same report functions as the Insights API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from insights.auth import authenticate
from insights.dashboard import views
from insights.dashboard.auth import (
    Sessions,
    Viewer,
    clear_session,
    safe_next,
    same_origin,
    session_principal,
    set_session,
    view_workspace,
)
from insights.dashboard.overlap import audience_overlap_page, overlap_form
from insights.dashboard.sync_detail import sync_detail_form, sync_detail_page
from insights.dashboard.templating import STATIC_DIR, render, warm_templates
from insights.errors import Forbidden, InsightsError, LoginRequired, Unauthorized
from insights.settings import Settings
from insights.web.deps import SessionDep

router = APIRouter(include_in_schema=False)

NAV = (
    ("", "Overview"),
    ("/sync-health", "Sync health"),
    ("/sync-sla", "SLA compliance"),
    ("/audience-trends", "Audience trends"),
    ("/activation-coverage", "Activation coverage"),
    ("/audience-overlap", "Audience overlap"),
)
# Where errors are answered with the HTML error page (the rest of the service speaks JSON).
PAGE_PATHS = ("/workspaces/", "/login", "/logout")
Raw = Annotated[str | None, Query()]
Multi = Annotated[list[str] | None, Query()]


def add_dashboard(app: FastAPI, settings: Settings) -> None:
    """Mounts the pages and the files they load (CSS, JS) on the app."""
    app.state.dashboard_sessions = Sessions.from_settings(settings)
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    warm_templates()  # compiled now, so no visitor waits for it


def error_page(request: Request, error: InsightsError) -> Response:
    """The HTML face of the one error handler (insights.web.errors): the sign-in form for
    a visitor who must sign in, else the error page under the error's status."""
    if isinstance(error, LoginRequired):
        return _login_redirect(request, error.session_ended)
    viewer = getattr(request.state, "viewer", None)
    context = {"viewer": viewer, "status": error.status_code, "message": error.message}
    return render(request, "error.html", context, error.status_code, error.headers)


def _login_redirect(request: Request, session_ended: bool) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    response = RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    if session_ended:
        clear_session(request, response)  # the cookie no longer opens anything
    return response


def page(
    request: Request,
    session: SessionDep,
    raw_workspace_id: str,
    template: str,
    build: Callable[[Viewer], dict[str, Any]],
    fallback: Callable[[Viewer], dict[str, Any]] | None = None,
) -> Response:
    """Checks the viewer, builds the page; a refused parameter renders the page's form
    with the message under the error's own status (other errors go to error_page)."""
    viewer = view_workspace(request, session, raw_workspace_id)
    request.state.viewer = viewer
    base = {"viewer": viewer, "nav": NAV, "section": template.removesuffix(".html")}
    try:
        return render(request, template, {**base, **build(viewer)})
    except InsightsError as exc:
        if fallback is None:
            raise
        context = {**base, **fallback(viewer), "error": exc.message}
        return render(request, template, context, exc.status_code)


@router.get("/workspaces/{workspace_id}")
def show_overview(request: Request, session: SessionDep, workspace_id: str) -> Response:
    return page(
        request,
        session,
        workspace_id,
        "overview.html",
        lambda v: views.overview(session, v.workspace.id),
    )


@router.get("/workspaces/{workspace_id}/sync-health")
def show_sync_health(
    request: Request,
    session: SessionDep,
    workspace_id: str,
    days: Raw = None,
    state: Raw = None,
    band: Raw = None,
    q: Raw = None,
) -> Response:
    chosen = state if state in views.STATE_FILTERS else "all"
    chosen_band = band if band in views.BAND_FILTERS else "all"
    form = {
        "form_days": days,
        "state": chosen,
        "band": chosen_band,
        "q": q or "",
        "states": views.STATE_FILTERS,
        "bands": views.BAND_FILTERS,
    }
    return page(
        request,
        session,
        workspace_id,
        "sync_health.html",
        lambda v: {
            **form,
            **views.sync_health_page(session, v.workspace.id, days, chosen, q or "", chosen_band),
        },
        lambda v: form,
    )


@router.get("/workspaces/{workspace_id}/syncs/{sync_id}")
def show_sync_detail(
    request: Request, session: SessionDep, workspace_id: str, sync_id: str, days: Raw = None
) -> Response:
    return page(
        request,
        session,
        workspace_id,
        "sync_detail.html",
        lambda v: sync_detail_page(session, v.workspace.id, sync_id, days),
        lambda v: sync_detail_form(days),
    )


@router.get("/workspaces/{workspace_id}/sync-sla")
def show_sync_sla(
    request: Request, session: SessionDep, workspace_id: str, days: Raw = None
) -> Response:
    return page(
        request,
        session,
        workspace_id,
        "sync_sla.html",
        lambda v: views.sync_sla_page(session, v.workspace.id, days),
        lambda v: {"form_days": days},
    )


@router.get("/workspaces/{workspace_id}/audience-trends")
def show_audience_trends(
    request: Request,
    session: SessionDep,
    workspace_id: str,
    days: Raw = None,
    audience_ids: Multi = None,
) -> Response:
    raw_ids = ",".join(audience_ids) if audience_ids else None

    def form(viewer: Viewer) -> dict[str, Any]:
        choices = views.audience_choices(session, viewer.workspace.id)
        return {"form_days": days, "choices": choices, "selected": set()}

    return page(
        request,
        session,
        workspace_id,
        "audience_trends.html",
        lambda v: {**form(v), **views.audience_trends_page(session, v.workspace.id, days, raw_ids)},
        form,
    )


@router.get("/workspaces/{workspace_id}/activation-coverage")
def show_activation_coverage(request: Request, session: SessionDep, workspace_id: str) -> Response:
    return page(
        request,
        session,
        workspace_id,
        "activation_coverage.html",
        lambda v: views.activation_coverage_page(session, v.workspace.id),
    )


@router.get("/workspaces/{workspace_id}/audience-overlap")
def show_audience_overlap(
    request: Request,
    session: SessionDep,
    workspace_id: str,
    audience_ids: Multi = None,
    min_count: str | None = None,
) -> Response:
    raw_ids = ",".join(audience_ids) if audience_ids else None
    raw_min = min_count or None  # the form sends an empty field when no minimum is set
    return page(
        request,
        session,
        workspace_id,
        "audience_overlap.html",
        lambda v: audience_overlap_page(session, v.workspace.id, raw_ids, raw_min),
        lambda v: overlap_form(session, v.workspace.id, raw_ids, raw_min),
    )


@router.get("/")
def show_home() -> Response:
    return RedirectResponse("/login", status_code=303)


@router.get("/login")
def show_login(
    request: Request, session: SessionDep, after: Annotated[str | None, Query(alias="next")] = None
) -> Response:
    principal = session_principal(request, session)
    if principal is not None:
        return RedirectResponse(safe_next(after, principal.workspace_id), status_code=303)
    return render(request, "login.html", {"next": after or "", "error": None})


@router.post("/login")
def sign_in(
    request: Request,
    session: SessionDep,
    api_key: Annotated[str, Form()] = "",
    after: Annotated[str, Form(alias="next")] = "",
) -> Response:
    if not same_origin(request):
        raise Forbidden("This form was posted from another site.")
    try:
        principal = authenticate(session, api_key.strip())
    except Unauthorized:
        context = {"next": after, "error": "That API key is unknown, revoked or malformed."}
        return render(request, "login.html", context, 401)
    response = RedirectResponse(safe_next(after, principal.workspace_id), status_code=303)
    set_session(request, response, principal)
    return response


@router.post("/logout")
def sign_out(request: Request) -> Response:
    if not same_origin(request):
        raise Forbidden("This form was posted from another site.")
    response = RedirectResponse("/login", status_code=303)
    clear_session(request, response)
    return response
