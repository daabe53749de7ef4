"""Photos of a concern: POST /api/v1/concerns/{id}/attachments (multipart) and the bytes."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, File, Form, Header, Query, Response, UploadFile, status
from starlette.concurrency import run_in_threadpool

from adapters.images import check_photo
from api.deps import MinqingDep, concern_id, require
from api.openapi import errors
from api.schemas import CommandOut
from application.commands import Idempotency
from application.ports import StoredPhoto
from domain import text
from domain.errors import Invalid, NotFound
from domain.permissions import VIEW_ROLES
from domain.photos import MAX_PHOTO_BYTES, PhotoKind, TooLarge
from domain.principal import Principal
from domain.vocabulary import Role


class PhotoOut(CommandOut):
    """A photo attached: the concern's new version and position, and the photo's digest."""

    digest: str
    kind: PhotoKind


router = APIRouter(prefix="/api/v1/concerns", tags=["photos"], responses=errors(401, 403, 503))
public_router = APIRouter(prefix="/public/achievements", tags=["photos"], responses=errors(503))
# Whoever may raise a concern (intake photos) or resolve one (before/after, owners too).
ATTACH_ROLES = (Role.COLLECTOR, Role.GRID_LEADER, Role.STAFF)
# Photos do not change under a digest: a browser may keep them.
CACHE = "private, max-age=31536000, immutable"


async def read_upload(upload: UploadFile, field: str) -> bytes:
    """The uploaded file's bytes, refused (413) past the photo limit without reading on."""
    raw = await upload.read(MAX_PHOTO_BYTES + 1)
    if len(raw) > MAX_PHOTO_BYTES:
        raise TooLarge(field, MAX_PHOTO_BYTES)
    return raw


def _caption(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return text.check_single_line(value)
    except text.TextRefused as refused:
        raise Invalid([("caption", str(refused))]) from None


@router.post(
    "/{concern_ref}/attachments",
    status_code=status.HTTP_201_CREATED,
    response_model=PhotoOut,
    responses=errors(404, 409, 413),
)
async def attach(
    concern_ref: str,
    app: MinqingDep,
    principal: Annotated[Principal, require(*ATTACH_ROLES, member_may=True)],
    photo: Annotated[UploadFile, File(description="A JPEG, PNG or WebP photo, at most 8 MB")],
    kind: Annotated[PhotoKind, Form()] = PhotoKind.INTAKE,
    caption: Annotated[str | None, Form(max_length=200)] = None,
    publishable: Annotated[bool, Form()] = False,
    shows_resident: Annotated[bool, Form()] = False,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> dict[str, Any]:
    """Attach a photo (intake, before or after): checked, stripped of EXIF, re-encoded; its
    SHA-256 digest is recorded in `PhotoAttached` and its bytes kept in the database."""
    raw = await read_upload(photo, "photo")
    checked = await run_in_threadpool(check_photo, raw)
    cid = concern_id(app, concern_ref)
    note = _caption(caption)
    idem = None
    if idempotency_key is not None:
        # Multipart boundaries differ between two sends of one form: the fingerprint is
        # what the request says, with the photo by its digest.
        said = f"{cid} {checked.facts.digest} {kind} {note} {publishable} {shows_resident}"
        idem = Idempotency(principal.id, idempotency_key, hashlib.sha256(said.encode()).hexdigest())
    result = await run_in_threadpool(
        app.attach_photo, cid, principal, checked, kind, note, publishable, shows_resident, idem
    )
    return result.body()


def photo_response(kept: StoredPhoto, size: str, cache: str) -> Response:
    """The photo's bytes (or its thumbnail); 404 naming the erasure once erased."""
    data = kept.thumb if size == "thumb" else kept.data
    if data is None:
        raise NotFound("photo", f"{kept.digest} (its bytes were erased on {kept.erased_at})")
    headers = {"Cache-Control": cache, "ETag": f'"{kept.digest}-{size}"'}
    return Response(data, media_type=kept.content_type, headers=headers)


JPEG: dict[str, Any] = {
    "description": "the photo (or its thumbnail) as JPEG",
    "content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}},
}
Size = Annotated[str, Query(pattern="^(full|thumb)$")]


@router.get(
    "/{concern_ref}/attachments/{digest}",
    response_class=Response,
    responses={200: JPEG, **errors(404)},
)
def photo_bytes(
    concern_ref: str,
    digest: str,
    app: MinqingDep,
    principal: Annotated[Principal, require(*VIEW_ROLES, member_may=True)],
    size: Size = "full",
) -> Response:
    """A photo of the concern (`size=thumb` for its thumbnail), for whoever may read it."""
    kept = app.photo(concern_id(app, concern_ref), principal, digest.lower())
    return photo_response(kept, size, CACHE)


@public_router.get(
    "/{concern_id}/photos/{digest}",
    response_class=Response,
    responses={200: JPEG, **errors(404)},
)
def public_photo(concern_id: str, digest: str, app: MinqingDep, size: Size = "full") -> Response:
    """A photo marked publishable of a concern in the achievement library; no token."""
    try:
        cid = UUID(concern_id)
    except ValueError:
        raise NotFound("photo", digest) from None
    kept = app.public_photo(cid, digest.lower())
    return photo_response(kept, size, "public, max-age=86400")
