"""The role x endpoint x grid matrix, generated: every operation of the OpenAPI document
(and every page of the web UI) must have a row in api.doors, and each answers as its row
says, on both stores. For every role, a principal holding just that role is refused 403
where the row does not allow it and gets past the door (anything but 401 and 403: 404, 409
and 422 count as passed) where it does; where the grid scope applies, a principal holding
the row's roles but limited to another grid is refused (objects) or sees only its grid
(lists). A new route without a row fails here."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest
from fastapi.routing import APIRoute

from api import doors, ui
from api.doors import Door
from api.main import create_app
from application.minqing import NewConcern, NewVisit
from domain.meeting import MeetingKind
from domain.place import PlaceKind
from domain.principal import Principal
from domain.residents import ResidentData
from domain.vocabulary import Category, Channel, Library, Role
from tests.conftest import Server
from tests.e2e.ui_client import csrf_of, signed_in, ui_user

ROLES = [r for r in Role if r not in (Role.RESIDENT, Role.SYSTEM)]
OTHER_GRID = "9"
_APP = create_app()  # not started: only its routes and OpenAPI document are read
OPERATIONS = sorted(
    (method.upper(), path)
    for path, operations in _APP.openapi()["paths"].items()
    for method in operations
)
# The UI's routers (FastAPI keeps included routers nested), and /ui itself.
UI_ROUTES = sorted(
    {("GET", "/ui")}
    | {
        (method, route.path)
        for router in ui.ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
        if method != "HEAD"
    }
)


@dataclass
class World:
    """One server's objects, all in grid 2, and a principal per role linked to `member`,
    who chairs `meeting` and is entitled to vote in it (but owns no concern)."""

    server: Server
    member: str
    concern: str  # withdrawn: every command is refused by role (403) or by state (409)
    reference: str
    code: str
    agenda_concern: str
    meeting: str
    visit: str
    place: str = ""
    tokens: dict[Role, str] = field(default_factory=dict)

    def url(self, path: str) -> str:
        """The path with every parameter filled in."""
        concern = self.agenda_concern if "/items/" in path else self.concern
        values = {
            "concern_ref": concern,
            "ref": self.concern,
            "concern_id": self.agenda_concern,
            "member_id": self.member,
            "meeting_id": self.meeting,
            "tracking_code": self.code,
            "code": self.code,
            "resident_ref": "R-0000000000000000",
            "event_type": "org.minqing.concern.raised.v1",
            "fmt": "json",
            "request_id": self.reference,
            "token": self.code,
            "webhook_id": str(uuid.uuid4()),
            "milestone_id": str(uuid.uuid4()),
            "post_id": str(uuid.uuid4()),
            "visit_id": self.visit,
            "library": "problem",
            "action": "refer",
            "verb": "supervise",
            "year": "2026",
            "day": "2026-12-31",
            "place_id": self.place,
            # A grid of its own: a boundary drawn here changes no other test's grid.
            "grid": "doors",
            "digest": "0" * 64,
        }
        return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)


def _due() -> str:
    return (datetime.now() + timedelta(days=20)).date().isoformat()


Body = Callable[[World], dict[str, Any]]
CONCERN = "/api/v1/concerns/{concern_ref}"
MEETING = "/api/v1/meetings/{meeting_id}"
RAISE = {
    "title": "路灯不亮",
    "description": "东侧小路路灯坏了",
    "category": "environment",
    "library": "problem",
    "channel": "visit",
    "grid": "2",
}
BODIES: dict[tuple[str, str], Body] = {
    ("POST", "/api/v1/concerns"): lambda w: RAISE,
    ("POST", CONCERN + "/refer"): lambda w: {},
    ("POST", CONCERN + "/handle-now"): lambda w: {
        "owner": w.member,
        "duty_role": "mediator",
        "due_on": _due(),
    },
    ("POST", CONCERN + "/decline"): lambda w: {"reason": "不属于社区"},
    ("POST", CONCERN + "/merge"): lambda w: {"into": w.agenda_concern},
    ("POST", CONCERN + "/withdraw"): lambda w: {"reason": "撤回"},
    ("POST", CONCERN + "/return-for-info"): lambda w: {"missing": "门牌"},
    ("POST", CONCERN + "/assign"): lambda w: {
        "owner": w.member,
        "duty_role": "mediator",
        "due_on": _due(),
    },
    ("POST", CONCERN + "/record-progress"): lambda w: {"note": "进行中"},
    ("POST", CONCERN + "/extend-deadline"): lambda w: {"due_on": _due(), "reason": "延期"},
    ("POST", CONCERN + "/reassign"): lambda w: {
        "owner": w.member,
        "duty_role": "mediator",
        "reason": "调岗",
    },
    ("POST", CONCERN + "/send-back"): lambda w: {"reason": "退回"},
    ("POST", CONCERN + "/resolve"): lambda w: {"summary": "已修好"},
    ("POST", CONCERN + "/record-feedback"): lambda w: {"solved": True, "satisfaction": "satisfied"},
    ("POST", CONCERN + "/reopen"): lambda w: {"reason": "又坏了"},
    ("POST", CONCERN + "/milestones"): lambda w: {"title": "采购灯具", "due_on": _due()},
    ("POST", CONCERN + "/milestones/{milestone_id}/done"): lambda w: {},
    ("POST", CONCERN + "/write-off"): lambda w: {},
    ("POST", "/api/v1/members/{member_id}/public-identity"): lambda w: {"shown": True},
    ("POST", "/api/v1/posts"): lambda w: {"name": "环境维护岗", "grid": "2", "seats": 2},
    ("POST", "/api/v1/posts/{post_id}/claims"): lambda w: {"member": w.member},
    ("POST", "/api/v1/service-records"): lambda w: {
        "member": w.member,
        "date": (datetime.now() - timedelta(days=2)).date().isoformat(),
        "hours": 2,
        "what": "广场除草",
    },
    ("POST", "/api/v1/members/{member_id}/feedback"): lambda w: {
        "period": "2026H1",
        "rating": "good",
    },
    ("POST", CONCERN + "/supervise"): lambda w: {
        "grade": "yellow",
        "requirement": "三日内答复",
        "reply_by": _due(),
    },
    ("POST", CONCERN + "/reply-supervision"): lambda w: {"reply": "在办"},
    ("POST", CONCERN + "/request-extension"): lambda w: {"reason": "配件未到"},
    ("POST", CONCERN + "/refuse-extension"): lambda w: {"reason": "理由不足"},
    ("POST", CONCERN + "/suspend"): lambda w: {
        "reason": "等待供电公司",
        "until": (datetime.now() + timedelta(days=30)).date().isoformat(),
    },
    ("POST", CONCERN + "/refuse-suspension"): lambda w: {"reason": "理由不足"},
    ("POST", CONCERN + "/appeal"): lambda w: {"stage": "handling", "reason": "配件缺货"},
    ("POST", CONCERN + "/decide-appeal"): lambda w: {"approved": True, "reason": "属实"},
    ("POST", CONCERN + "/propose-void"): lambda w: {"reason": "不符合立案条件"},
    ("POST", CONCERN + "/refuse-void"): lambda w: {"reason": "符合立案条件"},
    ("POST", CONCERN + "/cosigners"): lambda w: {"anonymous": True, "channel": "visit"},
    ("POST", "/api/v1/members"): lambda w: {
        "name": "王芳",
        "grids": ["2"],
        "duty_roles": [],
        "votes_in_branch": True,
    },
    ("POST", "/api/v1/meetings"): lambda w: {
        "title": "党日",
        "kind": "thematic_party_day",
        "scheduled_for": (datetime.now() + timedelta(days=3)).isoformat() + "+08:00",
        "chair": w.member,
        "eligible_voters": [w.member],
    },
    ("POST", MEETING + "/agenda"): lambda w: {"concern_id": w.concern},
    ("POST", MEETING + "/open"): lambda w: {"present": [w.member]},
    ("POST", MEETING + "/items/{concern_ref}/votes"): lambda w: {"choice": "for"},
    ("POST", MEETING + "/close"): lambda w: {"minutes": "会议纪要"},
    ("POST", MEETING + "/attendance"): lambda w: {"arrived": [w.member]},
    ("POST", "/api/v1/track/{tracking_code}/feedback"): lambda w: {
        "solved": True,
        "satisfaction": "satisfied",
    },
    ("POST", "/api/v1/webhooks"): lambda w: {"url": "http://127.0.0.1:9/hook"},
    ("PATCH", "/api/v1/webhooks/{webhook_id}"): lambda w: {"status": "disabled"},
    ("POST", "/api/v1/webhooks/{webhook_id}/replay"): lambda w: {"parked": True},
    ("PUT", "/api/v1/calendar/{year}/days/{day}"): lambda w: {"kind": "holiday"},
    ("PUT", "/api/v1/time-limits"): lambda w: {
        "limits": [
            {"stage": s, "amount": 5, "unit": "working_days"}
            for s in ("triage", "committee", "handling", "feedback")
        ]
    },
    ("POST", "/api/v1/places"): lambda w: {"grid": "2", "name": "5号楼", "kind": "building"},
    ("PATCH", "/api/v1/places/{place_id}"): lambda w: {"name": "5号楼"},
    ("PUT", "/api/v1/grids/{grid}/boundary"): lambda w: {
        "type": "Polygon",
        "coordinates": [[[121.0, 31.0], [121.1, 31.0], [121.1, 31.1], [121.0, 31.0]]],
    },
    ("POST", "/api/v1/visits"): lambda w: {
        "grid": "2",
        "household": "5号楼201",
        "visited_on": (datetime.now() - timedelta(days=2)).date().isoformat(),
    },
}
# A form with a file: a small PNG (the photo is checked before the caller's rights on the
# concern, as a body is).
FILES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", CONCERN + "/attachments"): {
        "photo": (
            "p.png",
            bytes.fromhex(
                "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de"
                "0000000c49444154789c63606060000000040001f61738550000000049454e44ae426082"
            ),
            "image/png",
        )
    },
}
OPEN311_FORM = {"service_code": "environment", "description": "路灯坏了", "attribute[grid]": "2"}


def call(client: httpx.Client, world: World, method: str, path: str, door: Door) -> Any:
    """The answer (status, JSON body or None) to one request, read no further than needed
    (the event stream stays open otherwise)."""
    url = world.url(path)
    body = BODIES.get((method, path))
    kwargs: dict[str, Any] = {}
    if door.credential == "open311_key":
        token = client.headers.get("Authorization", "").removeprefix("Bearer ")
        kwargs["data"] = {**OPEN311_FORM, "api_key": token}
        client = httpx.Client(base_url=str(client.base_url), timeout=30)
    elif body is not None:
        kwargs["json"] = body(world)
    elif (method, path) in FILES:
        kwargs["files"] = FILES[(method, path)]
    with client.stream(method, url, **kwargs) as r:
        if r.status_code >= 400 or "json" in r.headers.get("content-type", ""):
            r.read()
            try:
                return r.status_code, r.json()
            except ValueError:
                return r.status_code, None
        return r.status_code, None


@pytest.fixture(scope="module")
def world(shared_server: Server) -> World:
    server = shared_server
    app = server.app
    driver = Principal(
        "doors-driver",
        "doors-driver",
        frozenset({Role.STAFF, Role.COMMITTEE, Role.GRID_LEADER}),
        frozenset(),
    )
    member = server.member("张红梅")
    draft = NewConcern(
        "路灯不亮",
        "东侧小路路灯坏了",
        Category.ENVIRONMENT,
        Library.PROBLEM,
        Channel.VISIT,
        "2",
        resident=ResidentData(name="张秀英", phone="13800000000"),
    )
    done = app.raise_concern(driver, draft)
    app.withdraw(UUID(done.id), driver, "居民撤回")
    agenda = app.raise_concern(driver, draft)
    app.refer(UUID(agenda.id), driver)
    meeting = app.schedule_meeting(
        driver,
        "主题党日",
        MeetingKind.THEMATIC_PARTY_DAY,
        datetime.now(app.zone) + timedelta(days=2),
        "",
        UUID(member),
        [UUID(member)],
    )
    app.shortlist(UUID(meeting.id), driver, UUID(agenda.id))
    yesterday = datetime.now(app.zone).date() - timedelta(days=1)
    visit = app.record_visit(driver, NewVisit(grid="2", household="5号楼", visited_on=yesterday))
    w = World(
        server,
        member,
        done.id,
        done.reference or "",
        done.tracking_code or "",
        agenda.id,
        meeting.id,
        visit.id,
    )
    w.place = app.register_place(driver, "2", "5号楼", PlaceKind.BUILDING).id
    for role in ROLES:
        _, w.tokens[role] = server.principal([role], member=member)
    # A read of the resident's data in grid 2: the access log has an entry to scope.
    with server.client(w.tokens[Role.STAFF]) as staff:
        assert staff.get(f"/api/v1/concerns/{done.id}").json()["resident"]["name"] == "张秀英"
    return w


def _allowed(door: Door, role: Role) -> bool:
    # Every principal here is linked to a member (not the owner of any concern).
    return role in door.roles or door.linked


# -- the table covers everything ---------------------------------------------------------------


def test_every_operation_in_the_openapi_document_has_a_row_and_every_row_an_operation() -> None:
    assert sorted(set(OPERATIONS) - set(doors.API)) == []
    assert sorted(set(doors.API) - set(OPERATIONS)) == []


def test_every_web_ui_route_has_a_row_and_every_row_a_route() -> None:
    assert sorted(set(UI_ROUTES) - set(doors.UI)) == []
    assert sorted(set(doors.UI) - set(UI_ROUTES)) == []


def test_the_openapi_document_publishes_each_operations_roles() -> None:
    paths = _APP.openapi()["paths"]
    for (method, path), door in doors.API.items():
        operation = paths[path][method.lower()]
        assert operation["x-minqing-roles"] == sorted(r.value for r in door.roles)
        assert operation["x-minqing-grid-scope"] == door.grid


# -- roles ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_each_role_is_refused_or_let_through_as_the_table_says(
    world: World, method: str, path: str
) -> None:
    door = doors.API[(method, path)]
    wrong: list[tuple[Any, ...]] = []
    if door.credential == "none":
        with world.server.client() as anonymous:
            status, _ = call(anonymous, world, method, path, door)
        if status in (401, 403):
            wrong.append(("no token", status))
    for role in ROLES:
        with world.server.client(world.tokens[role]) as client:
            status, body = call(client, world, method, path, door)
        if door.credential == "none" or _allowed(door, role):
            if status in (401, 403):
                wrong.append((role.value, status, body))
        elif status != 403 or (
            isinstance(body, dict) and body.get("error", "forbidden") not in ("forbidden",)
        ):
            wrong.append((role.value, status, body))
    assert wrong == [], f"{method} {path}"


# -- grid scope ------------------------------------------------------------------------------

GRID_SCOPED = [(m, p) for (m, p), d in doors.API.items() if d.grid and d.roles]


@pytest.mark.parametrize(("method", "path"), GRID_SCOPED)
def test_a_principal_limited_to_another_grid_is_refused_or_sees_only_its_grid(
    world: World, method: str, path: str
) -> None:
    door = doors.API[(method, path)]
    _, token = world.server.principal(sorted(door.roles), [OTHER_GRID], member=world.member)
    with world.server.client(token) as client:
        status, body = call(client, world, method, path, door)
    if door.grid == "object":
        assert status == 403, body
        if isinstance(body, dict) and "error" in body:
            assert body["error"] == "forbidden"
        return
    assert status not in (401, 403), body
    items = [i for i in (body.get("items", []) if isinstance(body, dict) else []) if i]
    assert {i["grid"] for i in items if isinstance(i, dict) and "grid" in i} <= {OTHER_GRID}
    grid2 = {world.concern, world.agenda_concern, world.visit}
    named = {str(i.get(k)) for i in items for k in ("id", "concern_id", "visit_id")}
    assert not named & grid2, items


# -- the web UI's pages --------------------------------------------------------------------

UI_PAGES = [(m, p) for (m, p), d in doors.UI.items() if m == "GET" and d.credential == "bearer"]


@pytest.mark.parametrize("role", ROLES)
def test_each_ui_page_lets_a_role_in_or_refuses_it_as_the_table_says(
    world: World, role: Role
) -> None:
    user = ui_user(world.server, [role], member=world.member)
    wrong = []
    with signed_in(world.server, user) as browser:
        assert csrf_of(browser.get("/ui/").text)
        for method, path in UI_PAGES:
            door = doors.UI[(method, path)]
            url = world.url(path)
            if path == "/ui/record/done":
                url += f"?visit={world.visit}"
            status = browser.request(method, url).status_code
            expected_in = _allowed(door, role)
            if expected_in and status in (401, 403):
                wrong.append((path, status))
            if not expected_in and status != 403:
                wrong.append((path, status))
    assert wrong == []
