"""Every published event type, walked through all three channels — the pull feed, the SSE
stream and a webhook receiver — with no personal data in any body.

A story on a real server records each published type at least once, with personal data in
every place it can be: the resident's name, phone and address (and so their ciphertext and
tracking code), a household's circumstances, members' names, resident representatives'
names, a visited household and the collector's notes about it; then the resident's data is
erased. Each channel must deliver every type, the same object for the same event id, and
nothing personal.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from PIL import Image

from adapters.images import check_photo
from application.hotspots import FoundHotspot
from application.minqing import Minqing, NewConcern, NewVisit
from application.residents import erase_personal_data
from domain import cloudevents
from domain.geo import Point, cell_of
from domain.meeting import MeetingKind
from domain.photos import PhotoKind
from domain.principal import Principal
from domain.residents import ResidentData
from domain.service import Rating
from domain.supervision import Grade
from domain.vocabulary import (
    Category,
    Channel,
    DutyRole,
    Library,
    PriorityVisit,
    Role,
    Satisfaction,
)
from domain.voting import Choice
from tests.conftest import BACKENDS, Server, _database, start_server
from tests.webhook_receiver import Receiver, receiving

NAME, PHONE, ADDRESS = "张秀英", "13812345678", "幸福里5号楼2单元301"
NOTES = f"{NAME}独居，女儿电话{PHONE}"
MEMBERS = ("党员李卫国", "党员王建华", "党员赵敏")
REPRESENTATIVE = "居民代表孙秀兰"
PRIORITY = PriorityVisit.PETITIONER
# Keys that must never appear in a published `data`.
WITHHELD = {
    "resident_data",
    "tracking_code",
    "priority_visit",
    "household",
    "notes",
    "name",
    "resident_representatives",
    "phone",
    "address",
}
FEEDBACK_WINDOW_DAYS = 7

BOSS = Principal(
    id="boss",
    name="boss",
    roles=frozenset(
        {Role.STAFF, Role.GRID_LEADER, Role.COMMITTEE, Role.COLLECTOR, Role.ADMIN, Role.CHAIR}
    ),
    grids=frozenset(),
)


class Clock:
    """The story's clock: a minute passes at each reading; days pass when told."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


SUPERVISOR = Principal(
    id="supervisor", name="supervisor", roles=frozenset({Role.SUPERVISOR}), grids=frozenset()
)


def member(member_id: UUID) -> Principal:
    return Principal(
        id=f"member-{member_id}",
        name="member",
        roles=frozenset({Role.MEMBER}),
        grids=frozenset(),
        member_id=member_id,
    )


def concern(app: Minqing, resident: bool = False) -> UUID:
    data = ResidentData(name=NAME, phone=PHONE, address=ADDRESS) if resident else ResidentData()
    draft = NewConcern(
        title="5号楼东侧小路路灯两周不亮",
        description="东侧小路的路灯已经坏了两个星期，老人晚上出门不安全。",
        category=Category.ENVIRONMENT,
        library=Library.PROBLEM,
        channel=Channel.VISIT,
        grid="2",
        building="5",
        priority_visit=PRIORITY if resident else None,
        resident=data,
    )
    return UUID(app.raise_concern(BOSS, draft).id)


def meeting(app: Minqing, members: list[UUID], ballot: str) -> UUID:
    return UUID(
        app.schedule_meeting(
            BOSS,
            f"主题党日（{ballot}）",
            MeetingKind.THEMATIC_PARTY_DAY,
            app.clock() + timedelta(days=1),
            "社区党群服务中心",
            members[0],
            members,
            rules={"ballot": ballot},
        ).id
    )


def chair_of(app: Minqing, at: UUID) -> Principal:
    """BOSS linked to the member the meeting names as its chair: only they run it."""
    return replace(BOSS, member_id=app.get_meeting(at).chair)


def vote(app: Minqing, at: UUID, item: UUID, members: list[UUID], choice: Choice) -> None:
    app.open_vote(at, chair_of(app, at), item)
    for m in members:
        app.cast_vote(at, member(m), item, choice)
    app.close_vote(at, chair_of(app, at), item)


