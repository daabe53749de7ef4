"""The concern page's time-limit forms through the web UI on SQLite and PostgreSQL: a
supervisor's card and the owner's reply, the owner's extension request and the committee's
refusal, the owner's appeal of an overdue stage and the supervisor's decision, a suspension
asked for, approved and ended, a void proposed, refused, proposed again and approved; each form
shown only to whom may use it and only when it applies, and refusals in words; the forms'
addresses asked for with GET (a reload after a refusal) go to the concern page."""

from __future__ import annotations

import re
from datetime import datetime
from uuid import UUID

import httpx

from api.ui.limit_actions import VERBS
from domain.vocabulary import Role
from tests.conftest import Server
from tests.e2e.concern_requests import RAISE, ZONE, status
from tests.e2e.ui_client import browser, csrf_of, signed_in, text_of, ui_user


def _forms(page: str) -> set[str]:
    """The time-limit verbs whose forms the page shows."""
    return set(re.findall(r'action="/ui/concerns/[^/]+/do/([a-z-]+)"', page))


def _post(client: httpx.Client, cid: str, verb: str, **fields: str) -> httpx.Response:
    page = client.get(f"/ui/concerns/{cid}")
    return client.post(f"/ui/concerns/{cid}/do/{verb}", data={"csrf": csrf_of(page.text), **fields})


def _history(server: Server, cid: str) -> list[str]:
    return [e["type"] for e in server.app.history(UUID(cid))]


def test_cards_extensions_and_appeals_from_the_concern_page(server: Server) -> None:
    now = [datetime(2026, 3, 2, 10, 0, tzinfo=ZONE)]
    server.set_clock(lambda: now[0])
    member = server.member()
    owner = ui_user(server, [Role.MEMBER], member=member)
    boss = ui_user(server, [Role.SUPERVISOR])
    committee = ui_user(server, [Role.COMMITTEE])
    staff = ui_user(server, [Role.STAFF])
    _, api_token = server.principal([Role.STAFF])
    with server.client(api_token) as api:
        cid = status(api.post("/api/v1/concerns", json=RAISE), 201)["id"]
        due = {"owner": member, "duty_role": "mediator", "due_on": "2026-03-04"}
        status(api.post(f"/api/v1/concerns/{cid}/handle-now", json=due), 200)

    with signed_in(server, staff) as s:
        # Of these, staff may only propose a void.
        assert _forms(s.get(f"/ui/concerns/{cid}").text) == {"propose-void"}
    with signed_in(server, owner) as o:
        # No card waits yet: the owner may ask for more time or a suspension, not reply.
        assert _forms(o.get(f"/ui/concerns/{cid}").text) == {"request-extension", "suspend"}
        blank = _post(o, cid, "request-extension", reason="  ")
        assert blank.status_code == 422
        assert "理由" in text_of(blank.text)  # the field, named in words
        done = _post(o, cid, "request-extension", reason="配件未到")
        assert done.status_code == 303
        assert "done=request-extension" in done.headers["location"]
        # One request at a time.
        assert _forms(o.get(f"/ui/concerns/{cid}").text) == {"suspend"}
    with signed_in(server, boss) as b:
        assert _forms(b.get(f"/ui/concerns/{cid}").text) == {"supervise"}
        past = _post(
            b, cid, "supervise", grade="red", requirement="立即处理", reply_by="2026-03-01"
        )
        assert past.status_code == 422
        assert "答复期限" in text_of(past.text)
        card = _post(
            b, cid, "supervise", grade="yellow", requirement="三日内答复", reply_by="2026-03-05"
        )
        assert card.status_code == 303
    with signed_in(server, committee) as c:
        assert _forms(c.get(f"/ui/concerns/{cid}").text) == {"refuse-extension"}
        assert _post(c, cid, "refuse-extension", reason="请先联系其他供应商").status_code == 303
        # Nothing waits any more: the form is gone, and a stale post is refused in words.
        assert "refuse-extension" not in _forms(c.get(f"/ui/concerns/{cid}").text)
        again = _post(c, cid, "refuse-extension", reason="再次")
        assert again.status_code == 409
        assert "没有等待答复的延期或挂账申请" in text_of(again.text)
    with signed_in(server, owner) as o:
        assert _forms(o.get(f"/ui/concerns/{cid}").text) == {
            "reply-supervision",
            "request-extension",
            "suspend",
        }
        assert _post(o, cid, "reply-supervision", reply="已联系供应商").status_code == 303
        assert "reply-supervision" not in _forms(o.get(f"/ui/concerns/{cid}").text)
    assert _history(server, cid)[-4:] == [
        "ExtensionRequested",
        "SupervisionCardIssued",
        "ExtensionRefused",
        "SupervisionReplied",
    ]

    now[0] = datetime(2026, 3, 6, 10, 0, tzinfo=ZONE)  # past the due date
    served = server.served
    assert served is not None
    served.state.minqing.record_missed_deadlines(UUID(cid), 7)
    with signed_in(server, owner) as o:
        o.get(f"/ui/concerns/{cid}", params={"lang": "en"})  # the English pages from here
        late = _post(o, cid, "request-extension", reason="还要一周")
        assert late.status_code == 409
        assert "already overdue" in text_of(late.text)
    with server.client(api_token) as api:
        status(api.post(f"/api/v1/concerns/{cid}/resolve", json={"summary": "已修好"}), 200)
    with signed_in(server, owner) as o:
        page = o.get(f"/ui/concerns/{cid}", params={"lang": "zh"})
        assert _forms(page.text) == {"appeal"}
        assert "申诉的超期环节" in text_of(page.text)
        assert _post(o, cid, "appeal", stage="handling", reason="配件全市缺货").status_code == 303
        assert _forms(o.get(f"/ui/concerns/{cid}").text) == set()  # once per concern
    with signed_in(server, boss) as b:
        # Resolved, the concern still waits for feedback: open, so it may still be carded.
        assert _forms(b.get(f"/ui/concerns/{cid}").text) == {"decide-appeal", "supervise"}
        decided = _post(b, cid, "decide-appeal", approved="true", reason="情况属实")
        assert decided.status_code == 303
        assert _forms(b.get(f"/ui/concerns/{cid}").text) == {"supervise"}
    concern = server.app.get_concern(UUID(cid))
    assert concern.exempt_stages() == ["handling"]


