"""Time travel over HTTP (supervisors): one concern as of a version or a time, and the whole
register as it stood at a time, equal to what the live answers were back then."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from domain.vocabulary import Role
from tests.conftest import Server

BASE: dict[str, Any] = {
    "title": "5号楼东侧小路路灯两周不亮",
    "description": "东侧小路的路灯已经坏了两个星期。",
    "category": "environment",
    "library": "problem",
    "channel": "visit",
    "resident": {"name": "张秀英", "phone": "13800000000"},
}
DUE = (date.today() + timedelta(days=10)).isoformat()


@dataclass
class Desk:
    server: Server
    staff: httpx.Client
    supervisor: httpx.Client
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

    def live(self, **params: Any) -> dict[str, Any]:
        """The live list of this desk's grid, after every write so far."""
        params = {"grid": self.grid, "limit": 200, **params}
        params.setdefault("min_position", self.server.event_count())
        r = self.staff.get("/api/v1/concerns", params=params)
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    def past(self, moment: datetime, **params: Any) -> httpx.Response:
        query = {"grid": self.grid, "limit": 200, "as_of": moment.isoformat(), **params}
        return self.supervisor.get("/api/v1/concerns", params=query)


def now() -> datetime:
    moment = datetime.now(UTC)
    time.sleep(0.01)  # what is recorded next is recorded after this moment
    return moment


@pytest.fixture
def desk(shared_server: Server) -> Iterator[Desk]:
    _, staff = shared_server.principal([Role.STAFF, Role.GRID_LEADER, Role.COMMITTEE])
    _, supervisor = shared_server.principal([Role.SUPERVISOR])
    with shared_server.client(staff) as s, shared_server.client(supervisor) as v:
        yield Desk(shared_server, s, v, f"g-{uuid.uuid4().hex[:8]}")


def test_the_register_as_of_a_time_is_the_list_as_it_stood_then(desk: Desk) -> None:
    before_anything = now()
    first = desk.raise_concern()["id"]
    second = desk.raise_concern(title="楼道堆物", category="community_affairs")["id"]
    desk.command(first, "refer", {})
    then = desk.live()
    moment = now()

    member = desk.server.member()
    desk.command(first, "decline", {"reason": "不属于社区职责"})
    desk.command(
        second, "handle-now", {"owner": member, "duty_role": "project_coordinator", "due_on": DUE}
    )
    desk.raise_concern(title="噪音扰民")
    assert desk.live()["items"] != then["items"]

    r = desk.past(moment)
    assert r.status_code == 200, r.text
    # The open stage's clock runs now: it is no part of the register as it stood.
    assert r.json()["items"] == [
        {k: v for k, v in i.items() if k != "stage"} for i in then["items"]
    ]
    assert datetime.fromisoformat(r.json()["as_of"]) == moment
    assert desk.past(before_anything).json()["items"] == []
    # The filters apply to the register as it stood: first was with the committee then.
    by_status = desk.past(moment, status="committee").json()["items"]
    assert [i["id"] for i in by_status] == [first]
    by_category = desk.past(moment, category="community_affairs").json()["items"]
    assert [(i["id"], i["status"]) for i in by_category] == [(second, "intake")]
    assert desk.past(moment, q="楼道").json()["items"] == by_category
    # Pages and cursors as on the live list.
    page = desk.past(moment, limit=1).json()
    assert [i["id"] for i in page["items"]] == [then["items"][0]["id"]]
    rest = desk.past(moment, limit=1, cursor=page["next_cursor"]).json()
    assert [i["id"] for i in rest["items"]] == [then["items"][1]["id"]]
    assert rest["next_cursor"] is None


def test_only_a_supervisor_may_ask_for_the_register_as_of_a_time(desk: Desk) -> None:
    r = desk.staff.get("/api/v1/concerns", params={"as_of": now().isoformat()})
    assert r.status_code == 403
    assert r.json()["error"] == "forbidden"
    bad = desk.supervisor.get("/api/v1/concerns", params={"as_of": "last tuesday"})
    assert bad.status_code == 422
    assert bad.json()["error"] == "invalid"
    assert [f["field"] for f in bad.json()["fields"]] == ["as_of"]


def test_a_concern_as_of_each_version_and_time_is_the_concern_as_it_was(desk: Desk) -> None:
    before = now()
    created = desk.raise_concern()
    cid = created["id"]
    seen = [desk.staff.get(f"/api/v1/concerns/{cid}").json()]
    moments = [now()]
    member = desk.server.member()
    steps: list[tuple[str, dict[str, Any]]] = [
        ("refer", {}),
        ("assign", {"owner": member, "duty_role": "project_coordinator", "due_on": DUE}),
        ("record-progress", {"note": "已联系物业"}),
        ("resolve", {"summary": "更换了6盏路灯"}),
    ]
    for name, body in steps:
        desk.command(cid, name, body)
        seen.append(desk.staff.get(f"/api/v1/concerns/{cid}").json())
        moments.append(now())

    def without_actions(view: dict[str, Any]) -> dict[str, Any]:
        # What the caller may do now is not part of what the concern was.
        # Nor is the open stage's clock, which runs now.
        skip = ("allowed_actions", "resident", "stage")
        return {k: v for k, v in view.items() if k not in skip}

    for version, (was, moment) in enumerate(zip(seen, moments, strict=True), start=1):
        by_version = desk.supervisor.get(
            f"/api/v1/concerns/{cid}", params={"as_of_version": version}
        )
        assert by_version.status_code == 200, by_version.text
        assert by_version.headers["etag"] == f'"{version}"'
        assert without_actions(by_version.json()) == without_actions(was)
        by_time = desk.supervisor.get(
            f"/api/v1/concerns/{cid}", params={"as_of": moment.isoformat()}
        )
        assert by_time.status_code == 200, by_time.text
        assert by_time.json() == by_version.json()
        assert by_version.json()["resident"] == {"redacted": True}
    by_reference = desk.supervisor.get(
        f"/api/v1/concerns/{created['reference']}", params={"as_of_version": 2}
    )
    assert by_reference.json()["status"] == "committee"

    for params in ({"as_of_version": 99}, {"as_of": before.isoformat()}):
        r = desk.supervisor.get(f"/api/v1/concerns/{cid}", params=params)
        assert r.status_code == 404, params
        assert r.json()["error"] == "not_found"
    for params in ({"as_of_version": 0}, {"as_of": "soon"}):
        r = desk.supervisor.get(f"/api/v1/concerns/{cid}", params=params)
        assert r.status_code == 422, params
        assert [f["field"] for f in r.json()["fields"]] == [next(iter(params))]
