"""Signing a webhook (the Standard Webhooks algorithm): `whsec_` secrets, HMAC-SHA256
signatures of "{id}.{timestamp}.{body}", the `webhook-signature` header."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Sequence

SECRET_PREFIX = "whsec_"  # noqa: S105 - the spec's marker of a signing secret, not a secret
SECRET_BYTES = 32
# The spec asks for keys of 24 to 64 bytes.
MIN_SECRET_BYTES, MAX_SECRET_BYTES = 24, 64


def new_secret() -> str:
    """A fresh signing secret: `whsec_` and the base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key of a `whsec_…` secret: the base64-decoded part after the prefix."""
    if not secret.startswith(SECRET_PREFIX):
        msg = f"a webhook secret starts with {SECRET_PREFIX}"
        raise ValueError(msg)
    try:
        return base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except binascii.Error as exc:
        msg = "a webhook secret is whsec_ followed by base64"
        raise ValueError(msg) from exc


def sign(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    """One `v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>` signature."""
    content = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(keys: Sequence[bytes], msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value: one signature per valid key, space-separated."""
    return " ".join(sign(k, msg_id, timestamp, body) for k in keys)
