"""The human-readable histories on both stores: a scenario that records every event type of
Concern and Meeting, and, for each event, `changes` agrees with replaying the aggregate to
that version and the one before; labels, role labels and reasons are present throughout."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from adapters.images import check_photo
from application.minqing import Minqing
from domain.history_labels import EVENT_LABELS, TRACKED_FIELDS
from domain.meeting import Meeting, MeetingKind
from domain.photos import PhotoKind
from domain.principal import Principal
from domain.supervision import Grade
from domain.vocabulary import DutyRole, Role, Satisfaction
from domain.voting import Choice
from tests.integration.support import STAFF, draft, open_app

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
COMMITTEE = Principal(
    id="committee-1", name="committee", roles=frozenset({Role.COMMITTEE}), grids=frozenset()
)
CHAIR = Principal(id="chair-1", name="chair", roles=frozenset({Role.CHAIR}), grids=frozenset())
SUPERVISOR = Principal(
    id="supervisor-1", name="supervisor", roles=frozenset({Role.SUPERVISOR}), grids=frozenset()
)
FEEDBACK_WINDOW_DAYS = 7


class Clock:
    """A clock the test moves; every read is a minute after the last, so events differ."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


def member_principal(member: UUID) -> Principal:
    return Principal(
        id=f"member-{member}",
        name=f"member {member}",
        roles=frozenset({Role.MEMBER}),
        grids=frozenset(),
        member_id=member,
    )


@dataclass
class Scenario:
    app: Minqing
    concerns: list[UUID]
    meetings: list[UUID]
    worked: UUID  # the concern that goes the long way round


def _meeting(app: Minqing, members: list[UUID], title: str) -> UUID:
    return UUID(
        app.schedule_meeting(
            COMMITTEE,
            title,
            MeetingKind.THEMATIC_PARTY_DAY,
            app.clock() + timedelta(days=1),
            "社区党群服务中心",
            members[0],
            members,
        ).id
    )


def chair_of(app: Minqing, meeting: UUID) -> Principal:
    """The chair principal linked to the member the meeting names as its chair."""
    return replace(CHAIR, member_id=app.get_meeting(meeting).chair)


def _vote(app: Minqing, meeting: UUID, concern: UUID, members: list[UUID], c: Choice) -> None:
    app.open_vote(meeting, chair_of(app, meeting), concern)
    for m in members:
        app.cast_vote(meeting, member_principal(m), concern, c)
    app.close_vote(meeting, chair_of(app, meeting), concern)


