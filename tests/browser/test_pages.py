"""Browser checks beyond the story: user text stays text, forms need their CSRF token, grid
scope holds, and each language leaves no label of the other behind."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime, timedelta
from uuid import UUID

import pytest
from playwright.sync_api import Page, expect

from api.ui.messages import CATALOGUE
from api.ui.render import ENUMS
from domain.meeting import MeetingKind
from domain.residents import ResidentData
from domain.vocabulary import DutyRole, Role, Satisfaction
from domain.voting import Choice
from tests.browser.conftest import Site
from tests.integration.support import STAFF, draft

EVIL_TITLE = "<script>alert(1)</script>"
EVIL_TEXT = '<img src=x onerror="alert(2)"> and <b>bold</b>'
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
# The page's text without elements marked with a language of their own (the switch link).
TEXT_JS = """() => {
  const body = document.body.cloneNode(true);
  body.querySelectorAll('[lang], script, style').forEach(e => e.remove());
  return document.title + '\\n' + body.textContent;
}"""


# Form fields a screen reader could not name: no <label>, no aria-label.
UNLABELLED_JS = """() => Array.from(document.querySelectorAll('input, select, textarea'))
  .filter(e => e.type !== 'hidden' && !(e.labels && e.labels.length) && !e.ariaLabel)
  .map(e => e.name || e.id)"""


def _record(page: Page, base: str, title: str, text: str) -> str:
    page.goto(f"{base}/ui/record")
    page.get_by_label("走访户（门牌）").fill("7号楼101")
    page.get_by_label("标题").fill(title)
    page.get_by_label("具体情况").fill(text)
    page.get_by_label("类别").select_option("community_affairs")
    page.get_by_label("入库").select_option("suggestion")
    page.get_by_role("button", name="保存走访").last.click()
    return page.locator(".ref").first.inner_text()


def test_a_concern_titled_with_a_script_renders_as_text(shared_site: Site) -> None:
    shared_site.user("xss-collector", [Role.COLLECTOR, Role.STAFF], ["2"])
    page = shared_site.page("xss-collector")  # any dialog fails the test
    reference = _record(page, shared_site.base, EVIL_TITLE, EVIL_TEXT)
    expect(page.locator(".card-title")).to_have_text(EVIL_TITLE)
    page.locator(".card-title a").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(EVIL_TITLE)
    expect(page.locator(".description")).to_have_text(EVIL_TEXT)
    assert page.locator("main script, main img, main b").count() == 0
    page.goto(f"{shared_site.base}/ui/triage")
    expect(page.locator(f"li[data-reference='{reference}'] .card-title")).to_have_text(EVIL_TITLE)
    assert page.evaluate("typeof window.alert") == "function"


def test_a_form_posted_without_its_csrf_token_is_refused(shared_site: Site) -> None:
    shared_site.user("csrf-collector", [Role.COLLECTOR], ["2"])
    page = shared_site.page("csrf-collector")
    before = shared_site.server.event_count()
    page.goto(f"{shared_site.base}/ui/record")
    page.get_by_label("走访户（门牌）").fill("7号楼101")
    page.get_by_label("标题").fill("路灯不亮")
    page.get_by_label("具体情况").fill("东侧路灯坏了")
    page.get_by_label("类别").select_option("environment")
    page.get_by_label("入库").select_option("problem")
    page.evaluate("document.querySelectorAll('input[name=csrf]').forEach(e => e.remove())")
    with page.expect_response(f"{shared_site.base}/ui/record") as answer:
        page.get_by_role("button", name="保存走访").last.click()
    assert answer.value.status == 403
    expect(page.get_by_role("alert")).to_contain_text("表单已失效")
    assert shared_site.server.event_count() == before


def test_a_grid_3_collector_sees_no_grid_2_concern(shared_site: Site) -> None:
    app = shared_site.server.app
    two = app.raise_concern(STAFF, replace(draft(title="二网格的路灯"), grid="2"))
    three = app.raise_concern(STAFF, replace(draft(title="三网格的垃圾"), grid="3"))
    shared_site.user("grid3-collector", [Role.COLLECTOR], ["3"])
    page = shared_site.page("grid3-collector")
    page.goto(f"{shared_site.base}/ui/concerns")
    expect(page.locator(f"li[data-reference='{three.reference}']")).to_have_count(1)
    expect(page.locator(f"li[data-reference='{two.reference}']")).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text("二网格的路灯")
    page.goto(f"{shared_site.base}/ui/concerns/{two.id}")
    expect(page.get_by_role("heading", level=1)).to_have_text("出错了")
    expect(page.locator("main")).not_to_contain_text("二网格的路灯")
    page.goto(f"{shared_site.base}/ui/record")
    expect(page.get_by_label("网格")).to_have_value("3")
    assert page.locator("#grid option").all_inner_texts() == ["3"]


def _world(site: Site, lang: str) -> list[str]:
    """Data in the page's own language (user text is not a label), and the pages to walk."""
    app = site.server.app
    zh = lang == "zh"
    li = site.member("李强" if zh else "Li Qiang", [DutyRole.PROJECT_COORDINATOR], grid="7")
    chen = site.member("陈书记" if zh else "Chen", [DutyRole.AFFAIRS_MONITOR], grid="7")
    boss = site.user(
        f"boss-{lang}",
        [Role.COLLECTOR, Role.GRID_LEADER, Role.STAFF, Role.COMMITTEE, Role.CHAIR, Role.SUPERVISOR],
        [],
        li,
    )
    title = "东侧小路路灯不亮" if zh else "Streetlights out on the east path"
    text = "老人晚上出门看不清路" if zh else "Old people cannot see the path at night"
    concern = replace(draft(ResidentData(), title), grid="7", description=text)
    resident = draft().resident if zh else ResidentData("Zhang Xiuying", "13812345678", "Flat 301")
    intake = app.raise_concern(boss, replace(concern, resident=resident))
    committee = app.raise_concern(boss, concern)
    app.refer(UUID(committee.id), boss)
    # An overdue assignment: handled a week ago, due two days ago.
    real_clock = app.clock
    app.clock = lambda: real_clock() - timedelta(days=7)
    try:
        assigned = app.raise_concern(boss, concern)
        due = date.today() - timedelta(days=2)
        app.handle_now(UUID(assigned.id), boss, UUID(li), DutyRole.PROJECT_COORDINATOR, due)
    finally:
        app.clock = real_clock
    meeting = app.schedule_meeting(
        boss,
        "主题党日" if zh else "Party day",
        MeetingKind.THEMATIC_PARTY_DAY,
        datetime.now(app.zone) + timedelta(days=3),
        "社区" if zh else "Hall",
        UUID(chen),
        [UUID(li), UUID(chen)],
        deputy_chair=UUID(li),  # boss is linked to Li: as deputy chair he runs the meeting
    )
    shortlisted = app.raise_concern(boss, concern)
    app.refer(UUID(shortlisted.id), boss)
    app.shortlist(UUID(meeting.id), boss, UUID(shortlisted.id))
    app.open_meeting(UUID(meeting.id), boss, [UUID(li), UUID(chen)])
    app.open_vote(UUID(meeting.id), boss, UUID(shortlisted.id))
    app.cast_vote(UUID(meeting.id), boss, UUID(shortlisted.id), Choice.FOR, UUID(li))
    done = app.raise_concern(boss, concern)
    app.handle_now(UUID(done.id), boss, UUID(li), DutyRole.PROJECT_COORDINATOR, date.today())
    app.resolve(UUID(done.id), boss, "修好了" if zh else "Six new lamps fitted")
    app.feedback_by_tracking_code(done.tracking_code or "", True, Satisfaction.SATISFIED)
    code = app.get_concern(UUID(intake.id)).tracking_code
    return [
        "/ui/public/achievements",
        "/ui/public/commitments",
        "/ui/ledger?group_by=month,category",
        "/ui/calendar?year=2026",
        "/ui/",
        "/ui/record",
        "/ui/concerns",
        "/ui/triage",
        "/ui/committee",
        "/ui/tasks",
        "/ui/meetings",
        f"/ui/meetings/{meeting.id}",
        f"/ui/meetings/{meeting.id}/vote",
        f"/ui/concerns/{intake.id}",
        f"/ui/concerns/{assigned.id}",
        f"/ui/supervision?concern={intake.reference}&verify=true",
        "/ui/track",
        f"/ui/track/{code}",
    ]


