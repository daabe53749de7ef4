"""Webhook subscriptions: create, read, change, pause, delete, rotate the secret (kept
encrypted under the master key); integrators see their own, admins every one."""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection, Iterable
from typing import Any

from adapters.webhooks.signing import MAX_SECRET_BYTES, MIN_SECRET_BYTES, new_secret, secret_key
from adapters.webhooks.tables import (
    DELIVERIES_TABLE,
    DISPATCHER,
    MAX_DESCRIPTION_LENGTH,
    POSITIONS_TABLE,
    SELECT_SUBSCRIPTION,
    SUBSCRIPTIONS_TABLE,
    DeliveryStatus,
    Status,
    Subscription,
    WebhookStore,
    iso,
    sees,
    subscription_of,
)
from adapters.webhooks.targets import check_url
from domain.cloudevents import BY_TYPE
from domain.errors import Invalid, NotFound
from domain.principal import Principal


def check_types(types: Iterable[str]) -> tuple[str, ...]:
    """The event types, deduplicated and sorted; Invalid naming `event_types` if unknown."""
    names = sorted({t.strip() for t in types if t.strip()})
    unknown = [t for t in names if t not in BY_TYPE]
    if unknown:
        msg = f"unknown event type {', '.join(unknown)}; see /api/v1/events/schemas"
        raise Invalid([("event_types", msg)])
    return tuple(names)


