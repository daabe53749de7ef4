"""Signing the audit chain's head: the Ed25519 key, checkpoints and their signatures, and
the checkpoints document a higher office keeps."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from domain.audit_chain import CHAIN_LAYOUT, checkpoint_message

CHECKPOINTS_FORMAT = "minqing-audit-checkpoints-v1"


def load_signing_key(
    value: str | None, path: Path | None, *, create: bool
) -> Ed25519PrivateKey | None:
    """The Ed25519 key from configuration (base64 of the raw 32-byte private key) or its
    file; made on first use when `create` (the embedded store). None when there is none."""
    if value:
        return _private_key(value, "MINQING_AUDIT_SIGNING_KEY")
    if path is None:
        return None
    if path.exists():
        return _private_key(path.read_text().strip(), str(path))
    if not create:
        return None
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # var/: owner only
    key = Ed25519PrivateKey.generate()
    raw = key.private_bytes_raw()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it a moment ago: use theirs
        return _private_key(path.read_text().strip(), str(path))
    with os.fdopen(fd, "w") as f:
        f.write(base64.b64encode(raw).decode())
    return key


def _private_key(value: str, where: str) -> Ed25519PrivateKey:
    try:
        raw = base64.b64decode(value, validate=True)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        msg = f"{where}: the audit signing key must be 32 bytes, base64-encoded"
        raise ValueError(msg)
    return Ed25519PrivateKey.from_private_bytes(raw)


def public_key_b64(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """The raw 32-byte public key, base64-encoded."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return base64.b64encode(public.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def key_fingerprint(public_key: str) -> str:
    """SHA-256 of the raw public key, hex: short enough to read out over the phone."""
    return hashlib.sha256(base64.b64decode(public_key)).hexdigest()


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement: at `signed_at` the chain's head was `link` at `position`."""

    position: int
    link: str
    signed_at: str
    signature: str
    public_key: str

    def as_dict(self) -> dict[str, Any]:
        """Plain data."""
        return asdict(self)

    def signature_valid(self, trusted_key: str | None = None) -> bool:
        """True when the signature verifies with this checkpoint's key (and that key is the
        trusted one, when one is given)."""
        if trusted_key is not None and trusted_key != self.public_key:
            return False
        try:
            key = Ed25519PublicKey.from_public_bytes(base64.b64decode(self.public_key))
            key.verify(
                base64.b64decode(self.signature),
                checkpoint_message(self.position, self.link, self.signed_at),
            )
        except (InvalidSignature, ValueError):
            return False
        return True


def sign(key: Ed25519PrivateKey, position: int, link: str, now: datetime) -> Checkpoint:
    """A checkpoint: `key`'s signature of the chain's head (`position`, `link`) at `now`."""
    signed_at = now.astimezone(UTC).isoformat()
    signature = key.sign(checkpoint_message(position, link, signed_at))
    return Checkpoint(
        position, link, signed_at, base64.b64encode(signature).decode(), public_key_b64(key)
    )


def checkpoints_export(cps: list[Checkpoint], public_key: str | None) -> dict[str, Any]:
    """The checkpoints as a document a higher office can keep and later check bundles with."""
    return {
        "format": CHECKPOINTS_FORMAT,
        "chain_layout": CHAIN_LAYOUT,
        "exported_at": datetime.now(UTC).isoformat(),
        "public_key": public_key,
        "public_key_sha256": key_fingerprint(public_key) if public_key else None,
        "checkpoints": [c.as_dict() for c in cps],
    }


def read_kept_checkpoints(text: str) -> list[Checkpoint]:
    """The checkpoints of a `GET /api/v1/audit/checkpoints?format=export` document."""
    doc = json.loads(text)
    if doc.get("format") != CHECKPOINTS_FORMAT:
        msg = f"not a {CHECKPOINTS_FORMAT} document"
        raise ValueError(msg)
    return [Checkpoint(**c) for c in doc["checkpoints"]]
