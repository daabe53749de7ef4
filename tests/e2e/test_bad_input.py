"""Every bad input api.md names gets its status and error code, and records nothing."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from domain.lifecycle import TRANSITIONS, Status
from domain.vocabulary import Role
from tests.conftest import Server

DUE = (date.today() + timedelta(days=30)).isoformat()
LATER = (date.today() + timedelta(days=60)).isoformat()
YESTERDAY = (date.today() - timedelta(days=1)).isoformat()
RAISE: dict[str, Any] = {
    "title": "5号楼东侧小路路灯两周不亮",
    "description": "东侧小路的路灯已经坏了两个星期。",
    "category": "environment",
    "library": "problem",
    "channel": "visit",
    "grid": "2",
    "building": "5",
    "resident": {"name": "张秀英", "phone": "13800000000"},
}


@dataclass
class Desk:
    """A client allowed to do everything a concern needs, and helpers to get one ready."""

    server: Server
    client: httpx.Client
    owner: str
    other_member: str

    def assignment(self, **changes: Any) -> dict[str, Any]:
        return {"owner": self.owner, "duty_role": "project_coordinator", "due_on": DUE, **changes}

    def concern(self, state: str) -> str:
        """A new concern driven into `state`."""
        r = self.client.post("/api/v1/concerns", json=RAISE)
        assert r.status_code == 201, r.text
        cid: str = r.json()["id"]
        path = {
            "intake": [],
            "committee": ["refer"],
            "assigned": ["refer", "assign"],
            "resolved": ["refer", "assign", "resolve"],
        }[state]
        bodies: dict[str, dict[str, Any]] = {
            "refer": {},
            "assign": self.assignment(),
            "resolve": {"summary": "更换了6盏路灯"},
        }
        for command in path:
            r = self.client.post(f"/api/v1/concerns/{cid}/{command}", json=bodies[command])
            assert r.status_code == 200, r.text
        return cid

    def refused(
        self, method: str, url: str, status: int, code: str, body: Any = None, **kw: Any
    ) -> dict[str, Any]:
        """Send the request, check the error body, and check the log did not grow."""
        before = self.server.event_count()
        r = self.client.request(method, url, json=body, **kw)
        assert r.status_code == status, r.text
        error: dict[str, Any] = r.json()
        assert error["error"] == code
        assert isinstance(error["message"], str)
        assert error["message"]
        assert self.server.event_count() == before
        return error


@pytest.fixture(scope="module")
def desk(shared_server: Server) -> Iterator[Desk]:
    _, token = shared_server.principal([Role.STAFF, Role.COMMITTEE, Role.GRID_LEADER])
    owner = shared_server.member()
    other = shared_server.member("赵敏")
    with shared_server.client(token) as client:
        yield Desk(shared_server, client, owner, other)


def fields_of(error: dict[str, Any]) -> list[str]:
    return [f["field"] for f in error["fields"]]


# -- raising a concern ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        pytest.param({"title": "路" * 201}, "title", id="title-of-201-chars"),
        pytest.param({"title": "   "}, "title", id="blank-title"),
        pytest.param({"description": "灯" * 5001}, "description", id="description-of-5001-chars"),
        pytest.param({"category": "weather"}, "category", id="unknown-category"),
        pytest.param({"library": "achievement"}, "library", id="unknown-library"),
        pytest.param({"channel": "carrier_pigeon"}, "channel", id="unknown-channel"),
        pytest.param({"priority_visit": "vip"}, "priority_visit", id="unknown-priority-visit"),
        pytest.param({"colour": "red"}, "colour", id="unknown-field"),
        pytest.param({"resident": {"name": "张", "age": 80}}, "resident.age", id="unknown-nested"),
        pytest.param({"anonymous": "yes"}, "anonymous", id="anonymous-not-a-boolean"),
    ],
)
def test_raising_with_a_bad_field_is_422_naming_it(
    change: dict[str, Any], field: str, desk: Desk
) -> None:
    error = desk.refused("POST", "/api/v1/concerns", 422, "invalid", {**RAISE, **change})
    assert fields_of(error)[0] == field
    assert all(f["message"] for f in error["fields"])


def test_a_title_of_200_chars_is_accepted(desk: Desk) -> None:
    r = desk.client.post("/api/v1/concerns", json={**RAISE, "title": "路" * 200})
    assert r.status_code == 201, r.text


@pytest.mark.parametrize(
    "missing", ["title", "description", "category", "library", "channel", "grid"]
)
def test_raising_without_a_required_field_is_422_naming_it(missing: str, desk: Desk) -> None:
    body = {k: v for k, v in RAISE.items() if k != missing}
    error = desk.refused("POST", "/api/v1/concerns", 422, "invalid", body)
    assert fields_of(error) == [missing]


def test_an_anonymous_concern_with_the_residents_name_is_422(desk: Desk) -> None:
    body = {**RAISE, "anonymous": True}
    error = desk.refused("POST", "/api/v1/concerns", 422, "invalid", body)
    assert "anonymous" in fields_of(error)


def test_a_body_that_is_not_json_is_422(desk: Desk) -> None:
    before = desk.server.event_count()
    r = desk.client.post(
        "/api/v1/concerns", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "invalid"
    assert desk.server.event_count() == before


def test_registering_a_member_with_an_unknown_field_or_duty_role_is_422(desk: Desk) -> None:
    member = {"name": "王芳", "grids": ["2"], "duty_roles": ["mediator"], "votes_in_branch": True}
    error = desk.refused("POST", "/api/v1/members", 422, "invalid", {**member, "rank": 1})
    assert fields_of(error) == ["rank"]
    error = desk.refused(
        "POST", "/api/v1/members", 422, "invalid", {**member, "duty_roles": ["janitor"]}
    )
    assert fields_of(error)[0].startswith("duty_roles")


# -- commands ------------------------------------------------------------------------------

REASON_COMMANDS = [
    pytest.param("decline", "intake", {}, id="decline"),
    pytest.param("withdraw", "intake", {}, id="withdraw"),
    pytest.param("extend-deadline", "assigned", {"due_on": LATER}, id="extend-deadline"),
    pytest.param("reassign", "assigned", {"duty_role": "mediator"}, id="reassign"),
    pytest.param("reopen", "resolved", {}, id="reopen"),
]


@pytest.mark.parametrize("blank", ["", "   ", "\n\t"])
@pytest.mark.parametrize(("command", "state", "rest"), REASON_COMMANDS)
def test_a_blank_reason_is_422_naming_reason(
    command: str, state: str, rest: dict[str, Any], blank: str, desk: Desk
) -> None:
    cid = desk.concern(state)
    body = {**rest, "reason": blank}
    if command == "reassign":
        body["owner"] = desk.other_member
    error = desk.refused("POST", f"/api/v1/concerns/{cid}/{command}", 422, "invalid", body)
    assert fields_of(error) == ["reason"]


@pytest.mark.parametrize(("command", "state", "rest"), REASON_COMMANDS)
def test_a_missing_reason_is_422_naming_reason(
    command: str, state: str, rest: dict[str, Any], desk: Desk
) -> None:
    cid = desk.concern(state)
    body = dict(rest)
    if command == "reassign":
        body["owner"] = desk.other_member
    error = desk.refused("POST", f"/api/v1/concerns/{cid}/{command}", 422, "invalid", body)
    assert fields_of(error) == ["reason"]


@pytest.mark.parametrize(
    ("command", "state", "body"),
    [
        pytest.param("handle-now", "intake", {"due_on": DUE}, id="handle-now"),
        pytest.param("assign", "committee", {"due_on": DUE}, id="assign"),
        pytest.param("reassign", "assigned", {"reason": "调岗"}, id="reassign"),
    ],
)
def test_naming_an_owner_who_is_not_a_registered_member_is_422_naming_owner(
    command: str, state: str, body: dict[str, Any], desk: Desk
) -> None:
    cid = desk.concern(state)
    body = {**body, "owner": str(uuid.uuid4()), "duty_role": "project_coordinator"}
    error = desk.refused("POST", f"/api/v1/concerns/{cid}/{command}", 422, "invalid", body)
    assert fields_of(error) == ["owner"]


def test_naming_a_concern_as_owner_is_422_naming_owner(desk: Desk) -> None:
    cid = desk.concern("committee")
    other = desk.concern("intake")
    error = desk.refused(
        "POST", f"/api/v1/concerns/{cid}/assign", 422, "invalid", desk.assignment(owner=other)
    )
    assert fields_of(error) == ["owner"]


@pytest.mark.parametrize(
    ("command", "state"),
    [pytest.param("handle-now", "intake"), pytest.param("assign", "committee")],
)
def test_a_due_date_in_the_past_is_422_naming_due_on(command: str, state: str, desk: Desk) -> None:
    cid = desk.concern(state)
    body = desk.assignment(due_on=YESTERDAY)
    error = desk.refused("POST", f"/api/v1/concerns/{cid}/{command}", 422, "invalid", body)
    assert fields_of(error) == ["due_on"]


def test_extending_to_a_date_no_later_than_the_current_due_date_is_422(desk: Desk) -> None:
    cid = desk.concern("assigned")
    for due in (YESTERDAY, DUE):
        body = {"due_on": due, "reason": "推迟"}
        error = desk.refused(
            "POST", f"/api/v1/concerns/{cid}/extend-deadline", 422, "invalid", body
        )
        assert fields_of(error) == ["due_on"]


def test_a_due_date_that_is_not_a_date_is_422(desk: Desk) -> None:
    cid = desk.concern("committee")
    body = desk.assignment(due_on="next Tuesday")
    error = desk.refused("POST", f"/api/v1/concerns/{cid}/assign", 422, "invalid", body)
    assert fields_of(error) == ["due_on"]


def test_merging_into_an_unknown_concern_is_422_naming_into(desk: Desk) -> None:
    cid = desk.concern("intake")
    body = {"into": str(uuid.uuid4())}
    error = desk.refused("POST", f"/api/v1/concerns/{cid}/merge", 422, "invalid", body)
    assert fields_of(error) == ["into"]


def test_feedback_with_an_unknown_satisfaction_is_422(desk: Desk) -> None:
    cid = desk.concern("resolved")
    body = {"solved": True, "satisfaction": "thrilled"}
    error = desk.refused("POST", f"/api/v1/concerns/{cid}/record-feedback", 422, "invalid", body)
    assert fields_of(error) == ["satisfaction"]


# -- not found -----------------------------------------------------------------------------

UNKNOWN_IDS = [
    pytest.param(str(uuid.uuid4()), id="unknown-uuid"),
    pytest.param("MQ-2020-999999", id="unknown-reference"),
    pytest.param("no-such-thing", id="garbage"),
]


@pytest.mark.parametrize("ident", UNKNOWN_IDS)
@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        pytest.param("GET", "", None, id="read"),
        pytest.param("GET", "/history", None, id="history"),
        pytest.param("POST", "/refer", {}, id="refer"),
        pytest.param("POST", "/decline", {"reason": "重复"}, id="decline"),
        pytest.param("POST", "/resolve", {"summary": "已办"}, id="resolve"),
    ],
)
def test_an_unknown_concern_is_404_not_found(
    ident: str, method: str, suffix: str, body: Any, desk: Desk
) -> None:
    desk.refused(method, f"/api/v1/concerns/{ident}{suffix}", 404, "not_found", body)


@pytest.mark.parametrize("ident", [str(uuid.uuid4()), "not-a-uuid"])
def test_an_unknown_member_is_404_not_found(ident: str, desk: Desk) -> None:
    desk.refused("GET", f"/api/v1/members/{ident}", 404, "not_found")


@pytest.mark.parametrize("command", ["handle-now", "assign"])
def test_an_unknown_concern_is_404_even_when_the_owner_is_unknown_too(
    command: str, desk: Desk
) -> None:
    body = desk.assignment(owner=str(uuid.uuid4()))
    desk.refused("POST", f"/api/v1/concerns/{uuid.uuid4()}/{command}", 404, "not_found", body)


def test_an_unknown_path_or_verb_still_has_an_error_body(desk: Desk) -> None:
    desk.refused("GET", "/api/v1/no-such-thing", 404, "not_found")
    cid = desk.concern("intake")
    desk.refused("DELETE", f"/api/v1/concerns/{cid}", 405, "invalid")


def test_a_concern_id_is_not_a_member_id(desk: Desk) -> None:
    desk.refused("GET", f"/api/v1/members/{desk.concern('intake')}", 404, "not_found")


def test_a_member_id_is_not_a_concern_id(desk: Desk) -> None:
    desk.refused("GET", f"/api/v1/concerns/{desk.owner}", 404, "not_found")


# -- the lifecycle -------------------------------------------------------------------------


def _lifecycle_allows(status: Status) -> set[str]:
    """What the table allows from `status` when no guard is involved."""
    return {t.action.value for t in TRANSITIONS if status in t.sources and t.guard is None}


@pytest.mark.parametrize(
    ("state", "command", "body"),
    [
        pytest.param("intake", "resolve", {"summary": "已办"}, id="resolve-in-intake"),
        pytest.param("intake", "assign", None, id="assign-in-intake"),
        pytest.param("committee", "refer", {}, id="refer-in-committee"),
        pytest.param("assigned", "decline", {"reason": "不办"}, id="decline-when-assigned"),
        pytest.param("resolved", "record-progress", {"note": "补记"}, id="progress-resolved"),
        pytest.param("resolved", "withdraw", {"reason": "撤回"}, id="withdraw-resolved"),
    ],
)
def test_a_command_the_state_does_not_allow_is_409_with_the_allowed_actions(
    state: str, command: str, body: dict[str, Any] | None, desk: Desk
) -> None:
    cid = desk.concern(state)
    version = desk.client.get(f"/api/v1/concerns/{cid}").json()["version"]
    payload = desk.assignment() if body is None else body
    error = desk.refused(
        "POST", f"/api/v1/concerns/{cid}/{command}", 409, "transition_not_allowed", payload
    )
    assert error["status"] == state
    assert isinstance(error["allowed_actions"], list)
    assert _lifecycle_allows(Status(state)) <= set(error["allowed_actions"])
    assert command.replace("-", "_") not in error["allowed_actions"]
    assert desk.client.get(f"/api/v1/concerns/{cid}").json()["version"] == version


def test_a_closed_concern_allows_nothing(desk: Desk) -> None:
    cid = desk.concern("intake")
    assert desk.client.post(f"/api/v1/concerns/{cid}/withdraw", json={"reason": "撤回"}).is_success
    error = desk.refused("POST", f"/api/v1/concerns/{cid}/refer", 409, "transition_not_allowed", {})
    assert error["status"] == "withdrawn"
    assert error["allowed_actions"] == []


# -- versions ------------------------------------------------------------------------------


def test_get_returns_the_version_as_etag(desk: Desk) -> None:
    cid = desk.concern("committee")
    r = desk.client.get(f"/api/v1/concerns/{cid}")
    assert r.status_code == 200
    assert r.json()["version"] == 2
    assert r.headers["ETag"] == '"2"'


@pytest.mark.parametrize("stale", ['"1"', '"3"', "1", 'W/"99"'])
def test_if_match_with_a_stale_version_is_412_with_the_current_version(
    stale: str, desk: Desk
) -> None:
    cid = desk.concern("committee")
    error = desk.refused(
        "POST",
        f"/api/v1/concerns/{cid}/return-for-info",
        412,
        "version_mismatch",
        {"missing": "缺少门牌号"},
        headers={"If-Match": stale},
    )
    assert error["current_version"] == 2


def test_if_match_with_the_etag_just_read_succeeds(desk: Desk) -> None:
    cid = desk.concern("committee")
    etag = desk.client.get(f"/api/v1/concerns/{cid}").headers["ETag"]
    r = desk.client.post(
        f"/api/v1/concerns/{cid}/return-for-info",
        json={"missing": "缺少门牌号"},
        headers={"If-Match": etag},
    )
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 3
    assert desk.client.get(f"/api/v1/concerns/{cid}").headers["ETag"] == '"3"'


def test_an_if_match_that_is_not_a_version_is_422(desk: Desk) -> None:
    cid = desk.concern("intake")
    error = desk.refused(
        "POST",
        f"/api/v1/concerns/{cid}/refer",
        422,
        "invalid",
        {},
        headers={"If-Match": "yesterday"},
    )
    assert fields_of(error) == ["If-Match"]


def test_the_loser_of_two_edits_from_the_same_etag_gets_412(desk: Desk) -> None:
    cid = desk.concern("intake")
    etag = desk.client.get(f"/api/v1/concerns/{cid}").headers["ETag"]
    first = desk.client.post(f"/api/v1/concerns/{cid}/refer", json={}, headers={"If-Match": etag})
    assert first.status_code == 200, first.text
    error = desk.refused(
        "POST",
        f"/api/v1/concerns/{cid}/decline",
        412,
        "version_mismatch",
        {"reason": "重复"},
        headers={"If-Match": etag},
    )
    assert error["current_version"] == 2
