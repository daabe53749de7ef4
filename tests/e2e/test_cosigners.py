"""Co-signers over HTTP, on both stores: a resident joins a concern instead of raising a new
one; the concern shows its residents; the ledger counts one concern and two residents (the
co-signer once); a merge moves the merged concern's residents to the surviving one, and the
ledger still counts each resident once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest

from domain.vocabulary import Role
from tests.conftest import Server

RAISE = {
    "title": "5号楼东侧小路路灯不亮",
    "description": "东侧小路的路灯坏了两周",
    "category": "environment",
    "library": "problem",
    "channel": "visit",
    "resident": {"name": "张秀英", "phone": "13800000000"},
}
NEIGHBOUR = {"resident": {"name": "李秀兰", "phone": "13900000000"}, "channel": "visit"}


class Desk:
    def __init__(self, server: Server, grid: str) -> None:
        self.server = server
        self.grid = grid
        _, token = server.principal([Role.STAFF, Role.COLLECTOR])
        self.staff: httpx.Client = server.client(token)

    def raise_(self) -> dict[str, Any]:
        r = self.staff.post("/api/v1/concerns", json={**RAISE, "grid": self.grid})
        assert r.status_code == 201, r.text
        return dict(r.json())

    def concern(self, cid: str) -> dict[str, Any]:
        return dict(self.staff.get(f"/api/v1/concerns/{cid}").json())

    def figures(self) -> dict[str, Any]:
        month = datetime.now(self.server.app.zone).strftime("%Y-%m")
        r = self.staff.get(
            "/api/v1/ledger",
            params={
                "from": month,
                "to": month,
                "grid": self.grid,
                "group_by": "grid",
                "min_position": self.server.event_count(),
            },
        )
        assert r.status_code == 200, r.text
        (row,) = r.json()["rows"]
        return dict(row["figures"])


@pytest.fixture
def desk(shared_server: Server, request: pytest.FixtureRequest) -> Desk:
    return Desk(shared_server, f"co-{request.node.name[-12:]}")


def test_a_resident_joins_and_the_ledger_counts_one_concern_two_residents(desk: Desk) -> None:
    concern = desk.raise_()
    r = desk.staff.post(f"/api/v1/concerns/{concern['id']}/cosigners", json=NEIGHBOUR)
    assert r.status_code == 201, r.text
    assert r.json()["residents_count"] == 2
    shown = desk.concern(concern["id"])
    assert shown["residents_count"] == 2
    assert shown["cosigners"][0]["resident_ref"].startswith("R-")
    assert "李秀兰" not in str(shown["cosigners"])  # sealed, as the first resident's data
    figures = desk.figures()
    assert figures["concerns_collected"] == 1
    assert figures["residents_raising"] == 2


def test_an_anonymous_co_signer_is_counted_and_bad_bodies_are_422(desk: Desk) -> None:
    concern = desk.raise_()
    path = f"/api/v1/concerns/{concern['id']}/cosigners"
    before = desk.server.event_count()
    both = desk.staff.post(path, json={**NEIGHBOUR, "anonymous": True})
    no_channel = desk.staff.post(path, json={"anonymous": True})
    assert both.status_code == 422
    assert [f["field"] for f in both.json()["fields"]] == ["anonymous"]
    assert no_channel.status_code == 422
    assert [f["field"] for f in no_channel.json()["fields"]] == ["channel"]
    assert desk.server.event_count() == before
    ok = desk.staff.post(path, json={"anonymous": True, "channel": "hotline"})
    assert ok.status_code == 201, ok.text
    assert desk.concern(concern["id"])["residents_count"] == 2


def test_a_closed_concern_refuses_a_co_signer_with_409(desk: Desk) -> None:
    concern = desk.raise_()
    desk.staff.post(f"/api/v1/concerns/{concern['id']}/withdraw", json={"reason": "撤回"})
    r = desk.staff.post(f"/api/v1/concerns/{concern['id']}/cosigners", json=NEIGHBOUR)
    assert r.status_code == 409, r.text


def test_a_merge_moves_the_residents_and_the_ledger_counts_each_once(desk: Desk) -> None:
    surviving, merged = desk.raise_(), desk.raise_()
    desk.staff.post(f"/api/v1/concerns/{merged['id']}/cosigners", json=NEIGHBOUR)
    before = desk.figures()
    r = desk.staff.post(f"/api/v1/concerns/{merged['id']}/merge", json={"into": surviving["id"]})
    assert r.status_code == 200, r.text
    after = desk.concern(surviving["id"])
    assert after["residents_count"] == 3
    assert {c["from_concern"] for c in after["cosigners"]} == {merged["id"]}
    figures = desk.figures()
    assert before["residents_raising"] == figures["residents_raising"] == 3
    assert figures["concerns_collected"] == 2
