"""The Open311 read model on both stores: its rows equal a recomputation from the log after
random histories, each request's status notes equal what the tracking page shows, and a
rebuild equals the incremental projection."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from uuid import UUID

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.minqing import Minqing
from domain.cloudevents import event_id
from domain.errors import Conflict
from domain.lifecycle import Status
from domain.permissions import actions_for
from domain.vocabulary import DutyRole, Satisfaction
from projections import open311
from projections.concerns import utc_text
from projections.open311 import STATUS_EVENTS, TABLE, Open311Updates
from projections.registry import all_projections
from projections.runner import ProjectionRunner
from tests.integration.support import STAFF, add_member, draft, due_in

Step = Callable[[Minqing, UUID, UUID], object]

STEPS: dict[str, Step] = {
    "refer": lambda app, c, _: app.refer(c, STAFF, "请支委会研究"),
    "handle_now": lambda app, c, owner: app.handle_now(
        c, STAFF, owner, DutyRole.ENVIRONMENT_MONITOR, due_in(app, 30)
    ),
    "decline": lambda app, c, _: app.decline(c, STAFF, "不属于社区职责"),
    "withdraw": lambda app, c, _: app.withdraw(c, STAFF, "居民撤回（内部）"),
    "return_for_info": lambda app, c, _: app.return_for_info(c, STAFF, "具体位置"),
    "assign": lambda app, c, owner: app.assign(
        c, STAFF, owner, DutyRole.PROJECT_COORDINATOR, due_in(app, 20)
    ),
    "record_progress": lambda app, c, _: app.record_progress(c, STAFF, "已联系物业"),
    "extend_deadline": lambda app, c, _: app.extend_deadline(
        c, STAFF, (app.get_concern(c).due_on or due_in(app, 30)) + timedelta(days=7), "配件未到"
    ),
    "resolve": lambda app, c, _: app.resolve(c, STAFF, "更换了6盏路灯"),
    "record_feedback": lambda app, c, _: app.record_feedback(
        c, STAFF, False, Satisfaction.DISSATISFIED
    ),
    "reopen": lambda app, c, _: app.reopen(c, STAFF, "居民反映又坏了"),
}


def recomputed_updates(app: Minqing) -> list[dict[str, Any]]:
    """Every status change, read from the log and the aggregates, in log order."""
    found: list[dict[str, Any]] = []
    after = 0
    while batch := app.recorder.select_notifications(
        after, 500, topics=list(open311.TOPICS), inclusive_of_start=False
    ):
        for n in batch:
            e: Any = app.mapper.to_domain_event(n)
            assert type(e).__name__ in STATUS_EVENTS
            # The note is what the tracking page showed just after this event.
            after_it = app.get_concern(e.originator_id, version=e.originator_version)
            notes = app.public_view(after_it)["public_notes"]
            found.append(
                {
                    "update_id": event_id(e.originator_id, e.originator_version),
                    "concern_id": str(e.originator_id),
                    "position": n.id,
                    "at": utc_text(e.at),
                    "status": e.status,
                    "note": "; ".join(notes) or None,
                }
            )
        after = batch[-1].id
    return found


def stored_updates(app: Minqing) -> list[dict[str, Any]]:
    rows = app.db.fetchall(f"SELECT * FROM {TABLE} ORDER BY position")  # noqa: S608
    return [{**dict(r), "position": int(r["position"])} for r in rows]


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    histories=st.lists(
        st.lists(st.integers(min_value=0, max_value=100), max_size=10), min_size=1, max_size=3
    )
)
def test_the_updates_and_status_notes_equal_a_recomputation_from_the_log(
    minqing: Minqing, histories: list[list[int]]
) -> None:
    app = minqing
    runner = ProjectionRunner(app, all_projections(), batch_size=3)
    owner = add_member(app)
    raised: list[UUID] = []
    for picks in histories:
        cid = UUID(app.raise_concern(STAFF, draft()).id)
        raised.append(cid)
        for pick in picks:
            allowed = [a for a in actions_for(STAFF, app.get_concern(cid)) if a in STEPS]
            if not allowed:
                break
            # A rule may refuse a step the table allows (a third extension in a round):
            # nothing is recorded then, and the read model must not change either.
            with contextlib.suppress(Conflict):
                STEPS[allowed[pick % len(allowed)]](app, cid, owner)
            if pick % 3 == 0:
                runner.run_once()
    runner.catch_up()

    assert stored_updates(app) == recomputed_updates(app)
    references = sorted(app.get_concern(c).reference for c in raised)
    for row in open311.requests_by_reference(app.db, references):
        concern = app.concern_by_reference(row["reference"])
        notes = app.public_view(concern)["public_notes"]
        assert row["note"] == ("; ".join(notes) or None)
        assert row["status"] == concern.status


def test_status_notes_of_every_kind_of_ending_and_a_rebuild_equals_the_incremental(
    minqing: Minqing,
) -> None:
    app = minqing
    owner = add_member(app)
    runner = ProjectionRunner(app, all_projections(), batch_size=2, rebuild_batch_size=2)
    ids = [UUID(app.raise_concern(STAFF, draft()).id) for _ in range(4)]
    declined, withdrawn, resolved, reopened = ids
    app.decline(declined, STAFF, "不属于社区职责")
    app.withdraw(withdrawn, STAFF, "居民撤回（内部）")
    for c in (resolved, reopened):
        app.handle_now(c, STAFF, owner, DutyRole.ENVIRONMENT_MONITOR, due_in(app, 5))
        app.resolve(c, STAFF, "更换了6盏路灯")
    app.reopen(reopened, STAFF, "居民反映又坏了")
    runner.catch_up()

    rows = {
        UUID(r["id"]): r
        for r in open311.requests_by_reference(app.db, [app.get_concern(c).reference for c in ids])
    }
    assert rows[declined]["note"] == "不属于社区职责"
    assert rows[withdrawn]["note"] is None
    assert rows[resolved]["note"] == "更换了6盏路灯"
    assert rows[reopened]["note"] is None
    assert rows[reopened]["status"] == Status.ASSIGNED.value

    before = stored_updates(app)
    report = runner.rebuild(Open311Updates.name)
    assert stored_updates(app) == before
    assert report.position == runner.head()
    # Declined, Withdrawn, HandledNow ×2, Resolved ×2, Reopened: the status changes.
    assert [r["status"] for r in before].count(Status.RESOLVED.value) == 2
    assert len(before) == 1 + 1 + 2 + 2 + 1
