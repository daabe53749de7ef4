"""Photos on the concern page: the form that takes one from the phone's camera
(POST /ui/concerns/{id}/photos), and the bytes for a signed-in reader
(GET /ui/concerns/{id}/photos/{digest}); the gallery and the checks of a posted photo are
api/ui/photos.py."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.ui import photos
from api.ui.concern_screen import concern_page
from api.ui.data import find_concern
from api.ui.forms import errors_of
from api.ui.render import lang_of
from api.ui.web import PostedDep, SessionDep, UiRoute, minqing, redirect
from domain.errors import DomainError, Invalid, NotFound
from domain.photos import PhotoKind

router = APIRouter(prefix="/ui", route_class=UiRoute, include_in_schema=False)


@router.post("/concerns/{ref}/photos")
async def attach(request: Request, ref: str, posted: PostedDep) -> Response:
    """Attach a photo taken with the phone (intake, before, after) and go back to the
    concern with a message; a refusal shows the page again with it by the field."""
    app = minqing(request)
    session, form = posted.session, posted.form
    concern = await run_in_threadpool(find_concern, app, ref)
    try:
        raw = (form.files.get("photo") or [b""])[0]
        try:
            kind = PhotoKind(form.get("kind") or PhotoKind.INTAKE.value)
        except ValueError:
            raise Invalid([("photo_kind", "is required")]) from None
        photo = await run_in_threadpool(photos.checked, raw, "photo")
        result = await run_in_threadpool(
            app.attach_photo,
            concern.id,
            session.principal,
            photo,
            kind,
            photos.caption_of(form.get("caption")),
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
    app = minqing(request)
    concern = find_concern(app, ref)
    kept = app.photo(concern.id, session.principal, digest.lower())
    data = kept.thumb if size == "thumb" else kept.data
    if data is None:
        raise NotFound("photo", digest)
    headers = {"Cache-Control": "private, max-age=31536000, immutable"}
    return Response(data, media_type=kept.content_type, headers=headers)
