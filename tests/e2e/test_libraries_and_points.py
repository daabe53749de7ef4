"""The four libraries and member points over HTTP, on SQLite and PostgreSQL: the worked story
of domain.md (3 March to 12 April, on the server's own clock) puts the streetlight job in
the public achievement library with nothing personal in it; the libraries filter by
library and keep to the caller's grids; points follow the configured weights; reopening
takes an entry and its point back; bad filters, roles and unknown names are refused.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from domain.vocabulary import DutyRole, Role
from tests.conftest import BACKENDS, Server, _database, start_server

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Weights unlike the defaults and unlike each other, so every figure shows which one it used.
WEIGHTS = {
    "points_visit": 5,
    "points_concern_collected": 7,
    "points_meeting_attended": 11,
    "points_resolved_on_time": 13,
}
RESIDENT = {"name": "张秀英", "phone": "13812345678", "address": "幸福里5号楼2单元301"}
STREETLIGHTS: dict[str, Any] = {
    "title": "5号楼东侧小路路灯两周不亮",
    "description": "东侧小路的路灯已经坏了两个星期，老人晚上出门不安全。",
    "category": "environment",
    "library": "problem",
    "channel": "visit",
    "grid": "2",
    "building": "5",
    "resident": RESIDENT,
}
# The branch of the story: the secretary chairs; Li Qiang and Wang Fang are members too.
BRANCH = ["张红梅", "李强", "王芳", "赵敏", "陈伟", "刘洋", "杨静", "黄磊"]
BRANCH += ["周婷", "吴斌", "徐丽", "孙涛", "马超", "朱琳", "胡军"]


def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def on(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


@pytest.fixture(scope="module", params=BACKENDS)
def office(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """One server per backend for this module, with the test's point weights."""
    tmp: Path = tmp_path_factory.mktemp("libraries")
    for url in _database(request.param, request, tmp):
        yield from start_server(url, tmp, **WEIGHTS)


@dataclass
class Story:
    """The worked story, played over HTTP: who took part and what it left behind."""

    server: Server
    concern_id: str
    reference: str
    tracking_code: str
    li_qiang: str
    wang_fang: str
    staff: httpx.Client

    def public(self, **params: Any) -> httpx.Response:
        with self.server.client() as anyone:
            return anyone.get("/public/achievements", params=params)

    def entry(self, body: dict[str, Any]) -> dict[str, Any]:
        found: list[dict[str, Any]] = [i for i in body["items"] if i["reference"] == self.reference]
        assert len(found) == 1
        return found[0]

    def points(self, member: str, **params: Any) -> dict[str, Any]:
        return ok(self.staff.get(f"/api/v1/members/{member}/points", params=params))


def client(
    server: Server, roles: list[Role], grids: list[str] | None = None, member: str | None = None
) -> httpx.Client:
    return server.client(server.principal(roles, grids, member)[1])


