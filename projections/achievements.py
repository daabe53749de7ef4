"""The achievement library (成果库, `minqing_achievements`): what the community delivered.

An entry is every resolved concern (stage `resolved`, any library) and every suggestion the
branch meeting adopted (stage `adopted`, then `resolved` once carried out). It says what was
done, by which duty role, how fast, whether on time, and what the resident said; it is
publishable, so it holds nothing personal: no resident, no tracking code, no owner (the
duty role stands for who).

The rules, as the fold applies them event by event:
- `Resolved` lists the concern as `resolved`; `Reopened` takes that entry out again (a
  reopened adopted suggestion goes back to `adopted`: the adoption still stands, only its
  carrying out is being redone). Feedback fills `solved` and `satisfaction` (null until then).
- `AdoptedAtMeeting` lists a suggestion-library concern as `adopted`. The adoption stops
  standing, and the entry leaves, when the concern is declined, withdrawn or merged, or a
  later meeting rejects or defers it; a later adoption brings it back.

Dates are calendar dates of the event's own `at`, in the offset it was stamped with: the
application's clock stamps every event in the community's zone (settings `timezone`), and
that is the date the domain itself uses for `on_time`. So `days_taken` (raised → resolved)
and the `from`/`to` filters agree with `on_time`, and the projection needs no setting.
Times are also kept as UTC text, for ordering and display.

The table has a row for every concern (what the fold needs from `Raised` on), with `stage`
NULL while it is not in the library.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from adapters.database import Database
from domain.errors import Invalid
from domain.geo import Point, cell_of
from domain.vocabulary import Category, DutyRole, Labelled, Library, Satisfaction
from projections.concern_places import TABLE as PLACES
from projections.concerns import CONCERN_TOPICS, Page, decode_key, encode_key, utc_text
from projections.rows import Row, RowPerAggregate
from projections.runner import Recorded, Table

TABLE = "minqing_achievements"
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
_CURSOR_KIND = "achievements"


class Stage(Labelled):
    ADOPTED = ("adopted", "已采纳", "Adopted")
    RESOLVED = ("resolved", "已办结", "Resolved")


# The events that change an entry; the rest of a concern's events leave it as it is.
_KINDS = frozenset(
    {
        "Raised",
        "HandledNow",
        "Assigned",
        "Reassigned",
        "DeadlineExtended",
        "Resumed",
        "SentBack",
        "AdoptedAtMeeting",
        "RejectedAtMeeting",
        "DeferredAtMeeting",
        "Declined",
        "Withdrawn",
        "Merged",
        "Resolved",
        "FeedbackRecorded",
        "Reopened",
    }
)
TOPICS: tuple[str, ...] = tuple(t for t in CONCERN_TOPICS if t.rpartition(".")[2] in _KINDS)
# After these the adoption no longer stands: the concern ended undone, or a later meeting
# decided otherwise.
_ADOPTION_ENDS = frozenset(
    {"RejectedAtMeeting", "DeferredAtMeeting", "Declined", "Withdrawn", "Merged"}
)
# What the resolution of a round fills in, all emptied again when the round is reopened.
_RESOLUTION = ("summary", "resolved_at", "resolved_on", "on_time", "solved", "satisfaction")


class Achievements(RowPerAggregate):
    """One row per concern; those with a `stage` are the achievement library."""

    name = "achievements"
    topics = TOPICS
    tables = (
        Table(
            TABLE,
            "id TEXT PRIMARY KEY, reference TEXT NOT NULL, title TEXT NOT NULL,"
            " library TEXT NOT NULL, category TEXT NOT NULL, grid TEXT NOT NULL,"
            " raised_at TEXT NOT NULL, raised_on TEXT NOT NULL, round INTEGER NOT NULL,"
            " duty_role TEXT, due_on TEXT, adopted_at TEXT, adopted_on TEXT, summary TEXT,"
            " resolved_at TEXT, resolved_on TEXT, on_time INTEGER, solved INTEGER,"
            " satisfaction TEXT, stage TEXT, listed_at TEXT, listed_on TEXT",
            {"listed": "(listed_at, id)", "grid": "(grid, listed_at)"},
        ),
    )

    row_table = TABLE
    creations = frozenset({"Concern.Raised"})
    columns = (
        "id",
        "reference",
        "title",
        "library",
        "category",
        "grid",
        "raised_at",
        "raised_on",
        "round",
        "duty_role",
        "due_on",
        "adopted_at",
        "adopted_on",
        "summary",
        "resolved_at",
        "resolved_on",
        "on_time",
        "solved",
        "satisfaction",
        "stage",
        "listed_at",
        "listed_on",
    )

    def fold(self, row: Row | None, recorded: Recorded) -> Row | None:
        """The concern's row; the entry listed, moved or unlisted as the event says."""
        e = recorded.event
        kind = type(e).__name__
        if kind == "Raised":
            return {
                **dict.fromkeys(self.columns),
                "id": str(e.originator_id),
                "reference": e.reference,
                "title": e.title,
                "library": e.library,
                "category": e.category,
                "grid": e.grid,
                "raised_at": utc_text(e.at),
                "raised_on": e.at.date().isoformat(),
                "round": 1,
            }
        if row is None:  # an event of a concern whose Raised this table never saw
            return None
        suggestion = row["library"] == Library.SUGGESTION.value
        if kind in ("HandledNow", "Assigned"):
            row.update(duty_role=e.duty_role, due_on=e.due_on.isoformat())
        elif kind == "Reassigned":
            row["duty_role"] = e.duty_role
        elif kind == "DeadlineExtended":
            row["due_on"] = e.due_on.isoformat()
        elif kind == "Resumed" and e.due_on is not None:
            row["due_on"] = e.due_on.isoformat()  # moved later by the suspended time
        elif kind == "SentBack":
            row.update(duty_role=None, due_on=None)
        elif kind == "AdoptedAtMeeting":
            # Only a suggestion enters the library at adoption; any concern remembers it.
            at, on = utc_text(e.at), e.at.date().isoformat()
            row.update(adopted_at=at, adopted_on=on)
            if suggestion:
                row.update(stage=Stage.ADOPTED.value, listed_at=at, listed_on=on)
        elif kind in _ADOPTION_ENDS:
            # None of these can follow a resolution, so the entry can only be an adoption.
            row.update(adopted_at=None, adopted_on=None, stage=None)
            row.update(listed_at=None, listed_on=None)
        elif kind == "Resolved":
            at, on = utc_text(e.at), e.at.date().isoformat()
            row.update(summary=e.summary, resolved_at=at, resolved_on=on)
            row.update(on_time=int(e.on_time), solved=None, satisfaction=None)
            row.update(stage=Stage.RESOLVED.value, listed_at=at, listed_on=on)
        elif kind == "FeedbackRecorded":
            row.update(solved=int(e.solved), satisfaction=e.satisfaction)
        elif kind == "Reopened":
            # The resolved entry leaves; an adopted suggestion stays, as adopted.
            row.update(dict.fromkeys(_RESOLUTION), round=int(row["round"]) + 1)
            adopted = suggestion and row["adopted_at"] is not None
            row["stage"] = Stage.ADOPTED.value if adopted else None
            row["listed_at"] = row["adopted_at"] if suggestion else None
            row["listed_on"] = row["adopted_on"] if suggestion else None
        return row


