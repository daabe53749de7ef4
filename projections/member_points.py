"""Member points (党员积分, `minqing_member_points`): the work each member has recorded.

Four kinds of work earn points, each counted per day by the subject its event names:
- a household visit (`Visit.Recorded`): the principal who recorded it, on `visited_on`;
- a concern collected (`Concern.Raised`): the principal who raised it; a void (作废,
  `Concern.VoidApproved`: it did not meet the filing conditions) takes that point back;
- a meeting attended (`Meeting.Opened`): each member recorded present;
- a supervision card (`Concern.SupervisionCardIssued`): the owner it names, a deduction (the
  weights of yellow and red cards are negative);
- a concern resolved on time (`Concern.Resolved` with `on_time`): the concern's owner at
  resolution (the member named by the last assignment). A reopened concern takes that
  point back (the round's work did not hold, and its achievement entry leaves too); the
  next on-time resolution earns it again. A late resolution whose missed due date an
  approved appeal exempts (超期申诉, stage `handling`) earns it when the appeal is decided.

Principals are resolved to members (`minqing_principals.member_id`) when the points are
read, so the table stays a pure fold of the events and linking a principal to a member
later credits their earlier work. The weight of each kind is configuration, applied when
read too. Days are the calendar dates of the event's `at` in the offset it was stamped
with (the community's zone), as everywhere in the read side.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from adapters.database import Cursor, Database
from application.settings import Settings
from domain.meeting import Meeting
from domain.visit import Visit
from domain.vocabulary import Labelled
from projections.concerns import CONCERN_TOPICS
from projections.rows import Row, insert_rows, read_rows, write_rows
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
    # Deductions: a supervision card (督办) to the concern's owner (negative weights).
    YELLOW_CARD = ("yellow_card", "黄牌督办", "Yellow cards received")
    RED_CARD = ("red_card", "红牌督办", "Red cards received")


_CONCERN_KINDS = frozenset(
    {
        "Raised",
        "HandledNow",
        "Assigned",
        "Reassigned",
        "SentBack",
        "Resolved",
        "Reopened",
        "SupervisionCardIssued",
        "VoidApproved",
        "AppealDecided",
    }
)
TOPICS: tuple[str, ...] = (
    *(t for t in CONCERN_TOPICS if t.rpartition(".")[2] in _CONCERN_KINDS),
    get_topic(Visit.Recorded),
    get_topic(Meeting.Opened),  # type: ignore[attr-defined]
)


# A count's key: subject kind, subject, point kind, day (YYYY-MM-DD).
Count = tuple[str, str, str, str]
_OWNER_COLUMNS = ("concern_id", "owner", "credited_to", "credited_on", "raised_by", "raised_on")


class MemberPoints(Projection):
    """Counts of credited work per subject, kind and day; and each concern's owner."""

    name = "member_points"
    # 2: who raised each concern and when, so a void takes the collected point back.
    version = 3
    topics = TOPICS
    tables = (
        Table(
            TABLE,
            "subject_kind TEXT NOT NULL, subject TEXT NOT NULL, kind TEXT NOT NULL,"
            " day TEXT NOT NULL, count BIGINT NOT NULL,"
            " PRIMARY KEY (subject_kind, subject, kind, day)",
        ),
        # The owner now, who holds the on-time point of the current round (if anyone), and
        # who holds the collected point.
        Table(
            OWNERS_TABLE,
            "concern_id TEXT PRIMARY KEY, owner TEXT, credited_to TEXT, credited_on TEXT,"
            " raised_by TEXT, raised_on TEXT",
        ),
    )

    def apply(self, cur: Cursor, recorded: Recorded) -> None:
        """One event: a batch of one."""
        self.apply_batch(cur, [recorded])

    def apply_batch(self, cur: Cursor, batch: Sequence[Recorded]) -> None:
        """Count the work the batch records and follow concern owners for on-time points:
        in memory, then each owner row and each count written once."""
        owners = self.table(OWNERS_TABLE)
        first: dict[str, str] = {}
        for r in batch:
            if r.type_name.startswith("Concern."):
                first.setdefault(r.originator_id, r.type_name)
        # A concern raised in this batch has no owner row to read yet.
        unread = [k for k, kind in first.items() if kind != "Concern.Raised"]
        stored = read_rows(cur, owners, _OWNER_COLUMNS, unread)
        rows: dict[str, Row] = {k: dict(v) for k, v in stored.items()}
        counts: dict[Count, int] = {}
        for recorded in batch:
            e = recorded.event
            kind = recorded.type_name
            if kind == "Visit.Recorded":
                _add(counts, PRINCIPAL, e.actor_id, PointKind.VISIT, e.visited_on, 1)
            elif kind == "Meeting.Opened":
                for member in dict.fromkeys(e.present):
                    _add(counts, MEMBER, str(member), PointKind.MEETING_ATTENDED, e.at.date(), 1)
            else:
                _concern(rows, counts, kind.rpartition(".")[2], e)
        insert_rows(cur, owners, _OWNER_COLUMNS, [r for k, r in rows.items() if k not in stored])
        changed = [r for k, r in rows.items() if k in stored and r != stored[k]]
        write_rows(cur, owners, _OWNER_COLUMNS, changed)
        self._count(cur, counts)

    def _count(self, cur: Cursor, counts: Mapping[Count, int]) -> None:
        table = self.table(TABLE)
        # A count the batch leaves as it was needs no write (and a row it would add and
        # take back again must not appear).
        changed = [(*key, n) for key, n in counts.items() if n]
        cur.executemany(
            f"INSERT INTO {table} (subject_kind, subject, kind, day, count)"  # noqa: S608
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (subject_kind, subject, kind, day)"
            f" DO UPDATE SET count = {table}.count + excluded.count",
            changed,
        )
        # A count taken back to nothing leaves no row, as if never counted.
        cur.executemany(
            f"DELETE FROM {table} WHERE subject_kind = ? AND subject = ?"  # noqa: S608
            " AND kind = ? AND day = ? AND count = 0",
            [key for key, n in counts.items() if n < 0],
        )


