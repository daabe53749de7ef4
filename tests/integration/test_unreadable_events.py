"""A stored event whose bytes were changed so they no longer decode, on both stores: the
concern's state names its position, the history marks it and lists the rest, the feed and
webhooks send a stand-in in its place and go on, the read models that decode it park it,
and the audit names it as changed. (Over HTTP: tests/e2e/test_unreadable_events.py.)"""

from __future__ import annotations

from uuid import UUID

import pytest

from adapters import audit
from adapters.feed import EventFeed
from adapters.webhooks import Webhooks
from application.minqing import Minqing
from domain.cloudevents import event_id, sequence
from domain.unreadable import UNREADABLE_TYPE, UnreadableEvent
from projections.registry import all_projections
from projections.runner import ProjectionRunner
from tests.integration.support import STAFF, assigned_concern, corrupt_event, draft
from tests.integration.test_projections import counted, log_counts
from tests.integration.test_webhooks import INTEGRATOR, dispatching
from tests.webhook_receiver import in_order, receiving

SOURCE = "urn:minqing:test"


def unreadable_handling(app: Minqing, url: str) -> tuple[UUID, int]:
    """A concern raised, handled and noted; its HandledNow (version 2) made unreadable.
    (concern id, the position of that event)"""
    concern = assigned_concern(app)
    app.record_progress(concern, STAFF, "已联系物业")
    app.raise_concern(STAFF, draft())
    bad = app.db.position_of(str(concern), 2)
    assert bad is not None
    corrupt_event(url, bad)
    return concern, bad


def test_the_concerns_state_names_the_position_and_its_history_marks_the_event(
    minqing: Minqing, database_url: str
) -> None:
    concern, bad = unreadable_handling(minqing, database_url)

    with pytest.raises(UnreadableEvent) as caught:
        minqing.get_concern(concern)
    assert (caught.value.position, caught.value.version) == (bad, 2)
    assert caught.value.event_type == "Concern.HandledNow"
    assert f"position {bad}" in str(caught.value)
    assert minqing.get_concern(concern, version=1).status == "intake"  # before it: readable

    history = minqing.history(concern)
    assert [e["type"] for e in history] == ["Raised", "unreadable", "ProgressRecorded"]
    marked = history[1]
    assert marked["unreadable"] is True
    assert (marked["position"], marked["version"], marked["stored_type"]) == (bad, 2, "HandledNow")
    assert history[2]["data"]["note"] == "已联系物业"


def test_the_feed_sends_a_stand_in_at_that_position_and_goes_on(
    minqing: Minqing, database_url: str
) -> None:
    concern, bad = unreadable_handling(minqing, database_url)

    page = EventFeed(minqing, SOURCE).page(0, 1000)

    [stand_in] = [e for e in page.events if e["sequence"] == sequence(bad)]
    assert stand_in == {
        "specversion": "1.0",
        "id": event_id(concern, 2),
        "source": SOURCE,
        "type": UNREADABLE_TYPE,
        "subject": str(concern),
        "sequence": sequence(bad),
    }
    after = [e for e in page.events if e["sequence"] > sequence(bad)]
    assert [e["type"] for e in after] == [
        "org.minqing.concern.progress_recorded.v1",
        "org.minqing.concern.raised.v1",
    ]
    assert page.next_after == minqing.recorder.max_notification_id()


def test_webhooks_deliver_the_stand_in_and_the_subjects_later_events(
    minqing: Minqing, database_url: str
) -> None:
    with receiving() as receiver:
        # Subscribed before the events are written; the dispatcher starts after the damage.
        _, secret = Webhooks(minqing, allow_private=True).create(INTEGRATOR, receiver.url, ())
        receiver.secrets.append(secret)
        concern, _ = unreadable_handling(minqing, database_url)
        expected = {
            e["id"]: e for e in EventFeed(minqing, "urn:minqing:community").page(0, 1000).events
        }
        with dispatching(minqing):
            assert receiver.wait_for(lambda r: set(expected) <= r.accepted_ids())
    stand_in = expected[event_id(concern, 2)]
    assert stand_in["type"] == UNREADABLE_TYPE
    delivered = {r.webhook_id: r.event for r in receiver.accepted()}
    assert delivered[event_id(concern, 2)] == stand_in
    assert delivered[event_id(concern, 3)]["type"] == "org.minqing.concern.progress_recorded.v1"
    assert in_order(receiver)


def test_the_read_models_that_decode_it_park_it_and_the_others_apply_it(
    minqing: Minqing, database_url: str
) -> None:
    _, bad = unreadable_handling(minqing, database_url)
    runner = ProjectionRunner(minqing, all_projections(), park_after=2, retry_seconds=0.01)

    runner.catch_up()

    parked = runner.parked()
    assert "concern_list" in {e.projection for e in parked}
    assert {e.position for e in parked} == {bad}
    assert all(e.error.startswith("MapperDeserialisationError") for e in parked)
    assert all(s.lag == 0 for s in runner.status())
    assert counted(minqing) == log_counts(minqing)  # event_counts reads no event's bytes

    # A rebuild, of one read model or of all, parks it again instead of failing.
    assert runner.rebuild("concern_list").parked == (bad,)
    assert {r.name: r.parked for r in runner.rebuild_all() if r.parked} == {
        e.projection: (bad,) for e in parked
    }
    assert [(e.projection, e.position) for e in runner.parked()] == [
        (e.projection, e.position) for e in parked
    ]


def test_the_audit_names_it_as_changed(minqing: Minqing, database_url: str) -> None:
    audit.install_guards(minqing.db)
    concern = assigned_concern(minqing)
    bad = minqing.db.position_of(str(concern), 2)
    audit.extend_chain(minqing.db)
    assert bad is not None
    corrupt_event(database_url, bad)

    report = audit.verify(minqing.db)

    assert report.first_problem is not None
    assert (report.first_problem.kind, report.first_problem.position) == ("changed", bad)
