"""Branch meetings over HTTP, on SQLite and PostgreSQL: the worked story of 25 March end to
end, atomic shortlisting, every refused step (409 `conflict` naming its rule, nothing
recorded), the three outcomes moving the concern, the secret ballot in every read path, the
minutes as JSON and as a printable page, a supervisor recounting the vote from the events,
and who may do what.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import httpx
import pytest

from domain.vocabulary import DutyRole, Role
from domain.voting import Rules, count
from tests.conftest import Server

SHANGHAI = ZoneInfo("Asia/Shanghai")
DUE = (date.today() + timedelta(days=16)).isoformat()
MEETING_DAY = date.today() + timedelta(days=5)
SCHEDULED_FOR = datetime.combine(MEETING_DAY, time(14, 30), tzinfo=SHANGHAI).isoformat()

STREETLIGHTS: dict[str, Any] = {
    "title": "5号楼东侧小路路灯两周不亮",
    "description": "东侧小路的路灯已经坏了两个星期，老人晚上出门不安全。",
    "category": "environment",
    "library": "problem",
    "channel": "visit",
    "grid": "2",
    "building": "5",
    "resident": {"name": "张秀英", "phone": "13800000000"},
}
CORRIDOR: dict[str, Any] = {
    "title": "3号楼楼道杂物堆放纠纷",
    "description": "邻里因楼道堆放杂物发生争执。",
    "category": "dispute",
    "library": "problem",
    "channel": "walk_in",
    "grid": "2",
    "building": "3",
    "anonymous": True,
}
# The branch: the secretary chairs; Li Qiang is the project coordinator of the story.
NAMES = [
    "张红梅",
    "李强",
    "王芳",
    "赵敏",
    "陈伟",
    "刘洋",
    "杨静",
    "黄磊",
    "周婷",
    "吴斌",
    "徐丽",
    "孙涛",
    "马超",
    "朱琳",
    "胡军",
]
REPRESENTATIVES = ["居民代表张秀英", "居民代表刘建国"]
CHOICES = {"for", "against", "abstain"}


def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


@dataclass
class Branch:
    """One server's branch: fifteen members entitled to vote, a probationary member, and
    clients for the staff, the committee, the chair (the secretary, a member herself), a
    supervisor and each member."""

    server: Server
    stack: ExitStack
    members: list[str]
    probationary: str
    staff: httpx.Client
    committee: httpx.Client
    chair: httpx.Client
    chair_principal: str
    supervisor: httpx.Client
    member_clients: dict[str, httpx.Client] = field(default_factory=dict)
    member_principals: dict[str, str] = field(default_factory=dict)

    @classmethod
    def make(cls, server: Server, stack: ExitStack) -> Branch:
        members = [server.member(name) for name in NAMES]
        admin = server.app.accounts.find("admin")
        probationary = server.app.register_member(
            admin, "钱进（预备党员）", ["2"], [DutyRole.CARE_HELPER], False
        ).id

        def client(roles: list[Role], member: str | None = None) -> tuple[str, httpx.Client]:
            principal, token = server.principal(roles, member=member)
            return principal.id, stack.enter_context(server.client(token))

        chair_principal, chair = client([Role.CHAIR], members[0])
        return cls(
            server=server,
            stack=stack,
            members=members,
            probationary=probationary,
            staff=client([Role.STAFF, Role.GRID_LEADER])[1],
            committee=client([Role.COMMITTEE])[1],
            chair=chair,
            chair_principal=chair_principal,
            supervisor=client([Role.SUPERVISOR])[1],
        )

    @property
    def secretary(self) -> str:
        return self.members[0]

    @property
    def li_qiang(self) -> str:
        return self.members[1]

    def member(self, member_id: str) -> httpx.Client:
        """A client for the member's own token (role member, linked to the member)."""
        if member_id not in self.member_clients:
            principal, token = self.server.principal([Role.MEMBER], member=member_id)
            self.member_principals[member_id] = principal.id
            self.member_clients[member_id] = self.stack.enter_context(self.server.client(token))
        return self.member_clients[member_id]

    # -- concerns -------------------------------------------------------------------------

    def concern(self, raised: dict[str, Any] | None = None, *, refer: bool = True) -> str:
        """A new concern, referred to the committee unless told otherwise."""
        cid: str = ok(self.staff.post("/api/v1/concerns", json=raised or STREETLIGHTS), 201)["id"]
        if refer:
            assert ok(self.staff.post(f"/api/v1/concerns/{cid}/refer", json={}))["status"] == (
                "committee"
            )
        return cid

    def concern_view(self, cid: str) -> dict[str, Any]:
        return ok(self.supervisor.get(f"/api/v1/concerns/{cid}"))

    def concern_history(self, cid: str) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = ok(self.supervisor.get(f"/api/v1/concerns/{cid}/history"))[
            "events"
        ]
        return events

    # -- meetings -------------------------------------------------------------------------

    def schedule(
        self,
        voters: list[str] | None = None,
        rules: dict[str, str] | None = None,
        title: str = "3月主题党日·民情会诊",
    ) -> str:
        body: dict[str, Any] = {
            "title": title,
            "kind": "thematic_party_day",
            "scheduled_for": SCHEDULED_FOR,
            "place": "社区党群服务中心",
            "chair": self.secretary,
            "eligible_voters": voters if voters is not None else self.members,
        }
        if rules is not None:
            body["rules"] = rules
        created = ok(self.committee.post("/api/v1/meetings", json=body), 201)
        assert created["status"] == "scheduled"
        mid: str = created["id"]
        return mid

    def shortlist(self, mid: str, cid: str) -> httpx.Response:
        return self.committee.post(f"/api/v1/meetings/{mid}/agenda", json={"concern_id": cid})

    def open(self, mid: str, present: list[str], representatives: list[str] | None = None) -> Any:
        body = {"present": present, "resident_representatives": representatives or []}
        return ok(self.chair.post(f"/api/v1/meetings/{mid}/open", json=body))

    def open_vote(self, mid: str, cid: str) -> httpx.Response:
        return self.chair.post(f"/api/v1/meetings/{mid}/items/{cid}/open-vote")

    def vote(self, mid: str, cid: str, member: str, choice: str) -> httpx.Response:
        """The member votes from their own token."""
        url = f"/api/v1/meetings/{mid}/items/{cid}/votes"
        return self.member(member).post(url, json={"choice": choice})

    def show_of_hands(self, mid: str, cid: str, member: str, choice: str) -> httpx.Response:
        """The chair records a named member's vote."""
        url = f"/api/v1/meetings/{mid}/items/{cid}/votes"
        return self.chair.post(url, json={"choice": choice, "voter": member})

    def close_vote(self, mid: str, cid: str) -> httpx.Response:
        return self.chair.post(f"/api/v1/meetings/{mid}/items/{cid}/close-vote")

    def close(self, mid: str, minutes: str = "会议议定路灯维修事项。") -> httpx.Response:
        return self.chair.post(f"/api/v1/meetings/{mid}/close", json={"minutes": minutes})

    def meeting(self, mid: str, reader: httpx.Client | None = None) -> dict[str, Any]:
        return ok((reader or self.supervisor).get(f"/api/v1/meetings/{mid}"))

    def meeting_history(self, mid: str) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = ok(self.supervisor.get(f"/api/v1/meetings/{mid}/history"))[
            "events"
        ]
        return events

    def item(self, mid: str, cid: str) -> dict[str, Any]:
        agenda: list[dict[str, Any]] = self.meeting(mid)["agenda"]
        return next(i for i in agenda if i["concern_id"] == cid)

    def voting_on(self, present: list[str], **schedule: Any) -> tuple[str, str]:
        """A meeting with one concern on its agenda, opened with `present`, vote open."""
        cid = self.concern()
        mid = self.schedule(**schedule)
        ok(self.shortlist(mid, cid))
        self.open(mid, present)
        ok(self.open_vote(mid, cid))
        return mid, cid


