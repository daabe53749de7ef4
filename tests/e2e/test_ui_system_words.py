"""What the system writes into a concern's history — the deadline watcher's cards, a
reopening by the resident's feedback — is said on the concern page in the reader's language,
like everything else on it (the events store one wording), on both stores."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from application.minqing import Minqing
from domain.vocabulary import Role
from tests.conftest import Server
from tests.e2e.concern_requests import RAISE, ZONE, status
from tests.e2e.ui_client import signed_in, text_of, ui_user

STORED = ("passed its time limit", "yellow threshold", "resident reported not solved")


def test_the_watchers_cards_and_a_reopening_by_feedback_are_said_in_the_readers_language(
    server: Server,
) -> None:
    now = [datetime(2026, 3, 2, 10, 0, tzinfo=ZONE)]
    server.set_clock(lambda: now[0])
    member = server.member()
    staff = ui_user(server, [Role.STAFF])
    _, api_token = server.principal([Role.STAFF])
    _, owner_token = server.principal([Role.MEMBER], member=member)
    with server.client(api_token) as api:
        raised = status(api.post("/api/v1/concerns", json=RAISE), 201)
        cid, code = raised["id"], raised["tracking_code"]
        due = {"owner": member, "duty_role": "mediator", "due_on": "2026-03-04"}
        status(api.post(f"/api/v1/concerns/{cid}/handle-now", json=due), 200)
    now[0] = datetime(2026, 3, 12, 10, 0, tzinfo=ZONE)  # well past the handling deadline
    # The watcher's sweep, by the server's own application (it reads the story's clock).
    assert server.served is not None
    watcher: Minqing = server.served.state.minqing
    assert watcher.record_cards(UUID(cid)) == ["yellow_card", "red_card"]
    with server.client(owner_token) as owner:
        status(owner.post(f"/api/v1/concerns/{cid}/resolve", json={"summary": "已修"}), 200)
    with server.client() as resident:
        answer = {"solved": False, "satisfaction": "dissatisfied"}
        status(resident.post(f"/api/v1/track/{code}/feedback", json=answer), 200)

    with signed_in(server, staff) as s:
        chinese = text_of(s.get(f"/ui/concerns/{cid}").text)
        english = text_of(s.get(f"/ui/concerns/{cid}?lang=en").text)
    assert "办理阶段达到时限的黄牌线，系统自动发出黄牌" in chinese
    assert "办理阶段超过时限，系统自动发出红牌" in chinese
    assert chinese.count("居民反馈问题未解决") >= 2  # the reason shown, and in the timeline
    assert "Handling: past its time limit; the system issued a red card" in english
    # The cards are dated by the story's clock, past the handling deadline.
    assert "黄牌督办 · 2026年3月12日 10:00" in " ".join(chinese.split())
    assert "The resident said it is not solved" in english
    for stored in STORED:
        assert stored not in chinese
        assert stored not in english
