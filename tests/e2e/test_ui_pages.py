"""The pages over HTTP: grid scope, roles, the API's messages by the field, escaping,
tracking and supervision (every test on both backends)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit
from uuid import UUID

from domain.vocabulary import DutyRole, Role
from tests.conftest import Server
from tests.e2e.ui_client import browser, csrf_of, signed_in, text_of, ui_user
from tests.integration.support import STAFF, draft

RECORD = {
    "n": "1",
    "grid": "2",
    "household": "5号楼2单元301",
    "visited_on": "2026-03-03",
    "c0.title": "路灯不亮",
    "c0.description": "东侧小路路灯坏了两周",
    "c0.category": "environment",
    "c0.library": "problem",
    "c0.channel": "visit",
    "action": "save",
}


def _raise(server: Server, grid: str = "2", title: str = "5号楼东侧小路路灯两周不亮") -> UUID:
    concern = replace(draft(title=title), grid=grid)
    return UUID(server.app.raise_concern(STAFF, concern).id)


def test_a_grid_3_collector_sees_no_grid_2_concern(shared_server: Server) -> None:
    two = _raise(shared_server, "2", "二网格：东侧路灯")
    three = _raise(shared_server, "3", "三网格：垃圾清运")
    ref_two = shared_server.app.get_concern(two).reference
    ref_three = shared_server.app.get_concern(three).reference
    collector = ui_user(shared_server, [Role.COLLECTOR], ["3"])
    leader = ui_user(shared_server, [Role.GRID_LEADER], ["3"])
    with signed_in(shared_server, collector) as c, signed_in(shared_server, leader) as g:
        listing = c.get("/ui/concerns")
        assert listing.status_code == 200
        assert ref_three in listing.text
        assert ref_two not in listing.text
        assert "二网格" not in listing.text
        for path in (f"/ui/concerns/{two}", f"/ui/concerns/{ref_two}"):
            refused = c.get(path)
            assert refused.status_code == 403
            assert "二网格" not in refused.text
        assert c.get(f"/ui/concerns/{three}").status_code == 200
        triage = g.get("/ui/triage")
        assert ref_three in triage.text
        assert ref_two not in triage.text
        # Nor can the grid-3 leader act on it by posting the form directly.
        r = g.post(f"/ui/concerns/{two}/act/refer", data={"csrf": csrf_of(triage.text), "note": ""})
        assert r.status_code == 403
        assert shared_server.app.get_concern(two).status == "intake"


def test_each_page_refuses_roles_it_is_not_for(shared_server: Server) -> None:
    collector = ui_user(shared_server, [Role.COLLECTOR], ["2"])
    member = ui_user(shared_server, [Role.MEMBER], ["2"])
    with signed_in(shared_server, collector) as c, signed_in(shared_server, member) as m:
        for path in ("/ui/triage", "/ui/committee", "/ui/supervision"):
            r = c.get(path)
            assert r.status_code == 403, path
            assert "无权" in text_of(r.text)
        assert c.get("/ui/record").status_code == 200
        assert m.get("/ui/record").status_code == 403
        assert m.get("/ui/tasks").status_code == 200
    with browser(shared_server) as anonymous:
        r = anonymous.get("/ui/triage")
        assert r.status_code == 303
        assert r.headers["location"] == "/ui/sign-in?next=/ui/triage"


def test_a_refused_record_says_why_in_words_next_to_the_field(
    shared_server: Server,
) -> None:
    collector = ui_user(shared_server, [Role.COLLECTOR], ["2"])
    _, token = shared_server.principal([Role.COLLECTOR], ["2"])
    before = shared_server.event_count()
    with shared_server.client(token) as api:
        body = {
            "title": "   ",
            "description": "x",
            "category": "environment",
            "library": "nowhere",
            "channel": "visit",
            "grid": "2",
        }
        fields = {
            f["field"]: f["message"]
            for f in api.post("/api/v1/concerns", json=body).json()["fields"]
        }
    with signed_in(shared_server, collector) as c:
        page = c.get("/ui/record")
        form = {**RECORD, "csrf": csrf_of(page.text), "c0.title": "   ", "c0.library": "nowhere"}
        r = c.post("/ui/record", data=form)
    assert r.status_code == 422
    title_error = re.search(r'id="c0-title-error">([^<]*)<', r.text)
    library_error = re.search(r'id="c0-library-error">([^<]*)<', r.text)
    assert title_error
    assert library_error
    # The API keeps its codes and English; the page says it in words, naming the field.
    assert set(fields) == {"title", "library"}
    assert title_error.group(1) == "请填写「标题」。"
    assert text_of(library_error.group(1)) == "请选择「入库」。"
    assert "String should" not in r.text
    assert "Input should" not in r.text
    assert 'aria-invalid="true" aria-describedby="c0-title-error" autofocus' in r.text
    assert 'value="5号楼2单元301"' in r.text  # what was typed is kept
    assert shared_server.event_count() == before


def test_recording_a_visit_raises_its_concerns_and_shows_their_tracking_codes(
    shared_server: Server,
) -> None:
    collector = ui_user(shared_server, [Role.COLLECTOR], ["2"])
    other = ui_user(shared_server, [Role.COLLECTOR], ["2"])
    with signed_in(shared_server, collector) as c:
        token = csrf_of(c.get("/ui/record").text)
        more = c.post("/ui/record", data={**RECORD, "csrf": token, "action": "add"})
        assert 'name="c1.title"' in more.text
        r = c.post(
            "/ui/record",
            data={
                **RECORD,
                "csrf": token,
                "n": "2",
                "c1.title": "楼道杂物",
                "c1.description": "3号楼楼道堆放杂物",
                "c1.category": "dispute",
                "c1.library": "problem",
                "c1.resident.name": "张秀英",
                "c1.resident.phone": "13800000000",
            },
        )
        assert r.status_code == 303
        done = c.get(r.headers["location"])
        codes = re.findall(r'class="tracking-code">([2-9A-Z]{12})<', done.text)
        assert len(codes) == 2
        query = parse_qs(urlsplit(r.headers["location"]).query)
        concern_ids = query["concerns"][0].split(",")
        visit = query["visit"][0]
        recorded = shared_server.app.get_visit(UUID(visit))
        assert [str(x) for x in recorded.concern_ids] == concern_ids
        assert shared_server.app.household_of(recorded) == "5号楼2单元301"  # sealed
        second = shared_server.app.get_concern(UUID(concern_ids[1]))
        assert second.tracking_code == codes[1]
        assert second.channel == "visit"
    with signed_in(shared_server, other) as o:
        shown = o.get(r.headers["location"])
        assert shown.status_code == 200
        assert "tracking-code" not in shown.text  # only whoever raised them sees the codes


def test_a_refused_action_shows_the_form_again_with_the_reason_in_words(
    shared_server: Server,
) -> None:
    cid = _raise(shared_server)
    staff = ui_user(shared_server, [Role.STAFF, Role.GRID_LEADER], ["2"])
    with signed_in(shared_server, staff) as s:
        page = s.get(f"/ui/concerns/{cid}")
        token = csrf_of(page.text)
        blank = s.post(f"/ui/concerns/{cid}/act/decline", data={"csrf": token, "reason": " "})
        assert blank.status_code == 422
        assert 'data-action="decline" open' in blank.text
        assert "请填写「理由」。" in blank.text
        ok = s.post(f"/ui/concerns/{cid}/act/refer", data={"csrf": token, "version": "1"})
        assert ok.status_code == 303
        assert ok.headers["location"].startswith(f"/ui/concerns/{cid}?done=refer&concern={cid}&at=")
        stale = s.post(
            f"/ui/concerns/{cid}/act/decline",
            data={"csrf": token, "version": "1", "reason": "重复"},
        )
        assert stale.status_code == 412
        assert "在您打开页面后已有新的办理" in stale.text
        again = s.post(f"/ui/concerns/{cid}/act/refer", data={"csrf": token})
        assert again.status_code == 409
        assert "这条民情目前是「支委会研究」，不能「提交支委会」" in text_of(again.text)
    assert shared_server.app.get_concern(cid).status == "committee"


def test_user_text_is_escaped_everywhere_it_is_shown(shared_server: Server) -> None:
    evil = "<script>alert(1)</script>"
    cid = _raise(shared_server, title=evil)
    staff = ui_user(shared_server, [Role.STAFF, Role.GRID_LEADER], ["2"])
    code = shared_server.app.get_concern(cid).tracking_code
    with signed_in(shared_server, staff) as s, browser(shared_server) as resident:
        for page in (
            s.get(f"/ui/concerns/{cid}").text,
            s.get("/ui/triage").text,
            s.get("/ui/concerns").text,
            resident.get(f"/ui/track/{code}").text,
        ):
            assert evil not in page
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_tracking_page_shows_nothing_personal_and_takes_the_answer(
    shared_server: Server,
) -> None:
    owner = shared_server.member()
    cid = _raise(shared_server)
    app = shared_server.app
    app.handle_now(
        cid, STAFF, UUID(owner), DutyRole.ENVIRONMENT_MONITOR, date.today() + timedelta(days=5)
    )
    app.resolve(cid, STAFF, "更换了路灯")
    code = app.get_concern(cid).tracking_code
    with browser(shared_server) as resident:
        page = resident.get(f"/ui/track/{(code or '').lower()}")
        assert page.status_code == 200
        assert "张秀英" not in page.text
        assert "13812345678" not in page.text
        assert "更换了路灯" in page.text
        token = csrf_of(page.text)
        missing = resident.post(f"/ui/track/{code}/feedback", data={"csrf": token})
        assert missing.status_code == 422
        assert "请选择「问题是否解决」。" in missing.text
        assert "请选择「满意度」。" in missing.text
        assert (
            resident.post(
                f"/ui/track/{code}/feedback", data={"solved": "true", "satisfaction": "satisfied"}
            ).status_code
            == 403
        )
        r = resident.post(
            f"/ui/track/{code}/feedback",
            data={"csrf": token, "solved": "true", "satisfaction": "satisfied", "comment": "谢谢"},
        )
        assert r.status_code == 303
        thanks = resident.get(r.headers["location"])
        assert "感谢您的评价" in thanks.text
        assert 'action="/ui/track/' not in thanks.text  # the form is gone once answered
        assert resident.get("/ui/track/NOSUCHCODE22").status_code == 404
    feedback = app.get_concern(cid).feedback
    assert feedback[-1]["satisfaction"] == "satisfied"
    assert feedback[-1]["solved"] is True


def test_supervision_shows_a_concern_as_it_was_and_verifies_the_chain(
    shared_server: Server,
) -> None:
    cid = _raise(shared_server)
    app = shared_server.app
    # The moment the first event was recorded: the concern existed, still in intake.
    recorded = datetime.fromisoformat(app.history(cid)[0]["recorded_at"]).astimezone(app.zone)
    app.refer(cid, STAFF)
    supervisor = ui_user(shared_server, [Role.SUPERVISOR])
    reference = app.get_concern(cid).reference
    moment = recorded.strftime("%Y-%m-%dT%H:%M:%S.%f")
    with signed_in(shared_server, supervisor) as s:
        page = s.get("/ui/supervision", params={"concern": reference, "as_of": moment})
        assert page.status_code == 200
        past = re.search(r'class="past-status">([^<]*)<', page.text)
        assert past
        assert past.group(1) == "待分拣"
        assert "提交支委会" in page.text  # the timeline goes on to now
        early = s.get("/ui/supervision", params={"concern": reference, "as_of": "2000-01-01T00:00"})
        assert "尚未登记" in early.text
        by_version = s.get("/ui/supervision", params={"concern": reference, "version": "2"})
        assert "第 2 版时的状态" in by_version.text
        assert 'class="past-status">支委会研究<' in by_version.text
        wrong = s.get("/ui/supervision", params={"concern": reference, "version": "9"})
        assert "「版本」须在 1 到 2 之间。" in text_of(wrong.text)
        checked = s.get("/ui/supervision", params={"verify": "true"})
        assert "校验通过" in text_of(checked.text)
        bad = s.get("/ui/supervision", params={"concern": "MQ-1999-000001"})
        assert "找不到这条民情。" in bad.text


def test_an_unknown_concern_is_a_404_page(shared_server: Server) -> None:
    staff = ui_user(shared_server, [Role.STAFF])
    with signed_in(shared_server, staff) as s:
        r = s.get("/ui/concerns/00000000-0000-4000-8000-000000000000")
        assert r.status_code == 404
        assert "找不到" in text_of(r.text)


def test_triage_handles_now_and_merges_by_reference_from_its_forms(shared_server: Server) -> None:
    owner = shared_server.member()
    first = _raise(shared_server, title="楼道灯不亮")
    duplicate = _raise(shared_server, title="楼道灯不亮（重复）")
    app = shared_server.app
    staff = ui_user(shared_server, [Role.STAFF, Role.GRID_LEADER], ["2"])
    due = (date.today() + timedelta(days=7)).isoformat()
    with signed_in(shared_server, staff) as s:
        token = csrf_of(s.get("/ui/triage").text)
        missing = s.post(
            f"/ui/concerns/{first}/act/handle_now",
            data={"csrf": token, "owner": "", "duty_role": "environment_monitor", "due_on": due},
        )
        assert missing.status_code == 422
        found = re.search(r'id="a-[0-9a-f]{8}-handle_now-owner-error">([^<]*)<', missing.text)
        assert found
        assert found.group(1) == "请选择「责任人」。"
        handled = s.post(
            f"/ui/concerns/{first}/act/handle_now",
            data={
                "csrf": token,
                "owner": owner,
                "duty_role": "environment_monitor",
                "due_on": due,
                "next": "/ui/triage",
            },
        )
        assert handled.status_code == 303
        assert handled.headers["location"].startswith(
            f"/ui/triage?done=handle_now&concern={first}&at="
        )
        assert app.get_concern(first).status == "assigned"
        assert str(app.get_concern(first).owner) == owner
        reference = app.get_concern(first).reference
        merged = s.post(
            f"/ui/concerns/{duplicate}/act/merge_into",
            data={"csrf": token, "into": reference.lower(), "next": "/ui/triage"},
        )
        assert merged.status_code == 303
        assert app.get_concern(duplicate).status == "merged"
        assert app.get_concern(duplicate).merged_into == first
        triage = s.get(merged.headers["location"])
        assert f'data-reference="{reference}"' not in triage.text
        assert f'data-reference="{app.get_concern(duplicate).reference}"' not in triage.text
        merged_ref = app.get_concern(duplicate).reference
        assert f"已完成：合并 — {merged_ref}「楼道灯不亮（重复）」" in triage.text
