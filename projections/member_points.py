"""Member points (党员积分, `minqing_member_points`): the work each member has recorded.

Four kinds of work earn points, each counted per day by the subject its event names:
- a household visit (`Visit.Recorded`): the principal who recorded it, on `visited_on`;
- a concern collected (`Concern.Raised`): the principal who raised it;
- a meeting attended (`Meeting.Opened`): each member recorded present;
- a concern resolved on time (`Concern.Resolved` with `on_time`): the concern's owner at
  resolution (the member named by the last assignment). A reopened concern takes that
  point back (the round's work did not hold, and its achievement entry leaves too); the
  next on-time resolution earns it again.

Principals are resolved to members (`minqing_principals.member_id`) when the points are
read, so the table stays a pure fold of the events and linking a principal to a member
later credits their earlier work. The weight of each kind is configuration, applied when
read too. Days are the calendar dates of the event's `at` in the offset it was stamped
with (the community's zone), as everywhere in the read side.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from domain.meeting import Meeting
from domain.store import Cursor, Database
from domain.visit import Visit
from domain.vocabulary import Labelled
from projections.concerns import CONCERN_TOPICS
from projections.runner import Projection, Recorded, Table

TABLE = "minqing_member_points"
OWNERS_TABLE = "minqing_member_points_owners"
PRINCIPAL = "principal"
MEMBER = "member"


class PointKind(Labelled):
    VISIT = ("visit", "入户走访", "Household visits")
    CONCERN_COLLECTED = ("concern_collected", "收集民情", "Concerns collected")
    MEETING_ATTENDED = ("meeting_attended", "参加会议", "Meetings attended")
    RESOLVED_ON_TIME = ("resolved_on_time", "按期办结", "Concerns resolved on time")


_CONCERN_KINDS = frozenset(
    {"Raised", "HandledNow", "Assigned", "Reassigned", "SentBack", "Resolved", "Reopened"}
)
TOPICS: tuple[str, ...] = (
    *(t for t in CONCERN_TOPICS if t.rpartition(".")[2] in _CONCERN_KINDS),
    get_topic(Visit.Recorded),  # type: ignore[attr-defined]
    get_topic(Meeting.Opened),  # type: ignore[attr-defined]
)


class MemberPoints(Projection):
    """Counts of credited work per subject, kind and day; and each concern's owner."""

    name = "member_points"
    topics = TOPICS
    tables = (
        Table(
            TABLE,
            "subject_kind TEXT NOT NULL, subject TEXT NOT NULL, kind TEXT NOT NULL,"
            " day TEXT NOT NULL, count BIGINT NOT NULL,"
            " PRIMARY KEY (subject_kind, subject, kind, day)",
        ),
        # The owner now, and who holds the on-time point of the current round (if anyone).
        Table(
            OWNERS_TABLE,
            "concern_id TEXT PRIMARY KEY, owner TEXT, credited_to TEXT, credited_on TEXT",
        ),
    )

    def apply(self, cur: Cursor, recorded: Recorded) -> None:
        """Count the work the event records; follow concern owners for on-time points."""
        e = recorded.event
        kind = recorded.type_name
        if kind == "Visit.Recorded":
            self._add(cur, PRINCIPAL, e.actor_id, PointKind.VISIT, e.visited_on, 1)
        elif kind == "Meeting.Opened":
            for member in dict.fromkeys(e.present):
                self._add(cur, MEMBER, str(member), PointKind.MEETING_ATTENDED, e.at.date(), 1)
        else:
            self._concern(cur, kind.rpartition(".")[2], e)

    def _concern(self, cur: Cursor, kind: str, e: Any) -> None:
        owners = self.table(OWNERS_TABLE)
        concern_id = str(e.originator_id)
        if kind == "Raised":
            self._add(cur, PRINCIPAL, e.actor_id, PointKind.CONCERN_COLLECTED, e.at.date(), 1)
            cur.execute(
                f"INSERT INTO {owners} (concern_id) VALUES (?)",  # noqa: S608
                (concern_id,),
            )
        elif kind in ("HandledNow", "Assigned", "Reassigned"):
            cur.execute(
                f"UPDATE {owners} SET owner = ? WHERE concern_id = ?",  # noqa: S608
                (str(e.owner), concern_id),
            )
        elif kind == "SentBack":
            cur.execute(
                f"UPDATE {owners} SET owner = NULL WHERE concern_id = ?",  # noqa: S608
                (concern_id,),
            )
        elif kind == "Resolved" and e.on_time:
            cur.execute(
                f"UPDATE {owners} SET credited_to = owner, credited_on = ?"  # noqa: S608
                " WHERE concern_id = ? AND owner IS NOT NULL RETURNING owner",
                (e.at.date().isoformat(), concern_id),
            )
            row = cur.fetchone()
            if row is not None:
                owner = str(row["owner"])
                self._add(cur, MEMBER, owner, PointKind.RESOLVED_ON_TIME, e.at.date(), 1)
        elif kind == "Reopened":
            cur.execute(
                f"SELECT credited_to, credited_on FROM {owners} WHERE concern_id = ?",  # noqa: S608
                (concern_id,),
            )
            row = cur.fetchone()
            if row is not None and row["credited_to"] is not None:
                day = date.fromisoformat(row["credited_on"])
                self._add(cur, MEMBER, row["credited_to"], PointKind.RESOLVED_ON_TIME, day, -1)
                cur.execute(
                    f"UPDATE {owners} SET credited_to = NULL, credited_on = NULL"  # noqa: S608
                    " WHERE concern_id = ?",
                    (concern_id,),
                )

    def _add(
        self, cur: Cursor, subject_kind: str, subject: str, kind: PointKind, day: date, n: int
    ) -> None:
        table = self.table(TABLE)
        cur.execute(
            f"INSERT INTO {table} (subject_kind, subject, kind, day, count)"  # noqa: S608
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (subject_kind, subject, kind, day)"
            f" DO UPDATE SET count = {table}.count + excluded.count",
            (subject_kind, subject, kind.value, day.isoformat(), n),
        )
        if n < 0:  # a count taken back to nothing leaves no row, as if never counted
            cur.execute(
                f"DELETE FROM {table} WHERE subject_kind = ? AND subject = ?"  # noqa: S608
                " AND kind = ? AND day = ? AND count = 0",
                (subject_kind, subject, kind.value, day.isoformat()),
            )


