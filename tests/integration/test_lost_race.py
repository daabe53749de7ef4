"""A save that loses a race on PostgreSQL leaves its pooled connection fit for the next one.

Found by the fault drill (bench/faults.py, issue 11): 55 concurrent votes on fresh
connections answered one 500, `prepared statement "_pg3_25" does not exist`. psycopg
prepares a statement on its sixth execution on a connection and counts the PREPARE as done
as soon as it is queued in a pipeline; when the events' INSERT loses a race, PostgreSQL skips
the rest of eventsourcing's pipeline, the side rows queued after the INSERT and that PREPARE
with them, and the next save on the connection that wrote the same side row failed.
"""

from __future__ import annotations

import pytest
from eventsourcing.persistence import IntegrityError

from adapters.store import Pool, event_store_env
from application.minqing import Minqing
from application.ports import IdempotencyRow
from domain.concern import Concern
from domain.lifecycle import Action
from domain.permissions import actor_for
from tests.integration.support import STAFF, assigned_concern, raw_connection

# A winner and a loser each: the losers' side rows are that statement's 2nd, 4th … execution
# on the connection, so one of them is its 6th, the one psycopg prepares (or, when psycopg
# has cleared its cache meanwhile, a later one).
ROUNDS = 12


def progress(app: Minqing, concern: Concern, note: str) -> Concern:
    concern.record_progress(actor_for(STAFF, Action.RECORD_PROGRESS, concern), note, app.clock())
    return concern


def counter(name: str) -> IdempotencyRow:
    """A side row that only the save that wrote it can have written (its key is `name`)."""
    return IdempotencyRow("race", name, "-", "{}", "-", 0, "2026-12-04T00:00:00+00:00")


def test_a_save_after_a_lost_race_on_the_same_connection_succeeds(
    database_url: str, master_key: bytes
) -> None:
    # On PostgreSQL one pooled connection, so every save below runs on the same one.
    app = Minqing(event_store_env(database_url, Pool(size=1, overflow=0)), master_key=master_key)
    try:
        concern_id = assigned_concern(app)
        for i in range(ROUNDS):
            loser: Concern = app.repository.get(concern_id)  # read before the winner saves
            winner: Concern = app.repository.get(concern_id)
            app.save(progress(app, winner, f"winner {i}"), side_rows=[counter(f"won {i}")])
            with pytest.raises(IntegrityError):
                app.save(progress(app, loser, f"loser {i}"), side_rows=[counter(f"lost {i}")])
        last: Concern = app.repository.get(concern_id)
        app.save(progress(app, last, "after the races"), side_rows=[counter("after")])
        assert app.repository.get(concern_id).version == 2 + ROUNDS + 1
    finally:
        app.close()
    with raw_connection(database_url) as query:
        names = {str(row[0]) for row in query("SELECT key FROM minqing_idempotency")}
    # Every winner's side row was written, no loser's.
    assert {n for n in names if n.startswith(("won", "lost", "after"))} == {
        *(f"won {i}" for i in range(ROUNDS)),
        "after",
    }