@pytest.fixture(scope="module")
def story(office: Server) -> Iterator[Story]:
    """3 March: Wang Fang visits building 5 and records the streetlights; the grid leader
    refers them. 20 March: the committee shortlists them for the thematic party day of 25
    March, where 11 of the 15 members attend with two resident representatives and 10 vote
    for, 1 abstains; Li Qiang (project coordinator) is named, due 10 April. He records
    progress on 2 April and resolves on 8 April; on 12 April the resident is satisfied."""
    members = {name: office.member(name) for name in BRANCH}
    secretary, li_qiang, wang_fang = (members[n] for n in ("张红梅", "李强", "王芳"))
    present = [members[n] for n in BRANCH[:11]]
    wang = client(office, [Role.COLLECTOR], ["2"], wang_fang)
    leader = client(office, [Role.GRID_LEADER], ["2"])
    committee = client(office, [Role.COMMITTEE])
    chair = client(office, [Role.CHAIR], member=secretary)
    li = client(office, [Role.MEMBER], member=li_qiang)
    staff = client(office, [Role.STAFF])
    public = office.client()
    try:
        office.set_clock(lambda: on(date(2026, 3, 3)))
        visit = {"grid": "2", "household": "5号楼2单元301", "visited_on": "2026-03-03"}
        ok(wang.post("/api/v1/visits", json=visit), 201)
        raised = ok(wang.post("/api/v1/concerns", json=STREETLIGHTS), 201)
        cid = raised["id"]
        ok(leader.post(f"/api/v1/concerns/{cid}/refer", json={}))

        office.set_clock(lambda: on(date(2026, 3, 20)))
        meeting = {
            "title": "3月主题党日·民情会诊",
            "kind": "thematic_party_day",
            "scheduled_for": "2026-03-25T14:30:00+08:00",
            "place": "社区党群服务中心",
            "chair": secretary,
            "eligible_voters": list(members.values()),
        }
        mid = ok(committee.post("/api/v1/meetings", json=meeting), 201)["id"]
        ok(committee.post(f"/api/v1/meetings/{mid}/agenda", json={"concern_id": cid}))

        office.set_clock(lambda: on(date(2026, 3, 25), 14))
        opened = {"present": present, "resident_representatives": ["居民代表甲", "居民代表乙"]}
        ok(chair.post(f"/api/v1/meetings/{mid}/open", json=opened))
        ok(chair.post(f"/api/v1/meetings/{mid}/items/{cid}/open-vote"))
        for i, voter in enumerate(present):
            vote = {"choice": "for" if i < 10 else "abstain", "voter": voter}
            ok(chair.post(f"/api/v1/meetings/{mid}/items/{cid}/votes", json=vote))
        closed = ok(chair.post(f"/api/v1/meetings/{mid}/items/{cid}/close-vote"))
        assert closed["outcome"] == "adopted"
        named = {"owner": li_qiang, "duty_role": "project_coordinator", "due_on": "2026-04-10"}
        ok(chair.post(f"/api/v1/concerns/{cid}/assign", json=named))

        office.set_clock(lambda: on(date(2026, 4, 2)))
        ok(li.post(f"/api/v1/concerns/{cid}/record-progress", json={"note": "已订购灯具"}))
        office.set_clock(lambda: on(date(2026, 4, 8)))
        ok(li.post(f"/api/v1/concerns/{cid}/resolve", json={"summary": "更换了东侧小路6盏路灯"}))
        office.set_clock(lambda: on(date(2026, 4, 12)))
        answer = {"solved": True, "satisfaction": "satisfied"}
        last = ok(public.post(f"/api/v1/track/{raised['tracking_code']}/feedback", json=answer))
        assert last["status"] == "resolved"
        office.set_clock(None)
        # Every later read waits for the read models to include the story.
        ok(staff.get("/api/v1/libraries/achievement", params={"min_position": last["position"]}))
        ok(staff.get("/api/v1/points", params={"min_position": last["position"]}))
        yield Story(
            office, cid, raised["reference"], raised["tracking_code"], li_qiang, wang_fang, staff
        )
    finally:
        office.set_clock(None)
        for c in (wang, leader, committee, chair, li, staff, public):
            c.close()


# -- the achievement library ----------------------------------------------------------------


def test_the_worked_story_puts_the_streetlight_job_in_the_public_achievement_library(
    story: Story,
) -> None:
    entry = story.entry(ok(story.public(grid="2")))

    assert entry == {
        "id": story.concern_id,
        "reference": story.reference,
        "title": STREETLIGHTS["title"],
        "stage": "resolved",
        "stage_label": {"zh": "已办结", "en": "Resolved"},
        "library": "problem",
        "library_label": {"zh": "问题库", "en": "Problem library"},
        "category": "environment",
        "category_label": {"zh": "环境卫生", "en": "Environment and sanitation"},
        "grid": "2",
        "round": 1,
        "summary": "更换了东侧小路6盏路灯",
        "duty_role": "project_coordinator",
        "duty_role_label": {"zh": "民生项目协调员", "en": "Project coordinator"},
        "raised_on": "2026-03-03",
        "adopted_on": "2026-03-25",
        "due_on": "2026-04-10",
        "resolved_on": "2026-04-08",
        "resolved_at": "2026-04-08T10:00:00+08:00",
        "days_taken": 36,
        "on_time": True,
        "solved": True,
        "satisfaction": "satisfied",
        "satisfaction_label": {"zh": "满意", "en": "Satisfied"},
        "cell": None,  # recorded without a point
    }
    # Staff read the same entry in the library behind the login.
    assert story.entry(ok(story.staff.get("/api/v1/libraries/achievement"))) == entry


def test_the_public_achievement_library_holds_nothing_personal(story: Story) -> None:
    text = story.public().text
    assert story.reference in text
    for secret in (
        RESIDENT["name"],
        RESIDENT["phone"],
        RESIDENT["address"],
        story.tracking_code,
        "李强",  # the owner: the duty role stands for who did it
        story.li_qiang,
        "王芳",
        story.wang_fang,
    ):
        assert secret not in text, secret


