"""`minqing demo` plays the worked story of domain.md through the meeting of 25 March."""

from __future__ import annotations

from api.demo import load_demo
from application.meeting_views import minutes
from application.minqing import Minqing


def test_the_demo_plays_the_worked_story_to_the_residents_answer(minqing: Minqing) -> None:
    lines = list(load_demo(minqing))

    assert any("adopted" in line for line in lines)
    light = minqing.concern_by_reference("MQ-2026-000001")
    assert light.status == "resolved"
    assert light.feedback[-1]["satisfaction"] == "satisfied"
    assert str(light.due_on) == "2026-04-10"
    assert light.resolved_at is not None
    assert light.resolved_at.date().isoformat() == "2026-04-08"
    types = [e["type"] for e in minqing.history(light.id)]
    assert types == [
        "Raised",
        "Referred",
        "Shortlisted",
        "AdoptedAtMeeting",
        "Assigned",
        "ProgressRecorded",
        "Resolved",
        "FeedbackRecorded",
    ]
    adopted = next(e for e in minqing.history(light.id) if e["type"] == "AdoptedAtMeeting")
    assert adopted["data"]["tally"]["for"] == 10
    assert adopted["data"]["tally"]["abstain"] == 1
    assert adopted["data"]["tally"]["entitled"] == 15
    assert adopted["data"]["tally"]["present"] == 11

    (meeting,) = minqing.list_meetings()
    record = minutes(minqing, meeting)
    assert record["meeting"]["status"] == "closed"
    assert len(record["attendance"]["present"]) == 11
    assert len(record["attendance"]["resident_representatives"]) == 2
    assert [i["decision"] for i in record["items"]] == ["adopted", "adopted"]
    assert record["items"][0]["owner"]["name"] == "李强"


def test_the_demo_does_not_load_twice(minqing: Minqing) -> None:
    list(load_demo(minqing))
    again = list(load_demo(minqing))

    assert again == ["demo data is already loaded"]
    assert len(minqing.list_meetings()) == 1