def test_a_suspension_from_the_concern_page(server: Server) -> None:
    now = [datetime(2026, 3, 2, 10, 0, tzinfo=ZONE)]
    server.set_clock(lambda: now[0])
    member = server.member()
    owner = ui_user(server, [Role.MEMBER], member=member)
    committee = ui_user(server, [Role.COMMITTEE])
    _, api_token = server.principal([Role.STAFF])
    with server.client(api_token) as api:
        cid = status(api.post("/api/v1/concerns", json=RAISE), 201)["id"]
        due = {"owner": member, "duty_role": "mediator", "due_on": "2026-03-20"}
        status(api.post(f"/api/v1/concerns/{cid}/handle-now", json=due), 200)
    with signed_in(server, owner) as o:
        past = _post(o, cid, "suspend", reason="等待供电公司改线", until="2026-03-01")
        assert past.status_code == 422
        assert "挂账至" in text_of(past.text)  # the field, named in words
        asked = _post(o, cid, "suspend", reason="等待供电公司改线", until="2026-04-30")
        assert asked.status_code == 303
        assert "suspend" not in _forms(o.get(f"/ui/concerns/{cid}").text)
    with signed_in(server, committee) as c:
        assert _forms(c.get(f"/ui/concerns/{cid}").text) == {
            "approve-suspension",
            "refuse-suspension",
        }
        assert _post(c, cid, "approve-suspension").status_code == 303
        page = c.get(f"/ui/concerns/{cid}").text
        assert _forms(page) == {"resume"}
        assert "计时暂停" in text_of(page)
    with signed_in(server, owner) as o:
        # While suspended the owner cannot ask for more time, only resume.
        assert _forms(o.get(f"/ui/concerns/{cid}").text) == {"resume"}
        now[0] = datetime(2026, 3, 9, 10, 0, tzinfo=ZONE)
        assert _post(o, cid, "resume").status_code == 303
        assert "resume" not in _forms(o.get(f"/ui/concerns/{cid}").text)
    assert _history(server, cid)[-3:] == ["SuspensionRequested", "SuspensionApproved", "Resumed"]