# -- queries ------------------------------------------------------------------------------

Weights = Mapping[PointKind, int]


@dataclass(frozen=True)
class Period:
    """The days counted: both ends included, either open."""

    since: date | None = None
    until: date | None = None

    def sql(self) -> tuple[str, list[str]]:
        """The WHERE conditions on `day`, and their parameters."""
        where, params = "", []
        if self.since is not None:
            where += " AND m.day >= ?"
            params.append(self.since.isoformat())
        if self.until is not None:
            where += " AND m.day <= ?"
            params.append(self.until.isoformat())
        return where, params


# Each count row credited to the member it names, or to the member its principal is linked
# to; rows of principals linked to nobody credit no one.
_CREDITED = (
    "SELECT CASE WHEN m.subject_kind = 'member' THEN m.subject ELSE p.member_id END AS member,"  # noqa: S608
    f" m.kind, m.count FROM {TABLE} m"
    " LEFT JOIN minqing_principals p ON m.subject_kind = 'principal' AND p.id = m.subject"
    " WHERE (m.subject_kind = 'member' OR p.member_id IS NOT NULL)"
)


def scored(counts: Mapping[str, int], weights: Weights) -> dict[str, Any]:
    """`{total, items}` for counts by kind: every kind with its count, weight and points."""
    items: list[dict[str, Any]] = []
    for kind in PointKind:
        count, weight = counts.get(kind.value, 0), weights[kind]
        items.append(
            {
                "kind": kind.value,
                "label": {"zh": kind.zh, "en": kind.en},
                "count": count,
                "weight": weight,
                "points": count * weight,
            }
        )
    return {"total": sum(int(i["points"]) for i in items), "items": items}


def points_of(db: Database, member_id: UUID, weights: Weights, period: Period) -> dict[str, Any]:
    """One member's points in `period`: `{total, items}` as `scored` gives them."""
    where, params = period.sql()
    sql = (
        f"SELECT kind, SUM(count) AS n FROM ({_CREDITED}{where}) credited"  # noqa: S608
        " WHERE member = ? GROUP BY kind"
    )
    counts = {str(r["kind"]): int(r["n"]) for r in db.fetchall(sql, (*params, str(member_id)))}
    return scored(counts, weights)


def totals(db: Database, weights: Weights, period: Period) -> dict[str, dict[str, Any]]:
    """Every credited member's points in `period`, by member id (members with none absent)."""
    where, params = period.sql()
    sql = (
        f"SELECT member, kind, SUM(count) AS n FROM ({_CREDITED}{where}) credited"  # noqa: S608
        " GROUP BY member, kind"
    )
    counts: dict[str, dict[str, int]] = {}
    for r in db.fetchall(sql, tuple(params)):
        counts.setdefault(str(r["member"]), {})[str(r["kind"])] = int(r["n"])
    return {member: scored(by_kind, weights) for member, by_kind in counts.items()}