# -- queries ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AchievementQuery:
    """Filters of the achievement library; `scope` is the caller's grids (empty: all).

    `since` and `until` bound the entry's date: the resolution's, or the adoption's while
    an adopted suggestion is not resolved yet.
    """

    categories: Sequence[str] = ()
    grids: Sequence[str] = ()
    since: date | None = None
    until: date | None = None
    scope: frozenset[str] = frozenset()


def _where(query: AchievementQuery) -> tuple[list[str], list[Any]]:
    where = ["stage IS NOT NULL"]
    params: list[Any] = []
    for column, values in (
        ("category", query.categories),
        ("grid", query.grids),
        ("grid", sorted(query.scope)),
    ):
        if values:
            where.append(f"{column} IN ({', '.join('?' * len(values))})")
            params.extend(values)
    if query.since is not None:
        where.append("listed_on >= ?")
        params.append(query.since.isoformat())
    if query.until is not None:
        where.append("listed_on <= ?")
        params.append(query.until.isoformat())
    return where, params


# The concern's point (concern_places): coarsened to its cell before anyone sees it.
_POINT = ", ".join(
    f"(SELECT p.{axis} FROM {PLACES} p WHERE p.id = a.id) AS point_{axis}"  # noqa: S608
    for axis in ("lat", "lng")
)
DEFAULT_CELL_M = 500


