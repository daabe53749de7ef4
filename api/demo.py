"""`minqing demo`: the worked story of domain.md, played through the application."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime
from uuid import UUID

from domain.application import Minqing, NewConcern
from domain.residents import ResidentData
from domain.vocabulary import Category, Channel, DutyRole, Library, Role

YEAR = 2026
BRANCH_SIZE = 15


def _at(app: Minqing, month: int, day: int, hour: int = 9) -> Callable[[], datetime]:
    moment = datetime(YEAR, month, day, hour, 0, tzinfo=app.zone)
    return lambda: moment


def load_demo(app: Minqing) -> Iterator[str]:
    """Members, principals and the streetlight concern of 3 March, as far as the core goes."""
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
    for n in range(BRANCH_SIZE - 2):
        app.register_member(admin, f"党员{n + 1:02d}", ["2"], [], True)
    app.register_member(admin, "赵敏（预备党员）", ["2"], [], False)
    yield f"registered {BRANCH_SIZE} voting members and one probationary member"

    collector = app.accounts.add("wangfang", [Role.COLLECTOR], ["2"], UUID(wang.id))
    leader = app.accounts.add("grid2-leader", [Role.GRID_LEADER], ["2"])
    committee = app.accounts.add("committee", [Role.COMMITTEE])
    assignee = app.accounts.add("liqiang", [Role.MEMBER], ["2"], UUID(li.id))
    for p in (collector, leader, committee, assignee):
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
    yield f"3 March: {light.reference} east-path streetlights, tracking {light.tracking_code}"
    app.clock = _at(app, 3, 4)
    app.refer(UUID(light.id), leader, "需要支委会研究")
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
    app.clock = _at(app, 3, 7)
    app.refer(UUID(corridor.id), leader)
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
    yield "the meeting of 25 March comes with the meetings feature"
