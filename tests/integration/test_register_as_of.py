"""The register "as of" a moment equals a replay of the log up to that moment (hypothesis).

Random commands on several concerns, with the moments between them noted; for every moment
the register folded from the log must hold exactly the concerns recorded by then, each
equal to the concern replayed from its own events up to the version it had then (read
through the repository, independently of the list projection's code).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from uuid import UUID

from eventsourcing.utils import get_topic
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from application.minqing import Minqing
from domain.concern import Concern
from domain.errors import DomainError
from domain.permissions import actions_for
from domain.vocabulary import DutyRole, Satisfaction
from projections.concerns import TABLE, ConcernQuery, list_concerns
from projections.register_as_of import register_as_of
from tests.integration.support import STAFF, add_member, draft, due_in
from tests.integration.test_projections import folded_row

Step = Callable[[Minqing, UUID, UUID], object]

STEPS: dict[str, Step] = {
    "refer": lambda app, c, _: app.refer(c, STAFF, "请支委会研究"),
    "handle_now": lambda app, c, owner: app.handle_now(
        c, STAFF, owner, DutyRole.ENVIRONMENT_MONITOR, due_in(app, 30)
    ),
    "decline": lambda app, c, _: app.decline(c, STAFF, "不属于社区职责"),
    "return_for_info": lambda app, c, _: app.return_for_info(c, STAFF, "具体位置"),
    "assign": lambda app, c, owner: app.assign(
        c, STAFF, owner, DutyRole.PROJECT_COORDINATOR, due_in(app, 20)
    ),
    "record_progress": lambda app, c, _: app.record_progress(c, STAFF, "已联系物业"),
    "extend_deadline": lambda app, c, _: app.extend_deadline(
        c, STAFF, (app.get_concern(c).due_on or due_in(app, 30)) + timedelta(days=7), "配件未到"
    ),
    "reassign": lambda app, c, owner: app.reassign(c, STAFF, owner, DutyRole.MEDIATOR, "换人负责"),
    "resolve": lambda app, c, _: app.resolve(c, STAFF, "更换了6盏路灯"),
    "record_feedback": lambda app, c, _: app.record_feedback(
        c, STAFF, False, Satisfaction.DISSATISFIED
    ),
    "reopen": lambda app, c, _: app.reopen(c, STAFF, "居民反映又坏了"),
}


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    plan=st.lists(
        st.tuples(st.integers(min_value=0, max_value=3), st.integers(min_value=0, max_value=99)),
        min_size=1,
        max_size=14,
    )
)
# Found by hypothesis: the fourth step reassigns to the owner already named.
@example(plan=[(0, 0), (0, 1), (0, 2), (0, 2)])
def test_the_register_as_of_a_moment_equals_a_replay_of_the_log_up_to_it(
    minqing: Minqing, plan: list[tuple[int, int]]
) -> None:
    app = minqing
    owner = add_member(app)
    concerns: list[UUID] = []
    moments = [datetime.now(UTC)]
    for which, pick in plan:
        if which >= len(concerns):
            concerns.append(UUID(app.raise_concern(STAFF, draft()).id))
        else:
            cid = concerns[which]
            allowed = [a for a in actions_for(STAFF, app.get_concern(cid)) if a in STEPS]
            if allowed:
                # A step the rules refuse (reassigning to the same owner) records nothing.
                with contextlib.suppress(DomainError):
                    STEPS[allowed[pick % len(allowed)]](app, cid, owner)
        moments.append(datetime.now(UTC))

    # The examples share the database: concerns of earlier examples are in the log too.
    raised = get_topic(Concern.Raised)  # type: ignore[attr-defined]
    every_concern = {
        UUID(str(n.originator_id))
        for n in app.recorder.select_notifications(0, 100_000, topics=[raised])
    }
    assert set(concerns) <= every_concern
    for moment in moments:
        expected = {}
        for cid in every_concern:
            version = app.version_at(cid, moment)
            if version:
                expected[str(cid)] = folded_row(app, cid, version)
        with register_as_of(app, moment) as past:
            rows = past.db.fetchall(f"SELECT * FROM {TABLE}")  # noqa: S608
            folded = {str(r["id"]): {**dict(r)} for r in rows}
            for row in folded.values():
                row["round"], row["version"] = int(row["round"]), int(row["version"])
                row["position"] = int(row["position"])
                row["feedback_pending"] = bool(row["feedback_pending"])
            assert folded == expected
            listed = list_concerns(
                past.db, ConcernQuery(), today=moment.date(), zone=app.zone, limit=200
            )
            assert {i["id"] for i in listed.items} == set(expected)
