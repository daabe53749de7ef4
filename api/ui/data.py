"""The data pages share: a concern by id or reference, members to choose owners from,
meetings to shortlist onto, and concern lists from the read model with each concern's
actions for the signed-in caller."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from fastapi import Request

from application import disclosure, history_events
from application.minqing import Minqing
from domain.concern import Concern
from domain.errors import DomainError, NotFound
from domain.history_labels import event_label, reason_of
from domain.lifecycle import Status
from domain.meeting import MeetingStatus
from domain.permissions import actions_for, check_view
from domain.principal import Principal
from domain.references import REFERENCE
from domain.vocabulary import DUTY_ROLE_FOR_CATEGORY, Category
from projections import concerns as concern_list
from projections.concerns import ConcernList, ConcernQuery, Order
from projections.rows import read_rows
from projections.runner import ProjectionRunner

READ_YOUR_WRITES_SECONDS = 2.0
PAGE_SIZE = 30
# A card shows the start of the description; the concern's page shows all of it.
EXCERPT = 160
# How far back a card looks for the latest note or reason (referral note, what is missing …).
NOTE_LOOKBACK = 8
# Open concerns another can be merged into, offered by the merge form's picker.
MERGE_CANDIDATES = 200
_OPEN = (Status.INTAKE, Status.COMMITTEE, Status.BRANCH_MEETING, Status.ASSIGNED)


def members(app: Minqing) -> list[dict[str, Any]]:
    """Every registered member, as the owner and voter choices show them."""
    return [
        {
            "id": str(m.id),
            "name": m.name,
            "duty_roles": list(m.duty_roles),
            "grids": list(m.grids),
            "votes": bool(m.votes_in_branch),
        }
        for m in app.list_members()
    ]


def names(found: list[dict[str, Any]]) -> dict[str, str]:
    """Member id -> name."""
    return {m["id"]: m["name"] for m in found}


def upcoming_meetings(app: Minqing) -> list[dict[str, Any]]:
    """Meetings not yet closed, soonest first: the ones a concern can be shortlisted onto."""
    found = [m for m in app.list_meetings() if m.status != MeetingStatus.CLOSED.value]
    found.sort(key=lambda m: m.scheduled_for)
    return [
        {"id": str(m.id), "title": m.title, "scheduled_for": m.scheduled_for, "status": m.status}
        for m in found
    ]


def duty_default(category: str) -> str:
    """The duty role that answers a category (六员 match 六类别)."""
    try:
        return DUTY_ROLE_FOR_CATEGORY[Category(category)].value
    except (ValueError, KeyError):
        return ""


def excerpt(text: str, limit: int = EXCERPT) -> str:
    """The start of a text, cut at `limit` characters with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def latest_note(app: Minqing, concern_id: UUID) -> dict[str, Any] | None:
    """The newest note or reason among the concern's last events (the referral note, what
    is missing, why it was sent back …): its event's label {zh, en} and the text."""
    stored = app.recorder.select_events(concern_id, desc=True, limit=NOTE_LOOKBACK)
    for entry in history_events.entries(app.mapper, stored):
        data = entry.data.get("data") or {}
        text = reason_of(data) or data.get("note")
        if isinstance(text, str) and text.strip() and entry.data["type"] != "Raised":
            label = event_label("Concern", entry.data["type"]).as_dict()
            return {"label": label, "text": excerpt(text)}
    return None


