"""The scorecards' rules and fold without a database: the composite score and grade from
configurable weights and bounds, settings refusing bad rules, and a voided concern (the
`VoidApproved` event, folded by its name) leaving every scorecard."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast
from uuid import uuid4

import pytest

from application.settings import Settings
from domain.scorecard_rules import ScoreRules
from projections.runner import Recorded
from projections.scorecard_figures import Subject, scorecards
from projections.scorecards import Scorecards

AT = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def test_the_default_weights_score_and_grade_as_the_issue_says() -> None:
    rules = ScoreRules.parse()
    rates = {"on_time_closure": 0.9, "rework": 0.1, "extension": 0.2, "satisfaction": 0.85}
    # 50 × 0.9 + 20 × 0.9 + 10 × 0.8 + 20 × 0.85 = 88
    assert rules.score(rates) == 88.0
    assert [rules.grade(s) for s in (90, 89.9, 75, 60, 40, 39.9)] == ["A", "B", "B", "C", "D", "E"]
    assert rules.grade(None) is None
    assert rules.score(dict.fromkeys(rates)) is None  # nothing to score


def test_missing_components_leave_the_others_to_carry_the_score() -> None:
    rules = ScoreRules.parse()
    assert rules.score({"on_time_closure": 0.5, "rework": None}) == 50.0


def test_weights_and_grades_are_configurable() -> None:
    rules = ScoreRules.parse("on_time_closure=1,satisfaction=1", "优=80,良=60")
    assert rules.score({"on_time_closure": 1.0, "satisfaction": 0.5, "rework": 1.0}) == 75.0
    assert [rules.grade(s) for s in (80, 79, 10)] == ["优", "良", "E"]
    settings = Settings(scorecard_weights="on_time_closure=3,rework=1")
    assert settings.score_rules.weights["rework"] == 1.0
    assert settings.score_rules.weights["extension"] == 0.0


@pytest.mark.parametrize(
    ("weights", "grades"),
    [("speed=50", "A=90"), ("on_time_closure", "A=90"), ("rework=0", "A=90"), ("rework=1", "A=x")],
)
def test_bad_rules_are_refused_at_start(weights: str, grades: str) -> None:
    with pytest.raises(ValueError, match=r"weights|grades"):
        Settings(scorecard_weights=weights, scorecard_grades=grades)


def _recorded(kind: str, position: int, **data: Any) -> Recorded:
    event = type(kind, (), {})()
    for key, value in {"originator_version": position, "at": AT, **data}.items():
        setattr(event, key, value)
    return cast(Recorded, SimpleNamespace(event=event, position=position))


def test_a_voided_concern_leaves_every_scorecard() -> None:
    fold = Scorecards().fold
    cid, owner = uuid4(), uuid4()
    row = fold(
        None,
        _recorded(
            "Raised", 1, originator_id=cid, reference="MQ-1", title="t", grid="2", actor_id="s"
        ),
    )
    row = fold(row, _recorded("HandledNow", 2, owner=owner))
    row = fold(row, _recorded("Resolved", 3, on_time=True, at=AT + timedelta(hours=1)))
    assert row is not None
    kept = [dict(row)]

    def hours(a: datetime, b: datetime) -> float:
        return (b - a) / timedelta(hours=1)

    (card,) = scorecards(kept, Subject.OWNER, ScoreRules.parse(), hours)
    assert card["figures"]["on_time_closure"]["value"] == 1.0
    voided = fold(dict(row), _recorded("VoidApproved", 4))
    assert voided is not None
    assert voided["voided"] == 1
    assert scorecards([voided], Subject.OWNER, ScoreRules.parse(), hours) == []
