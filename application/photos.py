"""Photos of a concern: attach one (its bytes kept by digest in the event's transaction),
and read one back under the concern's access rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from uuid import UUID

from application.base import MinqingBase
from application.commands import CommandResult, Idempotency
from application.ports import PhotoRow, StoredPhoto
from domain.errors import NotFound
from domain.lifecycle import Status
from domain.permissions import check_view
from domain.photos import PhotoFacts, PhotoKind, photo_actor
from domain.principal import Principal


@dataclass(frozen=True)
class NewPhoto:
    """A checked, re-encoded photo (adapters/images.py) and its thumbnail."""

    facts: PhotoFacts
    data: bytes
    thumb: bytes


class PhotoCommands(MinqingBase):
    """Attaching photos to a concern and reading them back."""

    def attach_photo(
        self,
        concern_id: UUID,
        principal: Principal,
        photo: NewPhoto,
        kind: PhotoKind,
        caption: str | None = None,
        publishable: bool = False,
        shows_resident: bool = False,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """Attach a photo: its digest in `PhotoAttached`, its bytes beside the log."""
        if (replay := self._replay(idem)) is not None:
            return replay

        def attempt() -> CommandResult | None:
            concern = self._find_concern(concern_id)
            actor = photo_actor(principal, concern.grid, concern.owner, concern.status, kind)
            at = self.clock()
            concern.attach_photo(actor, photo.facts, kind, caption, publishable, shows_resident, at)
            row = PhotoRow(
                digest=photo.facts.digest,
                content_type=photo.facts.content_type,
                data=photo.data,
                thumb=photo.thumb,
                # Erasing the resident empties the bytes of a photo that shows them.
                resident_ref=concern.resident_ref if shows_resident else None,
                created_at=at.astimezone(UTC).isoformat(),
            )
            result = CommandResult(
                id=str(concern.id),
                version=concern.version,
                position=0,
                status=concern.status,
                reference=concern.reference,
                extra={"digest": photo.facts.digest, "kind": kind.value},
            )
            return self._save(concern, [], result, idem, [row])

        return self._until_saved(attempt, f"concern {concern_id} kept changing; try again")

    def photo(self, concern_id: UUID, principal: Principal, digest: str) -> StoredPhoto:
        """A photo of the concern, for whoever may read the concern; 404 if not attached."""
        concern = self._find_concern(concern_id)
        check_view(principal, concern)
        return self._kept(concern.photos, concern_id, digest, public=False)

    def public_photo(self, concern_id: UUID, digest: str) -> StoredPhoto:
        """A photo marked publishable of a concern the achievement library lists (resolved
        or adopted); 404 for any other, so nothing says whether it exists."""
        concern = self._find_concern(concern_id)
        listed = concern.status == Status.RESOLVED.value or concern.adopted_at_meeting
        if not listed:
            raise NotFound("photo", digest)
        return self._kept(concern.photos, concern_id, digest, public=True)

    def _kept(
        self, photos: list[dict[str, object]], concern_id: UUID, digest: str, *, public: bool
    ) -> StoredPhoto:
        attached = [p for p in photos if p["digest"] == digest]
        if not attached or (public and not any(p["publishable"] for p in attached)):
            raise NotFound("photo", f"{digest} of concern {concern_id}")
        kept = self.ports.photos.find(digest)
        if kept is None:
            raise NotFound("photo", digest)
        return kept
