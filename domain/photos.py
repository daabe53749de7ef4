"""Photos of a concern: what the collector saw at intake, and the work before and after.

The bytes are not in the event: `PhotoAttached` carries the photo's SHA-256 digest (so the
audit chain covers it) and what a reader needs to show it; the bytes live in a side table
beside the log, written in the event's transaction (adapters/side_tables.py). Who may attach
which kind, and when, follows the lifecycle table: intake photos by whoever may raise a
concern while it is not yet assigned; before/after photos by whoever may resolve it (its
owner or staff) while it is assigned or resolved.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.errors import Conflict, DomainError, Forbidden
from domain.lifecycle import RAISE_ROLES, TRANSITIONS, Action, Status
from domain.principal import Actor, Principal
from domain.vocabulary import Labelled, Role

# Per photo as uploaded, and per concern.
MAX_PHOTO_BYTES = 8 * 1024 * 1024
MAX_PHOTOS = 20
# The longest side kept (a phone's 4000 px photo is resized) and the thumbnail's.
MAX_SIDE = 2048
THUMB_SIDE = 320
CAPTION_MAX = 200


class PhotoKind(Labelled):
    INTAKE = ("intake", "现场照片", "Seen at intake")
    BEFORE = ("before", "整改前", "Before the work")
    AFTER = ("after", "整改后", "After the work")


class TooLarge(DomainError):
    """An upload is larger than its limit (413), naming the field."""

    def __init__(self, field: str, limit: int) -> None:
        super().__init__(f"{field}: the photo is larger than {limit // (1024 * 1024)} MB")
        self.field = field
        self.limit = limit


@dataclass(frozen=True)
class PhotoFacts:
    """What the event records of one checked, re-encoded photo."""

    digest: str
    content_type: str
    width: int
    height: int
    size: int


_EARLY = frozenset({Status.INTAKE, Status.COMMITTEE, Status.BRANCH_MEETING})
_WORK = frozenset({Status.ASSIGNED, Status.RESOLVED})
# Whoever may resolve the concern photographs the work: the lifecycle's `resolve` rows.
_WORK_ROWS = [t for t in TRANSITIONS if t.action == Action.RESOLVE]
_WORK_ROLES: frozenset[Role] = frozenset().union(*(t.roles for t in _WORK_ROWS))


def photo_actor(
    principal: Principal, grid: str, owner: object, status: str, kind: PhotoKind
) -> Actor:
    """The actor a principal attaches a photo of `kind` as, or Forbidden / Conflict."""
    if not principal.covers(grid):
        raise Forbidden(f"{principal.name} is limited to grids {sorted(principal.grids)}")
    if kind is PhotoKind.INTAKE:
        roles, statuses, owner_may = RAISE_ROLES, _EARLY, False
    else:
        roles, statuses, owner_may = _WORK_ROLES, _WORK, any(t.owner_may for t in _WORK_ROWS)
    role = next((r for r in Role if r in roles and r in principal.roles), None)
    if role is None and owner_may and principal.member_id is not None:
        role = Role.MEMBER if principal.member_id == owner else None
    if role is None:
        names = ", ".join(sorted(r.value for r in roles))
        suffix = " or the concern's owner" if owner_may else ""
        raise Forbidden(f"a photo {kind.value} needs one of the roles {names}{suffix}")
    if Status(status) not in statuses:
        raise Conflict(
            f"a photo {kind.value} cannot be attached to a concern in status {status}",
            rule="photo_not_now",
        )
    return Actor(principal.id, role)
