"""The dashboard over HTTP on both stores: the indicators by month and by grid with
an SVG trend each, every figure opening the concerns behind it (only within the reader's
grids), and the public figures hiding counts under 5."""

from __future__ import annotations

import re
import time
from dataclasses import replace
from datetime import date, timedelta
from uuid import UUID

import httpx

from domain.vocabulary import DutyRole, Role, Satisfaction
from tests.conftest import Server
from tests.e2e.ui_client import signed_in, text_of, ui_user
from tests.integration.support import STAFF, draft

INDICATORS = [
    "响应率",
    "解决率",
    "满意率",
    "按期结案率",
    "返工率",
    "延期率",
    "拒办率",
    "挂账率",
    "作废率",
    "准确立案率",
]


def _resolved_story(server: Server, grid: str, n: int) -> list[UUID]:
    """`n` concerns in `grid`, handled, resolved and answered satisfied."""
    app = server.app
    member = server.member("孙师傅", DutyRole.ENVIRONMENT_MONITOR)
    owner = replace(STAFF, member_id=UUID(member))
    found = []
    for i in range(n):
        cid = UUID(app.raise_concern(STAFF, replace(draft(title=f"看板{grid}-{i}"), grid=grid)).id)
        due = date.today() + timedelta(days=5)
        app.handle_now(cid, STAFF, UUID(member), DutyRole.ENVIRONMENT_MONITOR, due)
        app.resolve(cid, owner, "已办好")
        app.record_feedback(cid, STAFF, True, Satisfaction.SATISFIED)
        found.append(cid)
    return found


def _wait_for_ledger(server: Server) -> None:
    runner = server.served.state.projections if server.served else None
    if runner is not None:
        runner.wait_for("ledger", server.event_count(), 10)
    time.sleep(0.2)


def test_the_dashboard_shows_every_indicator_and_opens_each_cell(shared_server: Server) -> None:
    _resolved_story(shared_server, "41", 2)
    _wait_for_ledger(shared_server)
    supervisor = ui_user(shared_server, [Role.SUPERVISOR])
    with signed_in(shared_server, supervisor) as s:
        page = s.get("/ui/dashboard")
        assert page.status_code == 200
        said = text_of(page.text)
        for name in INDICATORS:
            assert name in said
        assert page.text.count('<svg class="trend"') == len(INDICATORS)
        assert "按网格" in said
        assert ">41<" in page.text
        month = date.today().strftime("%Y-%m")
        # 解决率 = solved / feedback given: its percent opens the feedback given.
        link = re.search(
            r'href="(/ui/dashboard/open\?figure=feedback_given&amp;grid=41[^"]*)"', page.text
        )
        assert link, "the grid's resolution rate opens its concerns"
        opened = s.get(link.group(1).replace("&amp;", "&"))
        assert opened.status_code == 200
        assert "看板41-0" in text_of(opened.text)
        assert "看板41-1" in text_of(opened.text)
        by_month = s.get(f"/ui/dashboard/open?figure=satisfied_or_basically&month={month}")
        assert "看板41-0" in text_of(by_month.text)
    limited = ui_user(shared_server, [Role.STAFF], ["2"])
    with signed_in(shared_server, limited) as o:
        assert o.get("/ui/dashboard/open?figure=solved&grid=41").status_code == 403


def test_public_figures_hide_counts_under_five(shared_server: Server) -> None:
    _resolved_story(shared_server, "42", 1)
    _wait_for_ledger(shared_server)
    public = httpx.Client(base_url=shared_server.base_url, timeout=30)
    page = public.get("/ui/public/figures")
    public.close()
    assert page.status_code == 200
    said = text_of(page.text)
    assert "少于5" in said
    assert "/ui/dashboard/open" not in page.text  # nothing opens for the public
    assert "按网格" not in said
