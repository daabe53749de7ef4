"""Record (collector): a household visit and the concerns raised on it, at /ui/record."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.schemas import ConcernIn, CosignerIn, ResidentIn, VisitIn
from api.ui.forms import Errors, errors_of, parse, payload
from api.ui.messages import translate
from api.ui.photos import checked
from api.ui.refusals import FormInvalid, Problem, problems_of
from api.ui.render import lang_of, render
from api.ui.sessions import UiSession
from api.ui.similar import suggestions
from api.ui.web import Form, PostedDep, SessionDep, UiRoute, minqing, need, redirect
from application.minqing import Idempotency, NewConcern, NewVisit
from application.photos import NewPhoto
from domain.errors import DomainError, Invalid
from domain.geo import point_from
from domain.permissions import check_view
from domain.photos import PhotoKind, TooLarge
from domain.residents import ResidentData
from domain.vocabulary import Role

router = APIRouter(prefix="/ui", route_class=UiRoute, include_in_schema=False)
MAX_CONCERNS = 10
# The concern fields a collector types; the rest (grid, channel …) come from the visit.
_TYPED = ("title", "description", "resident.name", "resident.phone")


def _count(raw: str) -> int:
    try:
        return max(1, min(MAX_CONCERNS, int(raw)))
    except ValueError:
        return 1


def _page(
    request: Request,
    posted_session: UiSession,
    n: int,
    values: dict[str, str],
    errors: Errors | None = None,
    similar: dict[int, list[dict[str, Any]]] | None = None,
) -> Response:
    app = minqing(request)
    values = {"visited_on": app.clock().date().isoformat(), **values}
    grids = sorted(posted_session.principal.grids)
    if len(grids) == 1:
        values.setdefault("grid", grids[0])
    # The register's places to choose from, by grid (the form's grid is chosen on the page).
    places: dict[str, list[dict[str, str]]] = {}
    for place in app.list_places(posted_session.principal.grids or None):
        places.setdefault(place.grid, []).append({"id": str(place.id), "name": place.name})
    context = {
        "n": n,
        "values": values,
        "errors": errors,
        "grids": grids,
        "similar": similar or {},
        "places": places,
    }
    status = errors.status if errors else 200
    return render(request, "record.html", context, session=posted_session, status=status)


@router.get("/record")
def record_page(request: Request, session: SessionDep, n: int = 1) -> Response:
    """The visit form with `n` concern sections (phone-first)."""
    need(session, Role.COLLECTOR, Role.STAFF)
    return _page(request, session, max(1, min(MAX_CONCERNS, n)), {})


def _used(form: Form, i: int) -> bool:
    return any(form.get(f"c{i}.{name}").strip() for name in _TYPED)


def _concern_body(form: Form, i: int, grid: str, priority: str) -> dict[str, Any]:
    prefix = f"c{i}."
    data = payload(form, ConcernIn, prefix)
    data["grid"] = grid
    data["channel"] = form.get(prefix + "channel") or "visit"
    if priority:
        data["priority_visit"] = priority
    resident = payload(form, ResidentIn, prefix + "resident.")
    if resident:
        data["resident"] = resident
    data["anonymous"] = form.get(prefix + "anonymous") == "true"
    lat, lng = form.get(prefix + "location.lat").strip(), form.get(prefix + "location.lng").strip()
    if lat or lng:
        datum = form.get(prefix + "location.datum") or "wgs84"
        data["location"] = {"lat": lat, "lng": lng, "datum": datum}
    return data


def _join(request: Request, session: UiSession, form: Form, n: int) -> Response:
    """Join this concern: the resident of section `i` is added to the concern suggested as
    a co-signer (the API's POST /concerns/{id}/cosigners), instead of a new concern."""
    index, _, target = form.get("join").partition(":")
    i = int(index) if index.isdigit() and int(index) < n else 0
    prefix = f"c{i}."
    lang = lang_of(request)
    try:
        concern_id = UUID(target)
    except ValueError:
        errors = errors_of(Invalid([(prefix + "title", "no concern to join")]), lang)
        return _page(request, session, n, form.flat(), errors)
    resident = payload(form, ResidentIn, prefix + "resident.")
    body_data: dict[str, Any] = {
        "anonymous": form.get(prefix + "anonymous") == "true",
        "channel": form.get(prefix + "channel") or "visit",
    }
    if resident:
        body_data["resident"] = resident
    try:
        body = parse(CosignerIn, body_data)
        data = ResidentData(
            name=(body.resident.name if body.resident else None) or None,
            phone=(body.resident.phone if body.resident else None) or None,
        )
        minqing(request).add_cosigner(
            concern_id, session.principal, data, body.anonymous, body.channel
        )
    except Invalid as exc:
        problems = [replace(p, field=prefix + p.field) for p in problems_of(exc)]
        errors = errors_of(FormInvalid(problems), lang)
        return _page(request, session, n, form.flat(), errors)
    except DomainError as exc:
        return _page(request, session, n, form.flat(), errors_of(exc, lang))
    return redirect(f"/ui/concerns/{concern_id}", done="joined", concern=concern_id)


def _photo(form: Form, i: int) -> tuple[NewPhoto | None, bool]:
    """Concern `i`'s photo (none chosen: None), and whether the resident is in it."""
    raw = (form.files.get(f"c{i}.photo") or [b""])[0]
    shows = form.get(f"c{i}.shows_resident") == "true"
    return (checked(raw, "photo") if raw else None), shows


def _photo_problems(exc: Invalid | TooLarge, i: int) -> list[Problem]:
    if isinstance(exc, TooLarge):
        mb = exc.limit // (1024 * 1024)
        return [Problem(f"c{i}.photo", "domain", f"is larger than {mb} MB")]
    return [replace(p, field=f"c{i}.{p.field}") for p in problems_of(exc)]


@router.post("/record")
def record(request: Request, posted: PostedDep) -> Response:
    """Save the visit and its concerns, or add one more concern section (`action=add`)."""
    session, form = posted.session, posted.form
    need(session, Role.COLLECTOR, Role.STAFF)
    app = minqing(request)
    n = _count(form.get("n", "1"))
    if form.get("action") == "add":
        return _page(request, session, min(MAX_CONCERNS, n + 1), form.flat())
    if form.get("join"):
        return _join(request, session, form, n)
    if form.get("action") == "similar":
        found = {i: suggestions(request, session, form, i) for i in range(n) if _used(form, i)}
        return _page(request, session, n, form.flat(), similar=found)
    visit_data = payload(form, VisitIn, lists=("concern_ids",))
    problems: list[Problem] = []
    visit = None
    try:
        visit = parse(VisitIn, visit_data)
        if visit.visited_on > app.clock().date():
            problems.append(Problem("visited_on", "domain", "must not be in the future"))
    except Invalid as exc:
        problems += problems_of(exc)
    drafts: list[NewConcern] = []
    # The intake photos of each concern, checked before anything is recorded.
    photos: list[tuple[NewPhoto | None, bool]] = []
    grid = form.get("grid").strip()
    for i in range(n):
        if not _used(form, i):
            continue
        try:
            photos.append(_photo(form, i))
        except (Invalid, TooLarge) as exc:
            problems += _photo_problems(exc, i)
        try:
            body = parse(ConcernIn, _concern_body(form, i, grid, form.get("priority_visit")))
        except Invalid as exc:
            problems += [replace(p, field=f"c{i}.{p.field}") for p in problems_of(exc)]
            continue
        resident = ResidentData(
            name=(body.resident.name if body.resident else None) or None,
            phone=(body.resident.phone if body.resident else None) or None,
        )
        location = point_from(body.location.model_dump()) if body.location else None
        try:  # checked before anything is recorded: a point outside the grid, a place elsewhere
            app.check_place(body.grid, body.place)
            app.check_point(body.grid, location)
        except Invalid as exc:
            problems += [replace(p, field=f"c{i}.{p.field}") for p in problems_of(exc)]
        if body.anonymous and not resident.is_empty():
            problems.append(
                Problem(
                    f"c{i}.anonymous",
                    "domain",
                    "an anonymous concern cannot carry the resident's data",
                )
            )
        drafts.append(
            NewConcern(
                title=body.title,
                description=body.description,
                category=body.category,
                library=body.library,
                channel=body.channel,
                grid=body.grid,
                building=body.building,
                priority_visit=body.priority_visit,
                resident=resident,
                anonymous=body.anonymous,
                place=body.place,
                location=location,
            )
        )
    if problems or visit is None:
        errors = errors_of(FormInvalid(problems), lang_of(request))
        return _page(request, session, n, form.flat(), errors)
    raised: list[str] = []
    references: list[str] = []
    # A form queued offline comes with an Idempotency-Key (api/ui/static/offline.js): sent
    # again after a lost answer, each of its commands answers as the first time.
    key = request.headers.get("idempotency-key", "")[:200] or None
    principal = session.principal

    def idem(part: str) -> Idempotency | None:
        return Idempotency(principal.id, f"ui-record:{key}:{part}", part) if key else None

    try:
        for i, (draft, (photo, shows_resident)) in enumerate(zip(drafts, photos, strict=True)):
            result = app.raise_concern(principal, draft, idem(f"c{i}"))
            raised.append(result.id)
            references.append(result.reference or "")
            if photo is not None:
                app.attach_photo(
                    UUID(result.id),
                    principal,
                    photo,
                    PhotoKind.INTAKE,
                    shows_resident=shows_resident,
                    idem=idem(f"p{i}"),
                )
        result = app.record_visit(
            session.principal,
            NewVisit(
                grid=visit.grid,
                household=visit.household,
                visited_on=visit.visited_on,
                priority_visit=visit.priority_visit,
                notes=visit.notes,
                concern_ids=[UUID(c) for c in raised],
            ),
            idem("visit"),
        )
    except DomainError as exc:
        lang = lang_of(request)
        errors = errors_of(exc, lang)
        if raised:  # said plainly: these are recorded even though the visit is not
            errors.top.append(translate(lang, "record.raised_anyway", refs="、".join(references)))
        return _page(request, session, n, form.flat(), errors)
    return redirect("/ui/record/done", visit=result.id, concerns=",".join(raised))


@router.get("/record/done")
def recorded(request: Request, session: SessionDep, visit: str, concerns: str = "") -> Response:
    """What was recorded, with the tracking codes to give the resident."""
    need(session, Role.COLLECTOR, Role.STAFF)
    app = minqing(request)
    shown = []
    for raw in [c for c in concerns.split(",") if c][:MAX_CONCERNS]:
        try:
            concern = app.get_concern(UUID(raw))
        except (ValueError, DomainError):
            continue
        check_view(session.principal, concern)
        # Only whoever raised it sees the tracking code here: it lets its holder answer
        # for the resident.
        mine = concern.raised_by == session.principal.id
        shown.append(
            {
                "id": str(concern.id),
                "reference": concern.reference,
                "title": concern.title,
                "tracking_code": concern.tracking_code if mine else None,
            }
        )
    return render(request, "record_done.html", {"concerns": shown}, session=session)
