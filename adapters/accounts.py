"""Principals and their bearer tokens; tokens are stored only as hashes."""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from datetime import UTC, datetime
from uuid import UUID

from adapters.database import Database
from domain.errors import Conflict, NotFound
from domain.principal import Principal
from domain.vocabulary import Role

TOKEN_PREFIX = "mq_"  # noqa: S105 - a prefix that marks Minqing tokens, not a secret


def hash_token(token: str) -> str:
    """SHA-256 of a token: tokens are long and random, so a fast hash is enough."""
    return hashlib.sha256(token.encode()).hexdigest()


class Accounts:
    """The principals table and the tokens table."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add(
        self,
        name: str,
        roles: list[Role],
        grids: list[str] | None = None,
        member_id: UUID | None = None,
    ) -> Principal:
        """Add a principal; the name must be new."""
        principal = Principal.new(name, roles, grids, member_id)
        if self._db.fetchone("SELECT id FROM minqing_principals WHERE name = ?", (principal.name,)):
            msg = f"a principal named {principal.name!r} already exists"
            raise Conflict(msg, rule="duplicate_name")
        self._db.execute(
            "INSERT INTO minqing_principals (id, name, roles, grids, member_id, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                principal.id,
                principal.name,
                json.dumps(sorted(r.value for r in principal.roles)),
                json.dumps(sorted(principal.grids)),
                str(member_id) if member_id else None,
                _now(),
            ),
        )
        return principal

    def find(self, name_or_id: str) -> Principal:
        """A principal by name or id."""
        row = self._db.fetchone(
            "SELECT * FROM minqing_principals WHERE name = ? OR id = ?", (name_or_id, name_or_id)
        )
        if row is None:
            raise NotFound("principal", name_or_id)
        return _principal(row)

    def all(self) -> list[Principal]:
        """Every principal, by name."""
        rows = self._db.fetchall("SELECT * FROM minqing_principals ORDER BY name")
        return [_principal(r) for r in rows]

    def issue_token(self, principal_id: str, label: str = "") -> tuple[str, str]:
        """A new token for a principal: (token id, the token, shown only now)."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token_id = str(uuid.uuid4())
        self._db.execute(
            "INSERT INTO minqing_tokens (id, principal_id, token_hash, label, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (token_id, principal_id, hash_token(token), label, _now()),
        )
        return token_id, token

    def revoke_token(self, token_id: str) -> None:
        """Revoke a token by its id; it stops working at once."""
        row = self._db.fetchone("SELECT id FROM minqing_tokens WHERE id = ?", (token_id,))
        if row is None:
            raise NotFound("token", token_id)
        self._db.execute(
            "UPDATE minqing_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            (_now(), token_id),
        )

    def tokens(self, principal_id: str) -> list[dict[str, str | None]]:
        """A principal's tokens (never the token itself)."""
        rows = self._db.fetchall(
            "SELECT id, label, created_at, revoked_at FROM minqing_tokens"
            " WHERE principal_id = ? ORDER BY created_at",
            (principal_id,),
        )
        return [dict(r) for r in rows]

    def authenticate(self, token: str) -> Principal | None:
        """The principal a live token belongs to, or None."""
        row = self._db.fetchone(
            "SELECT p.* FROM minqing_tokens t JOIN minqing_principals p ON p.id = t.principal_id"
            " WHERE t.token_hash = ? AND t.revoked_at IS NULL",
            (hash_token(token),),
        )
        return _principal(row) if row else None

    def count(self) -> int:
        """How many principals exist."""
        row = self._db.fetchone("SELECT COUNT(*) AS n FROM minqing_principals")
        return int(row["n"]) if row else 0


def _principal(row: dict[str, str]) -> Principal:
    member = row["member_id"]
    return Principal(
        id=row["id"],
        name=row["name"],
        roles=frozenset(Role(r) for r in json.loads(row["roles"])),
        grids=frozenset(json.loads(row["grids"])),
        member_id=UUID(member) if member else None,
    )


def _now() -> str:
    return datetime.now(UTC).isoformat()
