"""The concern list read model (`minqing_concern_list`) and the queries lists and queues run.

One row per concern with what staff filter and sort on; nothing personal (the resident's
data stays in the event, encrypted). Times are stored as UTC text (`…Z`, fixed width) so
they sort the same on SQLite and PostgreSQL; dates as `YYYY-MM-DD`. How each event changes
the row is projections/concern_fold.py's; the deadline watcher's walks along the table are
projections/concern_watch.py's.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from eventsourcing.utils import get_topic

from adapters.database import Database
from domain.concern import Concern
from domain.errors import Invalid
from domain.lifecycle import TERMINAL, Status

# How each event changes the row, with the UTC text of a time and the card mark, lives in
# projections/concern_fold.py; `utc_text` and `card_mark` are imported from here too, as
# they always were.
from projections.concern_fold import card_mark as card_mark
from projections.concern_fold import fold_concern
from projections.concern_fold import utc_text as utc_text
from projections.rows import Row, RowPerAggregate
from projections.runner import Recorded, Table

TABLE = "minqing_concern_list"
# A row's `stage` (application/time_limits.py: TimeLimitCommands.row_stage_reader).
StageReader = Callable[[Any], dict[str, Any] | None]
DEFAULT_LIMIT = 50
MAX_LIMIT = 200

# Every Concern event class, found on the aggregate so events added later are read too.
CONCERN_TOPICS: tuple[str, ...] = tuple(
    sorted(
        get_topic(v)
        for v in vars(Concern).values()
        if isinstance(v, type)
        and issubclass(v, Concern.Event)
        and v not in (Concern.Event, Concern.Created)
    )
)


class ConcernList(RowPerAggregate):
    """One row per concern: status, classification, owner, due date, key times."""

    name = "concern_list"
    # 2: feedback_pending, missed_due_on and feedback_overdue_round, for the deadline watcher.
    # 3: stage_since and mode, for the stage's clock (application/time_limits.py), and
    # missed_stage_since, the start of the last stage recorded missed (the watcher's walk).
    # 4: cards (supervision cards issued) and card_mark (the last automatic card's stage
    # start and grade), for the supervised queue and the watcher's walk.
    # 5: suspended_at, resumed_at and suspended_until (挂账): the stage's clock stops while
    # suspended, and the watcher resumes it at its until date.
    version = 5
    topics = CONCERN_TOPICS
    tables = (
        Table(
            TABLE,
            "id TEXT PRIMARY KEY, reference TEXT NOT NULL, title TEXT NOT NULL,"
            " description TEXT NOT NULL, status TEXT NOT NULL, category TEXT NOT NULL,"
            " library TEXT NOT NULL, channel TEXT NOT NULL, grid TEXT NOT NULL, owner TEXT,"
            " duty_role TEXT, due_on TEXT, raised_at TEXT NOT NULL, updated_at TEXT NOT NULL,"
            " resolved_at TEXT, round INTEGER NOT NULL, version BIGINT NOT NULL,"
            " position BIGINT NOT NULL, feedback_pending BOOLEAN NOT NULL DEFAULT FALSE,"
            " missed_due_on TEXT, feedback_overdue_round INTEGER, stage_since TEXT, mode TEXT,"
            " missed_stage_since TEXT, cards INTEGER NOT NULL DEFAULT 0, card_mark TEXT,"
            " suspended_at TEXT, resumed_at TEXT, suspended_until TEXT",
            {
                "raised": "(raised_at, id)",
                "status": "(status, raised_at, id)",
                "owner": "(owner, status, due_on)",
                "grid": "(grid, raised_at)",
                # The overdue queue, and the watcher's walk through passed due dates.
                "due": "(status, due_on, id)",
                # The watcher's walk through resolutions still waiting for feedback.
                "feedback": "(feedback_pending, resolved_at, id)",
                # The watcher's walk through suspensions whose until date has come.
                "suspended": "(suspended_until, id)",
            },
        ),
    )

    row_table = TABLE
    creations = frozenset({"Concern.Raised"})
    columns = (
        "id",
        "reference",
        "title",
        "description",
        "status",
        "category",
        "library",
        "channel",
        "grid",
        "owner",
        "duty_role",
        "due_on",
        "raised_at",
        "updated_at",
        "resolved_at",
        "round",
        "version",
        "position",
        "feedback_pending",
        "missed_due_on",
        "feedback_overdue_round",
        "stage_since",
        "mode",
        "missed_stage_since",
        "cards",
        "card_mark",
        "suspended_at",
        "resumed_at",
        "suspended_until",
    )

    def fold(self, row: Row | None, recorded: Recorded) -> Row | None:
        """A new row on Raised; otherwise the row with what the event changed."""
        return fold_concern(row, recorded)


# -- queries ------------------------------------------------------------------------------


class Order(Enum):
    """The sort orders a page can be in; the cursor remembers which."""

    NEWEST = "newest"  # raised_at, id descending: the concern list
    OLDEST = "oldest"  # raised_at, id ascending: first come, first served (queues)
    DUE = "due"  # due date, then raised_at, id ascending: most urgent first


# Unassigned concerns have no due date; they sort after every real one.
_DUE_KEY = "COALESCE(due_on, '9999-12-31')"
_KEYS: dict[Order, tuple[str, ...]] = {
    Order.NEWEST: ("raised_at", "id"),
    Order.OLDEST: ("raised_at", "id"),
    Order.DUE: (_DUE_KEY, "raised_at", "id"),
}


@dataclass(frozen=True)
class ConcernQuery:
    """Filters of the concern list; `scope` is the caller's grids (empty: every grid)."""

    statuses: Sequence[str] = ()
    categories: Sequence[str] = ()
    libraries: Sequence[str] = ()
    grids: Sequence[str] = ()
    owner: str | None = None
    overdue: bool | None = None
    supervised: bool = False
    q: str | None = None
    scope: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Page:
    """One page of summaries and the cursor of the next (None on the last page)."""

    items: list[dict[str, Any]]
    next_cursor: str | None


