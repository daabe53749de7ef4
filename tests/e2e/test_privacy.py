"""Residents' privacy and the supervisors' audit over HTTP.

Erasure destroys a resident's key: afterwards no read path shows their name or phone, the
rest of the concern is intact and the hash chain still verifies. Every read of personal data
is in the access log; a supervisor reads it only with a reason. A full scenario's response
bodies are searched for the resident's name and phone: only the allowed staff reads carry them.
"""

from __future__ import annotations

import base64
import json
import logging
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from uuid import UUID

import httpx
import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters import audit
from domain.vocabulary import Role
from tests.conftest import BACKENDS, Server, _database, start_server

DUE = (date.today() + timedelta(days=30)).isoformat()
NAME, PHONE, ADDRESS = "欧阳秀英", "13955550123", "幸福里7号楼1单元502"
PERSONAL = (NAME, PHONE, ADDRESS)
RAISE: dict[str, Any] = {
    "title": "7号楼楼道灯不亮",
    "description": "7号楼1单元楼道灯坏了一个月。",
    "category": "environment",
    "library": "problem",
    "channel": "visit",
    "grid": "2",
    "building": "7",
    "resident": {"name": NAME, "phone": PHONE, "address": ADDRESS},
}
ANSWER = {"solved": True, "satisfaction": "satisfied"}
SIGNING_KEY = Ed25519PrivateKey.generate()
ROLES = [r for r in Role if r not in (Role.RESIDENT, Role.SYSTEM)]


def personal_in(text: str) -> list[str]:
    """The personal values found in a body, raw or JSON-escaped."""
    forms = {v: (v, json.dumps(v)[1:-1]) for v in PERSONAL}
    return [v for v, spelled in forms.items() if any(s in text for s in spelled)]


@dataclass(frozen=True)
class Seen:
    """One response: who asked, what, and the body."""

    who: str
    method: str
    path: str
    query: str
    status: int
    body: str


@dataclass
class Office:
    """The module's server, a client per kind of user, and every response they received."""

    server: Server
    owner: str
    seen: list[Seen] = field(default_factory=list)
    clients: dict[str, httpx.Client] = field(default_factory=dict)

    def as_(self, who: str, roles: list[Role] | None = None, member: str | None = None) -> Any:
        """A recording client for `who` (made with `roles` the first time)."""
        if who not in self.clients:
            token = None
            if roles is not None:
                _, token = self.server.principal(roles, member=member)

            def record(response: httpx.Response) -> None:
                response.read()
                request = response.request
                self.seen.append(
                    Seen(
                        who,
                        request.method,
                        request.url.path,
                        request.url.query.decode(),
                        response.status_code,
                        response.text,
                    )
                )

            client = self.server.client(token)
            client.event_hooks["response"] = [record]
            self.clients[who] = client
        return self.clients[who]

    @property
    def staff(self) -> httpx.Client:
        return self.as_("staff", [Role.STAFF, Role.GRID_LEADER, Role.COMMITTEE])  # type: ignore[no-any-return]

    @property
    def supervisor(self) -> httpx.Client:
        return self.as_("supervisor", [Role.SUPERVISOR])  # type: ignore[no-any-return]

    @property
    def admin(self) -> httpx.Client:
        return self.as_("admin", [Role.ADMIN])  # type: ignore[no-any-return]

    def raise_concern(self, **extra: Any) -> dict[str, Any]:
        r = self.staff.post("/api/v1/concerns", json={**RAISE, **extra})
        assert r.status_code == 201, r.text
        created: dict[str, Any] = r.json()
        return created

    def resident_ref(self, cid: str) -> str:
        ref: str = self.staff.get(f"/api/v1/concerns/{cid}").json()["resident_ref"]
        return ref

    def resolved(self) -> dict[str, Any]:
        """A concern assigned to the owner, worked and resolved."""
        created = self.raise_concern()
        cid = created["id"]
        assign = {"owner": self.owner, "duty_role": "environment_monitor", "due_on": DUE}
        for command, body in (
            ("refer", {}),
            ("assign", assign),
            ("record-progress", {"note": "已报修"}),
            ("resolve", {"summary": "更换了灯泡"}),
        ):
            r = self.staff.post(f"/api/v1/concerns/{cid}/{command}", json=body)
            assert r.status_code == 200, r.text
        return created

    def listed(self, cid: str, position: int) -> dict[str, Any]:
        """The concern's item in the list, once the list has reached `position`."""
        r = self.staff.get("/api/v1/concerns", params={"min_position": position, "limit": 200})
        assert r.status_code == 200, r.text
        [item] = [i for i in r.json()["items"] if i["id"] == cid]
        return dict(item)

    def access_log(self, **params: Any) -> dict[str, Any]:
        r = self.supervisor.get("/api/v1/audit/access-log", params=params)
        assert r.status_code == 200, r.text
        page: dict[str, Any] = r.json()
        return page


