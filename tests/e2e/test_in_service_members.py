"""Seed 001 replayed over HTTP, on SQLite and PostgreSQL (在职党员进社区): a county forestry
bureau's 39 in-service members report to three communities (河北、西山、大东社区) on 26 March;
five kinds of post are set in each (帮贫济困岗, 发展建设岗, 法律援助岗, 科普宣传岗, 环境维护岗),
39 seats in all, and every member claims one; a 40th claim on a full post is refused
(409 post_full). Each serves and the community rates them; the half-year evaluation gives
every member their hours, post and rating, as JSON, CSV and XLSX for the bureau. In-service
members and volunteers never vote in the branch."""

from __future__ import annotations

import csv
import io
from typing import Any
from uuid import UUID

import httpx
from openpyxl import load_workbook

from domain.service import Rating
from domain.vocabulary import Role
from tests.conftest import Server
from tests.e2e.ui_client import signed_in, ui_user

BUREAU = "县林业局"
COMMUNITIES = ("河北社区", "西山社区", "大东社区")
# Seats per kind of post in each community: 13 a community, 39 in all.
POSTS = {"帮贫济困岗": 3, "发展建设岗": 3, "法律援助岗": 2, "科普宣传岗": 2, "环境维护岗": 3}
RATINGS = ("excellent", "good", "fair")


def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def test_seed_001_thirty_nine_members_report_claim_serve_and_are_evaluated(
    server: Server,
) -> None:
    staff = server.client(server.principal([Role.STAFF, Role.COMMITTEE])[1])
    try:
        members: list[tuple[str, str]] = []  # (id, community)
        for n in range(39):
            community = COMMUNITIES[n % 3]
            body = {
                "name": f"林业局党员{n + 1:02d}",
                "grids": [community],
                "duty_roles": [],
                "votes_in_branch": True,  # asked, but an in-service member does not vote here
                "kind": "in_service",
                "organisation": BUREAU,
                "reported_on": "2026-03-26",
            }
            members.append((ok(staff.post("/api/v1/members", json=body), 201)["id"], community))
        volunteer = {
            "name": "志愿者甲",
            "grids": ["西山社区"],
            "duty_roles": [],
            "votes_in_branch": False,
            "kind": "volunteer",
            "badge_number": "XS-V-001",
        }
        badged = ok(staff.post("/api/v1/members", json=volunteer), 201)["id"]
        listed = ok(staff.get("/api/v1/members"))["items"]
        in_service = [m for m in listed if m["kind"] == "in_service"]
        assert len(in_service) == 39
        assert all(m["organisation"] == BUREAU and not m["votes_in_branch"] for m in in_service)
        assert ok(staff.get(f"/api/v1/members/{badged}"))["badge_number"] == "XS-V-001"

        posts: dict[str, list[str]] = {c: [] for c in COMMUNITIES}
        for community in COMMUNITIES:
            for name, seats in POSTS.items():
                body = {
                    "name": name,
                    "grid": community,
                    "duties": f"{community}{name}",
                    "seats": seats,
                }
                post = ok(staff.post("/api/v1/posts", json=body), 201)["id"]
                posts[community] += [post] * seats
        for member, community in members:
            seat = posts[community].pop()
            # Half claim for themselves, half are entered by staff.
            if int(member[-1], 16) % 2:
                _, token = server.principal([Role.MEMBER], member=member)
                with server.client(token) as own:
                    ok(own.post(f"/api/v1/posts/{seat}/claims", json={"member": member}), 201)
            else:
                ok(staff.post(f"/api/v1/posts/{seat}/claims", json={"member": member}), 201)
        listed_posts = ok(staff.get("/api/v1/posts"))["items"]
        assert len(listed_posts) == 15
        assert {p["name"] for p in listed_posts} == set(POSTS)
        assert sum(p["claimed"] for p in listed_posts) == 39
        assert all(p["claimed"] == p["seats"] for p in listed_posts)
        full = staff.post(f"/api/v1/posts/{listed_posts[0]['id']}/claims", json={"member": badged})
        assert full.status_code == 409, full.text
        assert full.json()["rule"] == "post_full"

        for n, (member, _) in enumerate(members):
            held = next(p for p in listed_posts if member in p["members"])
            record = {
                "member": member,
                "post": held["id"],
                "date": "2026-04-02",
                "hours": 2 + n % 3,
                "what": "入户走访困难群众",
            }
            ok(staff.post("/api/v1/service-records", json=record), 201)
            rating = {"period": "2026H1", "rating": RATINGS[n % 3], "comment": "按时到岗"}
            last = ok(staff.post(f"/api/v1/members/{member}/feedback", json=rating), 201)

        params = {"period": "2026H1", "min_position": last["position"]}
        evaluated = ok(staff.get("/api/v1/evaluations", params=params))
        assert (evaluated["from"], evaluated["to"]) == ("2026-01-01", "2026-06-30")
        mine = [i for i in evaluated["items"] if i["kind"] == "in_service"]
        assert len(mine) == 39
        by_id = {i["member_id"]: i for i in mine}
        for n, (member, _) in enumerate(members):
            item = by_id[member]
            assert item["hours"] == 2 + n % 3
            assert len(item["posts"]) == 1
            assert item["posts"][0] in POSTS
            assert item["feedback"] == RATINGS[n % 3]
            assert (item["resolved_on_time"], item["points"]) == (0, 0)
        assert sum(i["hours"] for i in mine) == sum(2 + n % 3 for n in range(39))
        later = ok(staff.get("/api/v1/evaluations", params={"period": "2026H2"}))
        assert all(i["hours"] == 0 and i["feedback"] is None for i in later["items"])

        the_bureau = {"period": "2026", "organisation": BUREAU}
        table = staff.get("/api/v1/evaluations", params={**the_bureau, "format": "csv"})
        assert table.status_code == 200
        lines = list(csv.reader(io.StringIO(table.content.decode("utf-8-sig"))))
        assert (lines[0][0], lines[1][0]) == ("姓名", "Name")
        assert len(lines) == 2 + 39
        book = staff.get("/api/v1/evaluations", params={**the_bureau, "format": "xlsx"})
        sheet = load_workbook(io.BytesIO(book.content)).active
        assert sheet is not None
        assert sheet.max_row == 2 + 39

        bad = staff.get("/api/v1/evaluations", params={"period": "2026H3"})
        assert bad.status_code == 422
        assert bad.json()["fields"][0]["field"] == "period"
        missing = staff.post("/api/v1/members", json={**volunteer, "badge_number": None})
        assert missing.status_code == 422
    finally:
        staff.close()


