"""The concern list and the work queues over HTTP, fed by the projection runner that the API
process runs in the background: filters, Chinese text search, cursor pages, grid scope,
roles, the four queues, and read-your-writes with `min_position` (wait, or 503)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest

from application.minqing import NewConcern
from domain.principal import Principal
from domain.vocabulary import Category, Channel, DutyRole, Library, Role
from projections.registry import names
from tests.conftest import Server

DUE = (date.today() + timedelta(days=30)).isoformat()
SOONER = (date.today() + timedelta(days=10)).isoformat()
NAME, PHONE = "张秀英", "13800000000"
BASE: dict[str, Any] = {
    "title": "5号楼东侧小路路灯两周不亮",
    "description": "东侧小路的路灯已经坏了两个星期，老人晚上出门不安全。",
    "category": "environment",
    "library": "problem",
    "channel": "visit",
    "building": "5",
    "resident": {"name": NAME, "phone": PHONE},
}
SIDE_STAFF = Principal(
    id="side-staff",
    name="side staff",
    roles=frozenset({Role.STAFF, Role.GRID_LEADER, Role.COMMITTEE}),
    grids=frozenset(),
)


@dataclass
class Desk:
    """A staff client on the shared server, and a grid of this test's own."""

    server: Server
    staff: httpx.Client
    grid: str

    def raise_concern(self, **fields: Any) -> dict[str, Any]:
        r = self.staff.post("/api/v1/concerns", json={**BASE, "grid": self.grid, **fields})
        assert r.status_code == 201, r.text
        created: dict[str, Any] = r.json()
        return created

    def command(self, cid: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
        r = self.staff.post(f"/api/v1/concerns/{cid}/{name}", json=body)
        assert r.status_code == 200, r.text
        result: dict[str, Any] = r.json()
        return result

    def page(
        self, path: str = "/api/v1/concerns", client: httpx.Client | None = None, **params: Any
    ) -> dict[str, Any]:
        r = (client or self.staff).get(path, params=params)
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    def ids(self, path: str = "/api/v1/concerns", **params: Any) -> list[str]:
        """Ids on the first page of this desk's grid (up to 200), read after its writes."""
        params.setdefault("min_position", self.server.event_count())
        params.setdefault("limit", 200)
        if path == "/api/v1/concerns":
            params.setdefault("grid", self.grid)
        return [item["id"] for item in self.page(path, **params)["items"]]

    def as_principal(
        self, roles: list[Role], grids: list[str] | None = None, member: str | None = None
    ) -> httpx.Client:
        _, token = self.server.principal(roles, grids, member)
        return self.server.client(token)


@pytest.fixture
def desk(shared_server: Server) -> Iterator[Desk]:
    _, token = shared_server.principal([Role.STAFF, Role.GRID_LEADER, Role.COMMITTEE])
    with shared_server.client(token) as staff:
        yield Desk(shared_server, staff, f"g-{uuid.uuid4().hex[:8]}")


# -- read-your-writes ---------------------------------------------------------------------


def test_a_new_concern_is_listed_when_asked_with_its_position(desk: Desk) -> None:
    created = desk.raise_concern()

    body = desk.page(grid=desk.grid, min_position=created["position"])

    assert [i["id"] for i in body["items"]] == [created["id"]]
    assert body["position"] >= created["position"]
    item = body["items"][0]
    assert item["reference"] == created["reference"]
    assert item["status"] == "intake"
    assert item["status_label"] == {"zh": "待分拣", "en": "Intake"}
    assert item["title"] == BASE["title"]
    assert item["version"] == 1
    assert item["raised_at"].endswith("+08:00")  # the community's time, with its offset


def test_each_commands_position_makes_the_list_show_its_change(desk: Desk) -> None:
    cid = desk.raise_concern()["id"]
    for command, status in (("refer", "committee"), ("decline", "declined")):
        body = {"reason": "不属于社区职责"} if command == "decline" else {}
        result = desk.command(cid, command, body)
        page = desk.page(grid=desk.grid, min_position=result["position"])
        assert page["items"][0]["status"] == status
        assert page["items"][0]["version"] == result["version"]


def test_a_position_the_list_does_not_reach_in_two_seconds_is_503_with_its_position(
    desk: Desk,
) -> None:
    ahead = desk.server.event_count() + 1000
    started = time.monotonic()
    r = desk.staff.get("/api/v1/concerns", params={"min_position": ahead})
    waited = time.monotonic() - started

    assert r.status_code == 503, r.text
    body = r.json()
    assert body["error"] == "unavailable"
    assert str(ahead) in body["message"]
    assert 0 < body["position"] < ahead
    assert r.headers["Retry-After"] == "1"
    assert 1.9 <= waited < 5


def test_a_negative_min_position_is_invalid(desk: Desk) -> None:
    r = desk.staff.get("/api/v1/concerns", params={"min_position": -1})
    assert r.status_code == 422
    assert r.json()["fields"][0]["field"] == "min_position"


# -- filters -------------------------------------------------------------------------------


def test_filters_by_status_category_library_and_owner(desk: Desk) -> None:
    owner = desk.server.member("李强", DutyRole.CARE_HELPER)
    intake = desk.raise_concern()["id"]
    hardship = desk.raise_concern(category="hardship_relief", library="hardship")["id"]
    assigned = desk.raise_concern(category="dispute", library="suggestion")["id"]
    desk.command(assigned, "handle-now", {"owner": owner, "duty_role": "mediator", "due_on": DUE})

    assert set(desk.ids()) == {intake, hardship, assigned}
    assert set(desk.ids(status="intake")) == {intake, hardship}
    assert desk.ids(status="assigned") == [assigned]
    assert set(desk.ids(status=["assigned", "intake"])) == {intake, hardship, assigned}
    assert desk.ids(category="hardship_relief") == [hardship]
    assert desk.ids(library="suggestion") == [assigned]
    assert desk.ids(owner=owner) == [assigned]
    assert desk.ids(status="intake", category="dispute") == []


def test_an_unknown_status_or_category_is_invalid_and_names_the_field(desk: Desk) -> None:
    for params in ({"status": "done"}, {"category": "weather"}, {"owner": "someone"}):
        r = desk.staff.get("/api/v1/concerns", params=params)
        assert r.status_code == 422, r.text
        assert r.json()["error"] == "invalid"
        # A repeated parameter names the value too: "status.0".
        assert r.json()["fields"][0]["field"].split(".")[0] == next(iter(params))


def test_overdue_lists_assigned_concerns_past_their_due_date(desk: Desk) -> None:
    owner = UUID(desk.server.member("赵敏", DutyRole.MEDIATOR))
    side = desk.server.app
    real_clock = side.clock
    past = datetime.now(side.zone) - timedelta(days=20)
    side.clock = lambda: past  # commands recorded three weeks ago, due a week later
    try:
        draft = _draft(desk.grid)
        late = UUID(side.raise_concern(SIDE_STAFF, draft).id)
        side.handle_now(late, SIDE_STAFF, owner, DutyRole.MEDIATOR, past.date() + timedelta(7))
        resolved = UUID(side.raise_concern(SIDE_STAFF, draft).id)
        side.handle_now(resolved, SIDE_STAFF, owner, DutyRole.MEDIATOR, past.date())
        side.resolve(resolved, SIDE_STAFF, "已处理")
    finally:
        side.clock = real_clock
    on_time = desk.raise_concern()["id"]
    desk.command(
        on_time, "handle-now", {"owner": str(owner), "duty_role": "mediator", "due_on": DUE}
    )

    assert desk.ids(overdue="true") == [str(late)]
    assert set(desk.ids(overdue="false")) == {str(resolved), on_time}
    item = desk.page(grid=desk.grid, overdue="true")["items"][0]
    assert item["overdue"] is True
    assert item["due_on"] == (past.date() + timedelta(7)).isoformat()
    # The overdue queue, seen by someone limited to this grid.
    scoped = desk.as_principal([Role.STAFF], [desk.grid])
    assert _queue_ids(desk, scoped, "overdue") == [str(late)]


def _queue_ids(desk: Desk, client: httpx.Client, name: str) -> list[str]:
    body = desk.page(
        f"/api/v1/queues/{name}", client, min_position=desk.server.event_count(), limit=200
    )
    return [item["id"] for item in body["items"]]


def _draft(grid: str) -> NewConcern:
    return NewConcern(
        title="楼道堆物占用消防通道",
        description="3单元楼道长期堆放杂物。",
        category=Category.DISPUTE,
        library=Library.PROBLEM,
        channel=Channel.VISIT,
        grid=grid,
    )


# -- text search --------------------------------------------------------------------------------


def test_q_finds_chinese_words_in_the_title_or_the_description(desk: Desk) -> None:
    lights = desk.raise_concern(title="东侧小路路灯不亮", description="晚上很黑")["id"]
    rubbish = desk.raise_concern(title="垃圾清运不及时", description="夏天有异味，路灯旁边堆满")[
        "id"
    ]
    parking = desk.raise_concern(title="电动车充电难", description="希望增设充电桩")["id"]

    assert set(desk.ids(q="路灯")) == {lights, rubbish}  # title, or description
    assert desk.ids(q="充电桩") == [parking]
    assert desk.ids(q="路灯 异味") == [rubbish]  # every word must appear
    assert desk.ids(q="水管") == []


def test_q_matches_percent_and_underscore_literally(desk: Desk) -> None:
    percent = desk.raise_concern(title="物业费上涨20%", description="不合理")["id"]
    underscore = desk.raise_concern(title="门牌号A_3错误", description="需更正")["id"]
    desk.raise_concern(title="物业费上涨200元", description="A13")

    assert desk.ids(q="20%") == [percent]
    assert desk.ids(q="A_3") == [underscore]
    assert desk.ids(q="%") == [percent]


def test_latin_text_search_ignores_case(desk: Desk) -> None:
    wifi = desk.raise_concern(title="社区WiFi信号差", description="活动室")["id"]
    assert desk.ids(q="wifi") == [wifi]


# -- pages ---------------------------------------------------------------------------------


def test_pages_follow_the_cursor_newest_first_without_repeats_or_gaps(desk: Desk) -> None:
    made = [desk.raise_concern(title=f"第{i}件")["id"] for i in range(5)]
    params: dict[str, Any] = {
        "grid": desk.grid,
        "limit": 2,
        "min_position": desk.server.event_count(),
    }

    seen: list[str] = []
    pages = 0
    while True:
        body = desk.page(**params)
        seen += [i["id"] for i in body["items"]]
        pages += 1
        if body["next_cursor"] is None:
            break
        params["cursor"] = body["next_cursor"]

    assert pages == 3
    assert seen == list(reversed(made))


def test_a_concern_raised_between_pages_does_not_shift_the_next_page(desk: Desk) -> None:
    made = [desk.raise_concern()["id"] for _ in range(3)]
    first = desk.page(grid=desk.grid, limit=2, min_position=desk.server.event_count())
    newer = desk.raise_concern()["id"]
    second = desk.page(
        grid=desk.grid, limit=2, cursor=first["next_cursor"], min_position=desk.server.event_count()
    )
    assert [i["id"] for i in first["items"]] == [made[2], made[1]]
    assert [i["id"] for i in second["items"]] == [made[0]]
    assert newer not in [i["id"] for i in second["items"]]


def test_a_bad_cursor_or_limit_is_invalid(desk: Desk) -> None:
    cursor = desk.page(limit=1)["next_cursor"] or ""
    cases: list[dict[str, Any]] = [
        {"cursor": "not-a-cursor"},
        {"limit": 0},
        {"limit": 201},
    ]
    for params in cases:
        r = desk.staff.get("/api/v1/concerns", params=params)
        assert r.status_code == 422, params
        assert r.json()["fields"][0]["field"] in ("cursor", "limit")
    # A cursor of the list is not a cursor of a queue (another order).
    if cursor:
        r = desk.staff.get("/api/v1/queues/triage", params={"cursor": cursor})
        assert r.status_code == 422


def test_the_default_page_is_fifty_and_two_hundred_is_allowed(desk: Desk) -> None:
    assert len(desk.page()["items"]) <= 50
    assert desk.staff.get("/api/v1/concerns", params={"limit": 200}).status_code == 200


# -- who sees what ---------------------------------------------------------------------------------


def test_a_principal_limited_to_grids_lists_only_those_grids(desk: Desk) -> None:
    mine = desk.raise_concern()["id"]
    other_grid = f"g-{uuid.uuid4().hex[:8]}"
    desk.staff.post("/api/v1/concerns", json={**BASE, "grid": other_grid})
    scoped = desk.as_principal([Role.STAFF], [desk.grid])

    body = desk.page(client=scoped, limit=200, min_position=desk.server.event_count())
    assert {i["grid"] for i in body["items"]} == {desk.grid}
    assert mine in [i["id"] for i in body["items"]]
    r = scoped.get("/api/v1/concerns", params={"grid": other_grid})
    assert r.status_code == 403
    assert r.json()["error"] == "forbidden"


def test_staff_roles_and_supervisors_may_list_others_may_not(desk: Desk) -> None:
    for role in (Role.COLLECTOR, Role.GRID_LEADER, Role.COMMITTEE, Role.CHAIR, Role.SUPERVISOR):
        assert desk.as_principal([role]).get("/api/v1/concerns").status_code == 200, role
    for role in (Role.MEMBER, Role.INTEGRATOR):
        r = desk.as_principal([role]).get("/api/v1/concerns")
        assert r.status_code == 403, role
        assert r.json()["error"] == "forbidden"
    assert desk.server.client().get("/api/v1/concerns").status_code == 401


def test_the_list_shows_nothing_personal(desk: Desk) -> None:
    desk.raise_concern()
    r = desk.staff.get(
        "/api/v1/concerns", params={"grid": desk.grid, "min_position": desk.server.event_count()}
    )
    assert r.status_code == 200
    assert NAME not in r.text
    assert PHONE not in r.text


# -- queues --------------------------------------------------------------------------------


def test_triage_and_committee_queues_are_first_come_first_served(desk: Desk) -> None:
    first, second, third = (desk.raise_concern()["id"] for _ in range(3))
    desk.command(second, "refer", {})
    scoped = desk.as_principal([Role.GRID_LEADER], [desk.grid])

    assert _queue_ids(desk, scoped, "triage") == [first, third]
    assert _queue_ids(desk, scoped, "committee") == [second]


def test_mine_lists_the_callers_assignments_earliest_due_first(desk: Desk) -> None:
    member = desk.server.member("孙丽", DutyRole.MEDIATOR)
    later, sooner, done = (desk.raise_concern()["id"] for _ in range(3))
    for cid, due in ((later, DUE), (sooner, SOONER), (done, SOONER)):
        desk.command(cid, "handle-now", {"owner": member, "duty_role": "mediator", "due_on": due})
    desk.command(done, "resolve", {"summary": "已解决"})
    own = desk.as_principal([Role.MEMBER], member=member)

    assert _queue_ids(desk, own, "mine") == [sooner, later]
    # Someone else's queue is their own, even for staff.
    assert sooner not in _queue_ids(desk, desk.staff, "mine")
    # A member may see their own queue, but not the others.
    for name in ("triage", "committee", "overdue"):
        assert own.get(f"/api/v1/queues/{name}").status_code == 403


def test_queues_are_for_staff_roles(desk: Desk) -> None:
    for role in (Role.SUPERVISOR, Role.INTEGRATOR, Role.MEMBER):
        client = desk.as_principal([role])
        for name in ("triage", "committee", "mine", "overdue"):
            r = client.get(f"/api/v1/queues/{name}")
            assert r.status_code == 403, (role, name)
    assert desk.server.client().get("/api/v1/queues/triage").status_code == 401
    assert desk.staff.get("/api/v1/queues/elsewhere").status_code == 404


# -- operations ----------------------------------------------------------------------------


def test_readyz_reports_each_projections_position_and_lag(desk: Desk) -> None:
    position = desk.raise_concern()["position"]
    desk.page(min_position=position)
    deadline = time.monotonic() + 30
    while True:  # the other read models follow the concern list within moments
        r = desk.server.client().get("/readyz")
        assert r.status_code == 200
        projections = r.json()["projections"]
        if all(f["position"] >= position for f in projections.values()):
            break
        assert time.monotonic() < deadline, projections
        time.sleep(0.05)
    assert set(projections) == set(names())
    for figures in projections.values():
        assert figures["position"] >= position
        assert figures["lag"] == figures["head"] - figures["position"]