def test_the_achievement_library_filters_by_category_grid_and_resolved_date(
    story: Story,
) -> None:
    def references(**params: Any) -> list[str]:
        return [i["reference"] for i in ok(story.public(**params))["items"]]

    assert story.reference in references(category="environment", grid="2")
    assert story.reference in references(**{"from": "2026-04-08", "to": "2026-04-08"})
    assert story.reference not in references(category="dispute")
    assert story.reference not in references(grid="3")
    assert story.reference not in references(**{"from": "2026-04-09"})
    assert story.reference not in references(to="2026-04-07")


def test_pages_follow_next_cursor_newest_first(office: Server) -> None:
    grid = f"p{uuid.uuid4().hex[:6]}"
    owner = office.member("孙静", DutyRole.MEDIATOR)
    with client(office, [Role.STAFF, Role.GRID_LEADER], [grid]) as staff:
        made = [resolve(staff, grid, owner, f"调解纠纷 {i}") for i in range(3)]
        seen: list[str] = []
        params: dict[str, Any] = {"grid": grid, "limit": 2, "min_position": made[-1][1]}
        while True:
            page = ok(staff.get("/api/v1/libraries/achievement", params=params))
            seen += [i["id"] for i in page["items"]]
            assert len(page["items"]) <= 2
            if page["next_cursor"] is None:
                break
            params = {"grid": grid, "limit": 2, "cursor": page["next_cursor"]}
    assert seen == [cid for cid, _ in reversed(made)]


def resolve(staff: httpx.Client, grid: str, owner: str, title: str) -> tuple[str, int]:
    """A dispute raised, handled at once and resolved by staff: (id, last position)."""
    body = {**STREETLIGHTS, "title": title, "category": "dispute", "grid": grid}
    cid = ok(staff.post("/api/v1/concerns", json=body), 201)["id"]
    due = (date.today() + timedelta(days=7)).isoformat()
    named = {"owner": owner, "duty_role": "mediator", "due_on": due}
    ok(staff.post(f"/api/v1/concerns/{cid}/handle-now", json=named))
    position = ok(staff.post(f"/api/v1/concerns/{cid}/resolve", json={"summary": "已调解"}))
    return cid, int(position["position"])


def test_reopening_takes_the_entry_out_of_the_library_and_the_point_back(
    office: Server,
) -> None:
    grid = f"r{uuid.uuid4().hex[:6]}"
    owner = office.member("钱伟", DutyRole.MEDIATOR)
    with client(office, [Role.STAFF, Role.GRID_LEADER], [grid]) as staff:
        cid, position = resolve(staff, grid, owner, "邻里噪音纠纷")
        page = ok(
            staff.get("/public/achievements", params={"grid": grid, "min_position": position})
        )
        assert [i["id"] for i in page["items"]] == [cid]
        points = ok(staff.get(f"/api/v1/members/{owner}/points", params={"min_position": position}))
        assert points["total"] == 13

        reopened = ok(staff.post(f"/api/v1/concerns/{cid}/reopen", json={"reason": "又吵起来了"}))
        params = {"grid": grid, "min_position": reopened["position"]}
        assert ok(staff.get("/public/achievements", params=params))["items"] == []
        assert ok(staff.get(f"/api/v1/members/{owner}/points", params=params))["total"] == 0


# -- the hardship, problem and suggestion libraries -----------------------------------------


def test_a_library_lists_the_concerns_filed_in_it_with_the_concern_filters(office: Server) -> None:
    grid = f"l{uuid.uuid4().hex[:6]}"
    with client(office, [Role.STAFF, Role.GRID_LEADER], [grid]) as staff:

        def raise_in(library: str, category: str, title: str) -> str:
            body = {**STREETLIGHTS, "grid": grid, "library": library, "category": category}
            return str(ok(staff.post("/api/v1/concerns", json={**body, "title": title}), 201)["id"])

        hardship = raise_in("hardship", "hardship_relief", "独居老人需要助餐")
        problem = raise_in("problem", "environment", "垃圾清运不及时")
        referred = raise_in("problem", "dispute", "楼道堆物纠纷")
        last = ok(staff.post(f"/api/v1/concerns/{referred}/refer", json={}))["position"]

        def ids(library: str, **params: Any) -> list[str]:
            params = {"grid": grid, "min_position": last, **params}
            page = ok(staff.get(f"/api/v1/libraries/{library}", params=params))
            return [i["id"] for i in page["items"]]

        assert ids("hardship") == [hardship]
        assert ids("problem") == [referred, problem]
        assert ids("suggestion") == []
        assert ids("problem", status="committee") == [referred]
        assert ids("problem", category="environment") == [problem]
        assert ids("problem", q="垃圾") == [problem]
        page = ok(staff.get("/api/v1/libraries/problem", params={"grid": grid, "limit": 1}))
        assert len(page["items"]) == 1
        assert page["next_cursor"]


