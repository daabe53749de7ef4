"""Who may call what: every endpoint against every role, generated from the table of api.md.

Each endpoint is one row of data: its verb and path, the roles api.md allows, the state the
concern must be in for the call to succeed and a valid body. The tests then check, for
every endpoint, that no token or a bad token is 401, every role api.md does not list is 403
and records nothing, and every role it lists succeeds. Grid scope and the owner rule follow.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from domain.vocabulary import STAFF_ROLES, Role
from tests.conftest import Server

DUE = (date.today() + timedelta(days=30)).isoformat()
LATER = (date.today() + timedelta(days=60)).isoformat()
RAISE = {
    "title": "5号楼东侧小路路灯两周不亮",
    "description": "东侧小路的路灯已经坏了两个星期。",
    "category": "environment",
    "library": "problem",
    "channel": "visit",
    "grid": "2",
    "building": "5",
    "resident": {"name": "张秀英", "phone": "13800000000"},
}
MEMBER = {
    "name": "王芳",
    "grids": ["2"],
    "duty_roles": ["environment_monitor"],
    "votes_in_branch": True,
}
# Every role a token can carry; resident and system are not given to principals.
ROLES = [r for r in Role if r not in (Role.RESIDENT, Role.SYSTEM)]
# The roles of the catch-all principal that drives concerns into the state a test needs.
DRIVER_ROLES = [Role.STAFF, Role.COMMITTEE, Role.GRID_LEADER]


@dataclass
class World:
    """One shared server's actors and concerns for this module."""

    server: Server
    driver: httpx.Client
    owner: str
    other_member: str
    owner_token: str
    other_member_token: str
    merge_target: str
    clients: dict[Role, httpx.Client] = field(default_factory=dict)
    parked: dict[str, str] = field(default_factory=dict)

    def as_role(self, role: Role) -> httpx.Client:
        """A client for a new principal holding just `role`, no grid limit, no member link."""
        if role not in self.clients:
            _, token = self.server.principal([role])
            self.clients[role] = self.server.client(token)
        return self.clients[role]

    def concern(self, state: str, grid: str = "2") -> str:
        """A new concern, driven over HTTP into `state`."""
        r = self.driver.post("/api/v1/concerns", json={**RAISE, "grid": grid})
        assert r.status_code == 201, r.text
        cid: str = r.json()["id"]
        plans: dict[str, list[tuple[str, dict[str, Any]]]] = {
            "intake": [],
            "committee": [("refer", {})],
            "assigned": [("refer", {}), ("assign", self.assignment())],
            "resolved": [
                ("refer", {}),
                ("assign", self.assignment()),
                ("resolve", {"summary": "更换了6盏路灯"}),
            ],
        }
        for command, body in plans[state]:
            r = self.driver.post(f"/api/v1/concerns/{cid}/{command}", json=body)
            assert r.status_code == 200, r.text
        return cid

    def parked_concern(self, state: str) -> str:
        """A concern in `state` that tests must leave as it is (refusals change nothing)."""
        if state not in self.parked:
            self.parked[state] = self.concern(state)
        return self.parked[state]

    def assignment(self) -> dict[str, Any]:
        return {"owner": self.owner, "duty_role": "project_coordinator", "due_on": DUE}


Body = Callable[[World], dict[str, Any]]


@dataclass(frozen=True)
class Endpoint:
    """One row of api.md: who may call it and what makes the call succeed."""

    name: str
    method: str
    path: str
    allowed: frozenset[Role]
    state: str | None = None
    body: Body | None = None
    success: int = 200
    owner_may: bool = False

    def call(self, client: httpx.Client, world: World, concern: str | None) -> httpx.Response:
        url = self.path.format(concern=concern, member=world.owner)
        body = self.body(world) if self.body else None
        return client.request(self.method, url, json=body)

    @property
    def mutates(self) -> bool:
        return self.method != "GET"


def _command(
    name: str, allowed: set[Role], state: str, body: Body, *, owner_may: bool = False
) -> Endpoint:
    path = "/api/v1/concerns/{concern}/" + name
    return Endpoint(name, "POST", path, frozenset(allowed), state, body, owner_may=owner_may)


