"""Who runs a meeting, over HTTP on both stores: only the member the meeting names as its
chair (or deputy chair), holding the role chair, within the grids of its agenda. Any other
principal with the role chair is refused 403 and records nothing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import pytest

from domain.vocabulary import Role
from tests.conftest import Server
from tests.e2e.test_meetings import DUE, SCHEDULED_FOR, Branch, forbidden, ok


@pytest.fixture(scope="module")
def branch(shared_server: Server) -> Iterator[Branch]:
    with ExitStack() as stack:
        yield Branch.make(shared_server, stack)


def _chair(branch: Branch, member: str | None, grids: list[str] | None = None) -> httpx.Client:
    """A client holding the role chair, linked to `member`."""
    _, token = branch.server.principal([Role.CHAIR], grids, member=member)
    return branch.stack.enter_context(branch.server.client(token))


def _schedule(branch: Branch, **extra: Any) -> str:
    body = {
        "title": "4月主题党日",
        "kind": "thematic_party_day",
        "scheduled_for": SCHEDULED_FOR,
        "chair": branch.secretary,
        "eligible_voters": branch.members[:3],
        **extra,
    }
    mid: str = ok(branch.committee.post("/api/v1/meetings", json=body), 201)["id"]
    return mid


def test_a_chair_who_is_not_the_meetings_chair_may_not_run_it(branch: Branch) -> None:
    voters = branch.members[:3]
    cid = branch.concern()
    mid = _schedule(branch)
    ok(branch.shortlist(mid, cid))
    base = f"/api/v1/meetings/{mid}"
    # Another member who chairs other meetings, and a chair linked to no member at all.
    others = (_chair(branch, branch.members[4]), _chair(branch, None))
    for other in others:
        forbidden(branch, lambda: other.post(f"{base}/open", json={"present": voters}))  # noqa: B023
    ok(branch.chair.post(f"{base}/open", json={"present": voters}))
    for other in others:
        forbidden(branch, lambda: other.post(f"{base}/items/{cid}/open-vote"))  # noqa: B023
    ok(branch.open_vote(mid, cid))
    hands = {"choice": "for", "voter": voters[0]}
    for other in others:
        forbidden(branch, lambda: other.post(f"{base}/items/{cid}/votes", json=hands))  # noqa: B023
        forbidden(branch, lambda: other.post(f"{base}/items/{cid}/close-vote"))  # noqa: B023
        forbidden(branch, lambda: other.post(f"{base}/close", json={"minutes": "散会"}))  # noqa: B023
    # The meeting's own chair does each of these.
    for voter in voters:
        ok(branch.show_of_hands(mid, cid, voter, "for"))
    assert ok(branch.close_vote(mid, cid))["outcome"] == "adopted"
    # After the adoption, the assignment is this meeting's chair's too.
    assignment = {"owner": branch.li_qiang, "duty_role": "project_coordinator", "due_on": DUE}
    forbidden(branch, lambda: others[0].post(f"/api/v1/concerns/{cid}/assign", json=assignment))
    ok(branch.chair.post(f"/api/v1/concerns/{cid}/assign", json=assignment))
    ok(branch.close(mid))


def test_the_refusal_says_in_words_who_may(branch: Branch) -> None:
    mid = _schedule(branch)
    r = _chair(branch, branch.members[4]).post(
        f"/api/v1/meetings/{mid}/open", json={"present": branch.members[:3]}
    )
    body = ok(r, 403)
    assert body["error"] == "forbidden"
    assert "chair" in body["message"]
    assert "deputy" in body["message"]


def test_the_deputy_chair_the_meeting_names_may_run_it(branch: Branch) -> None:
    deputy = branch.members[5]
    voters = branch.members[:3]
    cid = branch.concern()
    mid = _schedule(branch, deputy_chair=deputy)
    assert branch.meeting(mid)["deputy_chair"] == deputy
    ok(branch.shortlist(mid, cid))
    standing_in = _chair(branch, deputy)
    base = f"/api/v1/meetings/{mid}"
    ok(standing_in.post(f"{base}/open", json={"present": voters}))
    ok(standing_in.post(f"{base}/items/{cid}/open-vote"))
    for voter in voters:
        ok(
            standing_in.post(
                f"{base}/items/{cid}/votes", json={"choice": "against", "voter": voter}
            )
        )
    assert ok(standing_in.post(f"{base}/items/{cid}/close-vote"))["outcome"] == "rejected"
    closed = ok(standing_in.post(f"{base}/close", json={"minutes": "副主持人主持"}))
    assert closed["status"] == "closed"
    # The deputy's own member link with only the role member does not run it.
    _, token = branch.server.principal([Role.MEMBER], member=deputy)
    with branch.server.client(token) as plain_member:
        forbidden(branch, lambda: plain_member.post(f"{base}/close", json={"minutes": "x"}))


def test_a_meetings_chair_limited_to_another_grid_may_not_run_it(branch: Branch) -> None:
    cid = branch.concern()  # grid 2
    mid = _schedule(branch)
    ok(branch.shortlist(mid, cid))
    grid3 = _chair(branch, branch.secretary, ["3"])
    base = f"/api/v1/meetings/{mid}"
    forbidden(branch, lambda: grid3.post(f"{base}/open", json={"present": branch.members[:3]}))
    # The same member without the grid limit opens it.
    ok(_chair(branch, branch.secretary, ["2"]).post(f"{base}/open", json={"present": []}))


@pytest.mark.parametrize(
    ("deputy", "field"),
    [("chair", "deputy_chair"), ("unknown", "deputy_chair")],
)
def test_a_deputy_chair_must_be_another_registered_member(
    branch: Branch, deputy: str, field: str
) -> None:
    named = branch.secretary if deputy == "chair" else "00000000-0000-4000-8000-000000000000"
    before = branch.server.event_count()
    body = {
        "title": "党日",
        "kind": "thematic_party_day",
        "scheduled_for": SCHEDULED_FOR,
        "chair": branch.secretary,
        "deputy_chair": named,
        "eligible_voters": branch.members[:3],
    }
    answer = ok(branch.committee.post("/api/v1/meetings", json=body), 422)
    assert [f["field"] for f in answer["fields"]] == [field]
    assert branch.server.event_count() == before
