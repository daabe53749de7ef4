"""The screenshots' data beyond the worked story (tests/browser/test_screenshots.py): open
work at each desk and a meeting in session, time-limit requests waiting for an answer, and
grid 2's boundary and places with the concerns that make two hotspots (a place and a cell),
handled far enough for the scorecards to have figures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from application.minqing import Minqing, NewConcern
from domain.geo import Point
from domain.meeting import MeetingKind
from domain.place import PlaceKind
from domain.vocabulary import Category, Channel, DutyRole, Library, Satisfaction
from domain.voting import Choice


def _concern(
    app: Minqing, by: str, title: str, text: str, category: Category, library: Library
) -> UUID:
    draft = NewConcern(title, text, category, library, Channel.VISIT, "2")
    return UUID(app.raise_concern(app.accounts.find(by), draft).id)


def open_work(app: Minqing) -> dict[str, str]:
    """Beyond the story: concerns waiting at each desk and a meeting in session."""
    leader = app.accounts.find("grid2-leader")
    committee = app.accounts.find("committee")
    chair = app.accounts.find("chen-chair")
    members = {m.name: m.id for m in app.list_members()}
    _concern(
        app,
        "wangfang",
        "3号楼电梯经常停运",
        "电梯一周停了三次，高层老人下楼困难。",
        Category.LIVELIHOOD_PROJECT,
        Library.PROBLEM,
    )
    _concern(
        app,
        "wangfang",
        "希望增设老年人助餐点",
        "独居老人较多，希望社区开设助餐点。",
        Category.HARDSHIP_RELIEF,
        Library.SUGGESTION,
    )
    waiting = _concern(
        app,
        "wangfang",
        "垃圾分类点位夏季异味",
        "7号楼旁分类点异味大，需调整清运时间。",
        Category.ENVIRONMENT,
        Library.PROBLEM,
    )
    app.refer(waiting, leader)
    due_soon = _concern(
        app,
        "wangfang",
        "单元门禁损坏",
        "2单元门禁无法关闭。",
        Category.COMMUNITY_AFFAIRS,
        Library.PROBLEM,
    )
    today = app.clock().date()
    app.handle_now(
        due_soon, leader, members["李强"], DutyRole.PROJECT_COORDINATOR, today + timedelta(days=5)
    )
    real = app.clock
    app.clock = lambda: real() - timedelta(days=10)
    try:
        late = _concern(
            app,
            "wangfang",
            "健身器材松动",
            "广场健身器材螺丝松动，存在安全隐患。",
            Category.LIVELIHOOD_PROJECT,
            Library.PROBLEM,
        )
        app.handle_now(
            late, leader, members["李强"], DutyRole.PROJECT_COORDINATOR, today - timedelta(days=2)
        )
    finally:
        app.clock = real
    agenda = _concern(
        app,
        "wangfang",
        "小区停车位划线",
        "车辆乱停占用消防通道，建议重新划线。",
        Category.COMMUNITY_AFFAIRS,
        Library.SUGGESTION,
    )
    app.refer(agenda, leader)
    voters = [m.id for m in app.list_members() if m.votes_in_branch]
    meeting = app.schedule_meeting(
        committee,
        "11月主题党日·民情会诊",
        MeetingKind.THEMATIC_PARTY_DAY,
        datetime.now(app.zone),
        "社区党群服务中心",
        members["陈书记"],
        voters,
    )
    mid = UUID(meeting.id)
    app.shortlist(mid, committee, agenda)
    present = [v for v in voters if v != members["王芳"]][:11]
    app.open_meeting(mid, chair, present, ["居民代表 刘阿姨"])
    app.open_vote(mid, chair, agenda)
    for voter in [v for v in present if v != members["李强"]][:6]:
        app.cast_vote(mid, chair, agenda, Choice.FOR, voter)
    inquiry = app.concern_by_reference("MQ-2026-000003")
    return {
        "meeting": str(mid),
        "code": inquiry.tracking_code or "",
        "owned": str(due_soon),
        "late": str(late),
    }


# Grid 2's boundary along the streets around it (GeoJSON: longitude first), and places in it.
GRID2 = {
    "type": "Polygon",
    "coordinates": [
        [
            [121.4605, 31.2270],
            [121.4700, 31.2262],
            [121.4785, 31.2285],
            [121.4792, 31.2340],
            [121.4720, 31.2356],
            [121.4610, 31.2350],
            [121.4605, 31.2270],
        ]
    ],
}
BINS = "7号楼垃圾分类点"
PLACES = (
    ("社区党群服务中心", PlaceKind.FACILITY, Point(31.2280, 121.4650), True),
    ("5号楼", PlaceKind.BUILDING, Point(31.2338, 121.4660), False),
    (BINS, PlaceKind.FACILITY, Point(31.2312, 121.4668), False),
    ("中心广场", PlaceKind.COURTYARD, Point(31.2290, 121.4705), False),
    ("东门路", PlaceKind.ROAD, Point(31.2320, 121.4778), False),
)


@dataclass(frozen=True)
class Story:
    """A concern behind a hotspot: raised some days ago, and how far its handling got."""

    days: int  # raised this many days ago
    title: str
    text: str
    owner: str | None = None  # handled on receipt by this member, due `due` days on
    due: int = 3
    resolved: int | None = None  # resolved this many days after it was raised
    answer: Satisfaction | None = None  # the resident's answer a day after that


# Four complaints about one bin point within three weeks: a hotspot at a place (3 make one).
SMELLS = (
    Story(
        20,
        "分类点垃圾满溢",
        "7号楼分类点垃圾桶满了没人清，气味很大。",
        "王芳",
        3,
        2,
        Satisfaction.SATISFIED,
    ),
    Story(
        13,
        "垃圾分类点异味",
        "夏天分类点味道重，住在一楼不敢开窗。",
        "王芳",
        3,
        5,
        Satisfaction.BASICALLY_SATISFIED,
    ),
    Story(
        8,
        "分类点周边污水",
        "分类点旁地面有污水，走路容易滑倒。",
        "王芳",
        3,
        2,
        Satisfaction.SATISFIED,
    ),
    Story(3, "垃圾清运不及时", "垃圾车晚上才来，白天分类点一直堆着。", "王芳", 5),
)
# Three about the paving by the east gate, with a point but no place: a hotspot cell.
PAVING = (
    Story(
        17,
        "东门人行道地砖松动",
        "东门人行道地砖松动，下雨踩上去溅水。",
        "李强",
        5,
        5,
        Satisfaction.DISSATISFIED,
    ),
    Story(
        11,
        "东门地砖破损绊倒老人",
        "东门便道地砖破损，前天有老人被绊倒。",
        "李强",
        5,
        4,
        Satisfaction.SATISFIED,
    ),
    Story(5, "东门便道积水", "东门便道低洼处一下雨就积水。"),
)
EAST_GATE = (Point(31.2316, 121.4752), Point(31.2319, 121.4756), Point(31.2314, 121.4749))
DONE = {
    Category.ENVIRONMENT: "已协调物业每天上午加派一次清运，分类点周边已冲洗消毒。",
    Category.LIVELIHOOD_PROJECT: "已更换破损地砖并修补便道。",
}


def _story(
    app: Minqing, now: datetime, story: Story, draft: NewConcern, members: dict[str, UUID]
) -> None:
    """Raise the concern `story.days` ago and take it as far as the story goes, each step at
    its own time (the clock is put back by the caller)."""
    raised = now - timedelta(days=story.days)
    app.clock = lambda: raised
    made = app.raise_concern(app.accounts.find("wangfang"), draft)
    if story.owner is None:
        return
    cid, owner = UUID(made.id), members[story.owner]
    duty = DutyRole.ENVIRONMENT_MONITOR
    if draft.category is Category.LIVELIHOOD_PROJECT:
        duty = DutyRole.PROJECT_COORDINATOR
    due = (raised + timedelta(days=story.due)).date()
    app.handle_now(cid, app.accounts.find("grid2-leader"), owner, duty, due)
    if story.resolved is None:
        return
    done = raised + timedelta(days=story.resolved)
    app.clock = lambda: done
    by = app.accounts.find("liqiang" if story.owner == "李强" else "wangfang")
    app.resolve(cid, by, DONE[draft.category])
    if story.answer is not None:
        answered = done + timedelta(days=1)
        app.clock = lambda: answered
        solved = story.answer is not Satisfaction.DISSATISFIED
        app.feedback_by_tracking_code(made.tracking_code or "", solved, story.answer)


def places_and_hotspots(app: Minqing) -> None:
    """Grid 2's boundary and places, and concerns that make a hotspot at a place and one in
    a cell (most handled, some answered by their residents: the scorecards' figures)."""
    admin = app.accounts.find("demo-admin")
    app.draw_boundary(admin, "2", GRID2)
    ids = {
        name: UUID(app.register_place(admin, "2", name, kind, point, office).id)
        for name, kind, point, office in PLACES
    }
    members = {m.name: m.id for m in app.list_members()}
    real, now = app.clock, app.clock()
    try:
        for story in SMELLS:
            draft = NewConcern(
                story.title,
                story.text,
                Category.ENVIRONMENT,
                Library.PROBLEM,
                Channel.VISIT,
                "2",
                place=ids[BINS],
            )
            _story(app, now, story, draft, members)
        for story, point in zip(PAVING, EAST_GATE, strict=True):
            draft = NewConcern(
                story.title,
                story.text,
                Category.LIVELIHOOD_PROJECT,
                Library.PROBLEM,
                Channel.VISIT,
                "2",
                location=point,
            )
            _story(app, now, story, draft, members)
    finally:
        app.clock = real


def time_limits(app: Minqing, ids: dict[str, str]) -> dict[str, str]:
    """A concern in handling whose owner may ask for more time or a suspension, one whose
    owner asked for a suspension (the committee's to answer), and one a member of staff
    proposed to void (a supervisor's to answer)."""
    leader = app.accounts.find("grid2-leader")
    members = {m.name: m.id for m in app.list_members()}
    void = _concern(
        app,
        "wangfang",
        "楼顶水箱漏水",
        "6号楼楼顶水箱漏水，顶楼住户天花板渗水。",
        Category.LIVELIHOOD_PROJECT,
        Library.PROBLEM,
    )
    app.handle_now(
        void,
        leader,
        members["李强"],
        DutyRole.PROJECT_COORDINATOR,
        app.clock().date() + timedelta(days=7),
    )
    app.propose_void(
        void,
        app.accounts.find("demo-admin"),
        "经核实属于物业维保合同内的报修，已转物业公司处理，不符合民情立案条件。",
    )
    # The overdue one's owner asks to stop its clock until new equipment arrives.
    app.request_suspension(
        UUID(ids["late"]),
        app.accounts.find("liqiang"),
        "原厂器材已停产，需重新采购整套器材，预计下月到货后安装。",
        app.clock().date() + timedelta(days=30),
    )
    return {**ids, "void": str(void)}