def test_the_libraries_keep_to_the_callers_grids(story: Story) -> None:
    office = story.server
    with client(office, [Role.COLLECTOR], ["3"]) as collector:
        mine = ok(collector.post("/api/v1/concerns", json={**STREETLIGHTS, "grid": "3"}), 201)
        params = {"min_position": mine["position"]}
        listed = ok(collector.get("/api/v1/libraries/problem", params=params))["items"]
        assert {i["grid"] for i in listed} == {"3"}
        assert mine["id"] in [i["id"] for i in listed]
        achievements = ok(collector.get("/api/v1/libraries/achievement"))["items"]
        assert story.concern_id not in [i["id"] for i in achievements]
        for path in ("/api/v1/libraries/problem", "/api/v1/libraries/achievement"):
            r = collector.get(path, params={"grid": "2"})
            assert r.status_code == 403, r.text
            assert r.json()["error"] == "forbidden"
    # Someone for every grid sees the grid-2 concern in both.
    assert story.concern_id in [
        i["id"]
        for i in ok(story.staff.get("/api/v1/libraries/problem", params={"grid": "2"}))["items"]
    ]


# -- member points --------------------------------------------------------------------------


def test_points_follow_the_configured_weights(story: Story) -> None:
    li = story.points(story.li_qiang)
    assert (li["member_id"], li["name"], li["total"]) == (story.li_qiang, "李强", 11 + 13)
    # Then the deductions for supervision cards (督办), at their default weights.
    assert [(i["kind"], i["weight"]) for i in li["items"][4:]] == [
        ("yellow_card", -5),
        ("red_card", -10),
    ]
    assert li["items"][:4] == [
        {
            "kind": "visit",
            "label": {"zh": "入户走访", "en": "Household visits"},
            "count": 0,
            "weight": 5,
            "points": 0,
        },
        {
            "kind": "concern_collected",
            "label": {"zh": "收集民情", "en": "Concerns collected"},
            "count": 0,
            "weight": 7,
            "points": 0,
        },
        {
            "kind": "meeting_attended",
            "label": {"zh": "参加会议", "en": "Meetings attended"},
            "count": 1,
            "weight": 11,
            "points": 11,
        },
        {
            "kind": "resolved_on_time",
            "label": {"zh": "按期办结", "en": "Concerns resolved on time"},
            "count": 1,
            "weight": 13,
            "points": 13,
        },
    ]
    # Wang Fang's principal is linked to her member record: her visit and raise count.
    wang = story.points(story.wang_fang)
    assert [(i["kind"], i["count"]) for i in wang["items"][:4]] == [
        ("visit", 1),
        ("concern_collected", 1),
        ("meeting_attended", 1),
        ("resolved_on_time", 0),
    ]
    assert wang["total"] == 5 + 7 + 11
    # A period counts the work done in it.
    assert story.points(story.li_qiang, **{"from": "2026-04-01"})["total"] == 13
    assert story.points(story.wang_fang, to="2026-03-24")["total"] == 5 + 7
    march = story.points(story.li_qiang, **{"from": "2026-03-01", "to": "2026-03-31"})
    assert (march["from"], march["to"], march["total"]) == ("2026-03-01", "2026-03-31", 11)


def test_every_members_points_highest_first(story: Story) -> None:
    items = ok(story.staff.get("/api/v1/points"))["items"]
    totals = [i["total"] for i in items]
    assert totals == sorted(totals, reverse=True)
    ranked = [i["member_id"] for i in items]
    assert ranked.index(story.li_qiang) < ranked.index(story.wang_fang)
    by_member = {i["member_id"]: i for i in items}
    assert (by_member[story.li_qiang]["name"], by_member[story.li_qiang]["total"]) == ("李强", 24)
    assert by_member[story.wang_fang]["total"] == 23
    # Every member of the registry is ranked, those without points too.
    assert len(by_member) == len(ok(story.staff.get("/api/v1/members"))["items"])
    assert totals[-1] == 0


def test_points_read_your_own_writes(office: Server) -> None:
    member = office.member("郑洁")
    _, token = office.principal([Role.COLLECTOR], ["2"], member)
    with office.client(token) as collector:
        visit = {"grid": "2", "household": "6号楼101", "visited_on": date.today().isoformat()}
        position = ok(collector.post("/api/v1/visits", json=visit), 201)["position"]
        with client(office, [Role.STAFF]) as staff:
            url = f"/api/v1/members/{member}/points"
            body = ok(staff.get(url, params={"min_position": position}))
            assert body["items"][0]["count"] == 1
            assert body["position"] >= position
            r = staff.get(url, params={"min_position": position + 1_000_000})
            assert r.status_code == 503, r.text
            assert r.json()["error"] == "unavailable"
            assert r.json()["position"] >= position


