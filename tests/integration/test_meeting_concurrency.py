"""Fifty members voting at once on one agenda item: every vote counted exactly once, and the
tally equals the votes recorded; on SQLite and PostgreSQL, from one application and (on
PostgreSQL) from several applications on one database, as several API processes would."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from functools import partial
from itertools import cycle
from uuid import UUID

import pytest

from application.minqing import CommandResult, Minqing
from domain.errors import Conflict, TransitionNotAllowed
from domain.meeting import MeetingKind
from domain.principal import Principal
from domain.vocabulary import DutyRole, Role
from domain.voting import Choice
from tests.integration.support import STAFF, Outcome, draft, is_postgres, open_app, run_together

N = 50
CHOICES = [Choice.FOR] * 30 + [Choice.AGAINST] * 12 + [Choice.ABSTAIN] * 8
assert len(CHOICES) == N

COMMITTEE = Principal(
    id="committee-1", name="committee", roles=frozenset({Role.COMMITTEE}), grids=frozenset()
)
CHAIR = Principal(id="chair-1", name="chair", roles=frozenset({Role.CHAIR}), grids=frozenset())


def chair_of(app: Minqing, meeting: UUID) -> Principal:
    """The chair principal linked to the member the meeting names as its chair."""
    return replace(CHAIR, member_id=app.get_meeting(meeting).chair)


# "one": every thread shares the application; "many": four applications on one database.
SHARING = ["one", "many"]


@pytest.fixture(params=SHARING)
def apps(
    request: pytest.FixtureRequest, minqing: Minqing, database_url: str, master_key: bytes
) -> Iterator[list[Minqing]]:
    """The applications the voters' threads call, round robin; the first is `minqing`."""
    if request.param == "one":
        yield [minqing]
        return
    if not is_postgres(database_url):
        pytest.skip("several processes on one database is the PostgreSQL deployment")
    others = [open_app(database_url, master_key) for _ in range(3)]
    try:
        yield [minqing, *others]
    finally:
        for app in others:
            app.close()


def member_principal(member: UUID) -> Principal:
    """A member's own token: role member, linked to the member."""
    return Principal(
        id=f"member-{member}",
        name=f"member {member}",
        roles=frozenset({Role.MEMBER}),
        grids=frozenset(),
        member_id=member,
    )


def register(app: Minqing, count: int) -> list[UUID]:
    """Members of the branch, each entitled to vote."""
    return [
        UUID(app.register_member(STAFF, f"党员{i:02d}", ["2"], [DutyRole.MEDIATOR], True).id)
        for i in range(count)
    ]


def open_vote_with(app: Minqing, voters: int) -> tuple[UUID, UUID, list[UUID]]:
    """A meeting of `voters` entitled members, all present, one item with its vote open."""
    members = register(app, voters)
    concern = UUID(app.raise_concern(STAFF, draft()).id)
    app.refer(concern, STAFF)
    meeting = UUID(
        app.schedule_meeting(
            COMMITTEE,
            "3月主题党日·民情会诊",
            MeetingKind.THEMATIC_PARTY_DAY,
            app.clock() + timedelta(days=5),
            "社区党群服务中心",
            members[0],
            members,
        ).id
    )
    app.shortlist(meeting, COMMITTEE, concern)
    app.open_meeting(meeting, chair_of(app, meeting), members, ["居民代表张秀英"])
    app.open_vote(meeting, chair_of(app, meeting), concern)
    return meeting, concern, members


def vote_calls(
    apps: list[Minqing], meeting: UUID, concern: UUID, members: list[UUID]
) -> list[Callable[[], CommandResult]]:
    return [
        partial(app.cast_vote, meeting, member_principal(member), concern, choice)
        for member, choice, app in zip(members, CHOICES, cycle(apps), strict=False)
    ]


def retrying(call: Callable[[], CommandResult], attempts: int = 5) -> CommandResult:
    """What a phone does with a 409 "try again" (rule concurrent_change): send it again.

    api.md answers a concurrent change with 409 `conflict`, having recorded nothing, so
    sending the vote again is safe. With four applications on PostgreSQL, one or two of the
    fifty votes sometimes exhaust the service's own retries (ATTEMPTS in
    domain/application.py) and need this.
    """
    for _ in range(attempts - 1):
        try:
            return call()
        except Conflict as exc:
            if exc.rule != "concurrent_change":
                raise
    return call()


