"""The meeting room over HTTP: the live tally, a secret ballot's counts, and the meeting's
rules enforced with the API's messages (both backends)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta
from uuid import UUID

import httpx

from domain.meeting import MeetingKind
from domain.vocabulary import Role
from tests.conftest import Server
from tests.e2e.ui_client import csrf_of, signed_in, text_of, ui_user
from tests.integration.support import STAFF, draft

CHAIR = replace(STAFF, roles=STAFF.roles | {Role.CHAIR})


def _meeting(server: Server, ballot: str) -> tuple[UUID, UUID, list[str]]:
    """A meeting in session with one item whose vote is open; three members, two present."""
    app = server.app
    members = [server.member(name) for name in ("甲", "乙", "丙")]
    cid = UUID(app.raise_concern(STAFF, draft()).id)
    app.refer(cid, STAFF)
    meeting = app.schedule_meeting(
        STAFF,
        "主题党日",
        MeetingKind.THEMATIC_PARTY_DAY,
        datetime.now(app.zone) + timedelta(days=1),
        "",
        UUID(members[0]),
        [UUID(m) for m in members],
        {"ballot": ballot},
    )
    mid = UUID(meeting.id)
    app.shortlist(mid, STAFF, cid)
    # The meeting's chair is members[0]: only a principal linked to them runs it.
    chair = replace(CHAIR, member_id=UUID(members[0]))
    app.open_meeting(mid, chair, [UUID(members[0]), UUID(members[1])])
    app.open_vote(mid, chair, cid)
    return mid, cid, members


def _vote(client: httpx.Client, mid: UUID, cid: UUID, choice: str) -> httpx.Response:
    page = client.get(f"/ui/meetings/{mid}/vote")
    return client.post(
        f"/ui/meetings/{mid}/items/{cid}/votes", data={"csrf": csrf_of(page.text), "choice": choice}
    )


def test_members_vote_once_and_the_tally_follows(shared_server: Server) -> None:
    mid, cid, members = _meeting(shared_server, "open")
    first = ui_user(shared_server, [Role.MEMBER], ["2"], members[0])
    absent = ui_user(shared_server, [Role.MEMBER], ["2"], members[2])
    chair = ui_user(shared_server, [Role.CHAIR], member=members[0])
    with (
        signed_in(shared_server, first) as a,
        signed_in(shared_server, absent) as c,
        signed_in(shared_server, chair) as ch,
    ):
        r = _vote(a, mid, cid, "for")
        assert r.status_code == 303
        screen = a.get(r.headers["location"])
        assert "您的表决已记录：赞成" in screen.text
        again = _vote(a, mid, cid, "against")
        assert again.status_code == 409
        assert "不能重复表决" in again.text
        assert members[0] not in again.text.split("<main", 1)[1].split("</main>")[0].replace(
            f'value="{members[0]}"', ""
        )
        assert "不在本次会议的签到名单中" in c.get(f"/ui/meetings/{mid}/vote").text
        refused = _vote(c, mid, cid, "for")
        assert refused.status_code == 409
        assert "不在本次会议的签到名单中，不能表决" in refused.text
        live = ch.get(f"/ui/meetings/{mid}/live").json()
        assert live["items"][0]["tally"] == {"for": 1, "against": 0, "abstain": 0, "voted": 1}
        chair_page = ch.get(f"/ui/meetings/{mid}")
        assert re.search(rf'id="tally-{cid}-for">1<', chair_page.text)
        # A member may not run the meeting.
        token = csrf_of(a.get(f"/ui/meetings/{mid}/vote").text)
        closing = a.post(f"/ui/meetings/{mid}/items/{cid}/close-vote", data={"csrf": token})
        assert closing.status_code == 403
        assert "此项需要以下角色之一：会议主持人。" in text_of(closing.text)


def test_a_secret_ballot_shows_counts_only_until_it_closes(shared_server: Server) -> None:
    mid, cid, members = _meeting(shared_server, "secret")
    voter = ui_user(shared_server, [Role.MEMBER], ["2"], members[1])
    chair = ui_user(shared_server, [Role.CHAIR], member=members[0])
    with signed_in(shared_server, voter) as v, signed_in(shared_server, chair) as ch:
        r = _vote(v, mid, cid, "against")
        screen = v.get(r.headers["location"]).text
        assert "您的表决已记录（无记名）" in screen
        assert "反对" not in text_of(screen)  # the choice is not shown back, even to its voter
        live = ch.get(f"/ui/meetings/{mid}/live").json()
        assert live["items"][0]["tally"] == {"voted": 1}
        page = ch.get(f"/ui/meetings/{mid}").text
        assert f"tally-{cid}-against" not in page
        assert re.search(rf'id="tally-{cid}-voted">1<', page)
        assert "无记名投票：表决结束前只显示投票人数" in page
        token = csrf_of(page)
        closed = ch.post(f"/ui/meetings/{mid}/items/{cid}/close-vote", data={"csrf": token})
        assert closed.status_code == 303
        after = ch.get(f"/ui/meetings/{mid}").text
        assert re.search(rf'id="tally-{cid}-against">1<', after)
        assert "暂缓" in after  # 1 against of 3 entitled: no majority either way


def test_without_a_quorum_the_chair_reads_why_records_an_arrival_and_may_declare_it(
    shared_server: Server,
) -> None:
    # Five entitled, two present: three are needed before a vote may open.
    app = shared_server.app
    members = [shared_server.member(name) for name in ("子", "丑", "寅", "卯", "辰")]
    first, second = (UUID(app.raise_concern(STAFF, draft()).id) for _ in range(2))
    meeting = app.schedule_meeting(
        STAFF,
        "主题党日·人数不足",
        MeetingKind.THEMATIC_PARTY_DAY,
        datetime.now(app.zone) + timedelta(days=1),
        "",
        UUID(members[0]),
        [UUID(m) for m in members],
    )
    mid = UUID(meeting.id)
    for cid in (first, second):
        app.refer(cid, STAFF)
        app.shortlist(mid, STAFF, cid)
    app.open_meeting(
        mid, replace(CHAIR, member_id=UUID(members[0])), [UUID(m) for m in members[:2]]
    )
    chair = ui_user(shared_server, [Role.CHAIR], member=members[0])
    with signed_in(shared_server, chair) as ch:
        token = csrf_of(ch.get(f"/ui/meetings/{mid}").text)
        before = shared_server.event_count()
        refused = ch.post(f"/ui/meetings/{mid}/items/{first}/open-vote", data={"csrf": token})
        assert refused.status_code == 409
        assert "应到5人，实到2人，至少需要3人" in text_of(refused.text)
        assert shared_server.event_count() == before

        came = ch.post(
            f"/ui/meetings/{mid}/attendance", data={"csrf": token, "arrived": [members[2]]}
        )
        assert came.status_code == 303
        page = ch.get(came.headers["location"])
        assert "到会 3 / 应到 5" in text_of(page.text)
        gone = ch.post(
            f"/ui/meetings/{mid}/attendance", data={"csrf": token, "left": [members[1], members[2]]}
        )
        assert gone.status_code == 303
        declared = ch.post(f"/ui/meetings/{mid}/declare-inquorate", data={"csrf": token})
        assert declared.status_code == 303
    assert [app.get_concern(c).status for c in (first, second)] == ["committee", "committee"]
    types = [type(e).__name__ for e in app.events.get(mid)]
    assert types[-4:] == ["Arrived", "Left", "Left", "DeclaredInquorate"]
