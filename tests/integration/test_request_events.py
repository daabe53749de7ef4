"""The request an event came in is written in the events' own transaction, on both stores:
every event a command saved inside a request names it, and none saved outside one does; the
in-memory store saves as before."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID

from adapters import request_events
from application.minqing import Minqing
from application.requests import CURRENT, RequestContext, rows_for, valid_request_id
from domain.vocabulary import DutyRole
from tests.integration.support import STAFF, add_member, draft
from tests.unit.verbs_support import open_office


def inside(request_id: str) -> Iterator[None]:
    token = CURRENT.set(RequestContext(request_id))
    try:
        yield
    finally:
        CURRENT.reset(token)


def test_each_event_a_request_saved_names_it_and_others_none(minqing: Minqing) -> None:
    owner = add_member(minqing)  # outside any request: a worker, the command line
    for _ in inside("req-1"):
        raised = minqing.raise_concern(STAFF, draft())
    concern = UUID(raised.id)
    due = minqing.clock().date()
    for _ in inside("req-2"):
        minqing.handle_now(concern, STAFF, owner, DutyRole.ENVIRONMENT_MONITOR, due)

    assert request_events.requests_of(minqing.db, str(concern)) == {1: "req-1", 2: "req-2"}
    tied = request_events.events_of(minqing.db, "req-1")
    assert (str(concern), 1) in tied
    # The reference and tracking-code index entries were saved with it.
    assert len(tied) == 3
    assert request_events.requests_of(minqing.db, str(owner)) == {}
    positions = [minqing.db.position_of(a, v) for a, v in tied]
    assert max(p or 0 for p in positions) == raised.position


def test_the_in_memory_store_saves_inside_a_request_as_before() -> None:
    office = open_office()
    for _ in inside("req-memory"):
        concern = office.raise_concern()
    assert office.app.get_concern(concern).version == 1


def test_no_rows_outside_a_request_and_sane_ids_only() -> None:
    office = open_office()
    concern = office.app.get_concern(office.raise_concern())
    assert rows_for((concern,)) == []
    assert valid_request_id("a1-B2_c3.d4:e5=+")
    assert not valid_request_id("")
    assert not valid_request_id("x" * 129)
    assert not valid_request_id("with space")
