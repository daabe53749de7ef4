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

from domain.application import Minqing
from domain.concern import Concern
from domain.lifecycle import Action
from domain.permissions import actor_for
from domain.store import Pool, SideWrite, event_store_env
from tests.integration.support import STAFF, assigned_concern, is_postgres, raw_connection

ROUNDS = 5  # a winner and a loser each: the loser's side row is its 2nd … 10th execution


def progress(app: Minqing, concern: Concern, note: str) -> Concern:
    concern.record_progress(actor_for(STAFF, Action.RECORD_PROGRESS, concern), note, app.clock())
    return concern


def counter(name: str) -> SideWrite:
    return SideWrite("INSERT INTO minqing_counters (name, value) VALUES (?, ?)", (name, 1))


def test_a_save_after_a_lost_race_on_the_same_connection_succeeds(
    database_url: str, master_key: bytes
) -> None:
    if not is_postgres(database_url):
        pytest.skip("prepared statements in a pipeline are PostgreSQL's")
    # One pooled connection: every save below runs on it.
    app = Minqing(event_store_env(database_url, Pool(size=1, overflow=0)), master_key=master_key)
    try:
        concern_id = assigned_concern(app)
        for i in range(ROUNDS):
            loser: Concern = app.repository.get(concern_id)  # read before the winner saves
            winner: Concern = app.repository.get(concern_id)
            app.save(progress(app, winner, f"winner {i}"), side_writes=[counter(f"won {i}")])
            with pytest.raises(IntegrityError):
                app.save(progress(app, loser, f"loser {i}"), side_writes=[counter(f"lost {i}")])
        after: Concern = app.repository.get(concern_id)
        assert after.version == 2 + ROUNDS
    finally:
        app.close()
    with raw_connection(database_url) as query:
        names = {str(row[0]) for row in query("SELECT name FROM minqing_counters")}
    # Every winner's side row was written, no loser's.
    assert {n for n in names if n.startswith(("won", "lost"))} == {
        f"won {i}" for i in range(ROUNDS)
    }