# -- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/public/achievements", {"category": "weather"}, "category"),
        ("/public/achievements", {"from": "8 April"}, "from"),
        ("/public/achievements", {"to": "2026-02-30"}, "to"),
        ("/public/achievements", {"from": "2026-04-09", "to": "2026-04-08"}, "to"),
        ("/public/achievements", {"limit": "0"}, "limit"),
        ("/public/achievements", {"cursor": "not-a-cursor"}, "cursor"),
        ("/api/v1/libraries/achievement", {"category": "weather"}, "category"),
        ("/api/v1/libraries/achievement", {"to": "tomorrow"}, "to"),
        ("/api/v1/libraries/achievement", {"limit": "500"}, "limit"),
        ("/api/v1/libraries/problem", {"status": "done"}, "status"),
        ("/api/v1/libraries/hardship", {"category": "weather"}, "category"),
        ("/api/v1/libraries/suggestion", {"cursor": "x"}, "cursor"),
        ("/api/v1/libraries/problem", {"min_position": "-1"}, "min_position"),
        ("/api/v1/points", {"from": "2026-13-01"}, "from"),
        ("/api/v1/points", {"from": "2026-04-09", "to": "2026-04-08"}, "to"),
    ],
)
def test_bad_filters_are_invalid_and_name_the_field(
    office: Server, path: str, params: dict[str, str], field: str
) -> None:
    with client(office, [Role.STAFF]) as staff:
        r = staff.get(path, params=params)
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "invalid"
    assert [f["field"].split(".")[0] for f in r.json()["fields"]] == [field]


def test_member_points_refuse_bad_dates_and_unknown_members(office: Server) -> None:
    member = office.member("冯刚")
    with client(office, [Role.STAFF]) as staff:
        r = staff.get(f"/api/v1/members/{member}/points", params={"from": "soon"})
        assert r.status_code == 422
        assert r.json()["fields"][0]["field"] == "from"
        for unknown in (str(uuid.uuid4()), "nobody"):
            r = staff.get(f"/api/v1/members/{unknown}/points")
            assert r.status_code == 404, r.text
            assert r.json()["error"] == "not_found"


def test_an_unknown_library_is_not_found(office: Server) -> None:
    with client(office, [Role.STAFF]) as staff:
        for name in ("achievements", "complaints"):
            r = staff.get(f"/api/v1/libraries/{name}")
            assert r.status_code == 404, r.text
            assert r.json()["error"] == "not_found"


def test_libraries_and_points_are_for_staff_roles_and_the_public_library_for_anyone(
    office: Server,
) -> None:
    member = office.member("卫东")
    paths = [
        "/api/v1/libraries/hardship",
        "/api/v1/libraries/problem",
        "/api/v1/libraries/suggestion",
        "/api/v1/libraries/achievement",
        f"/api/v1/members/{member}/points",
        "/api/v1/points",
    ]
    with office.client() as anyone:
        for path in paths:
            r = anyone.get(path)
            assert r.status_code == 401, path
            assert r.json()["error"] == "unauthenticated"
        assert anyone.get("/public/achievements").status_code == 200
    for role in (Role.SUPERVISOR, Role.INTEGRATOR, Role.MEMBER):
        with client(office, [role], member=member if role is Role.MEMBER else None) as outsider:
            for path in paths:
                r = outsider.get(path)
                assert r.status_code == 403, (role, path)
                assert r.json()["error"] == "forbidden"
    for role in (
        Role.COLLECTOR,
        Role.GRID_LEADER,
        Role.STAFF,
        Role.COMMITTEE,
        Role.CHAIR,
        Role.ADMIN,
    ):
        with client(office, [role]) as insider:
            assert all(insider.get(path).status_code == 200 for path in paths), role


@pytest.fixture(params=BACKENDS)
def strict_office(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    """A server that lets each client make three unauthenticated requests a minute."""
    for url in _database(request.param, request, tmp_path):
        yield from start_server(url, tmp_path, track_rate_limit=3)


def test_the_public_library_is_rate_limited(strict_office: Server) -> None:
    with strict_office.client() as anyone:
        assert [anyone.get("/public/achievements").status_code for _ in range(3)] == [200] * 3
        r = anyone.get("/public/achievements")
    assert r.status_code == 429
    assert r.json()["error"] == "rate_limited"
    assert int(r.headers["Retry-After"]) > 0