def _like(term: str) -> str:
    # LIKE's wildcards in the user's text match themselves; '\' is the escape character.
    escaped = term.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _in(column: str, values: Sequence[str], where: list[str], params: list[Any]) -> None:
    if values:
        where.append(f"{column} IN ({', '.join('?' * len(values))})")
        params.extend(values)


def _where(query: ConcernQuery, today: date) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    _in("status", query.statuses, where, params)
    _in("category", query.categories, where, params)
    _in("library", query.libraries, where, params)
    _in("grid", query.grids, where, params)
    if query.scope:
        _in("grid", sorted(query.scope), where, params)
    if query.owner is not None:
        where.append("owner = ?")
        params.append(query.owner)
    if query.overdue is not None:
        overdue = "(status = ? AND due_on < ? AND suspended_until IS NULL)"
        where.append(overdue if query.overdue else f"NOT {overdue}")
        params += [Status.ASSIGNED.value, today.isoformat()]
    if query.supervised:
        # Open concerns that have had a supervision card (督办).
        closed = sorted(s.value for s in TERMINAL)
        where.append(f"cards > 0 AND status NOT IN ({', '.join('?' * len(closed))})")
        params += closed
        where.append("(status <> ? OR feedback_pending = ?)")
        params += [Status.RESOLVED.value, True]
    # Every word must appear in the title or the description; Chinese text has no case
    # and needs no word splitting, so a plain substring match serves it.
    for term in (query.q or "").split():
        where.append("(lower(title) LIKE ? ESCAPE '\\' OR lower(description) LIKE ? ESCAPE '\\')")
        params += [_like(term), _like(term)]
    return where, params


def encode_cursor(order: Order, key: Sequence[Any]) -> str:
    """An opaque cursor: the sort key of the last item given, and the order it is in."""
    return encode_key(order.value, key)


def decode_cursor(order: Order, cursor: str) -> list[Any]:
    """The sort key in a cursor this list gave out; Invalid for anything else."""
    return decode_key(order.value, cursor, len(_KEYS[order]))


