"""What the concern page shows of where a concern is and who raised it: the place's name,
the co-signers by pseudonym (never their data), each with the concern it came from, and the
hotspot links (a proactive concern's concerns behind it; a concern's proactive items)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from api.ui import data
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


def links(app: Minqing, view: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The co-signers, the concerns behind a proactive concern and the proactive concerns
    of the hotspots this one is behind, each concern named by its reference: the references
    read together (data.references), not one concern's events at a time."""
    proactive = [h["proactive_concern_id"] for h in hotspots_of_concern(app.db, str(view["id"]))]
    cosigners = view.get("cosigners") or []
    linked = [str(raw) for raw in view.get("linked") or []]
    sources = [str(c["from_concern"]) for c in cosigners if c.get("from_concern")]
    named = [*sources, *linked, *proactive]
    found = data.references(app, named) if named else {}
    return {
        "cosigners": cosigner_rows(cosigners, found),
        "linked": [_reference(raw, found) for raw in linked],
        "proactive": [_reference(raw, found) for raw in proactive],
    }


def cosigner_rows(
    cosigners: list[dict[str, Any]], references: Mapping[str, str]
) -> list[dict[str, Any]]:
    """The co-signers as the view lists them, with the merged concern's reference (its id
    when no concern has it)."""
    rows = []
    for c in cosigners:
        source = None
        if c.get("from_concern"):
            raw = str(c["from_concern"])
            source = references.get(raw, raw)
        # A pseudonym, shortened: enough to tell two co-signers apart, nothing personal.
        ref = str(c.get("resident_ref") or "")[:8]
        rows.append({**c, "ref": ref, "source": source})
    return rows


def _reference(raw: str, references: Mapping[str, str]) -> dict[str, str]:
    return {"id": raw, "reference": references.get(raw, raw)}