@pytest.fixture(scope="module", params=BACKENDS)
def office(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Office]:
    """A server per backend whose checkpoint key is configured (read when it starts)."""
    tmp = tmp_path_factory.mktemp("privacy")
    key = base64.b64encode(SIGNING_KEY.private_bytes_raw()).decode()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("MINQING_AUDIT_SIGNING_KEY", key)
        for url in _database(request.param, request, tmp):
            for server in start_server(url, tmp):
                office = Office(server, server.member("赵敏"))
                try:
                    yield office
                finally:
                    for client in office.clients.values():
                        client.close()


# -- the access log ------------------------------------------------------------------------


def test_a_staff_read_of_personal_data_is_logged_with_who_when_and_which_concern(
    office: Office,
) -> None:
    cid = office.raise_concern()["id"]
    ref = office.resident_ref(cid)

    r = office.staff.get(f"/api/v1/concerns/{cid}")

    resident = r.json()["resident"]
    assert (resident["name"], resident["phone"], resident["address"]) == PERSONAL
    entries = office.access_log(resident_ref=ref)["items"]
    assert len(entries) == 2  # resident_ref() read it too
    newest = entries[0]
    assert newest["concern_id"] == cid
    assert newest["resident_ref"] == ref
    assert newest["basis"] == "role:grid_leader"
    assert newest["at"]
    assert newest["principal_name"].startswith("p-")
    assert not personal_in(json.dumps(entries, ensure_ascii=False))


def test_the_owner_read_is_logged_and_a_committee_read_shows_and_logs_nothing(
    office: Office,
) -> None:
    created = office.resolved()
    cid = created["id"]
    ref = office.resident_ref(cid)
    before = len(office.access_log(resident_ref=ref)["items"])
    owner = office.as_("owner", [Role.MEMBER], member=office.owner)
    committee = office.as_("committee", [Role.COMMITTEE])

    assert owner.get(f"/api/v1/concerns/{cid}").json()["resident"]["name"] == NAME
    assert committee.get(f"/api/v1/concerns/{cid}").json()["resident"] == {"redacted": True}

    entries = office.access_log(resident_ref=ref)["items"]
    assert len(entries) == before + 1
    assert entries[0]["basis"] == "owner"


def test_a_supervisor_sees_personal_data_only_on_asking_with_a_reason(office: Office) -> None:
    cid = office.raise_concern()["id"]
    ref = office.resident_ref(cid)
    sup = office.supervisor

    assert sup.get(f"/api/v1/concerns/{cid}").json()["resident"] == {"redacted": True}
    for params in ({"reveal": "true"}, {"reveal": "true", "reason": "   "}):
        r = sup.get(f"/api/v1/concerns/{cid}", params=params)
        assert r.status_code == 422, r.text
        assert r.json()["error"] == "invalid"
        assert [f["field"] for f in r.json()["fields"]] == ["reason"]
    before = len(office.access_log(resident_ref=ref)["items"])

    r = sup.get(f"/api/v1/concerns/{cid}", params={"reveal": "true", "reason": "核查群众投诉"})

    assert r.status_code == 200, r.text
    assert r.json()["resident"]["phone"] == PHONE
    entries = office.access_log(resident_ref=ref)["items"]
    assert len(entries) == before + 1
    assert (entries[0]["basis"], entries[0]["reason"]) == ("supervisor", "核查群众投诉")
    assert entries[0]["roles"] == ["supervisor"]

    # The reason alone asks for the data too; it is logged with who, when and why.
    r = sup.get(f"/api/v1/concerns/{cid}", params={"reason": "复核办理结果"})
    assert r.status_code == 200, r.text
    assert r.json()["resident"]["name"] == NAME
    entries = office.access_log(resident_ref=ref)["items"]
    assert len(entries) == before + 2
    assert (entries[0]["basis"], entries[0]["reason"]) == ("supervisor", "复核办理结果")
    assert entries[0]["at"] >= entries[1]["at"]


