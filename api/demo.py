"""`minqing demo`: the worked story of domain.md, played through the application."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime
from uuid import UUID

from application.minqing import Minqing, NewConcern, NewVisit
from domain.meeting import MeetingKind
from domain.residents import ResidentData
from domain.vocabulary import Category, Channel, DutyRole, Library, Role, Satisfaction
from domain.voting import Choice

YEAR = 2026
BRANCH_SIZE = 15


def _at(app: Minqing, month: int, day: int, hour: int = 9) -> Callable[[], datetime]:
    moment = datetime(YEAR, month, day, hour, 0, tzinfo=app.zone)
    return lambda: moment


def load_demo(app: Minqing) -> Iterator[str]:
    """Members, principals, concerns and the meeting of 25 March: the whole worked story."""
    if any(m.name == "李强" for m in app.list_members()):
        yield "demo data is already loaded"
        return
    real_clock = app.clock
    try:
        yield from _story(app)
    finally:
        app.clock = real_clock


def _story(app: Minqing) -> Iterator[str]:
    app.clock = _at(app, 3, 1)
    admin = app.accounts.add("demo-admin", [Role.ADMIN, Role.STAFF])
    wang = app.register_member(admin, "王芳", ["2"], [DutyRole.ENVIRONMENT_MONITOR], True)
    li = app.register_member(admin, "李强", ["2"], [DutyRole.PROJECT_COORDINATOR], True)
    chen = app.register_member(admin, "陈书记", ["1", "2", "3"], [DutyRole.AFFAIRS_MONITOR], True)
    zhou = app.register_member(admin, "周调解", ["2"], [DutyRole.MEDIATOR], True)
    branch = [UUID(m.id) for m in (wang, li, chen, zhou)]
    for n in range(BRANCH_SIZE - len(branch)):
        branch.append(UUID(app.register_member(admin, f"党员{n + 1:02d}", ["2"], [], True).id))
    app.register_member(admin, "赵敏（预备党员）", ["2"], [], False)
    yield f"registered {BRANCH_SIZE} voting members and one probationary member (no vote)"

    collector = app.accounts.add("wangfang", [Role.COLLECTOR], ["2"], UUID(wang.id))
    leader = app.accounts.add("grid2-leader", [Role.GRID_LEADER], ["2"])
    committee = app.accounts.add("committee", [Role.COMMITTEE])
    chair = app.accounts.add("chen-chair", [Role.CHAIR, Role.MEMBER], [], UUID(chen.id))
    assignee = app.accounts.add("liqiang", [Role.MEMBER], ["2"], UUID(li.id))
    app.accounts.add("supervisor", [Role.SUPERVISOR])
    for p in (collector, leader, committee, chair, assignee):
        yield f"principal {p.name:<13} roles={','.join(sorted(r.value for r in p.roles))}"
    yield "issue demo tokens with: minqing tokens issue <name>"

    app.clock = _at(app, 3, 3, 10)
    light = app.raise_concern(
        collector,
        NewConcern(
            title="5号楼东侧小路路灯两周不亮",
            description="东侧小路的路灯已经坏了两个星期，老人晚上出门看不清路。",
            category=Category.ENVIRONMENT,
            library=Library.PROBLEM,
            channel=Channel.VISIT,
            grid="2",
            building="5",
            resident=ResidentData(name="张秀英", phone="13800000000", address="5号楼2单元301"),
        ),
    )
    light_id = UUID(light.id)
    yield f"3 March: {light.reference} east-path streetlights, tracking {light.tracking_code}"
    app.record_visit(
        collector,
        NewVisit("2", "5号楼2单元301", date(YEAR, 3, 3), notes="路灯问题", concern_ids=[light_id]),
    )
    yield "3 March: Wang Fang's visit to building 5 is in the visits register"
    app.clock = _at(app, 3, 4)
    app.refer(light_id, leader, "需要支委会研究")
    yield "4 March: the grid leader refers it to the committee"

    app.clock = _at(app, 3, 6, 15)
    corridor = app.raise_concern(
        leader,
        NewConcern(
            title="楼道公共区域堆放杂物纠纷",
            description="3号楼邻里因楼道堆放杂物发生争执，需要调解并统一清理。",
            category=Category.DISPUTE,
            library=Library.PROBLEM,
            channel=Channel.WALK_IN,
            grid="2",
            building="3",
            anonymous=True,
        ),
    )
    corridor_id = UUID(corridor.id)
    app.clock = _at(app, 3, 7)
    app.refer(corridor_id, leader)
    yield f"6 March: {corridor.reference} corridor storage dispute, referred"

    app.clock = _at(app, 3, 10)
    inquiry = app.raise_concern(
        collector,
        NewConcern(
            title="咨询城乡居民养老保险缴费档次",
            description="居民想了解今年养老保险缴费档次和补贴标准。",
            category=Category.POLICY_INQUIRY,
            library=Library.SUGGESTION,
            channel=Channel.VISIT,
            grid="2",
        ),
    )
    app.handle_now(
        UUID(inquiry.id),
        leader,
        UUID(wang.id),
        DutyRole.POLICY_EXPLAINER,
        date(YEAR, 3, 12),
        "即接即办",
    )
    app.clock = _at(app, 3, 11)
    app.resolve(UUID(inquiry.id), collector, "已上门讲解缴费档次并送达政策材料")
    yield f"10 March: {inquiry.reference} pension inquiry handled on receipt and resolved"

    app.clock = _at(app, 3, 18)
    meeting = app.schedule_meeting(
        committee,
        "3月主题党日·民情会诊",
        MeetingKind.THEMATIC_PARTY_DAY,
        datetime(YEAR, 3, 25, 14, 30, tzinfo=app.zone),
        "社区党群服务中心",
        UUID(chen.id),
        branch,
    )
    meeting_id = UUID(meeting.id)
    app.clock = _at(app, 3, 20)
    app.shortlist(meeting_id, committee, light_id)
    app.shortlist(meeting_id, committee, corridor_id)
    yield "20 March: the committee shortlists both for the thematic party day of 25 March"

    app.clock = _at(app, 3, 25, 14)
    present = branch[:11]
    app.open_meeting(meeting_id, chair, present, ["居民代表 刘阿姨", "居民代表 孙师傅"])
    for item, owner, role, due in (
        (light_id, UUID(li.id), DutyRole.PROJECT_COORDINATOR, date(YEAR, 4, 10)),
        (corridor_id, UUID(zhou.id), DutyRole.MEDIATOR, date(YEAR, 4, 15)),
    ):
        app.open_vote(meeting_id, chair, item)
        for voter in present[:10]:
            app.cast_vote(meeting_id, chair, item, Choice.FOR, voter)
        app.cast_vote(meeting_id, chair, item, Choice.ABSTAIN, present[10])
        result = app.close_vote(meeting_id, chair, item)
        app.assign(item, chair, owner, role, due, "党员大会议定")
        yield f"25 March: {result.body()['tally']['for']} for, 1 abstains of 15: adopted"
    app.close_meeting(meeting_id, chair, "会议通过两项民情议题，明确责任人和办结时限。")
    yield "25 March: Li Qiang named for the streetlights, due 10 April; minutes filed"

    app.clock = _at(app, 4, 2)
    app.record_progress(light_id, assignee, "已联系供电所，灯具已订购")
    app.clock = _at(app, 4, 8)
    app.resolve(light_id, assignee, "更换东侧小路路灯6盏，恢复照明")
    yield "2 April: progress recorded; 8 April: resolved"
    app.clock = _at(app, 4, 12)
    app.feedback_by_tracking_code(light.tracking_code or "", True, Satisfaction.SATISFIED)
    yield "12 April: the resident says satisfied"
