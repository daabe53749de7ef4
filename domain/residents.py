"""Residents' personal data, and the keyed hash that names a household without its address."""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from dataclasses import dataclass


def household_key(grid: str, household: str, secret: bytes) -> str:
    """HMAC-SHA256 under `secret` of one household in one grid: the same text, however it
    was spaced or typed (full-width digits, case), gives the same key."""
    text = "".join(unicodedata.normalize("NFKC", household).split()).casefold()
    message = f"{grid.strip()}\x1f{text}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class ResidentData:
    """A resident's personal data: never written to an event in plain text."""

    name: str | None = None
    phone: str | None = None
    address: str | None = None
    email: str | None = None  # Open311 clients send it; older ciphertexts have none

    def is_empty(self) -> bool:
        """True when no personal field was given."""
        return not (self.name or self.phone or self.address or self.email)

    def as_dict(self) -> dict[str, str | None]:
        """The fields as a plain dict."""
        return {
            "name": self.name,
            "phone": self.phone,
            "address": self.address,
            "email": self.email,
        }
