"""The in-memory store: eventsourcing's POPO event store with the ports in dicts.

`Minqing(memory_env(), master_key=…)` runs every service with no database at all: the unit
tests of the verbs (tests/unit/test_verbs.py) use it. Side rows are written under the event
store's own lock, with the events or not at all, as the SQL recorders write them in the
events' transaction; a second answer under one Idempotency-Key fails the save as the SQL
table's primary key does. Read models, workers and the API need SQL: `Minqing.db` is None
here.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import uuid
from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError
from eventsourcing.popo import POPOApplicationRecorder, POPOFactory

from adapters.keyring import Keyring, StoredKey
from application.ports import (
    Access,
    IdempotencyRow,
    PhotoRow,
    Ports,
    ResidentKeyErased,
    ResidentKeyRow,
    StoredAnswer,
    StoredPhoto,
)
from domain.errors import Conflict, NotFound
from domain.principal import Principal
from domain.vocabulary import Role


def memory_env() -> dict[str, str]:
    """The eventsourcing environment of a fresh in-memory store."""
    return {"PERSISTENCE_MODULE": "adapters.memory:MemoryStore"}


class MemoryRecorder(POPOApplicationRecorder):
    """The library's in-memory recorder, also keeping the side rows with the events."""

    def __init__(self) -> None:
        super().__init__()
        self.idempotency: dict[tuple[str, str], IdempotencyRow] = {}
        self.keys: dict[str, StoredKey] = {}
        self.photos: dict[str, StoredPhoto] = {}
        self.photo_residents: dict[str, str] = {}

    def _assert_uniqueness(self, stored_events: Sequence[Any], **kwargs: Any) -> None:
        super()._assert_uniqueness(stored_events, **kwargs)
        for row in kwargs.get("side_rows") or ():
            if isinstance(row, IdempotencyRow) and (row.principal_id, row.key) in self.idempotency:
                msg = f"Idempotency-Key {row.key!r} already answered"
                raise IntegrityError(msg)
            if isinstance(row, ResidentKeyRow) and row.resident_ref in self.keys:
                msg = f"resident {row.resident_ref} already has a key"
                raise IntegrityError(msg)

    def _update_table(self, stored_events: Sequence[Any], **kwargs: Any) -> Sequence[int] | None:
        ids = super()._update_table(stored_events, **kwargs)
        for row in kwargs.get("side_rows") or ():
            if isinstance(row, IdempotencyRow):
                self.idempotency[(row.principal_id, row.key)] = row
            elif isinstance(row, ResidentKeyRow):
                self.keys[row.resident_ref] = StoredKey(row.wrapped_key, None)
            elif isinstance(row, ResidentKeyErased) and row.resident_ref in self.keys:
                self.keys[row.resident_ref] = StoredKey(None, row.erased_at)
                self._erase_photos(row)
            elif isinstance(row, PhotoRow):
                self._keep_photo(row)
        return ids

    def _keep_photo(self, row: PhotoRow) -> None:
        kept = self.photos.get(row.digest)
        if kept is None or kept.erased_at is not None:
            self.photos[row.digest] = StoredPhoto(
                row.digest, row.content_type, row.data, row.thumb, None
            )
            if row.resident_ref:
                self.photo_residents[row.digest] = row.resident_ref

    def _erase_photos(self, row: ResidentKeyErased) -> None:
        for digest, ref in self.photo_residents.items():
            kept = self.photos[digest]
            if ref == row.resident_ref and kept.erased_at is None:
                self.photos[digest] = StoredPhoto(
                    digest, kept.content_type, None, None, row.erased_at
                )

    # -- the ports that read what the recorder keeps ---------------------------------------

    def find(self, principal_id: str, key: str) -> StoredAnswer | None:
        """The answer kept for this caller's key (the `IdempotencyStore` port)."""
        with self._database_lock:
            row = self.idempotency.get((principal_id, key))
        if row is None:
            return None
        return StoredAnswer(row.fingerprint, json.loads(row.body), row.aggregate_id, row.version)

    def find_photo(self, digest: str) -> StoredPhoto | None:
        """The photo kept under `digest` (the `Photos` port, through `MemoryPhotos`)."""
        with self._database_lock:
            return self.photos.get(digest)

    def stored(self, resident_ref: str) -> StoredKey | None:
        """The resident's key as kept (the keyring's vault)."""
        with self._database_lock:
            return self.keys.get(resident_ref)

    def position_of(self, aggregate_id: str, version: int) -> int | None:
        """The log position of one stored event (the `EventPositions` port)."""
        with self._database_lock:
            index = self._stored_events_index.get(str(UUID(aggregate_id)), {})
            found = index.get(version)
        return None if found is None else found + 1