def encode_key(kind: str, key: Sequence[Any]) -> str:
    """An opaque cursor of any list: the sort key of the last item, and what it sorts by."""
    raw = json.dumps({"o": kind, "k": list(key)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_key(kind: str, cursor: str, length: int) -> list[Any]:
    """The `length` text keys in a cursor `encode_key(kind, …)` gave out; Invalid otherwise."""
    problem = Invalid([("cursor", "is not a cursor this list gave out; start without one")])
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
    except (binascii.Error, ValueError):
        raise problem from None
    if (
        not isinstance(data, dict)
        or data.get("o") != kind
        or not isinstance(data.get("k"), list)
        or len(data["k"]) != length
        or not all(isinstance(k, str) for k in data["k"])
    ):
        raise problem
    return list(data["k"])


def list_concerns(
    db: Database,
    query: ConcernQuery,
    *,
    today: date,
    zone: ZoneInfo,
    order: Order = Order.NEWEST,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
    stages: StageReader | None = None,
) -> Page:
    """One page of concern summaries matching `query`, in `order`, after `cursor`."""
    if not 1 <= limit <= MAX_LIMIT:
        raise Invalid([("limit", f"must be between 1 and {MAX_LIMIT}")])
    where, params = _where(query, today)
    keys = _KEYS[order]
    descending = order is Order.NEWEST
    if cursor is not None:
        after = decode_cursor(order, cursor)
        marks = ", ".join("?" * len(keys))
        where.append(f"({', '.join(keys)}) {'<' if descending else '>'} ({marks})")
        params += after
    direction = " DESC" if descending else ""
    sql = (
        f"SELECT *, {_DUE_KEY} AS due_key FROM {TABLE}"  # noqa: S608
        + (f" WHERE {' AND '.join(where)}" if where else "")
        + f" ORDER BY {', '.join(k + direction for k in keys)} LIMIT ?"
    )
    rows = db.fetchall(sql, (*params, limit + 1))
    more = len(rows) > limit
    rows = rows[:limit]
    items = [summary(r, today, zone, stages) for r in rows]
    next_cursor = None
    if more and rows:
        last = rows[-1]
        key = [last["due_key"], last["raised_at"], last["id"]]
        next_cursor = encode_cursor(order, key[-len(keys) :])
    return Page(items, next_cursor)


def _local(text: str | None, zone: ZoneInfo) -> str | None:
    return datetime.fromisoformat(text).astimezone(zone).isoformat() if text else None


def summary(
    row: Any, today: date, zone: ZoneInfo, stages: StageReader | None = None
) -> dict[str, Any]:
    """A row of the list as the API shows it: times in the community's zone, with offset;
    with `stages`, the open stage's clock."""
    status = Status(row["status"])
    due_on = row["due_on"]
    return {
        "id": row["id"],
        "reference": row["reference"],
        "title": row["title"],
        "status": status.value,
        "status_label": {"zh": status.zh, "en": status.en},
        "category": row["category"],
        "library": row["library"],
        "channel": row["channel"],
        "grid": row["grid"],
        "owner": row["owner"],
        "duty_role": row["duty_role"],
        "due_on": due_on,
        "overdue": status is Status.ASSIGNED
        and due_on is not None
        and due_on < today.isoformat()
        and row["suspended_until"] is None,
        # Suspended (挂账) until this date: the clock stopped, no handling until it resumes.
        "suspended_until": row["suspended_until"],
        "raised_at": _local(row["raised_at"], zone),
        "updated_at": _local(row["updated_at"], zone),
        "resolved_at": _local(row["resolved_at"], zone),
        "round": int(row["round"]),
        "version": int(row["version"]),
        "position": int(row["position"]),
        **({"stage": stages(row)} if stages else {}),
    }


# -- work queues ----------------------------------------------------------------------------

QUEUES = ("triage", "committee", "mine", "overdue", "supervised")


def queue_query(
    name: str, member_id: UUID | None, scope: frozenset[str]
) -> tuple[ConcernQuery, Order]:
    """The filter and order of a work queue: triage and committee first come, first
    served; the caller's assignments and the overdue list most urgent first."""
    if name == "triage":
        return ConcernQuery(statuses=(Status.INTAKE.value,), scope=scope), Order.OLDEST
    if name == "committee":
        return ConcernQuery(statuses=(Status.COMMITTEE.value,), scope=scope), Order.OLDEST
    if name == "mine":
        # A caller linked to no member has no assignments: an owner no row can have.
        owner = str(member_id) if member_id else ""
        query = ConcernQuery(statuses=(Status.ASSIGNED.value,), owner=owner, scope=scope)
        return query, Order.DUE
    if name == "overdue":
        return ConcernQuery(overdue=True, scope=scope), Order.DUE
    if name == "supervised":
        return ConcernQuery(supervised=True, scope=scope), Order.DUE
    msg = f"no queue {name!r}"
    raise ValueError(msg)
