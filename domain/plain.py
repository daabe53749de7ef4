"""Decoded attribute values as plain JSON values."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID


def plain(value: Any) -> Any:
    """A decoded attribute value as JSON: UUIDs, dates and times as text."""
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value
