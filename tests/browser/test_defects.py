"""The defects of issue 14, each as a person meets it in Chromium: a corrected form ends
where it started, refusals in the reader's words, printing, a phone's width, the clock of
"as of", lists that say how many and page both ways, plain sign-in words, and a supervisor's
reveal with a reason."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime, timedelta
from uuid import UUID

from playwright.sync_api import Page, expect

from domain.meeting import MeetingKind
from domain.residents import ResidentData
from domain.vocabulary import DutyRole, Role
from domain.voting import Choice
from tests.browser.conftest import Site
from tests.integration.support import STAFF, draft

CHAIR = replace(STAFF, roles=STAFF.roles | {Role.CHAIR})


def _raise(
    site: Site, title: str, grid: str = "2", resident: ResidentData | None = None
) -> tuple[UUID, str]:
    concern = replace(draft(resident, title=title), grid=grid)
    found = site.server.app.raise_concern(STAFF, concern)
    return UUID(found.id), found.reference or ""


def _no_sideways(page: Page) -> int:
    width: int = page.evaluate("document.documentElement.scrollWidth")
    return width


def test_a_corrected_form_ends_on_the_queue_it_came_from(shared_site: Site) -> None:
    """Defect 1 (and 7): 即接即办 submitted empty, then corrected, lands on the triage queue
    with a message naming the concern, not on a 405."""
    owner = shared_site.member("李强", [DutyRole.PROJECT_COORDINATOR], grid="21")
    cid, reference = _raise(shared_site, "二十一网格楼道灯不亮", grid="21")
    shared_site.user("leader-21", [Role.GRID_LEADER, Role.STAFF], ["21"])
    page = shared_site.page("leader-21")
    page.goto(f"{shared_site.base}/ui/triage")
    card = page.locator(f"li.card[data-reference='{reference}']")
    card.get_by_text("即接即办", exact=True).first.click()
    form = page.locator("form[data-action='handle_now'], details[data-action='handle_now']")
    form.get_by_role("button", name="即接即办").click()
    expect(page.locator(".field-error").first).to_contain_text("「责任人」")
    form = page.locator("form[data-action='handle_now'], details[data-action='handle_now']")
    form.get_by_label("责任人").select_option(owner)
    form.get_by_label("办结时限").fill((date.today() + timedelta(days=5)).isoformat())
    with page.expect_response(re.compile(r".*/ui/triage\?.*")) as landed:
        form.get_by_role("button", name="即接即办").click()
    assert landed.value.status == 200
    assert page.url.startswith(f"{shared_site.base}/ui/triage?")
    expect(page.get_by_role("status")).to_contain_text(
        f"即接即办 — {reference}「二十一网格楼道灯不亮」"
    )
    assert shared_site.server.app.get_concern(cid).status == "assigned"


def test_the_chairs_assignment_corrected_stays_in_the_meeting_room(shared_site: Site) -> None:
    """Defect 1: the chair's assignment after adoption, refused then corrected, stays in the
    meeting room; the language switch on the refused page opens a page, not a 405."""
    app = shared_site.server.app
    chair_member = shared_site.member("陈书记", [DutyRole.AFFAIRS_MONITOR], grid="22")
    cid, reference = _raise(shared_site, "二十二网格路灯", grid="22")
    app.refer(cid, STAFF)
    meeting = app.schedule_meeting(
        STAFF,
        "主题党日",
        MeetingKind.THEMATIC_PARTY_DAY,
        datetime.now(app.zone) + timedelta(days=1),
        "",
        UUID(chair_member),
        [UUID(chair_member)],
    )
    mid = UUID(meeting.id)
    chair = replace(CHAIR, member_id=UUID(chair_member))
    app.shortlist(mid, STAFF, cid)
    app.open_meeting(mid, chair, [UUID(chair_member)])
    app.open_vote(mid, chair, cid)
    app.cast_vote(mid, chair, cid, Choice.FOR, UUID(chair_member))
    app.close_vote(mid, chair, cid)
    shared_site.user("chen-22", [Role.CHAIR, Role.MEMBER], [], chair_member)
    page = shared_site.page("chen-22")
    page.goto(f"{shared_site.base}/ui/meetings/{mid}")
    item = page.locator(f"li[data-reference='{reference}']")
    item.get_by_role("button", name="交办").click()
    expect(page.locator(".field-error").first).to_contain_text("请选择「责任人」。")
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("主题党日")
    assert page.url.startswith(f"{shared_site.base}/ui/meetings/{mid}?")
    page.get_by_role("link", name="中文").click()
    item = page.locator(f"li[data-reference='{reference}']")
    item.get_by_role("button", name="交办").click()
    item = page.locator(f"li[data-reference='{reference}']")
    item.get_by_label("责任人").select_option(chair_member)
    item.get_by_label("办结时限").fill((date.today() + timedelta(days=9)).isoformat())
    item.get_by_role("button", name="交办").click()
    expect(page.get_by_role("status")).to_contain_text(f"交办 — {reference}")
    assert page.url.startswith(f"{shared_site.base}/ui/meetings/{mid}?")
    assert app.get_concern(cid).status == "assigned"


def test_refusals_are_in_the_readers_words_and_the_focus_goes_to_the_first(
    shared_site: Site,
) -> None:
    """Defect 2: no developer English, no ids; the first field in error has the focus."""
    shared_site.user("collector-23", [Role.COLLECTOR], ["23"])
    page = shared_site.page("collector-23")
    page.goto(f"{shared_site.base}/ui/record")
    page.get_by_label("具体情况").fill("楼道堆满杂物")
    page.get_by_label("类别").select_option("dispute")
    page.get_by_role("button", name="保存走访").last.click()
    errors = page.locator(".errors").inner_text()
    assert "请填写「走访户（门牌）」。" in errors
    assert "请填写「标题」。" in errors
    assert "请选择「入库」。" in errors
    for english in ("String should", "Input should", "Field required", "household", "c0."):
        assert english not in errors
    assert page.evaluate("document.activeElement.id") == "household"
    page.goto(f"{shared_site.base}/ui/record?lang=en")
    page.get_by_label("What the resident said").fill("Rubbish on the stairs")
    page.get_by_role("button", name="Save the visit").last.click()
    errors = page.locator(".errors").inner_text()
    assert "Please fill in “Household (door)”." in errors
    assert "Please choose “Category”." in errors
    assert "should" not in errors


def test_a_vote_cast_twice_is_refused_without_an_id(shared_site: Site) -> None:
    """Defect 2: 'member ec10fa6f-… has already voted' becomes words."""
    app = shared_site.server.app
    voter = shared_site.member("周调解", [DutyRole.MEDIATOR], grid="24")
    cid, _ = _raise(shared_site, "二十四网格", grid="24")
    app.refer(cid, STAFF)
    meeting = app.schedule_meeting(
        STAFF,
        "支委会",
        MeetingKind.THEMATIC_PARTY_DAY,
        datetime.now(app.zone) + timedelta(days=1),
        "",
        UUID(voter),
        [UUID(voter)],
    )
    mid = UUID(meeting.id)
    chair = replace(CHAIR, member_id=UUID(voter))
    app.shortlist(mid, STAFF, cid)
    app.open_meeting(mid, chair, [UUID(voter)])
    app.open_vote(mid, chair, cid)
    shared_site.user("zhou-24", [Role.MEMBER], ["24"], voter)
    phone = shared_site.page("zhou-24", phone=True)
    phone.goto(f"{shared_site.base}/ui/meetings/{mid}/vote")
    form_html = phone.locator("form.big-buttons").evaluate("f => f.outerHTML")
    app.cast_vote(mid, chair, cid, Choice.AGAINST, UUID(voter))  # e.g. by the chair, meanwhile
    phone.evaluate(
        "html => { document.querySelector('main').insertAdjacentHTML('beforeend', html) }",
        form_html,
    )
    phone.locator("form.big-buttons").last.get_by_role("button", name="赞成").click()
    alert = phone.get_by_role("alert")
    expect(alert).to_contain_text("不能重复表决")
    assert voter not in alert.inner_text()


def test_the_ledger_prints_its_title_period_and_date_without_the_form(shared_site: Site) -> None:
    """Defect 3: the filter form and downloads do not print; title, period, print date do;
    no placeholder month that reads like a chosen one."""
    shared_site.user("ledger-25", [Role.STAFF], ["25"])
    page = shared_site.page("ledger-25")
    page.goto(f"{shared_site.base}/ui/ledger?from=2026-03&to=2026-04")
    assert page.locator("#ledger-from").get_attribute("placeholder") is None
    page.emulate_media(media="print")
    expect(page.locator("form.filters")).to_be_hidden()
    expect(page.get_by_role("link", name="下载 CSV")).to_be_hidden()
    expect(page.get_by_role("heading", level=1)).to_have_text("台账")
    expect(page.locator(".period")).to_contain_text("统计期间：2026年3月1日 — 2026年4月30日")
    expect(page.locator(".print-only")).to_be_visible()
    expect(page.locator(".print-only")).to_contain_text("打印于")
    expect(page.locator("nav[aria-label='主导航']")).to_be_hidden()


def test_the_slips_print_with_the_tracking_code_and_a_qr_code(shared_site: Site) -> None:
    """Defect 3: the assignment slip (交办单) and the resident's slip with a QR code."""
    app = shared_site.server.app
    collector = shared_site.user("collector-26", [Role.COLLECTOR, Role.STAFF], ["26"])
    owner = shared_site.member("王芳", [DutyRole.ENVIRONMENT_MONITOR], grid="26")
    raised = app.raise_concern(collector, replace(draft(title="二十六网格垃圾"), grid="26"))
    cid = UUID(raised.id)
    app.handle_now(cid, STAFF, UUID(owner), DutyRole.ENVIRONMENT_MONITOR, date.today())
    page = shared_site.page("collector-26")
    page.goto(f"{shared_site.base}/ui/concerns/{cid}")
    page.get_by_role("link", name="打印交办单").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("民情交办单")
    expect(page.locator(".slip-owner")).to_have_text("王芳")
    page.emulate_media(media="print")
    expect(page.locator(".signatures")).to_be_visible()
    expect(page.locator(".top")).to_be_hidden()
    page.emulate_media(media="screen")
    page.goto(f"{shared_site.base}/ui/concerns/{cid}")
    page.get_by_role("link", name="打印居民回执").click()
    expect(page.locator(".tracking-code")).to_have_text(raised.tracking_code or "")
    qr = page.get_by_role("img", name=re.compile(r"进度查询二维码"))
    expect(qr).to_be_visible()
    assert f"/ui/track/{raised.tracking_code}" in (qr.locator("title").text_content() or "")
    # Only whoever recorded it gets the resident's slip (it carries the tracking code).
    shared_site.user("other-26", [Role.STAFF], ["26"])
    other = shared_site.page("other-26")
    other.goto(f"{shared_site.base}/ui/concerns/{cid}/receipt")
    expect(other.get_by_role("heading", level=1)).to_have_text("出错了")


