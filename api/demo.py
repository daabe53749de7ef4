"""`minqing demo`: the worked story of docs/domain.md, played through the application, and
web UI passwords for its people in a private file."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from uuid import UUID

from api.ui import passwords
from application.minqing import Minqing, NewConcern, NewVisit
from domain.meeting import MeetingKind
from domain.residents import ResidentData
from domain.vocabulary import Category, Channel, DutyRole, Library, Role, Satisfaction
from domain.voting import Choice

YEAR = 2026
BRANCH_SIZE = 15
# The story's people who sign in to the web UI, with what the credentials file says of them.
PEOPLE: tuple[tuple[str, str], ...] = (
    ("wangfang", "王芳 Wang Fang, collector in grid 2: /ui/record"),
    ("grid2-leader", "grid 2's leader: /ui/triage"),
    ("committee", "the branch committee: /ui/committee, /ui/meetings"),
    ("chen-chair", "陈书记 Secretary Chen, the meeting's chair: /ui/meetings"),
    ("liqiang", "李强 Li Qiang, project coordinator: /ui/tasks"),
    ("supervisor", "a supervisor: /ui/supervision"),
    ("demo-admin", "admin and staff: /ui/concerns, /ui/ledger"),
)


def _at(app: Minqing, month: int, day: int, hour: int = 9) -> Callable[[], datetime]:
    moment = datetime(YEAR, month, day, hour, 0, tzinfo=app.zone)
    return lambda: moment


def load_demo(app: Minqing, codes: dict[str, str] | None = None) -> Iterator[str]:
    """Members, principals, concerns, a visit and the meeting of 25 March, on to the
    resident's answer of 12 April: the whole worked story. `codes` receives each raised
    concern's tracking code by reference (never printed: it is the resident's secret)."""
    if any(m.name == "李强" for m in app.list_members()):
        yield "demo data is already loaded"
        return
    real_clock = app.clock
    try:
        yield from _story(app, {} if codes is None else codes)
    finally:
        app.clock = real_clock


def write_credentials(app: Minqing, path: Path, codes: dict[str, str]) -> None:
    """Give each of the story's people a new random web UI password and write them, with the
    tracking codes, to `path` (mode 600, like the admin token)."""
    lines = [
        "# Minqing demo: web UI passwords for the worked story's people, made by `minqing demo`.",
        "# Sign in at /ui/sign-in. Keep this file private; new ones: minqing users passwd NAME.",
        "# user          password              who",
    ]
    for name, who in PEOPLE:
        password = secrets.token_urlsafe(12)
        passwords.set_password(app.db, app.accounts, name, password)
        lines.append(f"{name:<15} {password:<21} {who}")
    lines.append("# The resident's tracking codes (no sign-in: /ui/track):")
    lines.extend(f"# {reference} {code}" for reference, code in codes.items())
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # var/: owner only
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.chmod(path, 0o600)  # an older file keeps its mode through O_TRUNC: make sure


def _story(app: Minqing, codes: dict[str, str]) -> Iterator[str]:
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
    supervisor = app.accounts.add("supervisor", [Role.SUPERVISOR])
    for p in (collector, leader, committee, chair, assignee, supervisor, admin):
        yield f"principal {p.name:<13} roles={','.join(sorted(r.value for r in p.roles))}"

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
    codes[str(light.reference)] = str(light.tracking_code)
    yield f"3 March: {light.reference} east-path streetlights, raised by Wang Fang on a visit"
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
    codes[str(corridor.reference)] = str(corridor.tracking_code)
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
    codes[str(inquiry.reference)] = str(inquiry.tracking_code)
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
