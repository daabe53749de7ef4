"""Events written by the code before households, representatives' names and deputy chairs
came in still load, show and count, on both stores: a visit with its household as text, a
meeting opened with plain representatives' names and scheduled without a deputy chair."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import StoredEvent

from application.minqing import Minqing, NewVisit
from domain.meeting import Meeting, MeetingKind
from domain.permissions import runs_meeting
from domain.principal import Actor
from domain.visit import SealedHousehold, Visit
from domain.vocabulary import DutyRole, Role
from domain.voting import Rules
from projections.ledger import Selection, read_ledger
from projections.ledger_figures import Clock
from projections.registry import all_projections
from projections.runner import ProjectionRunner
from tests.integration.support import STAFF

AT = datetime(2026, 3, 3, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
HOUSEHOLD = "5号楼201室"
NAMES = ["居民代表张秀英"]


def store_as_old_code_did(app: Minqing, aggregate: Aggregate, **state: Any) -> None:
    """Store the aggregate's new events with fields as the older code wrote them: each
    name in `state` set (or, with None, left out) in the stored JSON of every event that
    has it."""
    stored = []
    for event in aggregate.collect_events():
        fresh = app.mapper.to_stored_event(event)
        data = json.loads(fresh.state)
        # The older code wrote every event as its class's first version (no class_version).
        data.pop("class_version", None)
        for name, value in state.items():
            if name in data:
                if value is None:
                    del data[name]
                else:
                    data[name] = value
        raw = json.dumps(data, ensure_ascii=False).encode()
        stored.append(replace(fresh, state=raw))
    app.recorder.insert_events([StoredEvent(**vars(s)) for s in stored])


def test_a_visit_recorded_with_its_household_as_text_loads_shows_and_counts(
    minqing: Minqing,
) -> None:
    old = Visit.record(
        grid="2",
        household=HOUSEHOLD,
        visited_on=AT.date(),
        priority_visit=None,
        notes=None,
        concern_ids=[],
        actor_id=STAFF.id,
        actor_role=Role.STAFF.value,
        at=AT,
        seal=lambda grid, text: SealedHousehold("R-none", "", ""),
    )
    store_as_old_code_did(
        minqing,
        old,
        household=HOUSEHOLD,
        household_ref=None,
        household_sealed=None,
        household_key=None,
    )
    loaded = minqing.get_visit(old.id)
    assert loaded.household_ref is None
    assert minqing.household_of(loaded) == HOUSEHOLD

    # A visit to the same household recorded now (typed with a space) counts as the same one.
    today = date.today() - timedelta(days=1)
    minqing.record_visit(STAFF, NewVisit(grid="2", household="5号楼 201室", visited_on=today))
    ProjectionRunner(minqing, all_projections()).catch_up()
    now = Clock(datetime.now(minqing.zone), minqing.zone)
    figures = read_ledger(minqing.db, Selection(), (), now)["totals"]["figures"]
    assert (figures["visits"], figures["households_visited"]) == (2, 1)


def test_a_meeting_scheduled_without_a_deputy_and_opened_with_plain_names_loads(
    minqing: Minqing,
) -> None:
    chair = UUID(minqing.register_member(STAFF, "张红梅", ["2"], [DutyRole.MEDIATOR], True).id)
    actor = Actor(STAFF.id, Role.COMMITTEE)
    meeting = Meeting.schedule(
        title="3月主题党日",
        kind=MeetingKind.THEMATIC_PARTY_DAY,
        scheduled_for=AT + timedelta(days=1),
        place="社区党群服务中心",
        chair=chair,
        eligible_voters=[chair],
        rules=Rules(),
        actor=actor,
        at=AT,
    )
    meeting.open(Actor(STAFF.id, Role.CHAIR), [chair], [], AT + timedelta(days=1))
    store_as_old_code_did(
        minqing,
        meeting,
        deputy_chair=None,
        sealed_representatives=None,
        resident_representatives=NAMES,
    )
    loaded = minqing.get_meeting(meeting.id)
    assert loaded.deputy_chair is None
    assert loaded.runners() == frozenset({chair})
    assert minqing.representatives_of(loaded) == [{"name": NAMES[0], "resident_ref": None}]
    named_chair = replace(STAFF, roles=frozenset({Role.CHAIR}), member_id=chair)
    assert runs_meeting(named_chair, loaded)
    closed = minqing.close_meeting(meeting.id, named_chair, "会议纪要")
    assert closed.status == "closed"