def _labels(lang: str) -> set[str]:
    values = set(CATALOGUE[lang].values())
    for enum in ENUMS.values():
        values |= {getattr(m, lang) for m in enum}
    return values


def test_the_english_switch_leaves_no_chinese_label_behind(site: Site) -> None:
    pages = _world(site, "en")
    page = site.page("boss-en", lang="en")
    for path in pages:
        page.goto(site.base + path)
        text = page.evaluate(TEXT_JS)
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.evaluate(UNLABELLED_JS) == [], path
        leftover = sorted(set(CJK.findall(text)))
        assert leftover == [], f"{path}: {''.join(leftover)} in {text!r}"


def test_the_chinese_pages_leave_no_english_label_behind(site: Site) -> None:
    pages = _world(site, "zh")
    page = site.page("boss-zh", lang="zh")
    english = sorted(
        (v for v in _labels("en") if len(v) >= 4 and re.search(r"[A-Za-z]{3}", v)), key=len
    )
    for path in pages:
        page.goto(site.base + path)
        text = page.evaluate(TEXT_JS)
        assert page.locator("html").get_attribute("lang") == "zh-CN"
        found = [v for v in english if re.search(rf"(?<![A-Za-z]){re.escape(v)}(?![A-Za-z])", text)]
        assert found == [], f"{path}: {found}"