R = Role
STAFF_OR_SUPERVISOR = STAFF_ROLES | {R.SUPERVISOR}
ENDPOINTS: list[Endpoint] = [
    Endpoint(
        "raise",
        "POST",
        "/api/v1/concerns",
        frozenset({R.COLLECTOR, R.STAFF, R.GRID_LEADER}),
        body=lambda w: RAISE,
        success=201,
    ),
    Endpoint("read", "GET", "/api/v1/concerns/{concern}", STAFF_OR_SUPERVISOR, "intake"),
    Endpoint(
        "history",
        "GET",
        "/api/v1/concerns/{concern}/history",
        frozenset({R.SUPERVISOR, R.STAFF}),
        "intake",
    ),
    _command("refer", {R.GRID_LEADER, R.STAFF}, "intake", lambda w: {"note": "需要研究"}),
    _command("handle-now", {R.GRID_LEADER, R.STAFF}, "intake", lambda w: w.assignment()),
    _command(
        "decline",
        {R.STAFF, R.COMMITTEE, R.CHAIR},
        "committee",
        lambda w: {"reason": "不属于社区职责范围"},
    ),
    _command("merge", {R.STAFF}, "intake", lambda w: {"into": w.merge_target}),
    _command("withdraw", {R.STAFF}, "intake", lambda w: {"reason": "居民撤回"}),
    _command("return-for-info", {R.COMMITTEE}, "committee", lambda w: {"missing": "缺少门牌号"}),
    # The chair assigns only from branch_meeting after adoption; from committee it is refused.
    _command("assign", {R.COMMITTEE}, "committee", lambda w: w.assignment()),
    _command(
        "record-progress",
        {R.STAFF},
        "assigned",
        lambda w: {"note": "已订购灯具"},
        owner_may=True,
    ),
    _command(
        "extend-deadline",
        {R.COMMITTEE},
        "assigned",
        lambda w: {"due_on": LATER, "reason": "灯具到货推迟"},
    ),
    _command(
        "reassign",
        {R.COMMITTEE},
        "assigned",
        lambda w: {"owner": w.other_member, "duty_role": "project_coordinator", "reason": "调岗"},
    ),
    _command("send-back", set(), "assigned", lambda w: {"reason": "需供电所处理"}, owner_may=True),
    _command(
        "resolve", {R.STAFF}, "assigned", lambda w: {"summary": "更换了6盏路灯"}, owner_may=True
    ),
    _command(
        "record-feedback",
        {R.COLLECTOR, R.STAFF},
        "resolved",
        lambda w: {"solved": True, "satisfaction": "satisfied"},
    ),
    _command("reopen", {R.STAFF}, "resolved", lambda w: {"reason": "路灯又坏了"}),
    Endpoint(
        "register-member",
        "POST",
        "/api/v1/members",
        frozenset({R.ADMIN, R.STAFF}),
        body=lambda w: MEMBER,
        success=201,
    ),
    Endpoint("list-members", "GET", "/api/v1/members", STAFF_ROLES),
    Endpoint("read-member", "GET", "/api/v1/members/{member}", STAFF_ROLES),
]
CONCERN_COMMANDS = [e for e in ENDPOINTS if e.state is not None and e.mutates]


def _role_cases(allowed: bool) -> list[Any]:
    cases = []
    for ep in ENDPOINTS:
        for role in ROLES:
            if (role in ep.allowed) is not allowed:
                continue
            cases.append(pytest.param(ep, role, id=f"{ep.name}-{role.value}"))
    return cases


def _endpoint_cases(endpoints: list[Endpoint]) -> list[Any]:
    return [pytest.param(ep, id=ep.name) for ep in endpoints]


@pytest.fixture(scope="module")
def world(shared_server: Server) -> Iterator[World]:
    server = shared_server
    owner = server.member()
    other = server.member("赵敏")
    _, driver = server.principal(DRIVER_ROLES)
    _, owner_token = server.principal([Role.MEMBER], ["2"], member=owner)
    _, other_token = server.principal([Role.MEMBER], ["2"], member=other)
    with server.client(driver) as client:
        w = World(server, client, owner, other, owner_token, other_token, "")
        w.merge_target = w.concern("intake")
        try:
            yield w
        finally:
            for c in w.clients.values():
                c.close()


def _concern_for(ep: Endpoint, world: World, *, fresh: bool) -> str | None:
    if ep.state is None:
        return None
    return world.concern(ep.state) if fresh else world.parked_concern(ep.state)