def test_asking_to_reveal_without_being_a_supervisor_or_caseworker_is_403(
    office: Office,
) -> None:
    cid = office.raise_concern()["id"]
    committee = office.as_("committee", [Role.COMMITTEE])
    r = committee.get(f"/api/v1/concerns/{cid}", params={"reveal": "true", "reason": "看看"})
    assert r.status_code == 403, r.text
    assert not personal_in(r.text)


def test_the_access_log_filters_by_resident_and_pages_with_a_cursor(office: Office) -> None:
    cid = office.raise_concern()["id"]
    ref = office.resident_ref(cid)
    for _ in range(3):
        office.staff.get(f"/api/v1/concerns/{cid}")

    first = office.access_log(resident_ref=ref, limit=3)
    second = office.access_log(resident_ref=ref, limit=3, cursor=first["next_cursor"])

    assert {e["resident_ref"] for e in first["items"] + second["items"]} == {ref}
    ids = [e["id"] for e in first["items"] + second["items"]]
    assert len(ids) == 4
    assert ids == sorted(ids, reverse=True)
    assert second["next_cursor"] is None
    bad = office.supervisor.get("/api/v1/audit/access-log", params={"cursor": "nonsense"})
    assert bad.status_code == 422
    assert bad.json()["fields"][0]["field"] == "cursor"


# -- erasure -----------------------------------------------------------------------------


def test_erasure_hides_the_resident_on_every_read_path_and_the_chain_still_verifies(
    office: Office,
) -> None:
    created = office.resolved()
    cid, code = created["id"], created["tracking_code"]
    ref = office.resident_ref(cid)
    before = office.staff.get(f"/api/v1/concerns/{cid}").json()
    listed_before = office.listed(cid, office.server.event_count())

    r = office.admin.post(f"/api/v1/residents/{ref}/erase")

    assert r.status_code == 200, r.text
    assert r.json()["erased"] is True
    assert r.json()["resident_ref"] == ref
    assert r.json()["position"] >= 1
    after = office.staff.get(f"/api/v1/concerns/{cid}").json()
    assert after["resident"] == {"erased": True}
    # Everything but the personal data is as it was: no event of the concern changed.
    assert {k: v for k, v in after.items() if k != "resident"} == {
        k: v for k, v in before.items() if k != "resident"
    }
    # The read models have taken the erasure in and the concern's row is as it was.
    assert office.listed(cid, r.json()["position"]) == listed_before
    sup = office.supervisor
    revealed = sup.get(
        f"/api/v1/concerns/{cid}",
        params={"reveal": "true", "reason": "复核", "as_of_version": 1},
    )
    assert revealed.json()["resident"] == {"erased": True}
    owner = office.as_("owner", [Role.MEMBER], member=office.owner)
    bodies = [
        office.staff.get(f"/api/v1/concerns/{cid}"),
        office.staff.get(f"/api/v1/concerns/{created['reference']}"),
        office.staff.get(f"/api/v1/concerns/{cid}/history"),
        sup.get(f"/api/v1/concerns/{cid}/history"),
        owner.get(f"/api/v1/concerns/{cid}"),
        office.as_("public").get(f"/api/v1/track/{code}"),
        office.staff.get("/api/v1/members"),
        office.staff.get(f"/api/v1/members/{office.owner}"),
        revealed,
    ]
    for body in bodies:
        assert body.status_code == 200, (body.request.url, body.text)
        assert not personal_in(body.text), body.request.url
    verified = sup.get("/api/v1/audit/verify").json()
    assert verified["ok"] is True, verified
    assert verified["checked"] >= r.json()["position"]


def test_erasing_twice_is_409_already_erased_and_an_unknown_resident_404(
    office: Office,
) -> None:
    ref = office.resident_ref(office.raise_concern()["id"])
    assert office.admin.post(f"/api/v1/residents/{ref}/erase").status_code == 200
    events = office.server.event_count()

    again = office.admin.post(f"/api/v1/residents/{ref}/erase")
    unknown = office.admin.post("/api/v1/residents/R-0000000000000000/erase")

    assert again.status_code == 409, again.text
    assert (again.json()["error"], again.json()["rule"]) == ("conflict", "already_erased")
    assert unknown.status_code == 404
    assert unknown.json()["error"] == "not_found"
    assert office.server.event_count() == events


def test_the_erasure_is_an_event_naming_no_personal_data(office: Office) -> None:
    ref = office.resident_ref(office.raise_concern()["id"])
    r = office.admin.post(f"/api/v1/residents/{ref}/erase")
    record: Any = office.server.app.repository.get(UUID(r.json()["id"]))
    events = list(office.server.app.events.get(record.id))
    assert [type(e).__name__ for e in events] == ["DataErased"]
    data = vars(events[0])
    assert data["resident_ref"] == ref
    assert data["actor_role"] == "admin"
    assert not personal_in(json.dumps({k: str(v) for k, v in data.items()}, ensure_ascii=False))


