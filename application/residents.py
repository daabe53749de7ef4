"""Erasing a resident's personal data: their key destroyed and `Resident.DataErased`
recorded in one transaction (crypto-shredding: domain/resident_record.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import IntegrityError

from adapters.database import SideWrite
from domain.errors import Conflict, Forbidden, NotFound
from domain.principal import Principal
from domain.resident_record import Resident
from domain.vocabulary import Role

if TYPE_CHECKING:
    from application.minqing import Minqing


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
