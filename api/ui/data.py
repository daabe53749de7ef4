"""The data pages share: members to choose owners from, meetings to shortlist onto, and
concern lists from the read model with each concern's actions for the signed-in caller."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from fastapi import Request

from application.minqing import Minqing
from domain.errors import DomainError
from domain.lifecycle import Status
from domain.meeting import MeetingStatus
from domain.permissions import actions_for
from domain.principal import Principal
from domain.vocabulary import DUTY_ROLE_FOR_CATEGORY, Category
from projections import concerns as concern_list
from projections.concerns import ConcernList, ConcernQuery, Order
from projections.runner import ProjectionRunner

READ_YOUR_WRITES_SECONDS = 2.0
PAGE_SIZE = 30


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


def card(
    app: Minqing, principal: Principal, summary: dict[str, Any], owners: dict[str, str]
) -> dict[str, Any]:
    """A list row with what the page needs beyond it: the caller's allowed actions on the
    concern as it is now, its current version, and the owner's name."""
    row = dict(summary)
    try:
        concern = app.get_concern(UUID(summary["id"]))
        row["allowed_actions"] = actions_for(principal, concern)
        row["version"] = concern.version
        row["status"] = concern.status
    except DomainError:
        row["allowed_actions"] = []
    row["duty_default"] = duty_default(summary["category"])
    row["owner_name"] = owners.get(summary.get("owner") or "", "")
    return row


@dataclass(frozen=True)
class Listing:
    """One page of concern cards and the cursor of the next."""

    cards: list[dict[str, Any]]
    next_cursor: str | None


def listing(
    request: Request,
    principal: Principal,
    query: ConcernQuery,
    order: Order,
    *,
    cursor: str | None = None,
    at: int | None = None,
    owners: dict[str, str] | None = None,
) -> Listing:
    """A page of the concern list read model (after waiting briefly for position `at`, so
    the page shows the command just done)."""
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
    )
    owners = owners if owners is not None else {}
    return Listing([card(app, principal, s, owners) for s in page.items], page.next_cursor)


def status_label_values() -> list[str]:
    """Every status value, in lifecycle order (for filters)."""
    return [s.value for s in Status]
