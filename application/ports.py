"""The ports: what the application services ask of storage besides the event store.

Each is a Protocol; adapters/ implements them twice, on SQL (adapters/side_tables.py,
keyring.py, accounts.py, access_log.py) and in memory (adapters/memory.py). Which ones an
application gets is decided by the store its environment names (`PERSISTENCE_MODULE`, one of
the adapters' `Store` factories): the factory builds the event store's recorder and these
ports on the same database, and `Storage.ports` hands them over.

Rows that must be written in the same transaction as a command's events (the idempotency
record, a resident's new key, a destroyed key) are `SideRow`s: the application passes them
to `save`, and the recorder writes them with the events or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable
from uuid import UUID

from domain.principal import Principal
from domain.residents import ResidentData
from domain.vocabulary import Role

# -- rows written with the events --------------------------------------------------------------


@dataclass(frozen=True)
class IdempotencyRow:
    """A command's answer, kept under the caller's Idempotency-Key for replays."""

    principal_id: str
    key: str
    fingerprint: str
    body: str  # the answer as JSON, without its position
    aggregate_id: str
    version: int
    created_at: str


@dataclass(frozen=True)
class ResidentKeyRow:
    """A resident's new key, wrapped by the master key."""

    resident_ref: str
    wrapped_key: str
    created_at: str


@dataclass(frozen=True)
class ResidentKeyErased:
    """A resident's key destroyed (erasure): every ciphertext under it becomes unreadable."""

    resident_ref: str
    erased_at: str


@dataclass(frozen=True)
class RequestEventRow:
    """The HTTP request (its X-Request-ID) that recorded an event (application/requests.py)."""

    aggregate_id: str
    version: int
    request_id: str


@dataclass(frozen=True)
class PhotoRow:
    """A photo's bytes under their SHA-256 digest (content-addressed: the same photo twice is
    one row); `resident_ref` ties a photo that shows a resident to their erasure."""

    digest: str
    content_type: str
    data: bytes
    thumb: bytes
    resident_ref: str | None
    created_at: str


SideRow = IdempotencyRow | ResidentKeyRow | ResidentKeyErased | RequestEventRow | PhotoRow


# -- the ports ---------------------------------------------------------------------------------


class Counters(Protocol):
    """Named counters whose numbers are never given twice (reference numbers)."""

    def next(self, name: str) -> int:
        """Take the next number of counter `name` (1 first)."""
        ...


@dataclass(frozen=True)
class StoredAnswer:
    """What an earlier request with the same Idempotency-Key was answered."""

    fingerprint: str
    body: dict[str, Any]
    aggregate_id: str
    version: int


class IdempotencyStore(Protocol):
    """The answers kept under Idempotency-Keys (written as `IdempotencyRow`s)."""

    def find(self, principal_id: str, key: str) -> StoredAnswer | None:
        """The answer kept for this caller's key, if any."""
        ...


class EventPositions(Protocol):
    """Where stored events sit in the log."""

    def position_of(self, aggregate_id: str, version: int) -> int | None:
        """The log position of one stored event (None when it is not stored)."""
        ...


@dataclass(frozen=True)
class Sealed:
    """What may be stored in an event for a resident: a pseudonym and a ciphertext; the key
    row goes in the same save."""

    resident_ref: str
    ciphertext: str
    key_row: ResidentKeyRow


@dataclass(frozen=True)
class KeyState:
    """A resident's key as kept: whether it was destroyed, and when."""

    erased: bool
    erased_at: str | None


class Keyring(Protocol):
    """Residents' keys (one per resident, wrapped by the master key) and Minqing's own
    secrets under the master key."""

    def seal(self, data: ResidentData) -> Sealed:
        """Encrypt a new resident's data under a fresh key."""
        ...

    def open(self, resident_ref: str, ciphertext: str) -> ResidentData | None:
        """Decrypt a resident's data; None when the key was destroyed (erased)."""
        ...

    def household_key(self, grid: str, household: str) -> str:
        """A keyed hash of one household in one grid (no address in it)."""
        ...

    def key_state(self, resident_ref: str) -> KeyState | None:
        """The resident's key as kept (None: no such resident)."""
        ...

    def ballot_box(self) -> ResidentKeyRow:
        """A fresh key for one secret vote's ballots, saved with the vote's opening."""
        ...

    def seal_ballot(self, box: str, choice: str) -> str:
        """A choice sealed under the vote's key (LookupError once it is destroyed)."""
        ...

    def open_ballot(self, box: str, sealed: str) -> str | None:
        """The choice in a sealed ballot; None once the vote's key is destroyed."""
        ...

    def encrypt(self, plain: bytes, context: str) -> str:
        """Encrypt one of Minqing's own secrets under the master key, bound to `context`."""
        ...

    def decrypt(self, token: str, context: str) -> bytes:
        """Decrypt what `encrypt` made under the same context."""
        ...