@pytest.fixture(scope="module")
def branch(shared_server: Server) -> Iterator[Branch]:
    with ExitStack() as stack:
        yield Branch.make(shared_server, stack)


def refused(branch: Branch, call: Callable[[], httpx.Response], rule: str) -> dict[str, Any]:
    """The call answers 409 `conflict` naming `rule`, and records nothing."""
    before = branch.server.event_count()
    body = ok(call(), 409)
    assert body["error"] == "conflict"
    assert body["message"]
    assert body["rule"] == rule, body
    assert branch.server.event_count() == before
    return body


def not_now(branch: Branch, call: Callable[[], httpx.Response], status: str) -> dict[str, Any]:
    """The call answers 409 `transition_not_allowed` (the concern is in `status`), and
    records nothing."""
    before = branch.server.event_count()
    body = ok(call(), 409)
    assert body["error"] == "transition_not_allowed"
    assert body["status"] == status
    assert branch.server.event_count() == before
    return body


def forbidden(branch: Branch, call: Callable[[], httpx.Response]) -> None:
    before = branch.server.event_count()
    body = ok(call(), 403)
    assert body["error"] == "forbidden"
    assert branch.server.event_count() == before


def events_of(history: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in history if e["type"] == kind]


def pairings(body: Any, voters: set[str]) -> list[Any]:
    """Every place in a JSON body that ties a voter to a choice: an object holding a
    `choice`, or one that names a voter and holds the word for, against or abstain."""
    found: list[Any] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            values = {v for v in node.values() if isinstance(v, str)}
            if "choice" in node or (values & voters and values & CHOICES):
                found.append(node)
            if set(node) & voters and any(v in CHOICES for v in values):
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(body)
    return found


# -- the worked story -------------------------------------------------------------------------


