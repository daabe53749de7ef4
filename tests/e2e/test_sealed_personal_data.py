"""A visit's household and a meeting's resident representatives are residents' data: sealed
in the events like a resident's name (nowhere in the stored bytes), shown to the people
allowed with each read of a household access-logged, and made unreadable by erasure. Over
HTTP on both stores."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from domain.vocabulary import Role
from tests.conftest import Server

HOUSEHOLD = "5号楼2单元301"
REPRESENTATIVES = ["居民代表张秀英", "居民代表刘建国"]
YESTERDAY = (date.today() - timedelta(days=1)).isoformat()
WHEN = datetime.combine(date.today() + timedelta(days=3), time(14), ZoneInfo("Asia/Shanghai"))


def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def _client(server: Server, roles: list[Role], member: str | None = None) -> httpx.Client:
    _, token = server.principal(roles, member=member)
    return server.client(token)


def stored_bytes(server: Server) -> bytes:
    """Every stored event's state, as the database holds it."""
    found = []
    last = 0
    while batch := server.app.recorder.select_notifications(last, 500, inclusive_of_start=False):
        found += [n.state for n in batch]
        last = batch[-1].id
    return b"\n".join(found)


def assert_nowhere_in_the_log(server: Server, text: str) -> None:
    raw = stored_bytes(server)
    assert text.encode() not in raw
    assert json.dumps(text)[1:-1].encode() not in raw  # nor \\u-escaped


def test_a_visits_household_is_sealed_logged_when_read_and_erasable(server: Server) -> None:
    with (
        _client(server, [Role.COLLECTOR]) as collector,
        _client(server, [Role.COMMITTEE]) as committee,
        _client(server, [Role.SUPERVISOR]) as supervisor,
        _client(server, [Role.ADMIN]) as admin,
    ):
        body = {"grid": "2", "household": HOUSEHOLD, "visited_on": YESTERDAY}
        visit_id = ok(collector.post("/api/v1/visits", json=body), 201)["id"]
        assert_nowhere_in_the_log(server, HOUSEHOLD)

        # A collector reads it, and the read is in the access log under its pseudonym.
        seen = ok(collector.get(f"/api/v1/visits/{visit_id}"))
        assert (seen["household"], seen["household_state"]) == (HOUSEHOLD, "shown")
        ref = seen["household_ref"]
        assert ref
        log = ok(supervisor.get("/api/v1/audit/access-log", params={"resident_ref": ref}))
        assert [(e["subject"], e["visit_id"], e["grid"]) for e in log["items"]] == [
            ("visit", visit_id, "2")
        ]
        # The committee reads the visit, not the address (and nothing is logged).
        hidden = ok(committee.get(f"/api/v1/visits/{visit_id}"))
        assert (hidden["household"], hidden["household_state"]) == (None, "redacted")
        again = ok(supervisor.get("/api/v1/audit/access-log", params={"resident_ref": ref}))
        assert len(again["items"]) == 1

        ok(admin.post(f"/api/v1/residents/{ref}/erase"))
        gone = ok(collector.get(f"/api/v1/visits/{visit_id}"))
        assert (gone["household"], gone["household_state"]) == (None, "erased")


def test_households_are_still_counted_once_by_the_ledger(server: Server) -> None:
    with _client(server, [Role.COLLECTOR]) as collector:
        for household in (HOUSEHOLD, " 5号楼 2单元 301 ", "3号楼102"):
            body = {"grid": "2", "household": household, "visited_on": YESTERDAY}
            ok(collector.post("/api/v1/visits", json=body), 201)
        ledger = ok(collector.get("/api/v1/ledger", params={"min_position": server.event_count()}))
    figures = ledger["totals"]["figures"]
    assert (figures["visits"], figures["households_visited"]) == (3, 2)


def test_resident_representatives_are_sealed_shown_and_erasable(server: Server) -> None:
    chair_member = server.member("张红梅")
    with (
        _client(server, [Role.COMMITTEE]) as committee,
        _client(server, [Role.CHAIR], member=chair_member) as chair,
        _client(server, [Role.STAFF]) as staff,
        _client(server, [Role.ADMIN]) as admin,
    ):
        meeting = {
            "title": "主题党日",
            "kind": "thematic_party_day",
            "scheduled_for": WHEN.isoformat(),
            "chair": chair_member,
            "eligible_voters": [chair_member],
        }
        mid = ok(committee.post("/api/v1/meetings", json=meeting), 201)["id"]
        opened = {"present": [chair_member], "resident_representatives": REPRESENTATIVES}
        ok(chair.post(f"/api/v1/meetings/{mid}/open", json=opened))
        for name in REPRESENTATIVES:
            assert_nowhere_in_the_log(server, name)

        view = ok(staff.get(f"/api/v1/meetings/{mid}"))
        assert view["resident_representatives"] == REPRESENTATIVES
        refs = view["resident_representative_refs"]
        assert len(refs) == 2
        assert (
            ok(staff.get(f"/api/v1/meetings/{mid}/minutes"))["attendance"][
                "resident_representatives"
            ]
            == REPRESENTATIVES
        )

        ok(admin.post(f"/api/v1/residents/{refs[0]}/erase"))
        after = ok(staff.get(f"/api/v1/meetings/{mid}"))
        assert after["resident_representatives"] == REPRESENTATIVES[1:]
        assert after["resident_representatives_erased"] == 1
        printed = staff.get(f"/api/v1/meetings/{mid}/minutes", params={"format": "html"}).text
        assert REPRESENTATIVES[0] not in printed
        assert REPRESENTATIVES[1] in printed