class Principals(Protocol):
    """The principals and their bearer tokens (stored as hashes)."""

    def add(
        self,
        name: str,
        roles: list[Role],
        grids: list[str] | None = None,
        member_id: UUID | None = None,
    ) -> Principal:
        """Add a principal; the name must be new."""
        ...

    def find(self, name_or_id: str) -> Principal:
        """A principal by name or id (NotFound otherwise)."""
        ...

    def all(self) -> list[Principal]:
        """Every principal, by name."""
        ...

    def issue_token(self, principal_id: str, label: str = "") -> tuple[str, str]:
        """A new token: (its id, the token, shown only now)."""
        ...

    def revoke_token(self, token_id: str) -> None:
        """Revoke a token; it stops working at once."""
        ...

    def tokens(self, principal_id: str) -> list[dict[str, str | None]]:
        """A principal's tokens (never the token itself)."""
        ...

    def authenticate(self, token: str) -> Principal | None:
        """The principal a live token belongs to, or None."""
        ...

    def count(self) -> int:
        """How many principals exist."""
        ...


@dataclass(frozen=True)
class Access:
    """One read of a resident's personal data."""

    principal: Principal
    basis: str
    reason: str | None
    resident_ref: str
    concern_id: str  # the visit's id when `subject` is "visit"
    concern_reference: str | None
    concern_version: int
    grid: str | None = None
    subject: str = "concern"


class AccessLog(Protocol):
    """Every read of a resident's personal data: who, when, why (no personal data)."""

    def record(self, access: Access, at: datetime | None = None) -> None:
        """Write one access; raises if it cannot (then the data must not be shown)."""
        ...

    def entries(
        self,
        *,
        resident_ref: str | None = None,
        concern_id: str | None = None,
        principal_id: str | None = None,
        cursor: str | None = None,
        limit: int = 50,
        grids: Collection[str] = (),
    ) -> tuple[list[dict[str, Any]], str | None]:
        """A page of the log, newest first, and the next page's cursor."""
        ...


@dataclass(frozen=True)
class Prepared:
    """What one save writes: its stored events (in order) and its side rows."""

    events: Sequence[Any]
    side_rows: Sequence[SideRow]


class NumberedWrites(Protocol):
    """A writer that takes a counter's next number inside the transaction that writes the
    events made with it (reference numbers: no transaction of their own)."""

    def write_numbered(self, counter: str, prepare: Callable[[int], Prepared]) -> Sequence[int]:
        """Take the next number of `counter`, write what `prepare(number)` makes with it in
        the same transaction, and give the events' log positions; raises IntegrityError
        when a unique key was taken meanwhile (nothing written, the number not used)."""
        ...


@dataclass(frozen=True)
class Ports:
    """Everything the services use besides the event store, on one database.

    `sql` is the adapters' SQL facade on that database (None in memory): the layers above
    (projections, workers, the API) read their tables through it; no service uses it.
    """

    counters: Counters
    idempotency: IdempotencyStore
    positions: EventPositions
    keyring: Keyring
    accounts: Principals
    access_log: AccessLog
    photos: Photos
    sql: Any = None
    # None: numbers come from `counters` in a transaction of their own (SQLite, memory).
    writer: NumberedWrites | None = None


@dataclass(frozen=True)
class StoredPhoto:
    """A photo as kept: its bytes and thumbnail, or None for both once erased."""

    digest: str
    content_type: str
    data: bytes | None
    thumb: bytes | None
    erased_at: str | None


class Photos(Protocol):
    """The photos' bytes, by digest (written as `PhotoRow`s with their events)."""

    def find(self, digest: str) -> StoredPhoto | None:
        """The photo kept under `digest`, if any."""
        ...


@runtime_checkable
class Storage(Protocol):
    """An infrastructure factory (`PERSISTENCE_MODULE`) that also makes the ports."""

    def ports(self, recorder: Any, master_key: bytes) -> Ports:
        """The ports on the database of `recorder` (the application recorder the factory
        made), their tables made if missing."""
        ...