def assert_error(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()
    assert body["error"] == code
    assert isinstance(body["message"], str)
    assert body["message"]
    return body


# -- authentication ------------------------------------------------------------------------


@pytest.mark.parametrize("ep", _endpoint_cases(ENDPOINTS))
def test_a_call_without_a_token_is_401_unauthenticated(ep: Endpoint, world: World) -> None:
    concern = _concern_for(ep, world, fresh=False)
    before = world.server.event_count()
    with world.server.client() as anonymous:
        r = ep.call(anonymous, world, concern)
    assert_error(r, 401, "unauthenticated")
    assert world.server.event_count() == before


@pytest.mark.parametrize("ep", _endpoint_cases(ENDPOINTS))
def test_a_call_with_an_unknown_token_is_401_unauthenticated(ep: Endpoint, world: World) -> None:
    concern = _concern_for(ep, world, fresh=False)
    before = world.server.event_count()
    with world.server.client(f"mq_{uuid.uuid4().hex}") as stranger:
        r = ep.call(stranger, world, concern)
    assert_error(r, 401, "unauthenticated")
    assert world.server.event_count() == before


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param("Bearer", id="bearer-without-token"),
        pytest.param("Basic YWRtaW46YWRtaW4=", id="basic-scheme"),
        pytest.param("mq_no-scheme-at-all", id="no-scheme"),
    ],
)
def test_a_malformed_authorization_header_is_401(authorization: str, world: World) -> None:
    with httpx.Client(base_url=world.server.base_url) as raw:
        r = raw.get("/api/v1/members", headers={"Authorization": authorization})
    assert_error(r, 401, "unauthenticated")


def test_a_revoked_token_is_401_once_the_token_cache_forgets_it(world: World) -> None:
    principal, _ = world.server.principal([Role.STAFF])
    token_id, token = world.server.app.accounts.issue_token(principal.id, "to revoke")
    with world.server.client(token) as client:
        assert client.get("/api/v1/members").status_code == 200
        world.server.app.accounts.revoke_token(token_id)
        # Each process keeps a token's principal MINQING_TOKEN_CACHE_SECONDS (README).
        assert world.server.served is not None
        window = world.server.served.state.settings.token_cache_seconds
        deadline = time.monotonic() + window + 2
        while (r := client.get("/api/v1/members")).status_code == 200:
            assert time.monotonic() < deadline, "the revoked token outlived the cache"
            time.sleep(0.2)
        assert_error(r, 401, "unauthenticated")


# -- roles ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("ep", "role"), _role_cases(allowed=False))
def test_a_role_api_md_does_not_list_is_403_and_records_nothing(
    ep: Endpoint, role: Role, world: World
) -> None:
    concern = _concern_for(ep, world, fresh=False)
    before = world.server.event_count()
    r = ep.call(world.as_role(role), world, concern)
    if world.server.event_count() != before and ep.state:
        world.parked.pop(ep.state, None)  # it was changed: do not hand it to the next test
    assert_error(r, 403, "forbidden")
    assert world.server.event_count() == before


@pytest.mark.parametrize(("ep", "role"), _role_cases(allowed=True))
def test_a_role_api_md_lists_succeeds(ep: Endpoint, role: Role, world: World) -> None:
    concern = _concern_for(ep, world, fresh=ep.mutates)
    before = world.server.event_count()
    r = ep.call(world.as_role(role), world, concern)
    assert r.status_code == ep.success, r.text
    if ep.mutates:
        assert r.json()["position"] > before
    else:
        assert world.server.event_count() == before


def test_every_endpoint_has_at_least_one_caller_who_may_use_it() -> None:
    # A guard on the table itself: a row nobody may call would make the tests vacuous.
    for ep in ENDPOINTS:
        assert ep.allowed or ep.owner_may, ep.name


def test_the_chair_may_not_assign_a_concern_the_committee_holds(world: World) -> None:
    concern = world.parked_concern("committee")
    before = world.server.event_count()
    r = world.as_role(Role.CHAIR).post(
        f"/api/v1/concerns/{concern}/assign", json=world.assignment()
    )
    assert_error(r, 403, "forbidden")
    assert world.server.event_count() == before


# -- the owner rule ------------------------------------------------------------------------

OWNER_COMMANDS = [e for e in ENDPOINTS if e.owner_may]


@pytest.mark.parametrize("ep", _endpoint_cases(OWNER_COMMANDS))
def test_the_assigned_member_may_act_on_their_concern(ep: Endpoint, world: World) -> None:
    concern = world.concern("assigned")
    with world.server.client(world.owner_token) as owner:
        r = ep.call(owner, world, concern)
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 4