class Subscriptions(WebhookStore):
    """The subscriptions' side of the store."""

    def create(
        self,
        principal: Principal,
        url: str,
        event_types: Collection[str] = (),
        description: str = "",
        secret: str | None = None,
    ) -> tuple[Subscription, str]:
        """A new active subscription and its secret (the only time the secret is shown).

        It receives the matching events committed after it was created; `replay` sends
        older ones.
        """
        clean = check_url(url, allow_private=self.allow_private, resolver=self.resolver)
        types = check_types(event_types)
        description = _description(description)
        if secret is None:
            secret = new_secret()
        else:
            _check_secret(secret)
        sub_id = str(uuid.uuid4())
        now = iso(self.clock())
        with self.db.transaction() as cur:
            # Hold the dispatcher's position row while reading the head: the dispatcher
            # cannot pass this head before the subscription is visible to it, so it gets
            # every event after `start_after`.
            cur.execute(
                f"UPDATE {POSITIONS_TABLE} SET position = position WHERE name = ?",  # noqa: S608
                (DISPATCHER,),
            )
            start_after = self.db.head(cur)
            cur.execute(
                f"INSERT INTO {SUBSCRIPTIONS_TABLE} (id, url, event_types, description,"  # noqa: S608
                " secret, status, start_after, created_at, created_by, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    sub_id,
                    clean,
                    json.dumps(list(types)),
                    description,
                    self._seal(sub_id, secret),
                    Status.ACTIVE.value,
                    start_after,
                    now,
                    principal.id,
                    now,
                ),
            )
        return self.get(sub_id, principal), secret

    def all(self, principal: Principal | None = None) -> list[Subscription]:
        """The subscriptions the caller may see (admins: all; others: their own)."""
        rows = self.db.fetchall(
            SELECT_SUBSCRIPTION + " WHERE status <> ? ORDER BY created_at, id",
            (Status.DELETED.value,),
        )
        return [s for s in map(subscription_of, rows) if sees(principal, s)]

    def update(
        self,
        sub_id: str,
        principal: Principal | None = None,
        *,
        url: str | None = None,
        event_types: Collection[str] | None = None,
        status: Status | None = None,
    ) -> Subscription:
        """Change the URL, the event types or the status (`active` or `disabled`)."""
        sub = self.get(sub_id, principal)
        sets: list[str] = []
        params: list[Any] = []
        if url is not None:
            sets.append("url = ?")
            params.append(check_url(url, allow_private=self.allow_private, resolver=self.resolver))
        if event_types is not None:
            sets.append("event_types = ?")
            params.append(json.dumps(list(check_types(event_types))))
        if status is not None:
            if status is Status.DELETED:
                raise Invalid([("status", "must be active or disabled; DELETE removes it")])
            sets.append("status = ?")
            params.append(status.value)
            sets.append("disabled_reason = ?")
            who = principal.name if principal else "an operator"
            params.append(None if status is Status.ACTIVE else f"disabled by {who}")
        if not sets:
            return sub
        sets.append("updated_at = ?")
        params.append(iso(self.clock()))
        self.db.execute(
            f"UPDATE {SUBSCRIPTIONS_TABLE} SET {', '.join(sets)}"  # noqa: S608
            " WHERE id = ? AND status <> ?",
            (*params, sub_id, Status.DELETED.value),
        )
        return self.get(sub_id, principal)

    def delete(self, sub_id: str, principal: Principal | None = None) -> None:
        """Mark the subscription deleted; its delivery history stays, pending rows cancel."""
        self.get(sub_id, principal)
        now = iso(self.clock())
        with self.db.transaction() as cur:
            cur.execute(
                f"UPDATE {SUBSCRIPTIONS_TABLE} SET status = ?, deleted_at = ?,"  # noqa: S608
                " updated_at = ?, secret = '', previous_secret = NULL WHERE id = ?",
                (Status.DELETED.value, now, now, sub_id),
            )
            cur.execute(
                f"UPDATE {DELIVERIES_TABLE} SET status = ?"  # noqa: S608
                " WHERE subscription_id = ? AND status = ?",
                (DeliveryStatus.CANCELLED.value, sub_id, DeliveryStatus.PENDING.value),
            )

    def rotate_secret(
        self, sub_id: str, principal: Principal | None = None
    ) -> tuple[Subscription, str]:
        """A new secret (shown once); the old one keeps signing for the grace period.

        During the grace period every delivery carries two signatures, so a receiver can
        switch secrets whenever it likes. Rotating again drops the oldest secret at once.
        """
        self.get(sub_id, principal)
        secret = new_secret()
        now = self.clock()
        with self.db.transaction() as cur:
            cur.execute(
                f"UPDATE {SUBSCRIPTIONS_TABLE} SET previous_secret = secret,"  # noqa: S608
                " previous_secret_expires_at = ?, secret = ?, updated_at = ?"
                " WHERE id = ? AND status <> ?",
                (
                    now + self.rotation_grace,
                    self._seal(sub_id, secret),
                    iso(now),
                    sub_id,
                    Status.DELETED.value,
                ),
            )
        return self.get(sub_id, principal), secret

    def signing_keys(self, sub_id: str) -> list[bytes]:
        """The HMAC keys to sign with now: the current secret's, then the previous one's
        while its grace period runs."""
        row = self.db.fetchone(
            f"SELECT secret, previous_secret, previous_secret_expires_at"  # noqa: S608
            f" FROM {SUBSCRIPTIONS_TABLE} WHERE id = ?",
            (sub_id,),
        )
        if row is None or not row["secret"]:
            raise NotFound("webhook", sub_id)
        keys = [secret_key(self._open(sub_id, str(row["secret"])))]
        expires = row["previous_secret_expires_at"]
        if row["previous_secret"] and expires is not None and float(expires) > self.clock():
            keys.append(secret_key(self._open(sub_id, str(row["previous_secret"]))))
        return keys

    def _seal(self, sub_id: str, secret: str) -> str:
        return self.app.keyring.encrypt(secret.encode(), f"webhook-secret:{sub_id}")

    def _open(self, sub_id: str, sealed: str) -> str:
        return self.app.keyring.decrypt(sealed, f"webhook-secret:{sub_id}").decode()

    # -- deliveries --------------------------------------------------------------------------


def _description(text: str) -> str:
    clean = text.strip()
    if len(clean) > MAX_DESCRIPTION_LENGTH:
        raise Invalid([("description", f"at most {MAX_DESCRIPTION_LENGTH} characters")])
    return clean


def _check_secret(secret: str) -> None:
    try:
        key = secret_key(secret)
    except ValueError as exc:
        raise Invalid([("secret", str(exc))]) from None
    if not MIN_SECRET_BYTES <= len(key) <= MAX_SECRET_BYTES:
        msg = f"the key must be {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} bytes"
        raise Invalid([("secret", msg)])
