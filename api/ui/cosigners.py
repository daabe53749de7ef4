"""What the concern page shows of where a concern is and who raised it: the place's name,
the co-signers by pseudonym (never their data), each with the concern it came from, and the
hotspot links (a proactive concern's concerns behind it; a concern's proactive items)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from application.minqing import Minqing
from domain.errors import DomainError
from projections.hotspots import hotspots_of_concern


def place_name(app: Minqing, view: dict[str, Any]) -> str | None:
    """The name of the place the concern names, if any (its id if it is gone)."""
    raw = view.get("place")
    if not raw:
        return None
    try:
        return app.get_place(UUID(str(raw))).name
    except (ValueError, DomainError):
        return str(raw)


def cosigner_rows(app: Minqing, view: dict[str, Any]) -> list[dict[str, Any]]:
    """The co-signers as the view lists them, with the merged concern's reference."""
    rows = []
    for c in view.get("cosigners") or []:
        source = None
        if c.get("from_concern"):
            try:
                source = app.get_concern(UUID(str(c["from_concern"]))).reference
            except (ValueError, DomainError):
                source = str(c["from_concern"])
        # A pseudonym, shortened: enough to tell two co-signers apart, nothing personal.
        ref = str(c.get("resident_ref") or "")[:8]
        rows.append({**c, "ref": ref, "source": source})
    return rows


def _reference(app: Minqing, raw: object) -> dict[str, str]:
    try:
        return {"id": str(raw), "reference": app.get_concern(UUID(str(raw))).reference or ""}
    except (ValueError, DomainError):
        return {"id": str(raw), "reference": str(raw)}


def linked_rows(app: Minqing, view: dict[str, Any]) -> list[dict[str, str]]:
    """A proactive concern's concerns behind its hotspot, by reference."""
    return [_reference(app, raw) for raw in view.get("linked") or []]


def proactive_rows(app: Minqing, concern_id: str) -> list[dict[str, str]]:
    """The proactive concerns of the recorded hotspots this concern is behind."""
    found = hotspots_of_concern(app.db, concern_id)
    return [_reference(app, h["proactive_concern_id"]) for h in found]
