"""A resident's record in the log: today only the erasure of their personal data.

Erasure is crypto-shredding: the resident's own key is destroyed, so every ciphertext of
their name, phone and address in the (unchangeable) event log becomes unreadable, while the
events' bytes, and so the audit chain, stay exactly as they were. The erasure itself is an
event, `Resident.DataErased`, that names no personal data: only the pseudonym, who and when.
Carrying it out (the key destroyed with the event saved): application/residents.py.
"""

from __future__ import annotations

from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

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