# -- roles ---------------------------------------------------------------------------------

AUDIT_ENDPOINTS: list[tuple[str, str, set[Role]]] = [
    ("GET", "/api/v1/audit/verify", {Role.SUPERVISOR}),
    ("GET", "/api/v1/audit/checkpoints", {Role.SUPERVISOR}),
    ("GET", "/api/v1/audit/checkpoints?format=export", {Role.SUPERVISOR}),
    ("POST", "/api/v1/audit/checkpoints", {Role.SUPERVISOR, Role.ADMIN}),
    ("GET", "/api/v1/audit/access-log", {Role.SUPERVISOR}),
    ("POST", "/api/v1/residents/R-0000000000000000/erase", {Role.ADMIN}),
]


@pytest.mark.parametrize(("method", "path", "allowed"), AUDIT_ENDPOINTS)
def test_audit_endpoints_refuse_every_other_role_with_403_and_no_token_with_401(
    office: Office, method: str, path: str, allowed: set[Role]
) -> None:
    assert office.as_("public").request(method, path).status_code == 401
    for role in ROLES:
        r = office.as_(f"only-{role.value}", [role]).request(method, path)
        if role in allowed:
            assert r.status_code != 403, (role, r.text)
        else:
            assert r.status_code == 403, (role, r.text)
            assert r.json()["error"] == "forbidden"


# -- checkpoints ---------------------------------------------------------------------------


def test_checkpoints_are_signed_with_the_configured_key_and_exported_for_safekeeping(
    office: Office,
) -> None:
    office.raise_concern()
    made = office.admin.post("/api/v1/audit/checkpoints")
    assert made.status_code == 201, made.text
    cp = made.json()

    listed = office.supervisor.get("/api/v1/audit/checkpoints").json()
    exported = office.supervisor.get("/api/v1/audit/checkpoints", params={"format": "export"})

    public = audit.public_key_b64(SIGNING_KEY)
    assert cp in listed["items"]
    assert listed["public_key"] == public
    assert 1 <= cp["position"] <= listed["head"]["position"]
    assert "attachment" in exported.headers["content-disposition"]
    doc = exported.json()
    assert doc["public_key"] == public
    kept = audit.read_kept_checkpoints(exported.text)
    assert all(c.signature_valid(public) for c in kept)
    SIGNING_KEY.public_key().verify(
        base64.b64decode(cp["signature"]),
        audit.checkpoint_message(cp["position"], cp["link"], cp["signed_at"]),
    )
    verified = office.supervisor.get("/api/v1/audit/verify").json()
    assert verified["ok"] is True
    assert verified["checkpoints_checked"] >= 1


# -- the whole scenario's bodies ----------------------------------------------------------


def _allowed_read(seen: Seen) -> bool:
    """A GET of one concern by someone who may see the resident (staff, owner, supervisor
    with a reason): the only responses that may carry personal data."""
    parts = seen.path.strip("/").split("/")
    one_concern = (
        seen.method == "GET" and len(parts) == 4 and parts[:3] == ["api", "v1", "concerns"]
    )
    caseworker = seen.who in ("staff", "owner", "admin")
    return one_concern and (caseworker or (seen.who == "supervisor" and "reason=" in seen.query))


def test_no_response_of_a_full_scenario_carries_personal_data_but_the_allowed_reads(
    office: Office,
) -> None:
    office.seen.clear()
    logged = Captured()
    root = logging.getLogger()
    root.addHandler(logged)
    minqing_log = logging.getLogger("minqing")
    level = minqing_log.level
    minqing_log.setLevel(logging.DEBUG)  # everything the service would log, debug included
    try:
        play_full_scenario(office)
    finally:
        root.removeHandler(logged)
        minqing_log.setLevel(level)

    assert len(office.seen) > 20
    leaks = [
        (s.who, s.method, s.path, s.query, s.status)
        for s in office.seen
        if personal_in(s.body) and not _allowed_read(s)
    ]
    assert leaks == []
    shown = [s for s in office.seen if personal_in(s.body)]
    assert {s.who for s in shown} == {"staff", "supervisor"}
    assert [m for m in logged.messages if personal_in(m)] == []