def test_fifty_members_vote_at_once_and_every_vote_is_counted_exactly_once(
    apps: list[Minqing],
) -> None:
    first = apps[0]
    meeting, concern, members = open_vote_with(first, N)
    version = first.get_meeting(meeting).version

    outcomes: list[Outcome[CommandResult]] = run_together(
        [partial(retrying, call) for call in vote_calls(apps, meeting, concern, members)]
    )

    errors = [o.error for o in outcomes if o.error is not None]
    assert errors == [], f"{len(errors)} of {N} votes failed: {errors[:3]!r}"
    results = [o.value for o in outcomes if o.value is not None]
    assert len(results) == N
    # Each vote is its own event: versions N apart, none given twice.
    assert sorted(r.version for r in results) == list(range(version + 1, version + N + 1))

    # Every vote recorded once, as cast.
    history = first.meeting_history(meeting)
    cast = [e for e in history if e["type"] == "VoteCast"]
    assert len(cast) == N
    recorded = {e["data"]["voter"]: e["data"]["choice"] for e in cast}
    assert recorded == {str(m): c.value for m, c in zip(members, CHOICES, strict=True)}

    # The tally is the votes recorded, live and once the vote is closed.
    expected = Counter(c.value for c in CHOICES)
    live = first.get_meeting(meeting).tally(concern)
    assert (live.votes_for, live.against, live.abstain) == (
        expected["for"],
        expected["against"],
        expected["abstain"],
    )
    closed = first.close_vote(meeting, chair_of(first, meeting), concern)
    tally = (closed.extra or {})["tally"]
    assert (tally["for"], tally["against"], tally["abstain"], tally["voted"]) == (30, 12, 8, N)
    assert tally["outcome"] == "adopted"  # 30 > 50/2
    vote_closed = [e for e in first.meeting_history(meeting) if e["type"] == "VoteClosed"]
    assert vote_closed[0]["data"]["tally"] == tally
    adopted = [e for e in first.history(concern) if e["type"] == "AdoptedAtMeeting"]
    assert adopted[0]["data"]["tally"] == tally
    # Every application on the database sees the same meeting.
    for app in apps:
        assert app.get_meeting(meeting).items[str(concern)]["tally"] == tally


def test_a_member_voting_from_several_devices_at_once_is_counted_once(
    apps: list[Minqing],
) -> None:
    first = apps[0]
    meeting, concern, members = open_vote_with(first, 3)
    voter = member_principal(members[1])
    calls = [
        partial(retrying, partial(app.cast_vote, meeting, voter, concern, choice))
        for app, choice in zip(cycle(apps), [Choice.FOR, Choice.AGAINST] * 5, strict=False)
    ]

    outcomes = run_together(calls)

    won = [o.value for o in outcomes if o.value is not None]
    lost = [o.error for o in outcomes if o.error is not None]
    assert len(won) == 1
    assert len(lost) == len(calls) - 1
    assert all(isinstance(e, Conflict) and e.rule == "already_voted" for e in lost), lost
    cast = [e for e in first.meeting_history(meeting) if e["type"] == "VoteCast"]
    assert len(cast) == 1
    assert first.get_meeting(meeting).tally(concern).as_dict()["voted"] == 1


def test_votes_racing_the_close_are_either_counted_or_refused_as_closed(
    apps: list[Minqing],
) -> None:
    first = apps[0]
    meeting, concern, members = open_vote_with(first, 20)
    votes: list[Callable[[], CommandResult]] = [
        partial(retrying, call) for call in vote_calls(apps, meeting, concern, members)
    ]
    close: Callable[[], CommandResult] = partial(
        retrying, partial(first.close_vote, meeting, chair_of(first, meeting), concern)
    )

    outcomes = run_together([*votes, close])

    closing = outcomes[-1]
    assert closing.error is None, closing.error
    refused = [o.error for o in outcomes[:-1] if o.error is not None]
    assert all(isinstance(e, Conflict) and e.rule == "vote_closed" for e in refused), refused
    counted = len(outcomes) - 1 - len(refused)
    # Nothing counted after the close: the closing tally is exactly the votes that got in.
    history = first.meeting_history(meeting)
    types = [e["type"] for e in history]
    closed_at = types.index("VoteClosed")
    assert "VoteCast" not in types[closed_at + 1 :]
    assert types.count("VoteCast") == counted
    tally = history[closed_at]["data"]["tally"]
    assert tally["voted"] == counted
    cast_choices = Counter(e["data"]["choice"] for e in history if e["type"] == "VoteCast")
    assert (tally["for"], tally["against"], tally["abstain"]) == (
        cast_choices["for"],
        cast_choices["against"],
        cast_choices["abstain"],
    )


def test_one_concern_shortlisted_onto_several_meetings_at_once_joins_one_agenda(
    apps: list[Minqing],
) -> None:
    first = apps[0]
    members = register(first, 2)
    concern = UUID(first.raise_concern(STAFF, draft()).id)
    first.refer(concern, STAFF)
    meetings = [
        UUID(
            first.schedule_meeting(
                COMMITTEE,
                f"第{i}次主题党日",
                MeetingKind.THEMATIC_PARTY_DAY,
                first.clock() + timedelta(days=5 + i),
                "",
                members[0],
                members,
            ).id
        )
        for i in range(8)
    ]
    calls: list[Callable[[], CommandResult]] = [
        partial(retrying, partial(app.shortlist, meeting, COMMITTEE, concern))
        for meeting, app in zip(meetings, cycle(apps), strict=False)
    ]

    outcomes = run_together(calls)

    won = [o.value for o in outcomes if o.value is not None]
    assert len(won) == 1, [o.error for o in outcomes]
    lost = [o.error for o in outcomes if o.error is not None]
    assert all(isinstance(e, TransitionNotAllowed) for e in lost), lost
    agendas = {m: first.get_meeting(m).agenda for m in meetings}
    assert [m for m, agenda in agendas.items() if agenda] == [UUID(won[0].id)]
    assert agendas[UUID(won[0].id)] == [concern]
    shortlisted = [e for e in first.history(concern) if e["type"] == "Shortlisted"]
    assert len(shortlisted) == 1
    assert shortlisted[0]["data"]["meeting_id"] == won[0].id
    assert first.get_concern(concern).meeting_id == UUID(won[0].id)