def play(app: Minqing, clock: Clock) -> list[str]:
    """Record every published event type; the secrets that must not leave."""
    members = [
        UUID(app.register_member(BOSS, name, ["2"], [DutyRole.MEDIATOR], True).id)
        for name in MEMBERS
    ]
    first, second = members[0], members[1]

    def due(days: int) -> Any:
        return clock.now.date() + timedelta(days=days)

    worked = concern(app, resident=True)
    clock.now += timedelta(days=10)  # left in triage past its limit
    assert app.record_missed_stage(worked) == ["StageMissed"]
    app.refer(worked, BOSS)
    app.return_for_info(worked, BOSS, "哪几根灯杆")
    app.refer(worked, BOSS)
    adopting = meeting(app, members, "secret")
    app.shortlist(adopting, BOSS, worked)
    app.open_meeting(adopting, chair_of(app, adopting), members, [REPRESENTATIVE])
    vote(app, adopting, worked, members, Choice.FOR)
    app.close_meeting(adopting, chair_of(app, adopting), "通过一项")
    app.assign(worked, chair_of(app, adopting), first, DutyRole.MEDIATOR, due(10))
    app.record_progress(worked, BOSS, "已联系物业")
    added = app.add_milestone(worked, BOSS, "联系物业", due(3))
    app.complete_milestone(worked, BOSS, UUID(added.body()["milestone_id"]), "已联系")
    app.set_public_identity(first, BOSS, True)
    app.give_feedback(first, BOSS, "2026H1", Rating.GOOD, "按时到岗")
    app.register_member(
        BOSS,
        "林业局党员",
        ["2"],
        [],
        False,
        kind="in_service",
        organisation="县林业局",
        reported_on=clock.now.date(),
    )
    app.register_member(BOSS, "志愿者甲", ["2"], [], False, kind="volunteer", badge_number="V-77")
    app.supervise(worked, SUPERVISOR, Grade.YELLOW, "三日内答复进展", due(3))
    app.reply_supervision(worked, member(first), "配件已订购")
    app.request_extension(worked, member(first), "配件未到")
    app.refuse_extension(worked, BOSS, "请另找供应商")
    app.request_extension(worked, member(first), "供应商均缺货")
    app.extend_deadline(worked, BOSS, due(20), "配件延期")
    # Suspended (挂账): asked, refused, asked again, approved and resumed.
    app.request_suspension(worked, member(first), "等待供电公司", due(3))
    app.refuse_suspension(worked, BOSS, "请先联系供电公司")
    app.request_suspension(worked, member(first), "供电公司改线", due(3))
    app.approve_suspension(worked, BOSS)
    app.resume(worked, BOSS)
    app.reassign(worked, BOSS, second, DutyRole.MEDIATOR, "李卫国出差")
    app.send_back(worked, member(second), "不属本人职责")
    app.assign(worked, BOSS, first, DutyRole.ENVIRONMENT_MONITOR, due(5))
    clock.now += timedelta(days=6)
    assert app.record_missed_deadlines(worked, FEEDBACK_WINDOW_DAYS) == ["DeadlineMissed"]
    app.resolve(worked, BOSS, "更换了六盏路灯")
    app.record_feedback(worked, BOSS, False, Satisfaction.DISSATISFIED, "还有一盏不亮")
    app.resolve(worked, BOSS, "第七盏也换了")
    # An "after" photo whose caption names a resident's door (withheld from every channel).
    shot = io.BytesIO()
    Image.new("RGB", (64, 48), (20, 120, 200)).save(shot, "PNG")
    app.attach_photo(
        worked, BOSS, check_photo(shot.getvalue()), PhotoKind.AFTER, "张大爷家门口", True
    )
    clock.now += timedelta(days=FEEDBACK_WINDOW_DAYS + 1)
    assert app.record_missed_deadlines(worked, FEEDBACK_WINDOW_DAYS) == ["FeedbackOverdue"]
    app.record_feedback(worked, BOSS, True, Satisfaction.SATISFIED, "都亮了")
    app.appeal(worked, member(first), "handling", "配件全市缺货")
    app.decide_appeal(worked, SUPERVISOR, True, "情况属实")
    app.write_off(worked, BOSS, "承诺已兑现")
    app.reopen(worked, BOSS, "居民再次反映")

    rejected, deferred = concern(app), concern(app)
    deciding = meeting(app, members, "open")
    for c in (rejected, deferred):
        app.refer(c, BOSS)
        app.shortlist(deciding, BOSS, c)
    app.open_meeting(deciding, chair_of(app, deciding), members)
    vote(app, deciding, rejected, members, Choice.AGAINST)
    app.close_meeting(deciding, chair_of(app, deciding), "否决一项，暂缓一项")

    # Too few came: one arrives late and leaves; the chair declares the meeting inquorate.
    late = concern(app)
    app.refer(late, BOSS)
    inquorate = meeting(app, members, "open")
    app.shortlist(inquorate, BOSS, late)
    app.open_meeting(inquorate, chair_of(app, inquorate), [])
    app.record_attendance(inquorate, chair_of(app, inquorate), [members[0]], [])
    app.record_attendance(inquorate, chair_of(app, inquorate), [], [members[0]])
    app.declare_inquorate(inquorate, chair_of(app, inquorate))

    handled, declined, withdrawn, merged = (concern(app) for _ in range(4))
    app.handle_now(handled, BOSS, first, DutyRole.MEDIATOR, due(3))
    app.decline(declined, BOSS, "不属于社区职责范围")
    app.withdraw(withdrawn, BOSS, "居民撤回")
    app.merge(merged, BOSS, handled, "同一盏灯")
    # A void (作废): proposed, refused, proposed again, approved.
    voided = concern(app)
    app.propose_void(voided, BOSS, "重复登记")
    app.refuse_void(voided, SUPERVISOR, "不是同一件事")
    app.propose_void(voided, BOSS, "确属重复登记")
    app.approve_void(voided, SUPERVISOR)

    visit = NewVisit(
        grid="2",
        household=ADDRESS,
        visited_on=clock.now.date(),
        priority_visit=PRIORITY,
        notes=NOTES,
        concern_ids=[worked],
    )
    app.record_visit(BOSS, visit)

    # Three concerns at one exact point make a hotspot of its cell, recorded with its
    # proactive concern: the feed shows the cell, never the point.
    point = Point(30.274123, 120.155317)
    spotted = [
        app.raise_concern(
            BOSS,
            NewConcern(
                title="楼道堆放杂物",
                description="楼道里堆满了纸箱",
                category=Category.ENVIRONMENT,
                library=Library.PROBLEM,
                channel=Channel.VISIT,
                grid="2",
                location=point,
            ),
        ).id
        for _ in range(3)
    ]
    app.record_hotspot(
        FoundHotspot(
            grid="2",
            kind="cell",
            where=cell_of(point, 500).id,
            category=Category.ENVIRONMENT.value,
            starts=clock.now,
            ends=clock.now + timedelta(days=30),
            concern_ids=tuple(spotted),
            days=1,
            high_incidence=False,
        )
    )

    raised = app.get_concern(worked)
    secrets = [
        "30.274123",
        "120.155317",
        NAME,
        PHONE,
        ADDRESS,
        NOTES,
        REPRESENTATIVE,
        *MEMBERS,
        PRIORITY.value,
        PRIORITY.zh,
        raised.tracking_code,
        str(raised.resident_data),
        "林业局党员",
        "志愿者甲",
        "V-77",
        "按时到岗",
    ]
    assert raised.resident_ref
    erase_personal_data(app, BOSS, raised.resident_ref)
    return secrets