class Captured(logging.Handler):
    """Every log record of the process while it is attached, formatted with its traceback."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(self.format(record))


def play_full_scenario(office: Office) -> None:
    """Every kind of user at work on one resident's concern, through to the erasure."""
    created = office.resolved()
    cid, code = created["id"], created["tracking_code"]
    staff, sup, public = office.staff, office.supervisor, office.as_("public")
    committee = office.as_("committee", [Role.COMMITTEE])
    collector = office.as_("collector", [Role.COLLECTOR])
    integrator = office.as_("integrator", [Role.INTEGRATOR])
    staff.get(f"/api/v1/concerns/{cid}")
    public.get(f"/api/v1/track/{code}")
    public.post(
        f"/api/v1/track/{code}/feedback", json={"solved": True, "satisfaction": "satisfied"}
    )
    collector.post(
        f"/api/v1/concerns/{cid}/record-feedback",
        json={"solved": True, "satisfaction": "satisfied"},
    )
    committee.get(f"/api/v1/concerns/{cid}")
    sup.get(f"/api/v1/concerns/{cid}")
    sup.get(f"/api/v1/concerns/{cid}", params={"as_of_version": 2})
    sup.get(f"/api/v1/concerns/{cid}", params={"reveal": "true"})
    sup.get(f"/api/v1/concerns/{cid}", params={"reveal": "true", "reason": "督查抽查"})
    sup.get(f"/api/v1/concerns/{cid}/history")
    staff.get(f"/api/v1/concerns/{cid}/history")
    staff.get("/api/v1/concerns")
    staff.get("/api/v1/concerns", params={"q": NAME})
    staff.get("/api/v1/members")
    integrator.get("/api/v1/events", params={"after": 0, "limit": 1000})
    staff.post("/api/v1/concerns", json={**RAISE, "grid": ""})  # an error echoing input
    sup.get("/api/v1/audit/access-log")
    sup.get("/api/v1/audit/verify")
    office.admin.post("/api/v1/audit/checkpoints")
    sup.get("/api/v1/audit/checkpoints", params={"format": "export"})
    sup.get(f"/api/v1/concerns/{cid}", params={"reason": "复核"})
    sup.get("/api/v1/concerns", params={"as_of": datetime.now(UTC).isoformat()})
    staff.post("/api/v1/concerns", json={**RAISE, "category": NAME})  # input in a bad field
    staff.post("/api/v1/concerns", json={**RAISE, "resident": {"name": NAME, "phone": 7}})
    staff.post(f"/api/v1/concerns/{cid}/decline", json={"reason": NAME})  # not allowed now
    public.get("/open311/v2/requests.json")
    public.get(f"/open311/v2/requests/{created['reference']}.xml")
    public.get("/open311/v2/servicerequestupdates.json")
    public.get(f"/open311/v2/tokens/{code}.json")
    ref = office.resident_ref(cid)
    office.admin.post(f"/api/v1/residents/{ref}/erase")
    office.admin.post(f"/api/v1/residents/{ref}/erase")
    staff.get(f"/api/v1/concerns/{cid}")


# -- tampering, seen over HTTP ------------------------------------------------------------


def _tamper(url: str, position: int) -> None:
    if url.startswith("postgres"):
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("ALTER TABLE minqing_events DISABLE TRIGGER ALL")
            conn.execute(
                "UPDATE minqing_events SET topic = topic || ' ' WHERE notification_id = %s",
                (position,),
            )
        return
    lite = sqlite3.connect(unquote(urlsplit(url).path)[1:])
    try:
        lite.execute("UPDATE stored_events SET topic = topic || ' ' WHERE rowid = ?", (position,))
        lite.commit()
    finally:
        lite.close()


def test_verify_over_http_names_the_event_changed_in_the_database(
    server: Server, tmp_path: Path
) -> None:
    _, token = server.principal([Role.STAFF])
    _, sup_token = server.principal([Role.SUPERVISOR])
    with server.client(token) as staff, server.client(sup_token) as sup:
        cid = staff.post("/api/v1/concerns", json=RAISE).json()["id"]
        staff.post(f"/api/v1/concerns/{cid}/refer", json={})
        assert sup.get("/api/v1/audit/verify").json()["ok"] is True
        position = server.app.db.position_of(cid, 2)
        assert position is not None
        _tamper(server.database_url, position)

        report = sup.get("/api/v1/audit/verify").json()

    problem = report["first_problem"]
    assert report["ok"] is False
    assert (problem["kind"], problem["position"]) == ("changed", position)
    assert (problem["aggregate_id"], problem["version"]) == (cid, 2)