@pytest.mark.parametrize("width", [360])
def test_pages_fit_a_phone_without_sideways_scrolling(shared_site: Site, width: int) -> None:
    shared_site.user("phone-staff", [Role.COLLECTOR, Role.STAFF, Role.GRID_LEADER], ["2"])
    page = shared_site.page("phone-staff", phone=True)
    for path in (
        "/ui/",
        "/ui/record",
        "/ui/triage",
        "/ui/concerns",
        "/ui/track",
        "/ui/public/achievements",
        "/ui/public/commitments",
    ):
        page.goto(shared_site.base + path)
        overflow = page.evaluate("document.documentElement.scrollWidth")
        assert overflow <= width, path


def test_signing_in_and_acting_work_from_the_keyboard_alone(shared_site: Site) -> None:
    app = shared_site.server.app
    raised = app.raise_concern(STAFF, replace(draft(title="键盘操作的民情"), grid="4"))
    shared_site.user("keyboard-leader", [Role.GRID_LEADER], ["4"])
    page = shared_site.page()
    page.goto(f"{shared_site.base}/ui/sign-in")
    page.keyboard.press("Tab")  # the skip link comes first
    expect(page.locator("a.skip")).to_be_focused()
    page.locator("#name").focus()
    page.keyboard.type("keyboard-leader")
    page.keyboard.press("Tab")
    expect(page.locator("#password")).to_be_focused()
    page.keyboard.type("correct horse battery")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{shared_site.base}/ui/")
    page.goto(f"{shared_site.base}/ui/triage")
    card = page.locator(f"li[data-reference='{raised.reference}']")
    summary = card.locator("details[data-action='refer'] summary")
    summary.focus()
    page.keyboard.press("Enter")  # opens the disclosure
    note = card.locator("details[data-action='refer'] textarea")
    expect(note).to_be_visible()
    page.keyboard.press("Tab")
    expect(note).to_be_focused()
    page.keyboard.type("键盘提交")
    page.keyboard.press("Tab")
    expect(card.locator("details[data-action='refer'] button")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("提交支委会")
    assert app.get_concern(UUID(raised.id)).status == "committee"
