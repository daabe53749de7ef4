"""Idempotency-Key: a retried request returns the first response and records nothing new."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Generator, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any, cast

import httpx
import pytest

from domain.vocabulary import Role
from tests.conftest import Server, start_server

DUE = (date.today() + timedelta(days=30)).isoformat()
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
MEMBER: dict[str, Any] = {
    "name": "王芳",
    "grids": ["2"],
    "duty_roles": ["environment_monitor"],
    "votes_in_branch": True,
}
Run = Generator[Server, None, None]


def key() -> dict[str, str]:
    return {"Idempotency-Key": f"retry-{uuid.uuid4()}"}


@pytest.fixture(scope="module")
def staff(shared_server: Server) -> Iterator[httpx.Client]:
    _, token = shared_server.principal([Role.STAFF, Role.COMMITTEE, Role.GRID_LEADER])
    with shared_server.client(token) as client:
        yield client


def assert_invalid_key(r: httpx.Response) -> None:
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["error"] == "invalid"
    assert body["message"]
    assert [f["field"] for f in body["fields"]] == ["Idempotency-Key"]


def raise_concern(client: httpx.Client) -> str:
    r = client.post("/api/v1/concerns", json=RAISE)
    assert r.status_code == 201, r.text
    cid: str = r.json()["id"]
    return cid


def test_raising_twice_with_one_key_returns_the_first_response_and_records_nothing(
    shared_server: Server, staff: httpx.Client
) -> None:
    headers = key()
    first = staff.post("/api/v1/concerns", json=RAISE, headers=headers)
    assert first.status_code == 201, first.text
    head = shared_server.event_count()
    again = staff.post("/api/v1/concerns", json=RAISE, headers=headers)
    assert again.status_code == 201, again.text
    assert again.json() == first.json()
    assert again.headers["Location"] == first.headers["Location"]
    assert shared_server.event_count() == head
    assert staff.get(f"/api/v1/concerns/{first.json()['id']}").json()["version"] == 1


def test_the_body_matches_whatever_the_order_of_its_keys(
    shared_server: Server, staff: httpx.Client
) -> None:
    headers = key()
    first = staff.post("/api/v1/concerns", json=RAISE, headers=headers)
    head = shared_server.event_count()
    reordered = dict(reversed(list(RAISE.items())))
    again = staff.post("/api/v1/concerns", json=reordered, headers=headers)
    assert again.status_code == 201, again.text
    assert again.json() == first.json()
    assert shared_server.event_count() == head


def test_a_command_retried_after_the_concern_moved_on_returns_the_first_response(
    shared_server: Server, staff: httpx.Client
) -> None:
    cid = raise_concern(staff)
    headers = key()
    first = staff.post(f"/api/v1/concerns/{cid}/refer", json={"note": "需要研究"}, headers=headers)
    assert first.status_code == 200, first.text
    assert first.json()["version"] == 2
    owner = shared_server.member()
    assign = {"owner": owner, "duty_role": "project_coordinator", "due_on": DUE}
    assert staff.post(f"/api/v1/concerns/{cid}/assign", json=assign).status_code == 200
    head = shared_server.event_count()
    # Refer is no longer allowed (409), but the retry is answered from the first response.
    again = staff.post(f"/api/v1/concerns/{cid}/refer", json={"note": "需要研究"}, headers=headers)
    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    assert shared_server.event_count() == head
    assert staff.get(f"/api/v1/concerns/{cid}").json()["status"] == "assigned"


def test_a_retry_carrying_its_original_if_match_returns_the_first_response_not_412(
    shared_server: Server, staff: httpx.Client
) -> None:
    cid = raise_concern(staff)
    headers = {**key(), "If-Match": '"1"'}
    first = staff.post(f"/api/v1/concerns/{cid}/refer", json={}, headers=headers)
    assert first.status_code == 200, first.text
    head = shared_server.event_count()
    again = staff.post(f"/api/v1/concerns/{cid}/refer", json={}, headers=headers)
    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    assert shared_server.event_count() == head


def test_concurrent_retries_with_one_key_record_one_concern(
    shared_server: Server, staff: httpx.Client
) -> None:
    before = shared_server.event_count()
    raise_concern(staff)
    per_concern = shared_server.event_count() - before
    headers = key()
    token = staff.headers["Authorization"]
    answers: list[tuple[int, str]] = []

    def send() -> None:
        with httpx.Client(base_url=shared_server.base_url, timeout=30) as client:
            r = client.post(
                "/api/v1/concerns", json=RAISE, headers={**headers, "Authorization": token}
            )
            answers.append((r.status_code, r.text))

    before = shared_server.event_count()
    threads = [threading.Thread(target=send) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(answers) == 6
    assert len(set(answers)) == 1, answers
    assert answers[0][0] == 201
    # Counted, not read off the head: on PostgreSQL a batch that failed on the duplicate
    # key burned positions for all its members (adapters/writer.py), so the head moves on.
    added = shared_server.app.recorder.select_notifications(before, 1000, inclusive_of_start=False)
    assert len(added) == per_concern


def test_registering_a_member_twice_with_one_key_registers_one_member(
    shared_server: Server, staff: httpx.Client
) -> None:
    headers = key()
    name = f"王芳-{uuid.uuid4().hex[:6]}"
    first = staff.post("/api/v1/members", json={**MEMBER, "name": name}, headers=headers)
    assert first.status_code == 201, first.text
    head = shared_server.event_count()
    again = staff.post("/api/v1/members", json={**MEMBER, "name": name}, headers=headers)
    assert again.status_code == 201, again.text
    assert again.json() == first.json()
    assert shared_server.event_count() == head
    named = [m for m in staff.get("/api/v1/members").json()["items"] if m["name"] == name]
    assert len(named) == 1


def test_the_same_key_with_another_body_is_422_and_records_nothing(
    shared_server: Server, staff: httpx.Client
) -> None:
    headers = key()
    first = staff.post("/api/v1/concerns", json=RAISE, headers=headers)
    assert first.status_code == 201, first.text
    head = shared_server.event_count()
    other = {**RAISE, "title": "3号楼电梯坏了"}
    assert_invalid_key(staff.post("/api/v1/concerns", json=other, headers=headers))
    assert shared_server.event_count() == head


def test_the_same_key_on_another_concern_is_422_and_records_nothing(
    shared_server: Server, staff: httpx.Client
) -> None:
    one, two = raise_concern(staff), raise_concern(staff)
    headers = key()
    assert staff.post(f"/api/v1/concerns/{one}/refer", json={}, headers=headers).status_code == 200
    head = shared_server.event_count()
    assert_invalid_key(staff.post(f"/api/v1/concerns/{two}/refer", json={}, headers=headers))
    assert shared_server.event_count() == head
    assert staff.get(f"/api/v1/concerns/{two}").json()["status"] == "intake"


def test_the_same_key_on_another_endpoint_is_422(
    shared_server: Server, staff: httpx.Client
) -> None:
    cid = raise_concern(staff)
    headers = key()
    assert staff.post(f"/api/v1/concerns/{cid}/refer", json={}, headers=headers).status_code == 200
    head = shared_server.event_count()
    r = staff.post(f"/api/v1/concerns/{cid}/withdraw", json={"reason": "撤回"}, headers=headers)
    assert_invalid_key(r)
    assert shared_server.event_count() == head


def test_different_principals_may_use_the_same_key_independently(
    shared_server: Server,
) -> None:
    _, one = shared_server.principal([Role.COLLECTOR])
    _, two = shared_server.principal([Role.COLLECTOR])
    headers = key()
    with shared_server.client(one) as a, shared_server.client(two) as b:
        first_a = a.post("/api/v1/concerns", json=RAISE, headers=headers)
        first_b = b.post("/api/v1/concerns", json=RAISE, headers=headers)
        assert first_a.status_code == first_b.status_code == 201
        assert first_a.json()["id"] != first_b.json()["id"]
        # Another body is the other principal's own business, not a clash with the first.
        _, three = shared_server.principal([Role.COLLECTOR])
        with shared_server.client(three) as c:
            other = c.post("/api/v1/concerns", json={**RAISE, "title": "别的事"}, headers=headers)
            assert other.status_code == 201, other.text
        head = shared_server.event_count()
        assert a.post("/api/v1/concerns", json=RAISE, headers=headers).json() == first_a.json()
        assert b.post("/api/v1/concerns", json=RAISE, headers=headers).json() == first_b.json()
        assert shared_server.event_count() == head


def test_a_key_is_remembered_across_a_server_restart(database_url: str, tmp_path: Path) -> None:
    headers = key()
    (tmp_path / "first").mkdir()
    (tmp_path / "second").mkdir()
    first_run = cast(Run, start_server(database_url, tmp_path / "first"))
    try:
        server = next(first_run)
        _, token = server.principal([Role.STAFF])
        with server.client(token) as client:
            first = client.post("/api/v1/concerns", json=RAISE, headers=headers)
            assert first.status_code == 201, first.text
            cid = first.json()["id"]
            refer = client.post(
                f"/api/v1/concerns/{cid}/refer", json={}, headers={"Idempotency-Key": "r1"}
            )
            assert refer.status_code == 200, refer.text
        head = server.event_count()
    finally:
        first_run.close()  # stops the first server

    second_run = cast(Run, start_server(database_url, tmp_path / "second"))
    try:
        restarted = next(second_run)
        with restarted.client(token) as client:
            again = client.post("/api/v1/concerns", json=RAISE, headers=headers)
            assert again.status_code == 201, again.text
            assert again.json() == first.json()
            r = client.post(
                f"/api/v1/concerns/{cid}/refer", json={}, headers={"Idempotency-Key": "r1"}
            )
            assert r.status_code == 200, r.text
            assert r.json() == refer.json()
            other = {**RAISE, "title": "3号楼电梯坏了"}
            assert_invalid_key(client.post("/api/v1/concerns", json=other, headers=headers))
        assert restarted.event_count() == head
    finally:
        second_run.close()


def _resolved_tracking_code(server: Server, staff: httpx.Client) -> tuple[str, str]:
    r = staff.post("/api/v1/concerns", json=RAISE)
    cid, code = r.json()["id"], r.json()["tracking_code"]
    owner = server.member()
    assign = {"owner": owner, "duty_role": "project_coordinator", "due_on": DUE}
    for command, body in (
        ("refer", {}),
        ("assign", assign),
        ("resolve", {"summary": "更换了6盏路灯"}),
    ):
        assert staff.post(f"/api/v1/concerns/{cid}/{command}", json=body).status_code == 200
    return cid, code


def test_tracking_page_feedback_retried_with_one_key_is_recorded_once(
    shared_server: Server, staff: httpx.Client
) -> None:
    cid, code = _resolved_tracking_code(shared_server, staff)
    headers = key()
    body = {"solved": True, "satisfaction": "satisfied", "comment": "谢谢"}
    with shared_server.client() as resident:
        first = resident.post(f"/api/v1/track/{code}/feedback", json=body, headers=headers)
        assert first.status_code == 200, first.text
        head = shared_server.event_count()
        again = resident.post(f"/api/v1/track/{code}/feedback", json=body, headers=headers)
        assert again.status_code == 200, again.text
        assert again.json() == first.json()
        assert shared_server.event_count() == head
        # Without the key the second answer is refused: feedback was already given.
        r = resident.post(f"/api/v1/track/{code}/feedback", json=body)
        assert r.status_code == 409, r.text
    events = staff.get(f"/api/v1/concerns/{cid}/history").json()["events"]
    assert [e["type"] for e in events].count("FeedbackRecorded") == 1


def test_tracking_page_feedback_with_a_used_key_and_another_body_is_422(
    shared_server: Server, staff: httpx.Client
) -> None:
    _, code = _resolved_tracking_code(shared_server, staff)
    headers = key()
    with shared_server.client() as resident:
        body = {"solved": True, "satisfaction": "satisfied"}
        first = resident.post(f"/api/v1/track/{code}/feedback", json=body, headers=headers)
        assert first.status_code == 200, first.text
        head = shared_server.event_count()
        other = {"solved": False, "satisfaction": "dissatisfied"}
        assert_invalid_key(
            resident.post(f"/api/v1/track/{code}/feedback", json=other, headers=headers)
        )
        assert shared_server.event_count() == head
