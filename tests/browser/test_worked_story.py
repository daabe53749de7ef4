"""The worked story of domain.md done entirely in the browser, by each of its people.

The collector records on a phone, the grid leader refers, the committee schedules the
meeting and shortlists, the chair runs it while three members vote from their own phones,
the assignee resolves, the resident answers on the public tracking page.
"""

from __future__ import annotations

import re
import time
from datetime import date, timedelta

from playwright.sync_api import Locator, expect

from domain.vocabulary import DutyRole, Role
from tests.browser.conftest import Site

TITLE = "5号楼东侧小路路灯两周不亮"
LIVE_MS = 15_000  # the live tally polls every 2 s; allow for a loaded machine


def open_action(scope: Locator, action: str, summary: str) -> Locator:
    """Open one action's disclosure by its visible summary; its form is then in scope."""
    details = scope.locator(f"details[data-action='{action}']")
    expect(details.locator("summary")).to_have_text(summary)
    details.locator("summary").click()
    return details


def test_the_worked_story_is_done_in_the_browser(site: Site) -> None:
    wang = site.member("王芳", [DutyRole.ENVIRONMENT_MONITOR])
    li = site.member("李强", [DutyRole.PROJECT_COORDINATOR])
    chen = site.member("陈书记", [DutyRole.AFFAIRS_MONITOR])
    zhou = site.member("周调解", [DutyRole.MEDIATOR])
    fifth = site.member("党员05", [])
    site.member("赵敏（预备党员）", [], votes=False)
    site.user("wangfang", [Role.COLLECTOR], ["2"], wang)
    site.user("grid2-leader", [Role.GRID_LEADER], ["2"])
    site.user("committee", [Role.COMMITTEE])
    site.user("chen-chair", [Role.CHAIR, Role.MEMBER], [], chen)
    site.user("liqiang", [Role.MEMBER], ["2"], li)
    site.user("zhou", [Role.MEMBER], ["2"], zhou)
    site.user("dangyuan05", [Role.MEMBER], ["2"], fifth)
    site.user("supervisor", [Role.SUPERVISOR])
    base = site.base
    due = date.today() + timedelta(days=14)

    # 1. The collector records the visit and the concern on a phone.
    collector = site.page("wangfang", phone=True)
    collector.get_by_role("link", name="登记民情").first.click()
    collector.get_by_label("走访户（门牌）").fill("5号楼2单元301")
    collector.get_by_label("标题").fill(TITLE)
    collector.get_by_label("具体情况").fill(
        "东侧小路的路灯已经坏了两个星期，老人晚上出门看不清路。"
    )
    collector.get_by_label("类别").select_option("environment")
    collector.get_by_label("入库").select_option("problem")
    collector.get_by_label("居民姓名").fill("张秀英")
    collector.get_by_label("联系电话").fill("13800000000")
    collector.get_by_role("button", name="保存走访").last.click()
    expect(collector.get_by_role("heading", name="走访已登记。")).to_be_visible()
    reference = collector.locator(".ref").first.inner_text()
    code = collector.locator(".tracking-code").inner_text()
    assert re.fullmatch(r"MQ-\d{4}-\d{6}", reference)
    assert re.fullmatch(r"[2-9A-Z]{12}", code)

    # 2. The grid leader refers it to the committee from the triage queue.
    leader = site.page("grid2-leader")
    leader.goto(f"{base}/ui/triage")
    card = leader.locator(f"li.card[data-reference='{reference}']")
    form = open_action(card, "refer", "提交支委会")
    form.get_by_label("备注").fill("需要支委会研究")
    form.get_by_role("button", name="提交支委会").click()
    expect(leader.get_by_role("status")).to_contain_text("提交支委会")
    expect(leader.locator(f"li.card[data-reference='{reference}']")).to_have_count(0)

    # 3. The committee schedules the thematic party day and shortlists the concern.
    committee = site.page("committee")
    committee.goto(f"{base}/ui/meetings")
    committee.get_by_label("标题").fill("主题党日·民情会诊")
    when = date.today() + timedelta(days=3)
    committee.get_by_label("会议时间").fill(f"{when.isoformat()}T14:30")
    committee.get_by_label("地点").fill("社区党群服务中心")
    committee.locator("#mt-chair").select_option(chen)
    for name in ("王芳", "李强", "陈书记", "周调解", "党员05"):
        expect(committee.get_by_role("checkbox", name=name)).to_be_checked()
    committee.get_by_role("button", name="安排会议").click()
    committee.wait_for_url(re.compile(r".*/ui/meetings/[0-9a-f-]{36}\?done=scheduled$"))
    meeting_url = committee.url.split("?")[0]
    committee.goto(f"{base}/ui/committee")
    card = committee.locator(f"li.card[data-reference='{reference}']")
    form = open_action(card, "shortlist", "列入党员大会议程")
    form.get_by_role("button", name="列入党员大会议程").click()
    expect(committee.locator(f"li.card[data-reference='{reference}']")).to_have_count(0)

    # 4. The chair records attendance and opens the meeting.
    chair = site.page("chen-chair")
    chair.goto(meeting_url)
    for name in ("李强", "陈书记", "周调解", "党员05"):
        chair.get_by_role("checkbox", name=name).check()
    chair.get_by_label("列席居民代表（每行一位）").fill("居民代表 刘阿姨\n居民代表 孙师傅")
    chair.get_by_role("button", name="签到并开会").click()
    expect(chair.locator(".quorum")).to_contain_text("到会 4 / 应到 5")
    expect(chair.locator(".quorum")).to_contain_text("符合规定人数")

    # Three members wait on their phones; the vote opening reaches them without a reload.
    voters = {name: site.page(name, phone=True) for name in ("liqiang", "zhou", "dangyuan05")}
    for phone in voters.values():
        phone.get_by_role("link", name="表决").first.click()
        expect(phone.get_by_role("status")).to_contain_text("目前没有正在表决的议题")
    item = chair.locator(f"li[data-reference='{reference}']")
    item.get_by_role("button", name="开始表决").click()
    concern_id = item.get_attribute("id")
    assert concern_id is not None
    tally = concern_id.removeprefix("item-")
    chair.evaluate("window.__samePage = true")
    for name, choice in (("liqiang", "赞成"), ("zhou", "赞成"), ("dangyuan05", "弃权")):
        phone = voters[name]
        button = phone.get_by_role("button", name=choice)
        expect(button).to_be_visible(timeout=LIVE_MS)
        button.click()
        expect(phone.get_by_role("status")).to_have_text(f"您的表决已记录：{choice}")

    # The chair's tally moved with the votes, on the same page (no reload).
    expect(chair.locator(f"#tally-{tally}-for")).to_have_text("2", timeout=LIVE_MS)
    expect(chair.locator(f"#tally-{tally}-abstain")).to_have_text("1", timeout=LIVE_MS)
    expect(chair.locator(f"#tally-{tally}-voted")).to_have_text("3", timeout=LIVE_MS)
    assert chair.evaluate("window.__samePage") is True

    # The chair records their own show of hands, closes the vote: adopted (3 > 5/2).
    item = chair.locator(f"li[data-reference='{reference}']")
    item.locator("summary", has_text="代为记录举手表决").click()
    item.get_by_label("表决人").select_option(chen)
    item.get_by_role("radio", name="赞成").check()
    item.get_by_role("button", name="提交").click()
    expect(chair.locator(f"#tally-{tally}-for")).to_have_text("3")
    # Closing asks first, with how many have voted and how many not yet.
    item = chair.locator(f"li[data-reference='{reference}']")
    item.locator("summary", has_text="结束表决").click()
    expect(item.get_by_role("alert")).to_contain_text("已表决 4 人，尚有 0 人未表决")
    item.get_by_role("button", name="确认结束表决").click()
    item = chair.locator(f"li[data-reference='{reference}']")
    expect(item.locator(".outcome")).to_have_text("通过")
    # On the spot: Li Qiang, project coordinator, with a due date.
    item.get_by_label("责任人").select_option(li)
    item.get_by_label("六员职责").select_option("project_coordinator")
    item.get_by_label("办结时限").fill(due.isoformat())
    item.get_by_role("button", name="交办").click()
    expect(chair.locator(f"li[data-reference='{reference}'] .assigned")).to_contain_text("李强")
    # A member's phone sees the vote closed and goes back to waiting, by itself.
    expect(voters["zhou"].get_by_role("status")).to_contain_text(
        "目前没有正在表决的议题", timeout=LIVE_MS
    )
    chair.get_by_label("会议纪要").fill("会议通过路灯维修议题，明确责任人和办结时限。")
    chair.get_by_role("button", name="结束会议").click()
    expect(chair.locator("#meeting-status")).to_have_text("已结束")
    chair.goto(f"{meeting_url}/minutes")
    expect(chair.locator("body")).to_contain_text("通过")
    expect(chair.locator("body")).to_contain_text("居民代表 刘阿姨")

    # 5. The assignee records progress and resolves it from his tasks, on his phone.
    assignee = voters["liqiang"]
    assignee.goto(f"{base}/ui/tasks")
    card = assignee.locator(f"li.card[data-reference='{reference}']")
    expect(card.locator(".due")).to_have_text("还剩 14 天")
    form = open_action(card, "record_progress", "记录进展")
    form.get_by_label("备注").fill("已联系供电所，灯具已订购")
    form.get_by_role("button", name="记录进展").click()
    expect(assignee.get_by_role("status")).to_contain_text("记录进展")
    card = assignee.locator(f"li.card[data-reference='{reference}']")
    form = open_action(card, "resolve", "办结")
    form.get_by_label("办理结果").fill("更换东侧小路路灯6盏，恢复照明")
    form.get_by_role("button", name="办结").click()
    expect(assignee.locator(f"li.card[data-reference='{reference}']")).to_have_count(0)

    # 6. The resident follows the code on the public page and answers, without an account.
    resident = site.page(phone=True)
    resident.goto(f"{base}/ui/track")
    resident.get_by_label("查询码").fill(code.lower())
    resident.get_by_role("button", name="查询").click()
    expect(resident.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(resident.locator(".badge").first).to_have_text("已办结")
    expect(resident.locator("body")).not_to_contain_text("张秀英")
    expect(resident.locator("body")).not_to_contain_text("13800000000")
    resident.get_by_role("radio", name="已解决").check()
    resident.get_by_role("radio", name="满意", exact=True).check()
    resident.get_by_role("button", name="提交").click()
    expect(resident.get_by_role("status")).to_have_text("感谢您的评价！")
    expect(resident.locator("form")).to_have_count(0)

    # The streetlight job appears in the public achievement library, nothing personal in it.
    entry = resident.locator(f"li.card[data-reference='{reference}']")
    deadline = time.monotonic() + LIVE_MS / 1000
    while True:  # the read model follows the event log within moments
        resident.goto(f"{base}/ui/public/achievements")
        if entry.locator(".satisfaction").count() or time.monotonic() > deadline:
            break
        resident.wait_for_timeout(300)
    expect(entry.locator(".card-title")).to_have_text(TITLE)
    expect(entry).to_contain_text("已办结")
    expect(entry).to_contain_text("更换东侧小路路灯6盏，恢复照明")
    expect(entry.locator(".satisfaction")).to_have_text("满意")
    expect(entry).to_contain_text("按期办结")
    expect(resident.locator("main")).not_to_contain_text("张秀英")
    expect(resident.locator("main")).not_to_contain_text("13800000000")

    # 7. The supervisor reads the whole story on the concern's timeline.
    supervisor = site.page("supervisor")
    supervisor.goto(f"{base}/ui/concerns/{reference}")
    labels = supervisor.locator("ol.timeline > li .what strong").all_inner_texts()
    assert labels == [
        "登记民情",
        "提交支委会",
        "列入党员大会议程",
        "会议通过",
        "交办",
        "记录进展",
        "办结",
        "回访",
    ]
    expect(supervisor.locator("ol.timeline")).to_contain_text("王芳 (wangfang)")
    expect(supervisor.locator("ol.timeline")).to_contain_text("赞成 3 · 反对 0 · 弃权 1")

    # The ledger counts one concern collected, one discussed, one resolved on time.
    supervisor.goto(f"{base}/ui/ledger?at={site.server.event_count()}")
    totals = supervisor.locator("dl.totals")
    expect(totals.locator("[data-figure='concerns_collected']")).to_have_text("1")
    expect(totals.locator("[data-figure='discussed']")).to_have_text("1")
    expect(totals.locator("[data-figure='resolved_on_time']")).to_have_text("1")
    expect(totals.locator("[data-figure='households_visited']")).to_have_text("1")
