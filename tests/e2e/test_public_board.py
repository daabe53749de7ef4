"""The community's public board (八公开) over HTTP, on SQLite and PostgreSQL: the last
meeting's decision with its open-ballot tally and the votes needed (never who chose what),
the commitments, this month's ledger figures with every count under 5 shown as "< 5", and
the posts with only the members who agreed to be shown; the printable A3 page in both
languages. Nothing personal on either (searched)."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from domain.meeting import MeetingKind
from domain.principal import Principal
from domain.vocabulary import DutyRole, Role
from domain.voting import Choice
from tests.conftest import Server
from tests.integration.support import RESIDENT, STAFF, draft


def test_the_board_shows_decisions_commitments_figures_and_posts_and_nothing_personal(
    server: Server,
) -> None:
    app = server.app
    names = ["张红梅", "李强", "赵敏"]
    members = [UUID(server.member(n)) for n in names]
    chair = Principal("chair", "chair", frozenset({Role.CHAIR}), frozenset(), members[0])
    app.set_public_identity(members[1], STAFF, True)  # 李强 agreed to be shown; 赵敏 did not

    raised = [UUID(app.raise_concern(STAFF, draft()).id) for _ in range(3)]
    adopted = raised[0]
    app.refer(adopted, STAFF)
    when = datetime.now(app.zone) + timedelta(hours=1)
    meeting = UUID(
        app.schedule_meeting(
            STAFF,
            "主题党日",
            MeetingKind.THEMATIC_PARTY_DAY,
            when,
            "党群服务中心",
            members[0],
            members,
        ).id
    )
    app.shortlist(meeting, STAFF, adopted)
    app.open_meeting(meeting, chair, members)
    app.open_vote(meeting, chair, adopted)
    for member, choice in zip(members, (Choice.FOR, Choice.FOR, Choice.AGAINST), strict=True):
        app.cast_vote(meeting, chair, adopted, choice, member)
    app.close_vote(meeting, chair, adopted)
    app.close_meeting(meeting, chair, "通过一项")
    due = app.clock().date() + timedelta(days=20)
    app.assign(adopted, chair, members[1], DutyRole.PROJECT_COORDINATOR, due)
    app.add_milestone(adopted, STAFF, "采购灯具", due)

    post = UUID(app.set_post(STAFF, "环境维护岗", "2", "清理杂草", 3).id)
    app.claim_post(post, STAFF, members[1])
    last = app.claim_post(post, STAFF, members[2])

    with server.client() as anyone:
        answer = anyone.get("/public/board", params={"min_position": last.position})
        assert answer.status_code == 200, answer.text
        board = answer.json()
        page = anyone.get("/ui/public/board")
    assert page.status_code == 200

    decided = board["meetings"][0]
    assert decided["title"] == "主题党日"
    item = decided["items"][0]
    assert item["outcome"] == "adopted"
    assert item["tally"] == {"for": 2, "against": 1, "abstain": 0}
    assert (item["votes_needed"], item["entitled"]) == (2, 3)

    (commitment,) = board["commitments"]["items"]
    assert (commitment["title"], commitment["status"]) == (draft().title, "in_progress")
    assert (commitment["member_name"], commitment["progress"]) == ("李强", 0)

    figures = {f["name"]: f["value"] for f in board["ledger"]["figures"]}
    assert board["ledger"]["month"] == app.clock().strftime("%Y-%m")
    assert all(v == "< 5" or (isinstance(v, int) and v >= 5) for v in figures.values())
    assert "< 5" in figures.values()  # three concerns raised this month

    (listed,) = board["posts"]
    assert (listed["claimed"], listed["seats"], listed["members_shown"]) == (2, 3, ["李强"])

    # Nothing personal, nor who chose what, on the JSON or the printed page.
    concern = app.get_concern(adopted)
    for text in (answer.text, page.text):
        for secret in (*RESIDENT.as_dict().values(), concern.tracking_code, "赵敏", "张红梅"):
            assert secret is None or secret not in text
        for member in members:
            assert str(member) not in text
    assert "居务公开栏" in page.text
    assert "Community public board" in page.text
    assert "&lt; 5" in page.text
    assert "赞成 for 2" in page.text
    assert "/ui/static/board.css" in page.text