def test_the_worked_story_the_meeting_of_25_march_adopts_and_the_chair_names_li_qiang(
    branch: Branch,
) -> None:
    b = branch
    streetlights = b.concern(STREETLIGHTS)
    corridor = b.concern(CORRIDOR)

    # 20 March: the committee shortlists both for the thematic party day.
    mid = b.schedule()
    for cid in (streetlights, corridor):
        shortlisted = ok(b.shortlist(mid, cid))
        assert shortlisted["concern_status"] == "branch_meeting"
        assert b.concern_view(cid)["status"] == "branch_meeting"
        assert b.concern_view(cid)["meeting_id"] == mid

    # 25 March: eleven of the fifteen attend, with two resident representatives.
    present = b.members[:11]
    opened = b.open(mid, present, REPRESENTATIVES)
    assert opened["status"] == "open"
    assert opened["quorum"] == {
        "entitled": 15,
        "present": 11,
        "needed": 8,
        "rule": "half",
        "article": 11,
        "reached": True,
    }

    ok(b.open_vote(mid, streetlights))
    # Six vote from their own phones, the chair records three by show of hands and votes
    # herself; one abstains.
    for member in b.members[1:7]:
        cast = ok(b.vote(mid, streetlights, member, "for"))
        assert cast["by_chair"] is False
    for member in b.members[7:10]:
        cast = ok(b.show_of_hands(mid, streetlights, member, "for"))
        assert cast["by_chair"] is True
    chair_url = f"/api/v1/meetings/{mid}/items/{streetlights}/votes"
    assert ok(b.chair.post(chair_url, json={"choice": "for"}))["by_chair"] is False
    cast = ok(b.vote(mid, streetlights, b.members[10], "abstain"))
    assert cast["tally"] == {"for": 10, "against": 0, "abstain": 1, "voted": 11}

    # The live tally, as a member sees it.
    live = b.meeting(mid, b.member(b.members[3]))
    item = live["agenda"][0]
    assert item["concern_id"] == streetlights
    assert item["status"] == "voting"
    assert item["outcome"] is None
    assert (item["tally"]["for"], item["tally"]["abstain"], item["tally"]["voted"]) == (10, 1, 11)
    assert live["quorum"]["reached"] is True
    assert live["resident_representatives"] == REPRESENTATIVES

    closed = ok(b.close_vote(mid, streetlights))
    assert closed["outcome"] == "adopted"
    assert closed["concern_status"] == "branch_meeting"
    assert closed["tally"]["for"] == 10
    assert closed["tally"]["abstain"] == 1
    assert (closed["tally"]["entitled"], closed["tally"]["present"]) == (15, 11)

    # On the spot the chair names Li Qiang, project coordinator, due in a fortnight.
    view = ok(b.chair.get(f"/api/v1/concerns/{streetlights}"))
    assert view["allowed_actions"] == ["assign"]
    assignment = {"owner": b.li_qiang, "duty_role": "project_coordinator", "due_on": DUE}
    assigned = ok(b.chair.post(f"/api/v1/concerns/{streetlights}/assign", json=assignment))
    assert assigned["status"] == "assigned"
    view = b.concern_view(streetlights)
    assert (view["owner"], view["duty_role"], view["due_on"]) == (
        b.li_qiang,
        "project_coordinator",
        DUE,
    )

    # The corridor dispute is not voted on today: closing the meeting defers it.
    ok(b.open_vote(mid, corridor))
    closing = ok(b.close(mid, "议定东侧小路路灯维修，由李强负责；楼道杂物问题下次再议。"))
    assert closing["deferred"] == [corridor]
    assert b.concern_view(corridor)["status"] == "committee"

    # The concern's history shows the meeting, the tally and the outcome.
    history = b.concern_history(streetlights)
    assert [e["type"] for e in history] == [
        "Raised",
        "Referred",
        "Shortlisted",
        "AdoptedAtMeeting",
        "Assigned",
    ]
    shortlisted_event, adopted_event, assigned_event = history[2:]
    assert shortlisted_event["data"]["meeting_id"] == mid
    assert shortlisted_event["data"]["meeting_title"] == "3月主题党日·民情会诊"
    assert adopted_event["data"]["meeting_id"] == mid
    assert adopted_event["data"]["tally"] == closed["tally"]
    assert adopted_event["role"] == "chair"
    assert assigned_event["role"] == "chair"
    assert assigned_event["data"]["owner"] == b.li_qiang

    # The minutes a secretary files.
    minutes = ok(b.member(b.members[5]).get(f"/api/v1/meetings/{mid}/minutes"))
    assert minutes["meeting"]["title"] == "3月主题党日·民情会诊"
    assert minutes["meeting"]["scheduled_for"].startswith(MEETING_DAY.isoformat())
    assert minutes["meeting"]["status"] == "closed"
    assert minutes["chair"] == {"id": b.secretary, "name": "张红梅"}
    attendance = minutes["attendance"]
    assert len(attendance["entitled"]) == 15
    assert [p["name"] for p in attendance["present"]] == NAMES[:11]
    assert [p["name"] for p in attendance["absent"]] == NAMES[11:]
    assert attendance["resident_representatives"] == REPRESENTATIVES
    assert attendance["quorum"]["reached"] is True
    first, second = minutes["items"]
    assert first["title"] == STREETLIGHTS["title"]
    assert first["reference"].startswith("MQ-")
    assert first["tally"]["for"] == 10
    assert first["tally"]["abstain"] == 1
    assert first["decision"] == "adopted"
    assert first["decision_label"] == {"zh": "通过", "en": "Adopted"}
    assert first["owner"] == {"id": b.li_qiang, "name": "李强"}
    assert first["duty_role"] == "project_coordinator"
    assert first["due_on"] == DUE
    assert second["decision"] == "deferred"
    assert second["owner"] is None
    assert minutes["minutes"].startswith("议定东侧小路路灯维修")

    # The printable page, in Chinese and in English.
    page = b.member(b.members[5]).get(f"/api/v1/meetings/{mid}/minutes", params={"format": "html"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    for label in ("会议记录", "时间", "实到", "列席居民代表", "议题", "表决结果", "赞成 10"):
        assert label in html, label
    for label in ("弃权 1", "决定", "通过", "责任人", "李强", "办结时限", "暂缓"):
        assert label in html, label
    assert STREETLIGHTS["title"] in html
    assert "居民代表张秀英、居民代表刘建国" in html
    # In words: the date and weekday, the rule with its article, the votes needed, the
    # decision with its duty role and due date, the chair's signature line; no raw values.
    due = date.fromisoformat(DUE)
    weekdays = "一二三四五六日"
    day = f"{MEETING_DAY.year}年{MEETING_DAY.month}月{MEETING_DAY.day}日"
    assert f"{day}（星期{weekdays[MEETING_DAY.weekday()]}）14:30" in html
    assert "《中国共产党支部工作条例（试行）》第十一条" in html
    assert "有表决权的党员半数以上到会方可表决" in html
    assert "应到 15 人，实到 11 人，符合规定人数（至少 8 人）" in html
    assert "赞成 10 票，反对 0 票，弃权 1 票（通过需赞成 8 票）" in html
    assert f"李强（民生项目协调员），{due.year}年{due.month}月{due.day}日" in html
    assert "主持人（签字）：" in html
    for raw in (SCHEDULED_FOR, DUE, "majority_of_entitled", "half /", "T14:30"):
        assert raw not in html, raw
    english = b.supervisor.get(
        f"/api/v1/meetings/{mid}/minutes", params={"format": "html", "lang": "en"}
    )
    assert english.status_code == 200
    assert english.headers["content-type"].startswith("text/html")
    for label in ("Minutes", "Present", "Tally", "For 10", "Abstain 1", "Decision", "Adopted"):
        assert label in english.text, label
    for label in ("Owner", "Due", "Resident representatives", "Deferred"):
        assert label in english.text, label
    assert "决定" not in english.text
    assert "居民代表张秀英, 居民代表刘建国" in english.text  # English joins with ", "
    assert "、" not in english.text.split("<body>")[1].replace(STREETLIGHTS["title"], "")
    assert "Under article 11 of the Regulations on the Work of Party Branches" in english.text
    assert "11 of 15 entitled members present: quorum reached (8 needed)" in english.text
    assert "For 10, Against 0, Abstain 1 (8 for needed to adopt)" in english.text
    assert f"李强 (Project coordinator), due {due.strftime('%A')} {due.day}" in english.text
    assert "Chair (signature):" in english.text


def test_the_minutes_page_escapes_what_people_typed(branch: Branch) -> None:
    mid = branch.schedule(title="<script>alert(1)</script> 党日")
    branch.open(mid, branch.members[:8], ["<b>代表</b>"])
    ok(branch.close(mid, "<img src=x onerror=alert(1)>"))

    html = branch.supervisor.get(f"/api/v1/meetings/{mid}/minutes?format=html").text

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html
    assert "<img src=x" not in html
    assert "<b>代表</b>" not in html


# -- shortlisting -----------------------------------------------------------------------------


def test_shortlisting_moves_the_concern_and_the_agenda_in_one_save(branch: Branch) -> None:
    cid = branch.concern()
    mid = branch.schedule()
    before = branch.server.event_count()

    result = ok(branch.shortlist(mid, cid))

    # One save: exactly two new events, one on each aggregate, next to each other in the log.
    assert branch.server.event_count() == before + 2
    notes = branch.server.app.recorder.select_notifications(before + 1, 10)
    assert [(str(n.originator_id), n.topic.rsplit(":", 1)[-1]) for n in notes] == [
        (cid, "Concern.Shortlisted"),
        (mid, "Meeting.ItemAdded"),
    ]
    assert result["id"] == mid
    assert result["position"] == notes[-1].id
    assert result["concern_status"] == "branch_meeting"

    history = branch.concern_history(cid)
    assert history[-1]["type"] == "Shortlisted"
    assert history[-1]["data"]["meeting_id"] == mid
    assert history[-1]["data"]["status"] == "branch_meeting"
    agenda = branch.meeting(mid)["agenda"]
    assert [i["concern_id"] for i in agenda] == [cid]
    assert agenda[0]["status"] == "pending"
    assert agenda[0]["concern_status"] == "branch_meeting"


@pytest.mark.parametrize("state", ["intake", "assigned", "declined"])
def test_shortlisting_a_concern_not_with_the_committee_is_refused_and_records_nothing(
    branch: Branch, state: str
) -> None:
    cid = branch.concern(refer=state != "intake")
    if state == "assigned":
        body = {"owner": branch.li_qiang, "duty_role": "project_coordinator", "due_on": DUE}
        ok(branch.committee.post(f"/api/v1/concerns/{cid}/assign", json=body))
    if state == "declined":
        ok(branch.committee.post(f"/api/v1/concerns/{cid}/decline", json={"reason": "不属社区"}))
    mid = branch.schedule()

    body = not_now(branch, lambda: branch.shortlist(mid, cid), state)

    assert body["action"] == "shortlist"
    assert "shortlist" not in body["allowed_actions"]
    assert branch.meeting(mid)["agenda"] == []
    assert branch.concern_view(cid)["status"] == state


def test_a_concern_is_on_one_agenda_at_a_time(branch: Branch) -> None:
    cid = branch.concern()
    first, second = branch.schedule(), branch.schedule(title="4月主题党日")
    ok(branch.shortlist(first, cid))

    # Not twice on the same agenda ...
    refused(branch, lambda: branch.shortlist(first, cid), "already_on_agenda")
    # ... nor on another meeting's while it is on this one.
    not_now(branch, lambda: branch.shortlist(second, cid), "branch_meeting")
    assert branch.meeting(second)["agenda"] == []
    assert [i["concern_id"] for i in branch.meeting(first)["agenda"]] == [cid]


def test_a_meeting_that_has_taken_place_takes_no_new_items(branch: Branch) -> None:
    mid = branch.schedule()
    branch.open(mid, branch.members[:8])
    ok(branch.close(mid))
    cid = branch.concern()

    refused(branch, lambda: branch.shortlist(mid, cid), "meeting_closed")

    assert branch.concern_view(cid)["status"] == "committee"
    assert branch.meeting(mid)["agenda"] == []


def test_an_unknown_concern_or_meeting_is_not_found_or_invalid(branch: Branch) -> None:
    mid = branch.schedule()
    missing = "00000000-0000-4000-8000-00000000dead"
    cid = branch.concern()
    before = branch.server.event_count()
    assert ok(branch.shortlist(missing, cid), 404)["error"] == "not_found"
    assert branch.server.event_count() == before
    body = ok(branch.shortlist(mid, missing), 422)
    assert [f["field"] for f in body["fields"]] == ["concern_id"]
    assert branch.server.event_count() == before


# -- every refused vote or step ---------------------------------------------------------------


@dataclass
class Scene:
    """A meeting of four entitled members (the secretary, 1, 2, 3) with one item, driven to
    a state: 1 and 2 attend with the secretary, 3 stays away, an outsider attends."""

    branch: Branch
    mid: str
    cid: str
    other: str | None = None  # a committee concern on no agenda

    @property
    def m(self) -> list[str]:
        return self.branch.members[:4]

    @property
    def outsider(self) -> str:
        return self.branch.members[4]


def _scene(branch: Branch, state: str, *, other: bool = False) -> Scene:
    b = branch
    cid = b.concern()
    mid = b.schedule(voters=b.members[:4])
    ok(b.shortlist(mid, cid))
    scene = Scene(b, mid, cid, b.concern() if other else None)
    steps = ["scheduled", "open", "voting", "voted", "decided", "closed"]
    for step in steps[1 : steps.index(state) + 1]:
        if step == "open":
            b.open(mid, [*scene.m[:3], scene.outsider, b.probationary])
        elif step == "voting":
            ok(b.open_vote(mid, cid))
        elif step == "voted":
            ok(b.vote(mid, cid, scene.m[1], "for"))
        elif step == "decided":
            ok(b.close_vote(mid, cid))
        elif step == "closed":
            ok(b.close(mid))
    return scene


Step = Callable[[Scene], httpx.Response]
REFUSALS: list[tuple[str, str, Step, str]] = [
    (
        "vote before the meeting opens",
        "scheduled",
        lambda s: s.branch.vote(s.mid, s.cid, s.m[1], "for"),
        "meeting_not_open",
    ),
    (
        "open a vote before the meeting opens",
        "scheduled",
        lambda s: s.branch.open_vote(s.mid, s.cid),
        "meeting_not_open",
    ),
    (
        "close a meeting that never opened",
        "scheduled",
        lambda s: s.branch.close(s.mid),
        "meeting_not_open",
    ),
    (
        "open the meeting twice",
        "open",
        lambda s: s.branch.chair.post(f"/api/v1/meetings/{s.mid}/open", json={"present": s.m}),
        "meeting_opened",
    ),
    (
        "vote before the vote opens",
        "open",
        lambda s: s.branch.vote(s.mid, s.cid, s.m[1], "for"),
        "vote_not_open",
    ),
    (
        "close a vote never opened",
        "open",
        lambda s: s.branch.close_vote(s.mid, s.cid),
        "vote_not_open",
    ),
    (
        "open a vote twice",
        "voting",
        lambda s: s.branch.open_vote(s.mid, s.cid),
        "vote_already_open",
    ),
    (
        "vote twice",
        "voted",
        lambda s: s.branch.vote(s.mid, s.cid, s.m[1], "against"),
        "already_voted",
    ),
    (
        "the chair records a vote for a member who voted",
        "voted",
        lambda s: s.branch.show_of_hands(s.mid, s.cid, s.m[1], "abstain"),
        "already_voted",
    ),
    (
        "a present member not entitled at this meeting votes",
        "voting",
        lambda s: s.branch.vote(s.mid, s.cid, s.outsider, "for"),
        "not_entitled",
    ),
    (
        "a probationary member votes",
        "voting",
        lambda s: s.branch.vote(s.mid, s.cid, s.branch.probationary, "for"),
        "not_entitled",
    ),
    (
        "an absent member votes from their phone",
        "voting",
        lambda s: s.branch.vote(s.mid, s.cid, s.m[3], "for"),
        "not_present",
    ),
    (
        "the chair records an absent member's vote",
        "voting",
        lambda s: s.branch.show_of_hands(s.mid, s.cid, s.m[3], "for"),
        "not_present",
    ),
    (
        "vote on a concern not on the agenda",
        "voting",
        lambda s: s.branch.vote(s.mid, str(s.other), s.m[1], "for"),
        "not_on_agenda",
    ),
    (
        "open a vote on a concern not on the agenda",
        "open",
        lambda s: s.branch.open_vote(s.mid, str(s.other)),
        "not_on_agenda",
    ),
    (
        "vote after the vote is closed",
        "decided",
        lambda s: s.branch.vote(s.mid, s.cid, s.m[2], "for"),
        "vote_closed",
    ),
    (
        "close a vote twice",
        "decided",
        lambda s: s.branch.close_vote(s.mid, s.cid),
        "vote_closed",
    ),
    (
        "open a decided vote again",
        "decided",
        lambda s: s.branch.open_vote(s.mid, s.cid),
        "vote_closed",
    ),
    (
        "vote after the meeting is closed",
        "closed",
        lambda s: s.branch.vote(s.mid, s.cid, s.m[2], "for"),
        "meeting_closed",
    ),
    (
        "close the meeting twice",
        "closed",
        lambda s: s.branch.close(s.mid),
        "meeting_closed",
    ),
    (
        "open a closed meeting",
        "closed",
        lambda s: s.branch.chair.post(f"/api/v1/meetings/{s.mid}/open", json={"present": s.m}),
        "meeting_opened",
    ),
]


@pytest.mark.parametrize(
    ("state", "step", "rule"),
    [pytest.param(state, step, rule, id=name) for name, state, step, rule in REFUSALS],
)
def test_every_refused_vote_or_step_is_a_409_conflict_naming_its_rule_and_records_nothing(
    branch: Branch, state: str, step: Step, rule: str
) -> None:
    scene = _scene(branch, state, other=rule == "not_on_agenda")
    before_view = branch.meeting(scene.mid)

    refused(branch, lambda: step(scene), rule)

    after_view = branch.meeting(scene.mid)
    assert after_view == before_view


def test_a_refused_vote_leaves_the_tally_as_it_was(branch: Branch) -> None:
    scene = _scene(branch, "voted")
    refused(branch, lambda: branch.vote(scene.mid, scene.cid, scene.m[1], "for"), "already_voted")
    refused(branch, lambda: branch.vote(scene.mid, scene.cid, scene.m[3], "for"), "not_present")
    tally = branch.item(scene.mid, scene.cid)["tally"]
    assert (tally["for"], tally["against"], tally["abstain"], tally["voted"]) == (1, 0, 0, 1)


# -- outcomes move the concern ----------------------------------------------------------------


def test_a_rejected_item_declines_the_concern_with_the_meetings_reason(branch: Branch) -> None:
    voters = branch.members[:5]
    mid, cid = branch.voting_on(voters, voters=voters)
    for member, choice in zip(voters[1:], ["against", "against", "against", "for"], strict=True):
        ok(branch.vote(mid, cid, member, choice))

    closed = ok(branch.close_vote(mid, cid))

    assert closed["outcome"] == "rejected"
    assert closed["concern_status"] == "declined"
    reason = closed["tally"]["reason"]
    assert "3 against" in reason
    view = branch.concern_view(cid)
    assert view["status"] == "declined"
    assert reason in view["reason"]
    assert view["allowed_actions"] == []
    event = branch.concern_history(cid)[-1]
    assert event["type"] == "RejectedAtMeeting"
    assert event["data"]["meeting_id"] == mid
    assert event["data"]["tally"] == closed["tally"]
    assert reason in event["data"]["reason"]
    # The resident hears the reason on the tracking page.
    public = ok(httpx.get(f"{branch.server.base_url}/api/v1/track/{_tracking(branch, cid)}"))
    assert public["status"] == "declined"
    assert any(reason in note for note in public["public_notes"])


def _tracking(branch: Branch, cid: str) -> str:
    code: str = branch.server.app.get_concern(UUID(cid)).tracking_code
    return code


def test_without_a_quorum_the_vote_is_refused_and_a_late_arrival_lets_it_open(
    branch: Branch,
) -> None:
    # Article 11: 7 of 15 entitled present, one below half: the vote may not open.
    present = branch.members[:7]
    cid = branch.concern()
    mid = branch.schedule()
    ok(branch.shortlist(mid, cid))
    branch.open(mid, present)
    assert branch.meeting(mid)["quorum"] == {
        "rule": "half",
        "entitled": 15,
        "present": 7,
        "reached": False,
    }
    body = refused(branch, lambda: branch.open_vote(mid, cid), "no_quorum")
    assert (body["present"], body["entitled"], body["needed"]) == (7, 15, 8)
    assert branch.item(mid, cid)["status"] == "pending"

    # The eighth member comes in late: recorded with the time, and the vote opens.
    late = branch.members[7]
    came = ok(branch.chair.post(f"/api/v1/meetings/{mid}/attendance", json={"arrived": [late]}))
    assert came["quorum"]["present"] == 8
    assert came["quorum"]["reached"] is True
    ok(branch.open_vote(mid, cid))
    # A departure during the vote is kept too; the vote goes on with the quorum it opened on.
    gone = present[6]
    ok(branch.chair.post(f"/api/v1/meetings/{mid}/attendance", json={"left": [gone]}))
    refused(branch, lambda: branch.vote(mid, cid, gone, "for"), "not_present")
    for member in [*present[1:6], late]:
        ok(branch.vote(mid, cid, member, "for"))
    ok(branch.show_of_hands(mid, cid, present[0], "for"))
    closed = ok(branch.close_vote(mid, cid))
    assert closed["outcome"] == "deferred"  # 7 for of 15 entitled is not more than half
    assert closed["tally"]["quorum_reached"] is True
    assert closed["tally"]["present"] == 8

    history = branch.meeting_history(mid)
    [vote_opened] = events_of(history, "VoteOpened")
    assert vote_opened["data"]["quorum"] == {
        "rule": "half",
        "article": 11,
        "entitled": 15,
        "present": 8,
        "needed": 8,
        "reached": True,
    }
    assert [e["data"]["member"] for e in events_of(history, "Arrived")] == [late]
    assert [e["data"]["member"] for e in events_of(history, "Left")] == [gone]
    assert events_of(history, "Arrived")[0]["at"] <= vote_opened["at"]
    # The minutes name who came late and who left, with the time, in words.
    came_at = datetime.fromisoformat(events_of(history, "Arrived")[0]["at"]).strftime("%H:%M")
    left_at = datetime.fromisoformat(events_of(history, "Left")[0]["at"]).strftime("%H:%M")
    url = f"/api/v1/meetings/{mid}/minutes"
    record = ok(branch.supervisor.get(url))
    assert [(c["member"]["name"], c["change"]) for c in record["attendance"]["changes"]] == [
        (NAMES[7], "arrived"),
        (NAMES[6], "left"),
    ]
    zh = branch.supervisor.get(url, params={"format": "html"}).text
    assert f"{came_at} {NAMES[7]}到会；{left_at} {NAMES[6]}离会" in zh
    en = branch.supervisor.get(url, params={"format": "html", "lang": "en"}).text
    assert f"{came_at} {NAMES[7]} arrived; {left_at} {NAMES[6]} left" in en


def test_the_chair_declares_the_meeting_inquorate_and_its_items_go_back(branch: Branch) -> None:
    first, second = branch.concern(), branch.concern(CORRIDOR)
    mid = branch.schedule()
    for cid in (first, second):
        ok(branch.shortlist(mid, cid))
    branch.open(mid, branch.members[:8])
    declare = f"/api/v1/meetings/{mid}/declare-inquorate"
    body = refused(branch, lambda: branch.chair.post(declare), "quorum_present")
    assert (body["present"], body["entitled"], body["needed"]) == (8, 15, 8)
    ok(branch.chair.post(f"/api/v1/meetings/{mid}/attendance", json={"left": branch.members[5:8]}))

    declared = ok(branch.chair.post(declare))

    assert declared["deferred"] == [first, second]
    for cid in (first, second):
        assert branch.concern_view(cid)["status"] == "committee"
        event = branch.concern_history(cid)[-1]
        assert event["type"] == "DeferredAtMeeting"
        assert "inquorate: 5 of 15" in event["data"]["tally"]["reason"]
    refused(branch, lambda: branch.open_vote(mid, first), "vote_closed")
    assert ok(branch.close(mid, "到会人数不足，议题退回支委会。"))["deferred"] == []
    forbidden(branch, lambda: branch.member(branch.members[2]).post(declare))


def test_exactly_half_present_is_a_quorum(branch: Branch) -> None:
    # 8 of 16 would need a 16th member; 2 of 4 shows the same edge with a majority of those
    # present deciding.
    voters = branch.members[:4]
    mid, cid = branch.voting_on(
        voters[:2], voters=voters, rules={"threshold": "majority_of_present"}
    )
    assert branch.meeting(mid)["quorum"]["reached"] is True
    ok(branch.vote(mid, cid, voters[1], "for"))
    ok(branch.show_of_hands(mid, cid, voters[0], "for"))
    assert ok(branch.close_vote(mid, cid))["outcome"] == "adopted"


def test_for_exactly_half_of_those_entitled_is_not_adopted(branch: Branch) -> None:
    voters = branch.members[:4]
    mid, cid = branch.voting_on(voters, voters=voters)
    for member, choice in zip(voters, ["for", "for", "abstain", "against"], strict=True):
        ok(branch.show_of_hands(mid, cid, member, choice))
    closed = ok(branch.close_vote(mid, cid))
    assert closed["outcome"] == "deferred"
    assert "no majority" in closed["tally"]["reason"]
    assert closed["concern_status"] == "committee"


def test_a_stricter_threshold_set_for_the_meeting_decides(branch: Branch) -> None:
    # Two thirds of those entitled: 9 of 15 for is not enough, though article 11 would adopt.
    present = branch.members[:12]
    mid, cid = branch.voting_on(present, rules={"threshold": "two_thirds_of_entitled"})
    for member in present[:9]:
        ok(branch.show_of_hands(mid, cid, member, "for"))
    closed = ok(branch.close_vote(mid, cid))
    assert closed["outcome"] == "deferred"
    assert branch.meeting(mid)["rules"]["threshold"] == "two_thirds_of_entitled"


def test_closing_the_meeting_defers_every_undecided_item(branch: Branch) -> None:
    adopted, voting, pending = branch.concern(), branch.concern(CORRIDOR), branch.concern()
    mid = branch.schedule()
    for cid in (adopted, voting, pending):
        ok(branch.shortlist(mid, cid))
    branch.open(mid, branch.members[:11])
    ok(branch.open_vote(mid, adopted))
    for member in branch.members[:9]:
        ok(branch.show_of_hands(mid, adopted, member, "for"))
    assert ok(branch.close_vote(mid, adopted))["outcome"] == "adopted"
    ok(branch.open_vote(mid, voting))
    ok(branch.vote(mid, voting, branch.members[2], "against"))
    before = branch.server.event_count()

    closing = ok(branch.close(mid, "路灯事项通过，其余下次再议。"))

    assert closing["status"] == "closed"
    assert closing["deferred"] == [voting, pending]
    # One save: the meeting's Closed and the two concerns' DeferredAtMeeting.
    assert branch.server.event_count() == before + 3
    for cid in (voting, pending):
        assert branch.concern_view(cid)["status"] == "committee"
        event = branch.concern_history(cid)[-1]
        assert event["type"] == "DeferredAtMeeting"
        assert event["data"]["tally"]["reason"] == "undecided when the meeting closed"
    assert branch.concern_view(adopted)["status"] == "branch_meeting"
    view = branch.meeting(mid)
    assert view["status"] == "closed"
    assert [i["outcome"] for i in view["agenda"]] == ["adopted", "deferred", "deferred"]
    assert view["agenda"][1]["tally"]["against"] == 1


def test_the_minutes_of_a_deferred_item_name_no_owner_decided_elsewhere(branch: Branch) -> None:
    cid = branch.concern()
    mid = branch.schedule()
    ok(branch.shortlist(mid, cid))
    branch.open(mid, branch.members[:8])
    assert ok(branch.close(mid))["deferred"] == [cid]
    # Back with the committee, it routes the concern itself a week later.
    body = {"owner": branch.li_qiang, "duty_role": "project_coordinator", "due_on": DUE}
    ok(branch.committee.post(f"/api/v1/concerns/{cid}/assign", json=body))

    item = ok(branch.supervisor.get(f"/api/v1/meetings/{mid}/minutes"))["items"][0]

    assert item["decision"] == "deferred"
    assert (item["owner"], item["duty_role"], item["due_on"]) == (None, None, None)


# -- the secret ballot ------------------------------------------------------------------------


def test_a_secret_ballot_shows_counts_and_never_who_chose_what(branch: Branch) -> None:
    voters = branch.members[:5]
    mid, cid = branch.voting_on(voters, voters=voters, rules={"ballot": "secret"})
    everything: list[Any] = []  # every response body a reader could see

    everything.append(ok(branch.vote(mid, cid, voters[1], "for")))
    everything.append(ok(branch.vote(mid, cid, voters[2], "against")))
    # The chair may not record a member's choice in a secret ballot: each votes alone.
    refused(branch, lambda: branch.show_of_hands(mid, cid, voters[3], "for"), "secret_ballot")
    everything.append(ok(branch.vote(mid, cid, voters[3], "for")))
    everything.append(ok(branch.vote(mid, cid, voters[4], "abstain")))
    url = f"/api/v1/meetings/{mid}/items/{cid}/votes"
    everything.append(ok(branch.chair.post(url, json={"choice": "for"})))
    live = branch.meeting(mid, branch.member(voters[1]))
    everything += [live, branch.meeting(mid)]
    closed = ok(branch.close_vote(mid, cid))
    everything.append(closed)
    ok(branch.close(mid))
    after = branch.meeting(mid)
    minutes = ok(branch.supervisor.get(f"/api/v1/meetings/{mid}/minutes"))
    meeting_history = branch.meeting_history(mid)
    concern_history = branch.concern_history(cid)
    concern_view = branch.concern_view(cid)
    everything += [after, minutes, meeting_history, concern_history, concern_view]

    hidden = set(voters) | set(branch.member_principals.values()) | {branch.chair_principal}
    leaks = [p for body in everything for p in pairings(body, hidden)]
    assert leaks == []
    for body in (live, after):
        assert "votes" not in body["agenda"][0]
    assert "votes" not in minutes["items"][0]

    # While the vote is open only the number voted shows: moving counts would let a watcher
    # pair each new vote with its choice. Once closed, the counts are shown everywhere.
    assert live["agenda"][0]["tally"] == {"voted": 5}
    expected = {"for": 3, "against": 1, "abstain": 1, "voted": 5}
    for tally in (
        after["agenda"][0]["tally"],
        closed["tally"],
        minutes["items"][0]["tally"],
        events_of(meeting_history, "VoteClosed")[0]["data"]["tally"],
        events_of(concern_history, "AdoptedAtMeeting")[0]["data"]["tally"],
    ):
        assert {k: tally[k] for k in expected} == expected
    assert closed["outcome"] == "adopted"
    # The history still says that each member voted once (not how).
    cast = events_of(meeting_history, "BallotCast")
    assert events_of(meeting_history, "VoteCast") == []
    assert sorted(e["data"]["voter"] for e in cast) == sorted(voters[1:] + voters[:1])
    assert all("choice" not in e["data"] and "sealed_choice" not in e["data"] for e in cast)
    # The ballots counted, sorted so that none is tied back to its voter.
    [vote_closed] = events_of(meeting_history, "VoteClosed")
    assert vote_closed["data"]["ballots"] == ["abstain", "against", "for", "for", "for"]

    for lang in ("zh", "en"):
        page = branch.supervisor.get(
            f"/api/v1/meetings/{mid}/minutes", params={"format": "html", "lang": lang}
        )
        assert page.status_code == 200
        assert ("无记名投票" if lang == "zh" else "secret ballot") in page.text
        assert ("赞成 3" if lang == "zh" else "For 3") in page.text


def test_an_open_ballot_lists_each_vote_so_the_secret_check_can_see_a_pairing(
    branch: Branch,
) -> None:
    voters = branch.members[:3]
    mid, cid = branch.voting_on(voters, voters=voters)
    ok(branch.vote(mid, cid, voters[1], "against"))
    ok(branch.show_of_hands(mid, cid, voters[2], "for"))

    view = branch.meeting(mid)

    votes = view["agenda"][0]["votes"]
    assert {(v["voter"], v["choice"], v["by_chair"]) for v in votes} == {
        (voters[1], "against", False),
        (voters[2], "for", True),
    }
    assert pairings(view, set(voters))
    assert pairings(branch.meeting_history(mid), set(voters))


# -- a supervisor recounts from the events ----------------------------------------------------


def test_a_supervisor_reconstructs_every_vote_and_the_outcome_from_the_events(
    branch: Branch,
) -> None:
    voters = branch.members[:7]
    present = voters[:6]
    mid, cid = branch.voting_on(present, voters=voters)
    plan = [
        (present[0], "for", "chair-own"),
        (present[1], "for", "own"),
        (present[2], "against", "chair"),
        (present[3], "for", "own"),
        (present[4], "abstain", "own"),
        (present[5], "for", "chair"),
    ]
    url = f"/api/v1/meetings/{mid}/items/{cid}/votes"
    for member, choice, how in plan:
        if how == "own":
            ok(branch.vote(mid, cid, member, choice))
        elif how == "chair":
            ok(branch.show_of_hands(mid, cid, member, choice))
        else:
            ok(branch.chair.post(url, json={"choice": choice}))
    closed = ok(branch.close_vote(mid, cid))
    assert closed["outcome"] == "adopted"

    # From the events alone.
    history = branch.meeting_history(mid)
    scheduled = events_of(history, "Scheduled")[0]["data"]
    opened = events_of(history, "Opened")[0]["data"]
    entitled = scheduled["eligible_voters"]
    attending = [m for m in entitled if m in set(opened["present"])]
    cast = [e for e in events_of(history, "VoteCast") if e["data"]["concern_id"] == cid]
    voters_seen = [e["data"]["voter"] for e in cast]
    assert len(voters_seen) == len(set(voters_seen)) == 6  # each once
    assert set(voters_seen) <= set(attending)  # only the entitled who attended
    by_chair = {e["data"]["voter"] for e in cast if e["data"]["by_chair"]}
    assert by_chair == {present[2], present[5]}
    for e in cast:
        if e["data"]["by_chair"]:
            assert (e["actor"], e["role"]) == (branch.chair_principal, "chair")
        elif e["data"]["voter"] == branch.secretary:
            assert e["actor"] == branch.chair_principal
        else:
            assert e["actor"] == branch.member_principals[e["data"]["voter"]]
            assert e["role"] == "member"
    choices = [e["data"]["choice"] for e in cast]
    recount = count(choices, len(entitled), len(attending), Rules(**scheduled["rules"]))

    vote_closed = [e for e in events_of(history, "VoteClosed") if e["data"]["concern_id"] == cid]
    assert len(vote_closed) == 1
    assert vote_closed[0]["data"]["tally"] == recount.as_dict()
    # The concern's history carries the same tally and outcome.
    adopted = events_of(branch.concern_history(cid), "AdoptedAtMeeting")
    assert len(adopted) == 1
    assert adopted[0]["data"]["meeting_id"] == mid
    assert adopted[0]["data"]["tally"] == recount.as_dict()
    assert (recount.votes_for, recount.against, recount.abstain) == (4, 1, 1)
    assert recount.outcome.value == "adopted"
    # The events come in order, versions without gaps.
    assert [e["version"] for e in history] == list(range(1, len(history) + 1))


# -- who may do what --------------------------------------------------------------------------


def test_a_member_votes_only_their_own_vote(branch: Branch) -> None:
    voters = branch.members[:4]
    mid, cid = branch.voting_on(voters, voters=voters)
    url = f"/api/v1/meetings/{mid}/items/{cid}/votes"

    # Naming another member is the chair's show of hands only.
    forbidden(
        branch,
        lambda: branch.member(voters[1]).post(url, json={"choice": "for", "voter": voters[2]}),
    )
    # Naming oneself is one's own vote.
    own = ok(branch.member(voters[1]).post(url, json={"choice": "for", "voter": voters[1]}))
    assert own["by_chair"] is False
    # A principal not linked to a member, or without the member role, may not vote.
    _, unlinked = branch.server.principal([Role.MEMBER])
    with branch.server.client(unlinked) as c:
        forbidden(branch, lambda: c.post(url, json={"choice": "for"}))
    _, committee = branch.server.principal([Role.COMMITTEE], member=voters[2])
    with branch.server.client(committee) as c:
        forbidden(branch, lambda: c.post(url, json={"choice": "for"}))
    # The chair records a named present member's vote, and the event says so.
    shown = ok(branch.show_of_hands(mid, cid, voters[3], "against"))
    assert shown["by_chair"] is True
    cast = events_of(branch.meeting_history(mid), "VoteCast")
    assert [(e["data"]["voter"], e["data"]["by_chair"], e["role"]) for e in cast] == [
        (voters[1], False, "member"),
        (voters[3], True, "chair"),
    ]
    # A chair with no member of her own must name the voter.
    _, bare_chair = branch.server.principal([Role.CHAIR])
    with branch.server.client(bare_chair) as c:
        before = branch.server.event_count()
        body = ok(c.post(url, json={"choice": "for"}), 422)
        assert [f["field"] for f in body["fields"]] == ["voter"]
        assert branch.server.event_count() == before
    # A bad choice is invalid.
    assert branch.member(voters[2]).post(url, json={"choice": "maybe"}).status_code == 422
    with branch.server.client() as anonymous:
        assert anonymous.post(url, json={"choice": "for"}).status_code == 401


def test_only_the_chair_runs_the_meeting_and_only_the_committee_shortlists(branch: Branch) -> None:
    cid = branch.concern()
    mid = branch.schedule()
    member = branch.member(branch.members[2])
    base = f"/api/v1/meetings/{mid}"

    def refuse(clients: tuple[httpx.Client, ...], url: str, body: Any = None) -> None:
        for client in clients:
            forbidden(branch, lambda: client.post(url, json=body))  # noqa: B023

    refuse(
        (branch.chair, member, branch.staff, branch.supervisor),
        f"{base}/agenda",
        {"concern_id": cid},
    )
    ok(branch.shortlist(mid, cid))
    refuse(
        (branch.committee, member, branch.staff, branch.supervisor), f"{base}/open", {"present": []}
    )
    branch.open(mid, branch.members[:9])
    refuse((branch.committee, member, branch.supervisor), f"{base}/items/{cid}/open-vote")
    ok(branch.open_vote(mid, cid))
    refuse((branch.committee, member, branch.supervisor), f"{base}/items/{cid}/close-vote")
    refuse((branch.committee, member, branch.supervisor), f"{base}/close", {"minutes": "x"})
    meeting = {
        "title": "党日",
        "kind": "thematic_party_day",
        "scheduled_for": SCHEDULED_FOR,
        "chair": branch.secretary,
        "eligible_voters": branch.members,
    }
    refuse((member, branch.supervisor, branch.staff), "/api/v1/meetings", meeting)
    with branch.server.client() as anonymous:
        assert anonymous.get(base).status_code == 401
        assert anonymous.post(f"{base}/close", json={"minutes": "x"}).status_code == 401
    # The steps refused above changed nothing: the vote is still open, the meeting too.
    view = branch.meeting(mid)
    assert view["status"] == "open"
    assert view["agenda"][0]["status"] == "voting"


def test_the_chair_assigns_only_after_adoption_and_the_committee_not_at_all(
    branch: Branch,
) -> None:
    voters = branch.members[:3]
    mid, cid = branch.voting_on(voters, voters=voters)
    assignment = {"owner": branch.li_qiang, "duty_role": "project_coordinator", "due_on": DUE}
    assign = f"/api/v1/concerns/{cid}/assign"

    # Before the meeting decides: not allowed from branch_meeting.
    body = not_now(branch, lambda: branch.chair.post(assign, json=assignment), "branch_meeting")
    assert "assign" not in body["allowed_actions"]
    for member in voters:
        ok(branch.show_of_hands(mid, cid, member, "for"))
    assert ok(branch.close_vote(mid, cid))["outcome"] == "adopted"
    # The committee routes from committee only; after adoption the assign is the chair's.
    forbidden(branch, lambda: branch.committee.post(assign, json=assignment))
    assert ok(branch.chair.post(assign, json=assignment))["status"] == "assigned"


def test_who_may_read_a_meeting_its_minutes_and_its_history(branch: Branch) -> None:
    mid = branch.schedule()
    member = branch.member(branch.members[6])
    for reader in (member, branch.supervisor, branch.staff, branch.committee, branch.chair):
        assert reader.get(f"/api/v1/meetings/{mid}").status_code == 200
        assert reader.get(f"/api/v1/meetings/{mid}/minutes").status_code == 200
    assert branch.supervisor.get(f"/api/v1/meetings/{mid}/history").status_code == 200
    assert branch.staff.get(f"/api/v1/meetings/{mid}/history").status_code == 200
    assert member.get(f"/api/v1/meetings/{mid}/history").status_code == 403
    _, integrator = branch.server.principal([Role.INTEGRATOR])
    with branch.server.client(integrator) as c:
        assert c.get(f"/api/v1/meetings/{mid}").status_code == 403
    assert branch.supervisor.get("/api/v1/meetings/not-a-meeting").status_code == 404
    listed = ok(member.get("/api/v1/meetings"))["items"]
    assert mid in {m["id"] for m in listed}


# -- scheduling -------------------------------------------------------------------------------


def test_scheduling_refuses_unknown_rules_naming_the_field(branch: Branch) -> None:
    body = {
        "title": "党日",
        "kind": "thematic_party_day",
        "scheduled_for": SCHEDULED_FOR,
        "chair": branch.secretary,
        "eligible_voters": branch.members,
    }
    before = branch.server.event_count()
    for rules, wrong in (
        ({"quorum": "most"}, "rules.quorum"),
        ({"threshold": "unanimous"}, "rules.threshold"),
        ({"ballot": "by_post"}, "rules.ballot"),
    ):
        answer = ok(branch.committee.post("/api/v1/meetings", json={**body, "rules": rules}), 422)
        assert answer["error"] == "invalid"
        assert [f["field"] for f in answer["fields"]] == [wrong]
    assert branch.server.event_count() == before


def test_a_probationary_member_is_not_entitled_to_vote(branch: Branch) -> None:
    body = {
        "title": "党日",
        "kind": "thematic_party_day",
        "scheduled_for": SCHEDULED_FOR,
        "chair": branch.secretary,
        "eligible_voters": [*branch.members, branch.probationary],
    }
    before = branch.server.event_count()
    answer = ok(branch.committee.post("/api/v1/meetings", json=body), 422)
    assert [f["field"] for f in answer["fields"]] == ["eligible_voters"]
    assert branch.server.event_count() == before


def test_a_scheduled_meeting_shows_its_rules_and_no_quorum_yet(branch: Branch) -> None:
    mid = branch.schedule(rules={"quorum": "two_thirds", "threshold": "majority_of_present"})
    view = branch.meeting(mid)
    assert view["status"] == "scheduled"
    assert view["rules"] == {
        "quorum": "two_thirds",
        "threshold": "majority_of_present",
        "ballot": "open",
    }
    assert view["quorum"]["reached"] is False
    assert view["kind_label"] == {"zh": "主题党日", "en": "Thematic party day"}
    assert view["chair"] == branch.secretary
    assert view["eligible_voters"] == branch.members


# -- the roll ----------------------------------------------------------------------------------


def test_the_roll_names_who_voted_and_who_not_yet_never_a_choice(branch: Branch) -> None:
    voters = branch.members[:5]
    mid, cid = branch.voting_on(voters[:4], voters=voters, rules={"ballot": "secret"})
    ok(branch.vote(mid, cid, voters[1], "against"))
    ok(branch.vote(mid, cid, voters[2], "for"))
    url = f"/api/v1/meetings/{mid}/items/{cid}/roll"

    during = ok(branch.chair.get(url))

    assert during["status"] == "voting"
    assert during["ballot"] == "secret"
    assert during["counts"] == {"entitled": 5, "present": 4, "voted": 2, "not_yet": 2}
    assert sorted(p["id"] for p in during["voted"]) == sorted(voters[1:3])
    assert [p["id"] for p in during["not_yet"]] == [voters[0], voters[3]]
    assert [p["name"] for p in during["not_yet"]] == [NAMES[0], NAMES[3]]
    assert during["votes_needed"] == 3  # more than half of the 5 entitled
    assert during["quorum"]["present"] == 4
    hidden = set(voters) | set(branch.member_principals.values())
    assert pairings(during, hidden) == []
    assert not any(f"'{c}'" in str(during) for c in CHOICES)
    # A supervisor reads it once the vote is closed; members and other chairs never.
    refused(branch, lambda: branch.supervisor.get(url), "vote_open")
    forbidden(branch, lambda: branch.member(voters[1]).get(url))
    _, other_token = branch.server.principal([Role.CHAIR], member=voters[4])
    with branch.server.client(other_token) as other_chair:
        forbidden(branch, lambda: other_chair.get(url))

    ok(branch.vote(mid, cid, voters[0], "for"))
    ok(branch.close_vote(mid, cid))
    after = ok(branch.supervisor.get(url))
    assert after["status"] == "decided"
    assert after["counts"] == {"entitled": 5, "present": 4, "voted": 3, "not_yet": 0}
    assert pairings(after, hidden) == []
    assert ok(branch.supervisor.get(f"/api/v1/meetings/{mid}/items/{uuid4()}/roll"), 404)
