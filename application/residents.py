"""Erasing a resident's personal data: their key destroyed and `Resident.DataErased`
recorded in one transaction (crypto-shredding: domain/resident_record.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from typing import Any

from eventsourcing.persistence import IntegrityError

from application.base import MinqingBase
from application.ports import ResidentKeyErased
from domain.errors import Conflict, NotFound
from domain.permissions import require_role
from domain.principal import Principal
from domain.resident_record import Resident
from domain.vocabulary import Role


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


def erase_personal_data(app: MinqingBase, principal: Principal, resident_ref: str) -> Erasure:
    """Destroy the resident's key and record `DataErased`, in one transaction."""
    require_role(principal, Role.ADMIN, "erasing a resident's personal data")
    key = app.keyring.key_state(resident_ref)
    if key is None:
        raise NotFound("resident", resident_ref)
    if key.erased:
        raise _already(resident_ref, key.erased_at)
    at = app.clock()
    record = Resident(
        resident_ref=resident_ref, actor_id=principal.id, actor_role=Role.ADMIN.value, at=at
    )
    erased_at = at.astimezone(UTC).isoformat()
    try:
        # The key goes in the same transaction as the event: both happen or neither.
        recordings = app.save(record, side_rows=[ResidentKeyErased(resident_ref, erased_at)])
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