def test_a_phone_page_keeps_its_width_its_table_reachable_and_the_minutes_a_main(
    shared_site: Site,
) -> None:
    """Defect 4: a long unbroken title does not widen a 360 px page; the ledger's table is
    reached by Tab; the minutes page has a main landmark."""
    app = shared_site.server.app
    long_title = "长" * 5 + "A" * 190
    cid, reference = _raise(shared_site, long_title, grid="27")
    code = app.get_concern(cid).tracking_code
    shared_site.user("phone-27", [Role.STAFF, Role.GRID_LEADER, Role.SUPERVISOR], ["27"])
    page = shared_site.page("phone-27", phone=True)
    for path in (
        f"/ui/concerns/{cid}",
        "/ui/triage",
        "/ui/concerns",
        f"/ui/track/{code}",
        f"/ui/concerns/{cid}/act/decline",
        f"/ui/supervision?concern={reference}",
    ):
        page.goto(shared_site.base + path)
        assert _no_sideways(page) <= 360, path
    page.goto(f"{shared_site.base}/ui/ledger?group_by=month,category")
    region = page.locator(".table-wrap")
    region.focus()
    expect(region).to_be_focused()
    assert region.get_attribute("tabindex") == "0"
    chair = shared_site.member("记录员", [], grid="27")
    meeting = app.schedule_meeting(
        STAFF,
        "会议",
        MeetingKind.COMMITTEE_SESSION,
        datetime.now(app.zone) + timedelta(days=1),
        "",
        UUID(chair),
        [UUID(chair)],
    )
    page.goto(f"{shared_site.base}/ui/meetings/{meeting.id}/minutes")
    expect(page.get_by_role("main")).to_have_count(1)


