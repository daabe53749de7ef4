"""The inbox 待办 over HTTP on both stores: each person sees what needs their action — a
vote open for them, their assignments due soon or overdue, the queues their roles decide —
and the navigation shows the counts; what is done leaves it."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from uuid import UUID

from domain.vocabulary import DutyRole, Role
from tests.conftest import Server
from tests.e2e.test_ui_meetings import _meeting, _vote
from tests.e2e.ui_client import signed_in, text_of, ui_user
from tests.integration.support import STAFF, draft


def eventually(get: Callable[[], str], ok: Callable[[str], bool]) -> str:
    """The page once `ok` holds (read models catch up within moments; allow a loaded machine
    30 s), or the last one."""
    page = get()
    deadline = time.monotonic() + 30
    while not ok(page) and time.monotonic() < deadline:
        time.sleep(0.1)
        page = get()
    return page


def nav_count(page: str, href: str) -> int | None:
    """The count the navigation shows beside the link to `href`, if any."""
    link = re.search(rf'<a href="{re.escape(href)}"[^>]*>(.*?)</a>', page, re.S)
    assert link, f"no navigation link to {href}"
    found = re.search(r'<span class="nav-count"[^>]*>(\d+)</span>', link.group(1))
    return int(found.group(1)) if found else None


def test_a_member_sees_the_vote_open_for_them_until_they_vote(shared_server: Server) -> None:
    mid, cid, members = _meeting(shared_server, "open")
    voter = ui_user(shared_server, [Role.MEMBER], ["2"], members[1])
    absent = ui_user(shared_server, [Role.MEMBER], ["2"], members[2])
    with signed_in(shared_server, voter) as v, signed_in(shared_server, absent) as a:
        page = v.get("/ui/inbox")
        assert page.status_code == 200
        assert "等待您表决" in text_of(page.text)
        assert f'href="/ui/meetings/{mid}/vote"' in page.text
        assert nav_count(page.text, "/ui/inbox") == 1
        assert nav_count(page.text, "/ui/vote") == 1
        # Not present at the meeting: nothing to vote on.
        assert "等待您表决" not in text_of(a.get("/ui/inbox").text)
        assert _vote(v, mid, cid, "for").status_code == 303
        after = v.get("/ui/inbox")
        assert "等待您表决" not in text_of(after.text)
        assert "眼下没有需要您处理的事项" in text_of(after.text)


def test_an_owner_sees_assignments_due_soon_and_overdue(shared_server: Server) -> None:
    app = shared_server.app
    member = shared_server.member("钱师傅", DutyRole.ENVIRONMENT_MONITOR)
    owner = ui_user(shared_server, [Role.MEMBER], ["2"], member)
    today = datetime.now(app.zone).date()
    soon, later = (
        UUID(app.raise_concern(STAFF, draft(title=title)).id) for title in ("井盖松动", "绿化补种")
    )
    for cid, due in ((soon, today + timedelta(days=1)), (later, today + timedelta(days=20))):
        app.handle_now(cid, STAFF, UUID(member), DutyRole.ENVIRONMENT_MONITOR, due)
    with signed_in(shared_server, owner) as o:
        page = eventually(lambda: o.get("/ui/inbox").text, lambda p: "井盖松动" in p)
        assert "绿化补种" not in text_of(page)  # due in 20 days: not yet
        assert nav_count(page, "/ui/tasks") == 1
        # Three days later the first is overdue, and says so.
        shared_server.set_clock(lambda: datetime.now(app.zone) + timedelta(days=3))
        try:
            late = text_of(o.get("/ui/inbox").text)
        finally:
            shared_server.set_clock(None)
        assert "已逾期" in late
        assert "井盖松动" in late


def test_a_grid_leader_sees_the_intake_waiting_with_its_count(shared_server: Server) -> None:
    app = shared_server.app
    leader = ui_user(shared_server, [Role.GRID_LEADER], ["7"])
    raised = app.raise_concern(STAFF, replace(draft(title="七号网格路灯"), grid="7"))
    with signed_in(shared_server, leader) as g:
        page = eventually(lambda: g.get("/ui/inbox").text, lambda p: "七号网格路灯" in p)
        assert "待分拣的民情" in text_of(page)
        assert nav_count(page, "/ui/triage") == 1
        assert nav_count(page, "/ui/inbox") == 1
        app.refer(UUID(raised.id), STAFF)
        # The list is a read model: the referral reaches it within moments.
        page = eventually(
            lambda: g.get("/ui/inbox").text, lambda p: nav_count(p, "/ui/inbox") is None
        )
        assert "眼下没有需要您处理的事项" in text_of(page)