def test_the_evaluation_page_shows_each_member_and_gives_the_csv(shared_server: Server) -> None:
    app = shared_server.app
    admin = app.accounts.find("admin")
    reported = app.clock().date()
    member = app.register_member(
        admin,
        "林业局党员甲",
        ["2"],
        [],
        False,
        kind="in_service",
        organisation=BUREAU,
        reported_on=reported,
    ).id
    post = app.set_post(admin, "科普宣传岗", "2", "", 2).id
    app.claim_post(UUID(post), admin, UUID(member))
    app.record_service(admin, UUID(member), UUID(post), reported, 2.5, "科普讲座")
    half = f"{reported.year}H{1 if reported.month <= 6 else 2}"
    app.give_feedback(UUID(member), admin, half, Rating.GOOD, "认真")
    staff = ui_user(shared_server, [Role.STAFF])
    member_only = ui_user(shared_server, [Role.MEMBER])
    with signed_in(shared_server, staff) as s, signed_in(shared_server, member_only) as c:
        page = s.get("/ui/evaluations", params={"period": half})
        assert page.status_code == 200
        row = page.text.split(f'data-member="{member}"')[1].split("</tr>")[0]
        for shown in ("林业局党员甲", "在职党员", BUREAU, "2.5", "科普宣传岗", "良好"):
            assert shown in row
        bad = s.get("/ui/evaluations", params={"period": "2026H5"})
        assert bad.status_code == 422
        assert "考评期" in bad.text
        table = s.get("/ui/evaluations.csv", params={"period": half, "organisation": BUREAU})
        lines = list(csv.reader(io.StringIO(table.content.decode("utf-8-sig"))))
        assert [line[0] for line in lines[2:]] == ["林业局党员甲"]
        assert c.get("/ui/evaluations").status_code == 403
