"""Photos on the concern page: the gallery, the form that takes one from the phone's camera
(POST /ui/concerns/{id}/photos), and the bytes for a signed-in reader
(GET /ui/concerns/{id}/photos/{digest}); the record form's photos are attached here too."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from adapters.images import check_photo
from api.ui.forms import errors_of
from api.ui.render import lang_of
from api.ui.web import PostedDep, SessionDep, UiRoute, minqing, redirect
from application.minqing import Minqing
from application.photos import NewPhoto
from domain.concern import Concern
from domain.errors import DomainError, Invalid, NotFound
from domain.photos import MAX_PHOTO_BYTES, PhotoKind, TooLarge, photo_actor
from domain.principal import Principal
from domain.text import TextRefused, check_single_line

router = APIRouter(prefix="/ui", route_class=UiRoute, include_in_schema=False)


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


@router.post("/concerns/{ref}/photos")
async def attach(request: Request, ref: str, posted: PostedDep) -> Response:
    """Attach a photo taken with the phone (intake, before, after) and go back to the
    concern with a message; a refusal shows the page again with it by the field."""
    from api.ui.pages.concern import concern_page, find_concern

    app = minqing(request)
    session, form = posted.session, posted.form
    concern = await run_in_threadpool(find_concern, app, ref)
    try:
        raw = (form.files.get("photo") or [b""])[0]
        try:
            kind = PhotoKind(form.get("kind") or PhotoKind.INTAKE.value)
        except ValueError:
            raise Invalid([("photo_kind", "is required")]) from None
        photo = await run_in_threadpool(checked, raw, "photo")
        result = await run_in_threadpool(
            app.attach_photo,
            concern.id,
            session.principal,
            photo,
            kind,
            caption_of(form.get("caption")),
            form.get("publishable") == "true",
            form.get("shows_resident") == "true",
        )
    except DomainError as exc:
        errors = errors_of(exc, lang_of(request))
        key = f"{concern.id}:photo"
        return await run_in_threadpool(
            lambda: concern_page(
                request,
                session,
                app.get_concern(concern.id),
                form_errors={key: errors},
                form_values={key: form.flat()},
                status=errors.status,
                here=f"/ui/concerns/{concern.id}",
            )
        )
    return redirect(
        f"/ui/concerns/{concern.id}", done="photo", concern=concern.id, at=result.position
    )


@router.get("/concerns/{ref}/photos/{digest}")
def photo(
    request: Request,
    ref: str,
    digest: str,
    session: SessionDep,
    size: str = Query("full", pattern="^(full|thumb)$"),
) -> Response:
    """A photo of the concern for whoever may read it (`size=thumb` for the thumbnail)."""
    from api.ui.pages.concern import find_concern

    app = minqing(request)
    concern = find_concern(app, ref)
    kept = app.photo(concern.id, session.principal, digest.lower())
    data = kept.thumb if size == "thumb" else kept.data
    if data is None:
        raise NotFound("photo", digest)
    headers = {"Cache-Control": "private, max-age=31536000, immutable"}
    return Response(data, media_type=kept.content_type, headers=headers)
