"""The statements every read request runs (the key check) and the overlap's, run over and
over before serving, on the connection the first request gets, against IDs no one has.

PostgreSQL plans a statement anew on each execution until it is a prepared statement that
has been run with five custom plans (then it keeps a generic plan): psycopg prepares it on
its fifth execution on a connection, so a connection plans each statement afresh for about
its first ten executions, ~0.3 ms each for the key check and the overlap's two statements
(docs/benchmarks.md, "First request of a fresh process"). The warm-up's reports cannot do
it: their statements run in a transaction it rolls back, and psycopg forgets what it
prepared in one. These run in read sessions (autocommit on PostgreSQL) and find nothing:
no workspace's data is read and no answer is computed ahead."""

from __future__ import annotations

import uuid
from contextlib import suppress

from sqlalchemy.orm import Session

from insights import auth, data_version, members
from insights.errors import NotFound, Unauthorized
from insights.reports import audience_overlap
from insights.web.state import AppState

# psycopg's prepare threshold (5) + PostgreSQL's custom plans before a generic one (5) + 2.
REHEARSALS = 12
NOBODY = uuid.UUID(int=0)
NO_AUDIENCES = [uuid.UUID(int=1), uuid.UUID(int=2)]  # an overlap's usual two
NO_KEY = auth.KEY_PREFIX + "0" * 43  # well-formed; no key hashes to its hash


def rehearse(state: AppState) -> None:
    """Each rehearsal in a read session of its own, as requests have them."""
    for _ in range(REHEARSALS):
        with state.read() as session:
            _run_once(session)


def _run_once(session: Session) -> None:
    with suppress(Unauthorized):
        auth.authenticate_at_version(session, NO_KEY)
    data_version.read_version(session, NOBODY)
    with suppress(NotFound):
        audience_overlap.audience_overlap(session, NOBODY, audience_ids=NO_AUDIENCES)
    members.load_bitmaps(session, NOBODY, dict.fromkeys(NO_AUDIENCES, NOBODY))