class MemoryStore(POPOFactory):
    """eventsourcing's in-memory infrastructure, with the ports in memory (`Storage`)."""

    def application_recorder(self) -> MemoryRecorder:
        """A fresh in-memory recorder."""
        return MemoryRecorder()

    def ports(self, recorder: Any, master_key: bytes) -> Ports:
        """The in-memory ports beside `recorder`."""
        return Ports(
            counters=MemoryCounters(),
            idempotency=recorder,
            positions=recorder,
            keyring=Keyring(master_key, recorder),
            accounts=MemoryPrincipals(),
            access_log=MemoryAccessLog(),
            photos=MemoryPhotos(recorder),
        )


class MemoryPhotos:
    """The photos the recorder keeps with its events (the `Photos` port)."""

    def __init__(self, recorder: MemoryRecorder) -> None:
        self._recorder = recorder

    def find(self, digest: str) -> StoredPhoto | None:
        """The photo kept under `digest`, if any."""
        return self._recorder.find_photo(digest)


class MemoryCounters:
    """Named counters (the `Counters` port)."""

    def __init__(self) -> None:
        self._values: dict[str, int] = {}
        self._lock = threading.Lock()

    def next(self, name: str) -> int:
        """Take the next number of a named counter."""
        with self._lock:
            self._values[name] = self._values.get(name, 0) + 1
            return self._values[name]


class MemoryPrincipals:
    """Principals and their tokens, hashed (the `Principals` port)."""

    def __init__(self) -> None:
        self._by_id: dict[str, Principal] = {}
        self._tokens: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def add(
        self,
        name: str,
        roles: list[Role],
        grids: list[str] | None = None,
        member_id: UUID | None = None,
    ) -> Principal:
        """Add a principal; the name must be new."""
        principal = Principal.new(name, roles, grids, member_id)
        with self._lock:
            if any(p.name == principal.name for p in self._by_id.values()):
                msg = f"a principal named {principal.name!r} already exists"
                raise Conflict(msg, "duplicate_name")
            self._by_id[principal.id] = principal
        return principal

    def find(self, name_or_id: str) -> Principal:
        """A principal by name or id."""
        with self._lock:
            for p in self._by_id.values():
                if name_or_id in (p.name, p.id):
                    return p
        raise NotFound("principal", name_or_id)

    def all(self) -> list[Principal]:
        """Every principal, by name."""
        with self._lock:
            return sorted(self._by_id.values(), key=lambda p: p.name)

    def issue_token(self, principal_id: str, label: str = "") -> tuple[str, str]:
        """A new token: (its id, the token)."""
        token, token_id = "mq_" + secrets.token_urlsafe(32), str(uuid.uuid4())
        with self._lock:
            self._tokens[_hash(token)] = {
                "id": token_id,
                "principal_id": principal_id,
                "label": label,
                "created_at": _now(),
                "revoked_at": None,
            }
        return token_id, token

    def revoke_token(self, token_id: str) -> None:
        """Revoke a token by its id."""
        with self._lock:
            for row in self._tokens.values():
                if row["id"] == token_id:
                    row["revoked_at"] = row["revoked_at"] or _now()
                    return
        raise NotFound("token", token_id)

    def tokens(self, principal_id: str) -> list[dict[str, str | None]]:
        """A principal's tokens (never the token itself)."""
        with self._lock:
            rows = [r for r in self._tokens.values() if r["principal_id"] == principal_id]
        keys = ("id", "label", "created_at", "revoked_at")
        return [{k: r[k] for k in keys} for r in sorted(rows, key=lambda r: r["created_at"])]

    def authenticate(self, token: str) -> Principal | None:
        """The principal a live token belongs to, or None."""
        with self._lock:
            row = self._tokens.get(_hash(token))
            if row is None or row["revoked_at"] is not None:
                return None
            return self._by_id.get(row["principal_id"])

    def count(self) -> int:
        """How many principals exist."""
        with self._lock:
            return len(self._by_id)


class MemoryAccessLog:
    """Every read of personal data, newest last (the `AccessLog` port)."""

    def __init__(self) -> None:
        self.accesses: list[Access] = []
        self._lock = threading.Lock()

    def record(self, access: Access, at: datetime | None = None) -> None:
        """Keep one access."""
        with self._lock:
            self.accesses.append(replace(access))

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
        """The matching accesses, newest first (no paging in memory)."""
        with self._lock:
            found = [
                a
                for a in reversed(self.accesses)
                if resident_ref in (None, a.resident_ref)
                and concern_id in (None, a.concern_id)
                and principal_id in (None, a.principal.id)
                and (not grids or a.grid in grids)
            ]
        keys = ("basis", "reason", "resident_ref", "concern_id", "grid", "subject")
        items = [
            {"principal_id": a.principal.id, **{k: getattr(a, k) for k in keys}}
            for a in found[:limit]
        ]
        return items, None


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat()