def test_as_of_says_its_clock_and_offers_the_versions(shared_site: Site) -> None:
    """Defect 5: the supervision page says "as of" goes by recording time, and each event
    offers its version."""
    app = shared_site.server.app
    cid, reference = _raise(shared_site, "二十八网格", grid="28")
    app.refer(cid, STAFF)
    shared_site.user("sup-28", [Role.SUPERVISOR])
    page = shared_site.page("sup-28")
    page.goto(f"{shared_site.base}/ui/supervision?concern={reference}")
    expect(page.get_by_label(re.compile("按系统记录时间查看"))).to_be_visible()
    expect(page.locator("#sup-clock")).to_contain_text("不是事件所记的发生时间")
    page.get_by_role("link", name="查看第 1 版").click()
    expect(page.locator(".past-status")).to_have_text("待分拣")


def test_lists_count_all_page_both_ways_find_references_and_show_the_matter(
    shared_site: Site,
) -> None:
    """Defect 6: totals, previous and next, search by reference, a merge picker, cards with
    the description and the referral note, the resident's contact on the owner's card."""
    app = shared_site.server.app
    ids = [_raise(shared_site, f"二十九网格第{i}件", grid="29") for i in range(35)]
    first_id, first_ref = ids[0]
    app.refer(ids[1][0], STAFF, "需要支委会研究照明方案")
    owner = shared_site.member("李强", [DutyRole.PROJECT_COORDINATOR], grid="29")
    app.handle_now(
        ids[2][0], STAFF, UUID(owner), DutyRole.PROJECT_COORDINATOR, date.today() + timedelta(3)
    )
    shared_site.user("staff-29", [Role.STAFF, Role.GRID_LEADER, Role.COMMITTEE], ["29"])
    page = shared_site.page("staff-29")
    page.goto(f"{shared_site.base}/ui/triage")
    expect(page.locator(".count")).to_have_text("共 33 条，本页显示 30 条")
    page.get_by_role("link", name="下一页").click()
    expect(page.locator(".count")).to_have_text("共 33 条，本页显示 3 条")
    page.get_by_role("link", name="上一页").click()
    expect(page.locator(f"li[data-reference='{first_ref}']")).to_have_count(1)
    card = page.locator(f"li[data-reference='{first_ref}']")
    expect(card.locator(".excerpt")).to_contain_text("东侧小路的路灯已经坏了两个星期")
    page.goto(f"{shared_site.base}/ui/committee")
    expect(page.locator(f"li[data-reference='{ids[1][1]}'] .note")).to_contain_text(
        "需要支委会研究照明方案"
    )
    page.goto(f"{shared_site.base}/ui/concerns?q={first_ref.lower()}")
    expect(page.locator("li.card")).to_have_count(1)
    expect(page.locator(f"li[data-reference='{first_ref}']")).to_have_count(1)
    page.goto(f"{shared_site.base}/ui/concerns/{ids[3][0]}/act/merge_into?next=/ui/triage")
    options = page.locator("datalist option")
    assert first_ref in options.evaluate_all("os => os.map(o => o.value)")
    page.get_by_label("合并到（编号）").fill(first_ref)
    page.get_by_role("button", name="合并").click()
    expect(page.get_by_role("status")).to_contain_text(f"合并 — {ids[3][1]}")
    assert app.get_concern(ids[3][0]).merged_into == first_id
    shared_site.user("li-29", [Role.MEMBER], ["29"], owner)
    mine = shared_site.page("li-29", phone=True)
    mine.goto(f"{shared_site.base}/ui/tasks")
    contact = mine.locator(f"li[data-reference='{ids[2][1]}'] .contact")
    expect(contact).to_contain_text("张秀英")
    expect(contact.get_by_role("link", name="13812345678")).to_have_attribute(
        "href", "tel:13812345678"
    )


