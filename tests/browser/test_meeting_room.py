"""The meeting room in Chromium, as the chair, the room and a member meet it: the roll of
who has not voted yet and the votes needed, shrinking as phones vote; the projector's large
tally moving by itself; a member's vote page that refreshes itself when the meeting opens and
when a vote opens; closing a vote asks first."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from uuid import UUID

from playwright.sync_api import expect

from domain.meeting import MeetingKind
from domain.principal import Principal
from domain.vocabulary import DutyRole, Role
from domain.voting import Choice
from tests.browser.conftest import Site
from tests.integration.support import STAFF, draft

LIVE_MS = 10_000
CHAIR = replace(STAFF, roles=STAFF.roles | {Role.CHAIR})


@dataclass
class Room:
    """A meeting of four entitled members with one concern on its agenda; the first
    member chairs it (signed in as `chair`), each member may vote as themselves."""

    site: Site
    mid: UUID
    cid: UUID
    reference: str
    members: list[str]
    chair: Principal
    tag: str

    def voter(self, i: int) -> Principal:
        return replace(
            STAFF,
            id=f"v-{self.tag}-{i}",
            roles=frozenset({Role.MEMBER}),
            member_id=UUID(self.members[i]),
        )

    def open(self, present: int = 3) -> None:
        self.site.server.app.open_meeting(
            self.mid, self.chair, [UUID(m) for m in self.members[:present]]
        )

    def open_vote(self) -> None:
        self.site.server.app.open_vote(self.mid, self.chair, self.cid)

    def vote(self, i: int, choice: Choice = Choice.FOR) -> None:
        self.site.server.app.cast_vote(self.mid, self.voter(i), self.cid, choice)


def room(site: Site, tag: str, names: list[str], ballot: str = "open") -> Room:
    app = site.server.app
    members = [site.member(name, [DutyRole.MEDIATOR], grid="2") for name in names]
    found = app.raise_concern(STAFF, replace(draft(None, title=f"{tag}路灯不亮"), grid="2"))
    cid = UUID(found.id)
    app.refer(cid, STAFF)
    scheduled = app.schedule_meeting(
        STAFF,
        f"{tag}主题党日",
        MeetingKind.THEMATIC_PARTY_DAY,
        datetime.now(app.zone) + timedelta(days=1),
        "党群服务中心",
        UUID(members[0]),
        [UUID(m) for m in members],
        {"ballot": ballot},
    )
    mid = UUID(scheduled.id)
    app.shortlist(mid, STAFF, cid)
    site.user(f"chair-{tag}", [Role.CHAIR, Role.MEMBER], [], members[0])
    chair = replace(CHAIR, member_id=UUID(members[0]))
    return Room(site, mid, cid, found.reference or "", members, chair, tag)


def test_the_chairs_roll_shrinks_as_members_vote_and_the_show_of_hands_offers_only_them(
    shared_site: Site,
) -> None:
    r = room(shared_site, "roll", ["陈书记", "李强", "周调解", "王芳"])
    r.open(present=3)
    r.open_vote()
    page = shared_site.page("chair-roll")
    page.goto(f"{shared_site.base}/ui/meetings/{r.mid}")
    item = page.locator(f"li[data-reference='{r.reference}']")
    # 4 entitled, a majority of them: 3 votes for are needed.
    expect(item.locator(".needed")).to_have_text("通过所需赞成票：3")
    not_yet = item.locator(".not-yet li")
    expect(not_yet).to_have_text(["陈书记", "李强", "周调解"])
    page.evaluate("window.__samePage = true")

    r.vote(1)  # Li Qiang votes from his phone

    expect(not_yet).to_have_text(["陈书记", "周调解"], timeout=LIVE_MS)
    item.locator("summary", has_text="代为记录举手表决").click()
    options = item.get_by_label("表决人").locator("option")
    expect(options).to_have_text(["陈书记", "周调解"])
    assert page.evaluate("window.__samePage") is True
    # Closing asks first, saying how many have not voted yet.
    item.locator("summary", has_text="结束表决").click()
    expect(item.get_by_role("alert")).to_contain_text("尚有 2 人未表决")


def test_the_projector_shows_the_item_the_count_present_and_the_live_tally(
    shared_site: Site,
) -> None:
    r = room(shared_site, "proj", ["陈书记", "李强", "周调解", "王芳"], ballot="secret")
    r.open(present=3)
    r.open_vote()
    page = shared_site.page("chair-proj")
    page.goto(f"{shared_site.base}/ui/meetings/{r.mid}/projector")
    expect(page.get_by_role("heading", level=1)).to_have_text("proj路灯不亮")
    expect(page.locator("#present-line")).to_have_text("到会 3 / 应到 4")
    expect(page.locator(".needed")).to_have_text("通过所需赞成票：3")
    voted = page.locator(f"#tally-{r.cid}-voted")
    expect(voted).to_have_text("0")
    # A secret ballot shows only how many voted while it is open.
    expect(page.locator(f"#tally-{r.cid}-for")).to_have_count(0)
    size = voted.evaluate("el => parseFloat(getComputedStyle(el).fontSize)")
    assert size >= 40  # large type, readable across a room

    for i in range(3):
        r.vote(i)
    expect(voted).to_have_text("3", timeout=LIVE_MS)
    shared_site.server.app.close_vote(r.mid, r.chair, r.cid)
    expect(page.locator(".outcome")).to_have_text("通过", timeout=LIVE_MS)
    expect(page.locator(f"#tally-{r.cid}-for")).to_have_text("3")


def test_a_members_vote_page_refreshes_itself_when_the_meeting_and_the_vote_open(
    shared_site: Site,
) -> None:
    r = room(shared_site, "phone", ["陈书记", "李强", "周调解"])
    shared_site.user("liqiang-phone", [Role.MEMBER], [], r.members[1])
    phone = shared_site.page("liqiang-phone", phone=True)
    phone.goto(f"{shared_site.base}/ui/meetings/{r.mid}/vote")
    expect(phone.get_by_role("status")).to_contain_text("会议尚未开始")

    r.open(present=3)  # the chair opens the meeting: the phone follows by itself
    expect(phone.get_by_role("status")).to_contain_text("目前没有正在表决的议题", timeout=LIVE_MS)

    r.open_vote()
    button = phone.get_by_role("button", name="赞成")
    expect(button).to_be_visible(timeout=LIVE_MS)
    button.click()
    expect(phone.get_by_role("status")).to_have_text("您的表决已记录：赞成")