def play(app: Minqing, clock: Clock) -> Scenario:
    """Every event type of Concern and Meeting, each at least once."""
    members = [
        UUID(app.register_member(STAFF, f"党员{i}", ["2"], [DutyRole.MEDIATOR], True).id)
        for i in range(3)
    ]
    first, second = members[0], members[1]

    def raised() -> UUID:
        return UUID(app.raise_concern(STAFF, draft()).id)

    def today(days: int) -> date:
        return clock.now.date() + timedelta(days=days)

    # The worked concern: committee, back for information, a meeting adopts it, the chair
    # assigns, the deadline moves, the owner changes and sends it back, it is assigned again,
    # misses its deadline, is resolved twice (one reopening) and the feedback comes late.
    worked = raised()
    # Left in triage past its limit: the watcher records the stage missed.
    clock.advance(timedelta(days=10))
    assert app.record_missed_stage(worked) == ["StageMissed"]
    app.refer(worked, STAFF)
    app.return_for_info(worked, COMMITTEE, "a photo of the lamp")
    app.refer(worked, STAFF)
    adopting = _meeting(app, members, "3月主题党日")
    app.shortlist(adopting, COMMITTEE, worked)
    app.open_meeting(adopting, chair_of(app, adopting), members)
    _vote(app, adopting, worked, members, Choice.FOR)
    app.close_meeting(adopting, chair_of(app, adopting), "通过一项")
    app.assign(worked, chair_of(app, adopting), first, DutyRole.MEDIATOR, today(10))
    app.record_progress(worked, STAFF, "called the lighting contractor")
    # A commitment (承诺) in public: a milestone added and done.
    added = app.add_milestone(worked, STAFF, "order the lamp", today(5))
    app.complete_milestone(worked, STAFF, UUID(added.body()["milestone_id"]), "ordered")
    # Supervised (督办) and answered; an extension asked, refused, asked again and approved.
    app.supervise(worked, SUPERVISOR, Grade.YELLOW, "report progress", today(3))
    app.reply_supervision(worked, member_principal(first), "parts ordered")
    app.request_extension(worked, member_principal(first), "parts delayed")
    app.refuse_extension(worked, COMMITTEE, "try another supplier")
    app.request_extension(worked, member_principal(first), "no supplier has them")
    app.extend_deadline(worked, COMMITTEE, today(20), "parts delayed")
    # Suspension (挂账): asked, refused, asked again, approved and resumed at once.
    app.request_suspension(worked, member_principal(first), "waiting for power", today(3))
    app.refuse_suspension(worked, COMMITTEE, "call the power company first")
    app.request_suspension(worked, member_principal(first), "the power company", today(3))
    app.approve_suspension(worked, COMMITTEE)
    app.resume(worked, COMMITTEE)
    app.reassign(worked, COMMITTEE, second, DutyRole.MEDIATOR, "first owner on leave")
    app.send_back(worked, member_principal(second), "not a mediation matter")
    app.assign(worked, COMMITTEE, first, DutyRole.ENVIRONMENT_MONITOR, today(5))
    clock.advance(timedelta(days=6))
    assert app.record_missed_deadlines(worked, FEEDBACK_WINDOW_DAYS) == ["DeadlineMissed"]
    app.resolve(worked, STAFF, "lamp replaced")
    app.record_feedback(worked, STAFF, False, Satisfaction.DISSATISFIED, "still dark")
    app.resolve(worked, STAFF, "wiring repaired too")
    shot = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 180, 20)).save(shot, "PNG")
    app.attach_photo(worked, STAFF, check_photo(shot.getvalue()), PhotoKind.AFTER, "new lamp")
    clock.advance(timedelta(days=FEEDBACK_WINDOW_DAYS + 1))
    assert app.record_missed_deadlines(worked, FEEDBACK_WINDOW_DAYS) == ["FeedbackOverdue"]
    app.record_feedback(worked, STAFF, True, Satisfaction.SATISFIED)
    # The owner appeals the missed handling stage (超期申诉); the supervisor approves.
    app.appeal(worked, member_principal(first), "handling", "no supplier had the parts")
    app.decide_appeal(worked, SUPERVISOR, True, "confirmed with the suppliers")
    app.write_off(worked, STAFF, "the commitment is kept")
    app.reopen(worked, STAFF, "the lamp failed again")

    # A void (作废): proposed, refused, proposed again and approved by a supervisor.
    voided = raised()
    app.propose_void(voided, STAFF, "raised twice")
    app.refuse_void(voided, SUPERVISOR, "a different lamp")
    app.propose_void(voided, STAFF, "the same lamp after all")
    app.approve_void(voided, SUPERVISOR)

    # A meeting that rejects one concern and defers another by closing undecided.
    rejected, deferred = raised(), raised()
    deciding = _meeting(app, members, "4月主题党日")
    for c in (rejected, deferred):
        app.refer(c, STAFF)
        app.shortlist(deciding, COMMITTEE, c)
    app.open_meeting(deciding, chair_of(app, deciding), members)
    _vote(app, deciding, rejected, members, Choice.AGAINST)
    app.close_meeting(deciding, chair_of(app, deciding), "否决一项，暂缓一项")

    # A secret ballot with a late arrival; then all but one leave and the chair declares the
    # meeting inquorate, which defers the item left.
    secret_item, left_over = raised(), raised()
    secret = UUID(
        app.schedule_meeting(
            COMMITTEE,
            "5月主题党日",
            MeetingKind.THEMATIC_PARTY_DAY,
            app.clock() + timedelta(days=1),
            "社区党群服务中心",
            members[0],
            members,
            {"ballot": "secret"},
        ).id
    )
    for c in (secret_item, left_over):
        app.refer(c, STAFF)
        app.shortlist(secret, COMMITTEE, c)
    app.open_meeting(secret, chair_of(app, secret), members[:-1])
    app.record_attendance(secret, chair_of(app, secret), [members[-1]], [])
    _vote(app, secret, secret_item, members, Choice.FOR)
    app.record_attendance(secret, chair_of(app, secret), [], members[1:])
    app.declare_inquorate(secret, chair_of(app, secret))

    # The short ways out of intake.
    handled, declined, withdrawn, merged = raised(), raised(), raised(), raised()
    app.handle_now(handled, STAFF, first, DutyRole.MEDIATOR, today(3))
    app.decline(declined, STAFF, "a matter for the housing office")
    app.withdraw(withdrawn, STAFF, "the resident settled it with the neighbour")
    app.merge(merged, STAFF, handled, "same lamp")

    return Scenario(
        app,
        [
            *(worked, rejected, deferred, handled, declined, withdrawn, merged),
            *(secret_item, left_over, voided),
        ],
        [adopting, deciding, secret],
        worked,
    )


