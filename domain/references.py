"""How a concern is named to people: its reference (MQ-2026-000123, said in meetings and
printed on papers) and the resident's tracking code (read over the phone)."""

from __future__ import annotations

import re
import secrets

# MQ-<year>-<number>: six digits at least, more once a year has a million concerns.
REFERENCE = re.compile(r"MQ-\d{4}-\d{6,}")
# Tracking codes avoid look-alike characters (0/O, 1/I/L) so they can be read over the phone.
TRACKING_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
TRACKING_LENGTH = 12


def reference_for(year: int, number: int) -> str:
    """The reference of the year's `number`th concern."""
    return f"MQ-{year}-{number:06d}"


def new_tracking_code() -> str:
    """A fresh, unguessable tracking code."""
    return "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(TRACKING_LENGTH))