def card(
    app: Minqing,
    principal: Principal,
    summary: dict[str, Any],
    owners: dict[str, str],
    *,
    notes: bool = False,
    contact: bool = False,
) -> dict[str, Any]:
    """A list row with what the page needs beyond it: the caller's allowed actions on the
    concern as it is now, its current version, the owner's name, the start of the
    description; with `notes` the latest note, with `contact` the resident's contact
    (only when the caller may see it, and then the read is logged)."""
    row = dict(summary)
    row["note"] = None
    row["resident"] = None
    try:
        concern = app.get_concern(UUID(summary["id"]))
        row["allowed_actions"] = actions_for(principal, concern)
        row["version"] = concern.version
        row["open_milestones"] = open_milestones(concern.milestones)
        row["status"] = concern.status
        row["excerpt"] = excerpt(concern.description)
        if notes:
            row["note"] = latest_note(app, concern.id)
        if contact:
            row["resident"] = resident_contact(app, principal, concern)
    except DomainError:
        row["allowed_actions"] = []
        row["excerpt"] = ""
    row["duty_default"] = duty_default(summary["category"])
    row["owner_name"] = owners.get(summary.get("owner") or "", "")
    return row


def open_milestones(milestones: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The milestones not done yet, as the form's choice shows them."""
    return [
        {"id": str(m["id"]), "title": m["title"], "due_on": str(m["due_on"])}
        for m in milestones
        if m["done_at"] is None
    ]


def resident_contact(app: Minqing, principal: Principal, concern: Concern) -> dict[str, Any] | None:
    """The resident's name and phone for someone whose work is contacting them (the owner,
    staff), logged in the access log first; None when hidden, anonymous or erased."""
    if concern.anonymous or not concern.resident_ref:
        return None
    view = disclosure.disclose(app, principal, concern, app.concern_view(concern, principal))
    resident = view.get("resident")
    if not isinstance(resident, dict) or resident.get("redacted") or resident.get("erased"):
        return None
    return resident or None


def subject(app: Minqing, principal: Principal, raw: str | None) -> dict[str, str] | None:
    """The reference and title of a concern the caller may see (to name it in a message)."""
    if not raw:
        return None
    try:
        concern = app.get_concern(UUID(raw))
        check_view(principal, concern)
    except (ValueError, DomainError):
        return None
    return {"id": str(concern.id), "reference": concern.reference, "title": concern.title}


def count(app: Minqing, query: ConcernQuery) -> int:
    """How many concerns match `query` (every page together)."""
    where, params = concern_list._where(query, app.clock().date())
    sql = f"SELECT COUNT(*) AS n FROM {concern_list.TABLE}"  # noqa: S608
    if where:
        sql += " WHERE " + " AND ".join(where)
    row = app.db.fetchone(sql, tuple(params))
    return int(row["n"]) if row else 0


def by_reference(app: Minqing, principal: Principal, text: str) -> dict[str, Any] | None:
    """The list summary of the concern a search names by its reference (MQ-2026-000001,
    any case), when the caller may see it."""
    reference = text.strip().upper()
    if not REFERENCE.fullmatch(reference):
        return None
    row = app.db.fetchone(
        f"SELECT * FROM {concern_list.TABLE} WHERE reference = ?",  # noqa: S608
        (reference,),
    )
    if row is None:
        return None
    scope = principal.grids
    if scope and row["grid"] not in scope:
        return None
    return concern_list.summary(row, app.clock().date(), app.zone, app.row_stage_reader())


def merge_candidates(app: Minqing, concern: Concern) -> list[dict[str, str]]:
    """Open concerns of the same grid that `concern` could be merged into, the same
    category first, then the newest."""
    rows = app.db.fetchall(
        f"SELECT reference, title, category FROM {concern_list.TABLE}"  # noqa: S608
        f" WHERE grid = ? AND id <> ? AND status IN ({', '.join('?' * len(_OPEN))})"
        " ORDER BY raised_at DESC LIMIT ?",
        (concern.grid, str(concern.id), *(s.value for s in _OPEN), MERGE_CANDIDATES),
    )
    found = [dict(r) for r in rows]
    found.sort(key=lambda r: r["category"] != concern.category)
    return [{"reference": r["reference"], "title": r["title"]} for r in found]


def find_concern(app: Minqing, raw: str) -> Concern:
    """A concern by id or reference (MQ-2026-000123)."""
    text = raw.strip()
    if REFERENCE.fullmatch(text.upper()):
        return app.concern_by_reference(text.upper())
    try:
        return app.get_concern(UUID(text))
    except ValueError:
        raise NotFound("concern", raw) from None


@dataclass(frozen=True)
class Listing:
    """One page of concern cards, the cursor of the next, and how many match in all."""

    cards: list[dict[str, Any]]
    next_cursor: str | None
    total: int = 0


def listing(
    request: Request,
    principal: Principal,
    query: ConcernQuery,
    order: Order,
    *,
    cursor: str | None = None,
    at: int | None = None,
    owners: dict[str, str] | None = None,
    notes: bool = False,
    contact: bool = False,
) -> Listing:
    """A page of the concern list read model (after waiting briefly for position `at`, so
    the page shows the command just done), with the number of matches in all."""
    app: Minqing = request.app.state.minqing
    runner: ProjectionRunner = request.app.state.projections
    if at is not None:
        runner.wait_for(ConcernList.name, at, READ_YOUR_WRITES_SECONDS)
    page = concern_list.list_concerns(
        app.db,
        query,
        today=app.clock().date(),
        zone=app.zone,
        order=order,
        cursor=cursor,
        limit=PAGE_SIZE,
        stages=app.row_stage_reader(),
    )
    owners = owners if owners is not None else {}
    cards = [card(app, principal, s, owners, notes=notes, contact=contact) for s in page.items]
    return Listing(cards, page.next_cursor, count(app, query))


def status_label_values() -> list[str]:
    """Every status value, in lifecycle order (for filters)."""
    return [s.value for s in Status]


def previous_cursor(
    app: Minqing, query: ConcernQuery, order: Order, first_id: str
) -> tuple[bool, str | None]:
    """Whether a page that starts at `first_id` has a page before it, and the cursor that
    opens that page (None: it is the first page). Cursors only go forwards, so this looks
    back from the first item: the page before is the PAGE_SIZE items preceding it."""
    keys = concern_list._KEYS[order]
    picked = ", ".join(f"{k} AS k{i}" for i, k in enumerate(keys))
    first = app.db.fetchone(
        f"SELECT {picked} FROM {concern_list.TABLE} WHERE id = ?",  # noqa: S608
        (first_id,),
    )
    if first is None:
        return False, None
    where, params = concern_list._where(query, app.clock().date())
    descending = order is Order.NEWEST
    marks = ", ".join("?" * len(keys))
    where.append(f"({', '.join(keys)}) {'>' if descending else '<'} ({marks})")
    params += [first[f"k{i}"] for i in range(len(keys))]
    backwards = "" if descending else " DESC"
    sql = (
        f"SELECT {picked} FROM {concern_list.TABLE}"  # noqa: S608
        f" WHERE {' AND '.join(where)}"
        f" ORDER BY {', '.join(k + backwards for k in keys)} LIMIT ?"
    )
    rows = app.db.fetchall(sql, (*params, PAGE_SIZE + 1))
    if not rows:
        return False, None
    if len(rows) <= PAGE_SIZE:
        return True, None
    anchor = rows[PAGE_SIZE]
    return True, concern_list.encode_cursor(order, [anchor[f"k{i}"] for i in range(len(keys))])


def references(app: Minqing, ids: list[str]) -> dict[str, str]:
    """The references of these concerns by id, read from the concern list together (one
    read per 500 ids); a concern it does not hold yet is read from its events, and an id
    of no concern is left out."""
    with app.db.snapshot() as cur:
        rows = read_rows(cur, concern_list.TABLE, ("id", "reference"), sorted(set(ids)))
    found = {key: str(row["reference"]) for key, row in rows.items()}
    for raw in dict.fromkeys(ids):
        if raw in found:
            continue
        try:
            found[raw] = app.get_concern(UUID(raw)).reference or raw
        except (ValueError, DomainError):
            continue
    return found