def test_the_sign_in_page_speaks_to_people(shared_site: Site) -> None:
    """Defect 7: no command on the sign-in page."""
    page = shared_site.page()
    page.goto(f"{shared_site.base}/ui/sign-in")
    expect(page.locator("main")).not_to_contain_text("minqing users passwd")
    expect(page.locator("main")).to_contain_text("管理员")


def test_a_supervisor_reveals_with_a_reason_and_sees_the_read_logged(shared_site: Site) -> None:
    """Reveal with a reason: 已隐去 until a reason is given; the read is in the access log."""
    cid, reference = _raise(
        shared_site, "三十网格", grid="30", resident=ResidentData("赵大爷", "13900001111")
    )
    shared_site.user("sup-30", [Role.SUPERVISOR])
    page = shared_site.page("sup-30")
    page.goto(f"{shared_site.base}/ui/concerns/{cid}")
    expect(page.locator("main")).to_contain_text("已隐去")
    expect(page.locator("main")).not_to_contain_text("13900001111")
    page.get_by_role("button", name="说明理由并查看").click()
    expect(page.locator(".field-error")).to_contain_text("请填写「理由」。")
    page.get_by_label("查看理由").fill("核查回访记录")
    page.get_by_role("button", name="说明理由并查看").click()
    expect(page.locator("main")).to_contain_text("赵大爷 · 13900001111")
    expect(page.locator(".revealed")).to_contain_text("本次查看已记入个人信息查阅记录")
    page.goto(f"{shared_site.base}/ui/supervision")
    row = page.locator("tr", has_text=reference).first
    expect(row).to_contain_text("核查回访记录")
    expect(row).to_contain_text("sup-30")


