"""Scorecards (考核记分卡) from the read model's rows: the figures per subject, each with the
concerns behind it, the composite score and the grade.

Per subject (an owner, a grid, a collector) over the concerns raised in the period, voided
concerns left out of every figure:

- on-time closure: resolved on time ÷ resolved (projections.scorecards.on_time);
- rework: reopened ÷ resolved;
- extension: concerns with an approved extension ÷ concerns assigned;
- satisfaction: satisfied or basically satisfied (latest feedback) ÷ feedback recorded;
- response: working hours on the work calendar from the first assignment to the owner's
  first action (progress, resolution or sending back), median and mean, over the assigned
  concerns that have one;
- cards received: yellow and red supervision cards on the subject's concerns.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

from adapters.database import Database
from domain.scorecard_rules import ScoreRules
from domain.work_calendar import WorkCalendar
from projections.rows import Row
from projections.scorecards import on_time, scorecard_rows

# Working time between two moments, in hours (the route gives the work calendar's).
WorkingHours = Callable[[datetime, datetime], float]


class Subject(StrEnum):
    """Whose scorecards: each owner (member), each grid, each collector."""

    OWNER = "owner"
    GRID = "grid"
    COLLECTOR = "collector"


RATES: tuple[tuple[str, str, str], ...] = (
    # name, numerator's test, denominator's test (names of _TESTS)
    ("on_time_closure", "on_time", "resolved"),
    ("rework", "reopened", "resolved"),
    ("extension", "extended", "assigned"),
    ("satisfaction", "satisfied", "feedback"),
)
_TESTS: dict[str, Callable[[Row], bool]] = {
    "on_time": on_time,
    "resolved": lambda r: bool(r["resolved"]),
    "reopened": lambda r: bool(r["reopened"]),
    "extended": lambda r: bool(r["extended"]),
    "assigned": lambda r: r["assigned_at"] is not None,
    "satisfied": lambda r: bool(r["satisfied"]),
    "feedback": lambda r: bool(r["feedback"]),
}


def moment(text: str) -> datetime:
    """A stored UTC text (projections.concerns.utc_text) as an aware time."""
    return datetime.fromisoformat(text.removesuffix("Z")).replace(tzinfo=UTC)


def _refs(rows: Iterable[Row]) -> list[str]:
    return [str(r["reference"]) for r in rows]


def rate(numerator: Sequence[Row], denominator: Sequence[Row]) -> dict[str, Any]:
    """A rate with its parts and the concerns of each (value None without a denominator)."""
    value = len(numerator) / len(denominator) if denominator else None
    return {
        "value": None if value is None else round(value, 4),
        "percent": None if value is None else round(value * 100, 1),
        "numerator": len(numerator),
        "denominator": len(denominator),
        "concerns": {"numerator": _refs(numerator), "denominator": _refs(denominator)},
    }


def response(rows: Sequence[Row], hours: WorkingHours) -> dict[str, Any]:
    """Working hours from the first assignment to the owner's first action."""
    timed = [r for r in rows if r["assigned_at"] and r["first_action_at"]]
    spans = [hours(moment(r["assigned_at"]), moment(r["first_action_at"])) for r in timed]
    return {
        "median_hours": round(statistics.median(spans), 2) if spans else None,
        "mean_hours": round(statistics.fmean(spans), 2) if spans else None,
        "count": len(spans),
        "concerns": _refs(timed),
    }


def _cards(rows: Sequence[Row], grade: str) -> dict[str, Any]:
    carded = [r for r in rows if r[grade]]
    return {"count": sum(int(r[grade]) for r in carded), "concerns": _refs(carded)}


def figures(rows: Sequence[Row], hours: WorkingHours) -> dict[str, Any]:
    """Every figure of one subject's (not voided) concerns."""
    found: dict[str, Any] = {"concerns": {"count": len(rows), "concerns": _refs(rows)}}
    for name, top, bottom in RATES:
        under = [r for r in rows if _TESTS[bottom](r)]
        found[name] = rate([r for r in under if _TESTS[top](r)], under)
    found["response"] = response(rows, hours)
    found["yellow_cards"] = _cards(rows, "yellow")
    found["red_cards"] = _cards(rows, "red")
    return found


def _subject_of(row: Row, subject: Subject) -> str | None:
    key = {Subject.OWNER: "owner", Subject.GRID: "grid", Subject.COLLECTOR: "collector"}
    value = row[key[subject]]
    return None if value is None else str(value)


def scorecards(
    rows: Sequence[Row], subject: Subject, rules: ScoreRules, hours: WorkingHours
) -> list[dict[str, Any]]:
    """One scorecard per subject that has a concern in `rows` (voided ones left out), by
    subject; a concern never assigned has no owner and no owner's scorecard."""
    groups: dict[str, list[Row]] = {}
    for row in rows:
        key = _subject_of(row, subject)
        if key is not None and not row["voided"]:
            groups.setdefault(key, []).append(row)
    cards = []
    for key in sorted(groups):
        found = figures(groups[key], hours)
        score = rules.score({name: found[name]["value"] for name, _, _ in RATES})
        cards.append(
            {
                "subject": key,
                "figures": found,
                "score": score,
                "grade": rules.grade(score),
            }
        )
    return cards


def voided(rows: Sequence[Row]) -> list[str]:
    """The references of the voided concerns left out."""
    return _refs(r for r in rows if r["voided"])


def read_scorecards(
    db: Database,
    period: tuple[date | None, date | None],
    scope: frozenset[str],
    subject: Subject,
    rules: ScoreRules,
    calendar: WorkCalendar,
) -> dict[str, Any]:
    """The scorecards of `subject` for the concerns raised in `period` in the caller's
    grids, with the rules that scored them and the voided concerns left out."""
    rows = scorecard_rows(db, period[0], period[1], scope, calendar.zone)

    def hours(start: datetime, end: datetime) -> float:
        return calendar.working_time(start, end) / timedelta(hours=1)

    return {
        "subject": subject.value,
        "from": period[0].isoformat() if period[0] else None,
        "to": period[1].isoformat() if period[1] else None,
        "rules": rules.as_dict(),
        "voided": voided(rows),
        "scorecards": scorecards(rows, subject, rules, hours),
    }
