"""The serving process takes its start-up objects out of Python's cycle collector while it
serves (so full collections stop walking them), and gives them back when it stops; a report
pauses it until its answer is bytes."""

from __future__ import annotations

import gc

from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy.orm import Session

from insights import cycle_collector
from insights.app import create_app
from insights.web.reports import _computed
from tests.support.api import make_settings
from tests.support.databases import Database


def test_a_started_app_freezes_its_startup_objects_until_it_stops(db: Database) -> None:
    with TestClient(create_app(make_settings(db, gc_freeze=True))) as client:
        assert client.get("/healthz").status_code == 200
        assert gc.get_freeze_count() > 10_000
    assert gc.get_freeze_count() == 0


def test_the_freeze_can_be_switched_off(db: Database) -> None:
    with TestClient(create_app(make_settings(db, gc_freeze=False))) as client:
        assert client.get("/healthz").status_code == 200
        assert gc.get_freeze_count() == 0


def test_a_pause_ends_with_the_section_that_began_it_however_long_others_run() -> None:
    assert gc.isenabled()
    first, second = cycle_collector.paused(), cycle_collector.paused()
    first.__enter__()
    second.__enter__()  # as another thread's report would, overlapping
    assert not gc.isenabled()
    first.__exit__(None, None, None)
    assert gc.isenabled()
    second.__exit__(None, None, None)
    assert gc.isenabled()
    with cycle_collector.paused():  # and the next one pauses again
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_switched_off_stays_off_after_a_paused_section() -> None:
    gc.disable()
    try:
        with cycle_collector.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


class _Many(BaseModel):
    items: list[list[int]]  # lists: objects the collector tracks (a dict of ints is not)


def _many(_session: Session) -> _Many:
    # As a report does: tens of thousands of objects made with the collector paused.
    with cycle_collector.paused():
        return _Many(items=[[n] for n in range(50_000)])


def test_a_report_answer_is_freed_before_the_collector_resumes(db: Database) -> None:
    """Over the HTTP path the collector resumes only once the answer is bytes and its
    objects are gone: no collection walks them (resumed while they all lived, one did)."""
    largest: list[int] = []

    def seen(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            largest.append(len(gc.get_objects(generation=0)))

    gc.callbacks.append(seen)
    try:
        body = _computed(db.read, _many)
    finally:
        gc.callbacks.remove(seen)
    assert body.startswith(b'{"items":[[0],[1],') and gc.isenabled()
    assert max(largest, default=0) < 10_000, max(largest)