# Each numeric cell of the page's scrolling tables: how many lines its text takes.
_NUMBER_LINES = """
[...document.querySelectorAll('.table-wrap td')]
  .filter(td => /^[0-9][0-9.,%\\s]*[0-9%]$/.test(td.textContent.trim()))
  .map(td => {
    const r = document.createRange();
    r.selectNodeContents(td);
    return new Set([...r.getClientRects()].map(x => Math.round(x.top))).size;
  })
"""


def test_a_phones_table_scrolls_rather_than_breaking_its_numbers(shared_site: Site) -> None:
    """Many columns on a 360 px phone: the table scrolls in its region; no number is broken
    across lines (the columns were squeezed until "100.0" read 1 0 0. 0)."""
    app = shared_site.server.app
    owner = shared_site.member("周师傅", [DutyRole.ENVIRONMENT_MONITOR], grid="28")
    for n in range(3):
        cid, _ = _raise(shared_site, f"数字不折行 {n}", grid="28")
        if n == 0:  # one resolved in time: the rates have figures (100.0%, 33.3%)
            due = date.today() + timedelta(days=5)
            app.handle_now(cid, STAFF, UUID(owner), DutyRole.ENVIRONMENT_MONITOR, due)
            app.resolve(cid, STAFF, "已修好")
    shared_site.user("phone-28", [Role.STAFF, Role.SUPERVISOR], ["28"])
    page = shared_site.page("phone-28", phone=True)
    page.goto(f"{shared_site.base}/ui/ledger?group_by=month,category")
    lines: list[int] = page.evaluate(_NUMBER_LINES)
    assert lines, "the ledger shows numbers in a table"
    assert set(lines) == {1}
    assert _no_sideways(page) <= 360