@pytest.fixture
def scenario(database_url: str, master_key: bytes) -> Iterator[Scenario]:
    clock = Clock(T0)
    app = open_app(database_url, master_key, clock)
    try:
        yield play(app, clock)
    finally:
        app.close()


def plain(value: Any) -> Any:
    """A field's value as it appears in a history entry."""
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def tracked(aggregate: Any, kind: str) -> dict[str, Any]:
    return {name: plain(getattr(aggregate, name)) for name in TRACKED_FIELDS[kind]}


def test_the_scenario_records_every_event_type_of_concern_and_meeting(
    scenario: Scenario,
) -> None:
    app = scenario.app
    concern_types = {e["type"] for c in scenario.concerns for e in app.history(c)}
    meeting_types = {e["type"] for m in scenario.meetings for e in app.meeting_history(m)}

    assert concern_types == set(EVENT_LABELS["Concern"])
    assert meeting_types == set(EVENT_LABELS["Meeting"])


def test_each_concern_events_changes_equal_the_difference_between_replayed_versions(
    scenario: Scenario,
) -> None:
    app = scenario.app
    for concern_id in scenario.concerns:
        before = dict.fromkeys(TRACKED_FIELDS["Concern"])
        before["round"] = 1
        for e in app.history(concern_id):
            after = tracked(app.get_concern(concern_id, version=e["version"]), "Concern")
            expected = {
                k: {"from": before[k], "to": after[k]} for k in after if after[k] != before[k]
            }
            assert e["changes"] == expected, (concern_id, e["version"], e["type"])
            before = after


def test_each_meeting_events_changes_equal_the_difference_between_replayed_versions(
    scenario: Scenario,
) -> None:
    app = scenario.app
    for meeting_id in scenario.meetings:
        before: dict[str, Any] = dict.fromkeys(TRACKED_FIELDS["Meeting"])
        for e in app.meeting_history(meeting_id):
            replayed: object = app.repository.get(meeting_id, version=e["version"])
            assert isinstance(replayed, Meeting)
            after = tracked(replayed, "Meeting")
            expected = {
                k: {"from": before[k], "to": after[k]} for k in after if after[k] != before[k]
            }
            assert e["changes"] == expected, (meeting_id, e["version"], e["type"])
            before = after


def test_the_worked_concerns_timeline_reads_status_by_status_with_reasons(
    scenario: Scenario,
) -> None:
    history = scenario.app.history(scenario.worked)
    statuses = [
        (e["type"], e["changes"]["status"]["from"], e["changes"]["status"]["to"])
        for e in history
        if "status" in e["changes"]
    ]
    reasons = {e["type"]: e["reason"] for e in history if e["reason"] is not None}

    assert statuses[:5] == [
        ("Raised", None, "intake"),
        ("Referred", "intake", "committee"),
        ("ReturnedForInfo", "committee", "intake"),
        ("Referred", "intake", "committee"),
        ("Shortlisted", "committee", "branch_meeting"),
    ]
    assert ("SentBack", "assigned", "committee") in statuses
    assert ("Reopened", "resolved", "assigned") in statuses
    assert reasons["ReturnedForInfo"] == "a photo of the lamp"
    assert reasons["DeadlineExtended"] == "parts delayed"
    assert reasons["Reassigned"] == "first owner on leave"
    assert reasons["SentBack"] == "not a mediation matter"
    assert reasons["Resolved"] == "wiring repaired too"  # the later of the two rounds
    extended = next(e for e in history if e["type"] == "DeadlineExtended")
    assert set(extended["changes"]) == {"due_on"}


def test_every_entry_carries_labels_and_keeps_its_original_keys(scenario: Scenario) -> None:
    app = scenario.app
    entries = [("Concern", e) for c in scenario.concerns for e in app.history(c)] + [
        ("Meeting", e) for m in scenario.meetings for e in app.meeting_history(m)
    ]
    for kind, e in entries:
        assert {"version", "type", "at", "recorded_at", "actor", "role", "data"} <= set(e)
        label = EVENT_LABELS[kind][e["type"]]
        assert e["label"] == {"zh": label.zh, "en": label.en}
        role = Role(e["role"])
        assert e["role_label"] == {"zh": role.zh, "en": role.en}
        assert e["reason"] is None or isinstance(e["reason"], str)
        assert isinstance(e["changes"], dict)