def _add(
    counts: dict[Count, int], subject_kind: str, subject: str, kind: PointKind, day: date, n: int
) -> None:
    key = (subject_kind, subject, kind.value, day.isoformat())
    counts[key] = counts.get(key, 0) + n


def _exempts_handling(kind: str, e: Any) -> bool:
    return kind == "AppealDecided" and bool(e.approved) and e.stage == "handling"


def _concern(rows: dict[str, Row], counts: dict[Count, int], kind: str, e: Any) -> None:
    """Fold one concern event into its owner row, counting what it credits or takes back."""
    concern_id = str(e.originator_id)
    if kind == "Raised":
        _add(counts, PRINCIPAL, e.actor_id, PointKind.CONCERN_COLLECTED, e.at.date(), 1)
        rows[concern_id] = {
            "concern_id": concern_id,
            **dict.fromkeys(_OWNER_COLUMNS[1:]),
            "raised_by": e.actor_id,
            "raised_on": e.at.date().isoformat(),
        }
        return
    row = rows.get(concern_id)
    if row is None:  # an event of a concern whose Raised this table never saw
        return
    if kind in ("HandledNow", "Assigned", "Reassigned"):
        row["owner"] = str(e.owner)
    elif kind == "SentBack":
        row["owner"] = None
    elif kind == "Resolved" and e.on_time and row["owner"] is not None:
        row.update(credited_to=row["owner"], credited_on=e.at.date().isoformat())
        _add(counts, MEMBER, row["owner"], PointKind.RESOLVED_ON_TIME, e.at.date(), 1)
    elif _exempts_handling(kind, e) and row["owner"] is not None and not row["credited_to"]:
        # An approved appeal of the missed due date (超期申诉): resolved on time after all.
        row.update(credited_to=row["owner"], credited_on=e.at.date().isoformat())
        _add(counts, MEMBER, row["owner"], PointKind.RESOLVED_ON_TIME, e.at.date(), 1)
    elif kind == "SupervisionCardIssued" and e.owner is not None:
        card = PointKind.RED_CARD if e.grade == "red" else PointKind.YELLOW_CARD
        _add(counts, MEMBER, str(e.owner), card, e.at.date(), 1)
    elif kind == "VoidApproved" and row["raised_by"] is not None:
        # Not a concern the filing conditions admit: its collected point goes back.
        day = date.fromisoformat(row["raised_on"])
        _add(counts, PRINCIPAL, row["raised_by"], PointKind.CONCERN_COLLECTED, day, -1)
        row.update(raised_by=None, raised_on=None)
    elif kind == "Reopened" and row["credited_to"] is not None:
        day = date.fromisoformat(row["credited_on"])
        _add(counts, MEMBER, row["credited_to"], PointKind.RESOLVED_ON_TIME, day, -1)
        row.update(credited_to=None, credited_on=None)


# -- queries ------------------------------------------------------------------------------

Weights = Mapping[PointKind, int]


def weights(settings: Settings) -> Weights:
    """Each kind's points, as the settings give them (MINQING_POINTS_*)."""
    return {
        PointKind.VISIT: settings.points_visit,
        PointKind.CONCERN_COLLECTED: settings.points_concern_collected,
        PointKind.MEETING_ATTENDED: settings.points_meeting_attended,
        PointKind.RESOLVED_ON_TIME: settings.points_resolved_on_time,
        PointKind.YELLOW_CARD: settings.points_yellow_card,
        PointKind.RED_CARD: settings.points_red_card,
    }


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
