"""A resident's record in the log: today only the erasure of their personal data.

Erasure is crypto-shredding: the resident's own key is destroyed, so every ciphertext of
their name, phone and address in the (unchangeable) event log becomes unreadable, while the
events' bytes, and so the audit chain, stay exactly as they were. The erasure itself is an
event, `Resident.DataErased`, that names no personal data: only the pseudonym, who and when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import IntegrityError

from domain.accounts import Principal
from domain.errors import Conflict, Forbidden, NotFound
from domain.store import SideWrite
from domain.vocabulary import Role

if TYPE_CHECKING:
    from domain.application import Minqing

_NAMESPACE = uuid5(NAMESPACE_URL, "urn:minqing:resident")


class Resident(Aggregate):
    """One resident, known only by their pseudonym `resident_ref`; created by the erasure."""

    @staticmethod
    def create_id(resident_ref: str) -> UUID:
        """The resident's aggregate id: the same for the same pseudonym, everywhere."""
        return uuid5(_NAMESPACE, resident_ref)

    @event("DataErased")
    def __init__(self, resident_ref: str, actor_id: str, actor_role: str, at: datetime) -> None:
        self.resident_ref = resident_ref
        self.erased_by = actor_id
        self.erased_at = at


@dataclass(frozen=True)
class Erasure:
    """What an erasure returns: the record's id, version, log position and when."""

    id: str
    version: int
    position: int
    resident_ref: str
    erased_at: str

    def body(self) -> dict[str, Any]:
        """The JSON body of the HTTP response."""
        return {
            "id": self.id,
            "version": self.version,
            "position": self.position,
            "resident_ref": self.resident_ref,
            "erased": True,
            "erased_at": self.erased_at,
        }


def erase_personal_data(app: Minqing, principal: Principal, resident_ref: str) -> Erasure:
    """Destroy the resident's key and record `DataErased`, in one transaction."""
    if Role.ADMIN not in principal.roles:
        raise Forbidden("erasing a resident's personal data needs the role admin")
    row = app.db.fetchone(
        "SELECT wrapped_key, erased_at FROM minqing_resident_keys WHERE resident_ref = ?",
        (resident_ref,),
    )
    if row is None:
        raise NotFound("resident", resident_ref)
    if row["erased_at"] is not None or row["wrapped_key"] is None:
        raise _already(resident_ref, row["erased_at"])
    at = app.clock()
    record = Resident(
        resident_ref=resident_ref, actor_id=principal.id, actor_role=Role.ADMIN.value, at=at
    )
    erased_at = at.astimezone(UTC).isoformat()
    destroy = SideWrite(
        "UPDATE minqing_resident_keys SET wrapped_key = NULL, erased_at = ? WHERE resident_ref = ?",
        (erased_at, resident_ref),
    )
    try:
        # The key goes in the same transaction as the event: both happen or neither.
        recordings = app.save(record, side_writes=[destroy])
    except IntegrityError:
        # A concurrent erasure saved the resident's first event before us.
        raise _already(resident_ref, None) from None
    return Erasure(
        id=str(record.id),
        version=record.version,
        position=max(r.notification.id for r in recordings),
        resident_ref=resident_ref,
        erased_at=erased_at,
    )


def _already(resident_ref: str, when: str | None) -> Conflict:
    since = f" on {when}" if when else ""
    return Conflict(
        f"the personal data of resident {resident_ref} was already erased{since}",
        rule="already_erased",
    )
