"""The member, meeting and post lists fold each aggregate from one pass over the log's
events of its kind (MinqingBase._all_of): what they hold is what the repository loads one
by one, in the order the aggregates were created, across several 500-event reads, and an
erased representative stays erased."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest

from application.minqing import Minqing
from application.residents import erase_personal_data
from domain.meeting import MeetingKind
from domain.principal import Principal
from domain.service import Rating
from domain.vocabulary import DutyRole, Role
from tests.integration.support import STAFF

KINDS: list[dict[str, Any]] = [
    {},
    {"kind": "in_service", "organisation": "区卫健委"},
    {"kind": "volunteer", "badge_number": "V-1"},
]


def chair_of(member: UUID) -> Principal:
    """The meeting's chair, signed in as the member it names."""
    return Principal("chair-1", "chair", frozenset({Role.CHAIR}), frozenset(), member)


def counted(app: Minqing, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How often the recorder is read: the log by position, and one aggregate's events."""
    calls = {"select_notifications": 0, "select_events": 0}
    for name in calls:
        original: Callable[..., Any] = getattr(app.recorder, name)

        def read(
            *args: Any, _original: Callable[..., Any] = original, _name: str = name, **kwargs: Any
        ) -> Any:
            calls[_name] += 1
            return _original(*args, **kwargs)

        monkeypatch.setattr(app.recorder, name, read)
    return calls


def test_the_lists_hold_what_the_repository_loads_in_creation_order(
    minqing: Minqing, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = minqing
    today = app.clock().date()
    members: list[UUID] = []
    meetings: list[UUID] = []
    posts: list[UUID] = []
    for i in range(200):
        extra = KINDS[i % 3]
        if extra.get("kind") == "in_service":
            extra = {**extra, "reported_on": today}
        found = app.register_member(
            STAFF, f"成员{i}", [str(i % 4)], [DutyRole.PROJECT_COORDINATOR], True, **extra
        )
        members.append(UUID(found.id))
        if i % 50 == 1:  # meetings and posts in between, so the kinds' events interleave
            voters = members[::3][:3]
            meetings.append(
                UUID(
                    app.schedule_meeting(
                        STAFF,
                        f"会议{i}",
                        MeetingKind.THEMATIC_PARTY_DAY,
                        app.clock() + timedelta(days=i + 1),
                        "社区党群服务中心",
                        voters[0],
                        voters,
                    ).id
                )
            )
            posts.append(UUID(app.set_post(STAFF, f"岗位{i}", "1", "值守", 3).id))
    # Changed several times, the earliest registered last: the order of the last events
    # differs from the order of registration, which the lists keep.
    for period in ("2025", "2026H1", "2026H2"):
        for member in reversed(members):
            app.give_feedback(member, STAFF, period, Rating.GOOD, f"{period} 好")
    for n, member in enumerate(reversed(members)):
        app.set_public_identity(member, STAFF, True)
        if n % 5 == 0:
            app.set_public_identity(member, STAFF, False)
    for post in reversed(posts):
        for member in members[:2]:
            app.claim_post(post, STAFF, member)
    app.open_meeting(meetings[-1], chair_of(members[0]), [members[0]])

    calls = counted(app, monkeypatch)
    listed = app.list_members()
    member_events = 200 + 133 + 3 * 200 + 200 + 40
    assert calls == {"select_notifications": member_events // 500 + 1, "select_events": 0}
    assert [vars(m) for m in listed] == [vars(app.get_member(m)) for m in members]
    assert [vars(m) for m in app.list_meetings()] == [vars(app.get_meeting(m)) for m in meetings]
    assert [vars(p) for p in app.list_posts()] == [vars(app.get_post(p)) for p in posts]
    shown = {str(m): f"成员{i}" for i, m in enumerate(members) if i % 5 != 4}
    assert app.members_shown_in_public() == shown


def test_an_erased_representative_stays_erased_in_the_meeting_list(minqing: Minqing) -> None:
    app = minqing
    chair = UUID(app.register_member(STAFF, "李强", ["1"], [], True).id)
    meeting = UUID(
        app.schedule_meeting(
            STAFF,
            "民情会诊",
            MeetingKind.THEMATIC_PARTY_DAY,
            app.clock() + timedelta(days=1),
            "社区党群服务中心",
            chair,
            [chair],
        ).id
    )
    app.open_meeting(meeting, chair_of(chair), [chair], ["王阿姨", "赵大爷"])
    refs = [s["resident_ref"] for s in app.get_meeting(meeting).sealed_representatives]
    erase_personal_data(app, STAFF, refs[0])

    [listed] = app.list_meetings()
    assert vars(listed) == vars(app.get_meeting(meeting))
    assert app.representatives_of(listed) == [
        {"name": None, "resident_ref": refs[0]},
        {"name": "赵大爷", "resident_ref": refs[1]},
    ]