@dataclass
class Desk:
    server: Server
    reader: httpx.Client
    receiver: Receiver
    secrets: list[str]


@pytest.fixture(params=BACKENDS)
def desk(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Desk]:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("MINQING_WEBHOOKS_ALLOW_PRIVATE", "1")
        for url in _database(request.param, request, tmp_path):
            for server in start_server(url, tmp_path):
                _, token = server.principal([Role.INTEGRATOR])
                with receiving() as receiver, server.client(token) as reader:
                    r = reader.post("/api/v1/webhooks", json={"url": receiver.url})
                    assert r.status_code == 201, r.text
                    receiver.secrets.append(r.json()["secret"])
                    app = server.app
                    clock = Clock(datetime.now(app.zone))
                    app.clock = clock
                    yield Desk(server, reader, receiver, play(app, clock))


def pulled(desk: Desk) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    after = 0
    while True:
        page = desk.reader.get("/api/v1/events", params={"after": after, "limit": 50}).json()
        events += page["events"]
        if page["next_after"] == after:
            return events
        after = page["next_after"]


def streamed(desk: Desk, count: int) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    deadline = time.monotonic() + 30
    with desk.reader.stream("GET", "/api/v1/events/stream", params={"after": 0}) as r:
        assert r.status_code == 200
        for line in r.iter_lines():
            if line.startswith("data:"):
                events.append(json.loads(line[5:]))
                if len(events) == count:
                    break
            assert time.monotonic() < deadline, "the stream fell silent"
    return events


def delivered(desk: Desk, count: int) -> list[dict[str, Any]]:
    assert desk.receiver.wait_for(lambda r: len(r.accepted()) >= count, 60)
    return [got.event for got in desk.receiver.accepted()]


def leaks(desk: Desk, event: dict[str, Any]) -> list[str]:
    body = json.dumps(event, ensure_ascii=False)
    found = [secret for secret in desk.secrets if secret in body]
    found += sorted(WITHHELD & set(event["data"]))
    return found


def test_every_published_type_on_every_channel_carries_no_personal_data(desk: Desk) -> None:
    pull = pulled(desk)
    assert {e["type"] for e in pull} == set(cloudevents.BY_TYPE)  # every type is walked
    stream = streamed(desk, len(pull))
    hooks = delivered(desk, len(pull))

    for channel, events in (("pull", pull), ("stream", stream), ("webhook", hooks)):
        assert {e["type"] for e in events} == set(cloudevents.BY_TYPE), channel
        for event in events:
            assert leaks(desk, event) == [], (channel, event["type"])
            schema = cloudevents.BY_TYPE[event["type"]].schema()
            assert set(event["data"]) <= set(schema["properties"]), (channel, event["type"])
    # One object per event, whatever the channel.
    by_id = {e["id"]: e for e in pull}
    assert {e["id"]: e for e in stream} == by_id
    assert {e["id"]: e for e in hooks} == by_id
    # Every raw webhook body too (the bytes that were signed), not only the parsed event.
    for got in desk.receiver.accepted():
        text = got.body.decode()
        assert not [s for s in desk.secrets if s in text], got.event["type"]