@pytest.mark.parametrize("ep", _endpoint_cases(OWNER_COMMANDS))
def test_another_member_may_not_act_on_a_concern_assigned_to_someone_else(
    ep: Endpoint, world: World
) -> None:
    concern = world.parked_concern("assigned")
    before = world.server.event_count()
    with world.server.client(world.other_member_token) as other:
        r = ep.call(other, world, concern)
    assert_error(r, 403, "forbidden")
    assert world.server.event_count() == before


def test_staff_may_not_send_back_a_concern_only_its_owner_may(world: World) -> None:
    concern = world.parked_concern("assigned")
    before = world.server.event_count()
    r = world.as_role(Role.STAFF).post(
        f"/api/v1/concerns/{concern}/send-back", json={"reason": "不归我管"}
    )
    assert_error(r, 403, "forbidden")
    assert world.server.event_count() == before


# -- grid scope ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def grid3(world: World) -> Iterator[httpx.Client]:
    """Staff, committee and grid leader, limited to grid 3."""
    _, token = world.server.principal(DRIVER_ROLES, ["3"])
    with world.server.client(token) as client:
        yield client


@pytest.mark.parametrize(
    "path", ["/api/v1/concerns/{concern}", "/api/v1/concerns/{concern}/history"]
)
def test_a_principal_limited_to_grid_3_cannot_read_a_grid_2_concern(
    path: str, world: World, grid3: httpx.Client
) -> None:
    r = grid3.get(path.format(concern=world.parked_concern("intake")))
    assert_error(r, 403, "forbidden")


@pytest.mark.parametrize(
    "ep", _endpoint_cases([e for e in CONCERN_COMMANDS if e.allowed & set(DRIVER_ROLES)])
)
def test_a_principal_limited_to_grid_3_cannot_change_a_grid_2_concern(
    ep: Endpoint, world: World, grid3: httpx.Client
) -> None:
    concern = world.parked_concern(ep.state or "intake")
    before = world.server.event_count()
    r = ep.call(grid3, world, concern)
    assert_error(r, 403, "forbidden")
    assert world.server.event_count() == before


def test_a_principal_limited_to_grid_3_cannot_raise_in_grid_2(
    world: World, grid3: httpx.Client
) -> None:
    before = world.server.event_count()
    assert_error(grid3.post("/api/v1/concerns", json=RAISE), 403, "forbidden")
    assert world.server.event_count() == before


def test_a_principal_limited_to_grid_3_raises_reads_and_works_a_grid_3_concern(
    grid3: httpx.Client,
) -> None:
    r = grid3.post("/api/v1/concerns", json={**RAISE, "grid": "3"})
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    view = grid3.get(f"/api/v1/concerns/{cid}")
    assert view.status_code == 200, view.text
    assert view.json()["grid"] == "3"
    assert "refer" in view.json()["allowed_actions"]
    assert grid3.get(f"/api/v1/concerns/{cid}/history").status_code == 200
    r = grid3.post(f"/api/v1/concerns/{cid}/refer", json={})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "committee"


@pytest.mark.parametrize(
    ("command", "state"),
    [("handle-now", "intake"), ("assign", "committee"), ("reassign", "assigned")],
)
def test_grid_scope_is_checked_before_the_named_owner(
    command: str, state: str, world: World, grid3: httpx.Client
) -> None:
    concern = world.parked_concern(state)
    body = {**world.assignment(), "owner": str(uuid.uuid4()), "reason": "调岗"}
    if command != "reassign":
        body.pop("reason")
    else:
        body.pop("due_on")
    assert_error(grid3.post(f"/api/v1/concerns/{concern}/{command}", json=body), 403, "forbidden")


# -- reading the past ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "query", ["as_of_version=1", "as_of=2020-01-01T00:00:00%2B08:00"], ids=["version", "time"]
)
def test_only_a_supervisor_may_read_a_concern_as_it_was(query: str, world: World) -> None:
    concern = world.parked_concern("committee")
    r = world.as_role(Role.STAFF).get(f"/api/v1/concerns/{concern}?{query}")
    assert_error(r, 403, "forbidden")


def test_a_supervisor_reads_a_concern_as_it_was_at_an_earlier_version(world: World) -> None:
    concern = world.parked_concern("committee")
    r = world.as_role(Role.SUPERVISOR).get(f"/api/v1/concerns/{concern}?as_of_version=1")
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 1
    assert r.json()["status"] == "intake"