def list_achievements(
    db: Database,
    query: AchievementQuery,
    *,
    zone: ZoneInfo,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
    cell_m: int = DEFAULT_CELL_M,
) -> Page:
    """One page of the achievement library, newest entry first, after `cursor`; a concern's
    point only as the cell of `cell_m` metres it lies in."""
    if not 1 <= limit <= MAX_LIMIT:
        raise Invalid([("limit", f"must be between 1 and {MAX_LIMIT}")])
    if query.since and query.until and query.since > query.until:
        raise Invalid([("to", "must not be before from")])
    where, params = _where(query)
    if cursor is not None:
        where.append("(listed_at, id) < (?, ?)")
        params += decode_key(_CURSOR_KIND, cursor, 2)
    sql = (
        f"SELECT *, {_POINT} FROM {TABLE} a WHERE {' AND '.join(where)}"  # noqa: S608
        " ORDER BY listed_at DESC, id DESC LIMIT ?"
    )
    rows = db.fetchall(sql, (*params, limit + 1))
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if more and rows:
        next_cursor = encode_key(_CURSOR_KIND, [rows[-1]["listed_at"], rows[-1]["id"]])
    return Page([{**entry(r, zone), "cell": _cell(r, cell_m)} for r in rows], next_cursor)


def _cell(row: Any, cell_m: int) -> dict[str, Any] | None:
    if row["point_lat"] is None or row["point_lng"] is None:
        return None
    return cell_of(Point(float(row["point_lat"]), float(row["point_lng"])), cell_m).public()


def _label(kind: type[Labelled], value: str | None) -> dict[str, str] | None:
    if value is None:
        return None
    member = kind(value)
    return {"zh": member.zh, "en": member.en}


def _flag(value: Any) -> bool | None:
    return None if value is None else bool(value)


def entry(row: Any, zone: ZoneInfo) -> dict[str, Any]:
    """An entry as the library shows it: labels in Chinese and English, nothing personal."""
    resolved_on = row["resolved_on"]
    days_taken = None
    if resolved_on is not None:
        days_taken = (date.fromisoformat(resolved_on) - date.fromisoformat(row["raised_on"])).days
    resolved_at = row["resolved_at"]
    return {
        "id": row["id"],
        "reference": row["reference"],
        "title": row["title"],
        "stage": row["stage"],
        "stage_label": _label(Stage, row["stage"]),
        "library": row["library"],
        "library_label": _label(Library, row["library"]),
        "category": row["category"],
        "category_label": _label(Category, row["category"]),
        "grid": row["grid"],
        "round": int(row["round"]),
        "summary": row["summary"],
        "duty_role": row["duty_role"],
        "duty_role_label": _label(DutyRole, row["duty_role"]),
        "raised_on": row["raised_on"],
        "adopted_on": row["adopted_on"],
        "due_on": row["due_on"],
        "resolved_on": resolved_on,
        "resolved_at": (
            datetime.fromisoformat(resolved_at).astimezone(zone).isoformat()
            if resolved_at
            else None
        ),
        "days_taken": days_taken,
        "on_time": _flag(row["on_time"]),
        "solved": _flag(row["solved"]),
        "satisfaction": row["satisfaction"],
        "satisfaction_label": _label(Satisfaction, row["satisfaction"]),
    }
