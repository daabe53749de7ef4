"""Residents' keys: each resident's personal data is encrypted under a key of its own,
wrapped by the master key and kept in `minqing_resident_keys`, so events hold only
ciphertext and destroying the key erases the data (crypto-shredding)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from adapters.database import Database
from application.ports import KeyState, ResidentKeyRow, Sealed
from domain.residents import ResidentData, household_key

_NONCE = 12
_BALLOT_SIZE = 16  # longer than any choice's name
_VERSION = "v1"
_HOUSEHOLD_CONTEXT = b"minqing:household-key:v1"


def load_master_key(value: str | None, path: Path | None, *, create: bool) -> bytes:
    """The master key from configuration (base64), or from a key file, made on first use."""
    if value:
        key = base64.b64decode(value)
        if len(key) != 32:
            msg = "MINQING_MASTER_KEY must be 32 bytes, base64-encoded"
            raise ValueError(msg)
        return key
    if path is None:
        msg = "no master key: set MINQING_MASTER_KEY or MINQING_MASTER_KEY_FILE"
        raise ValueError(msg)
    if path.exists():
        return base64.b64decode(path.read_text().strip())
    if not create:
        msg = f"master key file {path} does not exist; set MINQING_MASTER_KEY"
        raise ValueError(msg)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # var/: owner only
    key = AESGCM.generate_key(bit_length=256)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(base64.b64encode(key).decode())
    return key


class KeyVault(Protocol):
    """Where the wrapped keys are kept (written as `ResidentKeyRow`s with the events)."""

    def stored(self, resident_ref: str) -> StoredKey | None:
        """The resident's key as kept, or None."""
        ...


@dataclass(frozen=True)
class StoredKey:
    """A resident's key as kept: wrapped (None once destroyed), and when it was erased."""

    wrapped_key: str | None
    erased_at: str | None


class SqlKeyVault:
    """The wrapped keys in `minqing_resident_keys`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def stored(self, resident_ref: str) -> StoredKey | None:
        """The resident's row, or None."""
        row = self._db.fetchone(
            "SELECT wrapped_key, erased_at FROM minqing_resident_keys WHERE resident_ref = ?",
            (resident_ref,),
        )
        return StoredKey(row["wrapped_key"], row["erased_at"]) if row else None


class Keyring:
    """Makes, wraps and uses the per-resident keys (the `Keyring` port) kept in a vault."""

    def __init__(self, master_key: bytes, vault: KeyVault) -> None:
        self._master = AESGCM(master_key)
        self._vault = vault
        # Keys the households' hashes: without the master key a hash cannot be matched
        # against guessed addresses.
        self._household_secret = hmac.new(master_key, _HOUSEHOLD_CONTEXT, hashlib.sha256).digest()

    def household_key(self, grid: str, household: str) -> str:
        """A keyed hash of one household in one grid: the ledger counts households by it
        without the address (`household_key`)."""
        return household_key(grid, household, self._household_secret)

    def seal(self, data: ResidentData) -> Sealed:
        """Encrypt a new resident's data under a fresh key; the key row goes in the same save."""
        ref = "R-" + secrets.token_hex(8)
        key = AESGCM.generate_key(bit_length=256)
        wrapped = _encrypt(self._master, key, ref)
        ciphertext = _encrypt(AESGCM(key), json.dumps(data.as_dict()).encode(), ref)
        return Sealed(ref, ciphertext, ResidentKeyRow(ref, wrapped, datetime.now(UTC).isoformat()))

    def open(self, resident_ref: str, ciphertext: str) -> ResidentData | None:
        """Decrypt a resident's data; None when the key was destroyed (erased)."""
        stored = self._vault.stored(resident_ref)
        if stored is None or stored.wrapped_key is None:
            return None
        try:
            key = _decrypt(self._master, stored.wrapped_key, resident_ref)
            plain = json.loads(_decrypt(AESGCM(key), ciphertext, resident_ref))
        except (InvalidTag, ValueError):
            return None
        return ResidentData(**plain)

    def ballot_box(self) -> ResidentKeyRow:
        """A fresh key for one secret vote's ballots (its ref starts "B-"), kept like a
        resident's so destroying it at close makes every sealed choice unreadable."""
        ref = "B-" + secrets.token_hex(8)
        key = AESGCM.generate_key(bit_length=256)
        return ResidentKeyRow(ref, _encrypt(self._master, key, ref), datetime.now(UTC).isoformat())

    def seal_ballot(self, box: str, choice: str) -> str:
        """A choice sealed under the vote's key, padded so every choice seals to the same
        length (the ciphertext's size must not tell "for" from "abstain")."""
        return _encrypt(AESGCM(self._box_key(box)), choice.encode().ljust(_BALLOT_SIZE), box)

    def open_ballot(self, box: str, sealed: str) -> str | None:
        """The choice in a sealed ballot; None once the vote's key is destroyed."""
        try:
            return _decrypt(AESGCM(self._box_key(box)), sealed, box).rstrip().decode()
        except (InvalidTag, ValueError, LookupError):
            return None

    def _box_key(self, box: str) -> bytes:
        stored = self._vault.stored(box)
        if stored is None or stored.wrapped_key is None:
            msg = f"the ballot box {box} is closed"
            raise LookupError(msg)
        return _decrypt(self._master, stored.wrapped_key, box)

    def key_state(self, resident_ref: str) -> KeyState | None:
        """The resident's key as kept (None: no such resident)."""
        stored = self._vault.stored(resident_ref)
        if stored is None:
            return None
        erased = stored.erased_at is not None or stored.wrapped_key is None
        return KeyState(erased, stored.erased_at)

    def encrypt(self, plain: bytes, context: str) -> str:
        """Encrypt one of Minqing's own secrets (not a resident's) under the master key.

        `context` is bound to the ciphertext (AES-GCM associated data), so a ciphertext
        copied to another row or purpose does not decrypt.
        """
        return _encrypt(self._master, plain, context)

    def decrypt(self, token: str, context: str) -> bytes:
        """Decrypt what `encrypt` made under the same context (InvalidTag otherwise)."""
        return _decrypt(self._master, token, context)


def _encrypt(cipher: AESGCM, plain: bytes, aad: str) -> str:
    nonce = os.urandom(_NONCE)
    sealed = cipher.encrypt(nonce, plain, aad.encode())
    return _VERSION + ":" + base64.b64encode(nonce + sealed).decode()


def _decrypt(cipher: AESGCM, token: str, aad: str) -> bytes:
    version, _, body = token.partition(":")
    if version != _VERSION:
        msg = f"unknown ciphertext version {version!r}"
        raise ValueError(msg)
    raw = base64.b64decode(body)
    return cipher.decrypt(raw[:_NONCE], raw[_NONCE:], aad.encode())