def test_a_void_from_the_concern_page(server: Server) -> None:
    staff = ui_user(server, [Role.STAFF])
    boss = ui_user(server, [Role.SUPERVISOR])
    _, api_token = server.principal([Role.STAFF])
    with server.client(api_token) as api:
        cid = status(api.post("/api/v1/concerns", json=RAISE), 201)["id"]
    with signed_in(server, boss) as b:
        assert "propose-void" not in _forms(b.get(f"/ui/concerns/{cid}").text)  # staff's
    with signed_in(server, staff) as s:
        assert "propose-void" in _forms(s.get(f"/ui/concerns/{cid}").text)
        blank = _post(s, cid, "propose-void", reason=" ")
        assert blank.status_code == 422
        assert "理由" in text_of(blank.text)
        assert _post(s, cid, "propose-void", reason="重复登记").status_code == 303
        assert "propose-void" not in _forms(s.get(f"/ui/concerns/{cid}").text)
    with signed_in(server, boss) as b:
        forms = _forms(b.get(f"/ui/concerns/{cid}").text)
        assert {"approve-void", "refuse-void"} <= forms
        assert _post(b, cid, "refuse-void", reason="属于本社区事务").status_code == 303
    with signed_in(server, staff) as s:
        assert _post(s, cid, "propose-void", reason="重复登记，见另一条").status_code == 303
    with signed_in(server, boss) as b:
        assert _post(b, cid, "approve-void").status_code == 303
        page = b.get(f"/ui/concerns/{cid}").text
        assert "已作废" in text_of(page)
        assert not {"approve-void", "refuse-void", "supervise"} & _forms(page)
    assert _history(server, cid)[-4:] == [
        "VoidProposed",
        "VoidRefused",
        "VoidProposed",
        "VoidApproved",
    ]


def test_a_forms_address_asked_for_with_get_goes_to_the_concern_page(server: Server) -> None:
    # A refused form is shown again at the address it was posted to: reloading that page (a
    # GET there) is 303 to the concern page, not 405, behind the concern page's own door.
    staff = ui_user(server, [Role.STAFF])
    outsider = ui_user(server, [Role.MEMBER])  # no concern of theirs: not on the page
    elsewhere = ui_user(server, [Role.STAFF], grids=["9"])
    _, api_token = server.principal([Role.STAFF])
    with server.client(api_token) as api:
        raised = status(api.post("/api/v1/concerns", json=RAISE), 201)
    cid, page = raised["id"], f"/ui/concerns/{raised['id']}"
    with signed_in(server, staff) as s:
        refused = _post(s, cid, "propose-void", reason=" ")
        assert refused.status_code == 422
        for verb in VERBS:
            again = s.get(f"{page}/do/{verb}")
            assert (again.status_code, again.headers.get("location")) == (303, page), verb
        by_reference = s.get(f"/ui/concerns/{raised['reference']}/do/propose-void")
        assert (by_reference.status_code, by_reference.headers.get("location")) == (303, page)
        for form in ("reveal", "photos"):
            again = s.get(f"{page}/{form}")
            assert (again.status_code, again.headers.get("location")) == (303, page), form
        days = s.get("/ui/calendar/2026/days")
        assert (days.status_code, days.headers.get("location")) == (303, "/ui/calendar?year=2026")
        assert s.get("/ui/concerns/MQ-2026-999999/do/supervise").status_code == 404
    for who in (outsider, elsewhere):
        with signed_in(server, who) as other:
            assert other.get(f"{page}/do/supervise").status_code == 403
    with browser(server) as anonymous:
        signin = anonymous.get(f"{page}/do/supervise")
        assert signin.status_code == 303
        assert signin.headers["location"].startswith("/ui/sign-in?next=")
