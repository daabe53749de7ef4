"""Time travel: the concern "as of" a version or a moment equals a replay of the log.

Hypothesis drives random histories through the application's commands on a real store;
then every `as_of_version` answer (the repository at that version) is compared with an
independent replay: the concern's stored events read straight from the recorder, decoded,
and folded up to that version. `as_of` moments resolve to the last version recorded at or
before them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any, cast
from uuid import UUID

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.minqing import Minqing
from domain.concern import Concern
from domain.errors import Conflict
from domain.permissions import actions_for
from domain.vocabulary import DutyRole, Satisfaction
from tests.integration.support import STAFF, add_member, draft, due_in

Step = Callable[[Minqing, UUID, UUID], object]

# Every command STAFF (staff, grid leader, committee, admin) may give, with valid input.
STEPS: dict[str, Step] = {
    "refer": lambda app, c, _: app.refer(c, STAFF, "请支委会研究"),
    "handle_now": lambda app, c, owner: app.handle_now(
        c, STAFF, owner, DutyRole.ENVIRONMENT_MONITOR, due_in(app, 30)
    ),
    "decline": lambda app, c, _: app.decline(c, STAFF, "不属于社区职责"),
    "withdraw": lambda app, c, _: app.withdraw(c, STAFF, "居民撤回"),
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


def replay(app: Minqing, concern_id: UUID, upto: int) -> Concern:
    """Fold the concern's stored events up to version `upto`, read past the repository."""
    stored = app.recorder.select_events(concern_id, lte=upto)
    aggregate: Any = None
    for s in stored:
        aggregate = cast(Concern.Event, app.mapper.to_domain_event(s)).mutate(aggregate)
    assert isinstance(aggregate, Concern)
    return aggregate


@settings(
    max_examples=30,
    deadline=None,
    # The fixture's database is shared on purpose: each example raises its own concern.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(picks=st.lists(st.integers(min_value=0, max_value=100), max_size=12))
def test_as_of_version_and_as_of_equal_a_replay_of_the_log(
    minqing: Minqing, picks: list[int]
) -> None:
    app = minqing
    owner = add_member(app)
    cid = UUID(app.raise_concern(STAFF, draft()).id)
    for pick in picks:
        allowed = [a for a in actions_for(STAFF, app.get_concern(cid)) if a in STEPS]
        if not allowed:
            break
        # A rule may refuse a step the table allows (a third extension in a round): nothing
        # is recorded then.
        with contextlib.suppress(Conflict):
            STEPS[allowed[pick % len(allowed)]](app, cid, owner)

    now = app.get_concern(cid)
    events = [cast(Concern.Event, e) for e in app.events.get(cid)]
    assert len(events) == now.version
    for version in range(1, now.version + 1):
        as_of = app.get_concern(cid, version=version)
        assert app.concern_view(as_of, None) == app.concern_view(replay(app, cid, version), None)
    for e in events:
        # The moment an event was recorded answers with that event's version.
        assert app.version_at(cid, e.timestamp) == e.originator_version
    first = events[0].timestamp
    assert app.version_at(cid, first - timedelta(microseconds=1)) == 0
