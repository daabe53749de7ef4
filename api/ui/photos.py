"""What the pages show of photos and how a posted one is checked: the concern's gallery and
the kinds the reader may attach, an achievement's publishable photos on the public board,
and a photo and caption from a form (the concern page's photo form, the record form).

Not a page module: the concern, photo, public and record pages all use these, so none of
them imports another for them."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from adapters.images import check_photo
from application.minqing import Minqing
from application.photos import NewPhoto
from domain.concern import Concern
from domain.errors import DomainError, Invalid
from domain.photos import MAX_PHOTO_BYTES, PhotoKind, TooLarge, photo_actor
from domain.principal import Principal
from domain.text import TextRefused, check_single_line


def kinds_for(principal: Principal, concern: Concern) -> list[str]:
    """The kinds of photo this principal may attach to the concern now."""
    found = []
    for kind in PhotoKind:
        try:
            photo_actor(principal, concern.grid, concern.owner, concern.status, kind)
        except DomainError:
            continue
        found.append(kind.value)
    return found


def gallery(app: Minqing, concern: Concern) -> list[dict[str, Any]]:
    """The concern's photos as the page shows them, each with its thumbnail's address, or
    marked erased once its bytes went with the resident."""
    shown = []
    for photo in concern.photos:
        kept = app.ports.photos.find(photo["digest"])
        base = f"/ui/concerns/{concern.id}/photos/{photo['digest']}"
        shown.append(
            {
                **photo,
                "erased": kept is None or kept.data is None,
                "full": base,
                "thumb": base + "?size=thumb",
            }
        )
    return shown


def public_photos(app: Minqing, entries: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The photos marked publishable of each achievement (by concern id), at the public
    addresses, which serve them only while the concern is in the library."""
    found: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        try:
            concern = app.get_concern(UUID(entry["id"]))
        except (ValueError, DomainError):
            continue
        base = f"/public/achievements/{concern.id}/photos/"
        found[entry["id"]] = [
            {**p, "full": base + p["digest"], "thumb": base + p["digest"] + "?size=thumb"}
            for p in concern.photos
            if p["publishable"]
        ]
    return found


def checked(raw: bytes, field: str) -> NewPhoto:
    """A photo from a form, or the refusal naming its field (413 past the limit)."""
    if len(raw) > MAX_PHOTO_BYTES:
        raise TooLarge(field, MAX_PHOTO_BYTES)
    return check_photo(raw, field)


def caption_of(value: str, field: str = "caption") -> str | None:
    """The caption as typed, by the single-line text policy."""
    try:
        return check_single_line(value).strip() or None
    except TextRefused as refused:
        raise Invalid([(field, str(refused))]) from None
