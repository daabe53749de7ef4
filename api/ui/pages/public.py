"""Public pages, no sign-in: a resident's tracking page with the satisfaction form
(/ui/track), the achievement library (/ui/public/achievements) and the commitments board
(/ui/public/commitments)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api import public_board as board_data
from api.deps import RateLimiter
from api.schemas import FeedbackIn
from api.ui.data import READ_YOUR_WRITES_SECONDS
from api.ui.forms import Errors, errors_of, parse, payload
from api.ui.photos import public_photos
from api.ui.render import lang_of, render
from api.ui.sessions import UiSession
from api.ui.web import AnonymousFormDep, MaybeSessionDep, UiRoute, minqing, redirect
from domain.errors import DomainError, NotFound
from domain.history_labels import event_label
from domain.vocabulary import Category
from projections import achievements, commitments
from projections.achievements import AchievementQuery, Achievements
from projections.commitments import CommitmentQuery, Commitments
from projections.runner import ProjectionRunner

router = APIRouter(prefix="/ui", route_class=UiRoute, include_in_schema=False)
Code = Annotated[str, Query(max_length=64)]
ACHIEVEMENTS_PAGE = 30


def _limit(request: Request) -> None:
    # The same throttle as the API's tracking endpoints: codes cannot be guessed by brute force.
    limiter: RateLimiter = request.app.state.rate_limiter
    limiter.check(request.client.host if request.client else "unknown")


@router.get("/track")
def lookup(request: Request, session: MaybeSessionDep, code: Code = "") -> Response:
    """Ask for a tracking code (a code given in the query goes straight to its page)."""
    if code.strip():
        return redirect(f"/ui/track/{code.strip().upper()}")
    return render(request, "track_lookup.html", {"code": "", "missing": False}, session=session)


def _track_page(
    request: Request,
    session: UiSession | None,
    code: str,
    errors: Errors | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    app = minqing(request)
    try:
        concern = app.track(code)
    except NotFound:
        return render(
            request,
            "track_lookup.html",
            {"code": code, "missing": True},
            session=session,
            status=404,
        )
    view = app.public_view(concern)
    lang = lang_of(request)
    steps = [
        {**s, "label": getattr(event_label("Concern", s["type"]), lang)} for s in view["steps"]
    ]
    context = {
        "v": view,
        "steps": steps,
        "code": code,
        "errors": errors,
        "values": values or {},
        "thanks": request.query_params.get("thanks") == "1",
    }
    status = errors.status if errors else 200
    return render(request, "track.html", context, session=session, status=status)


@router.get("/track/{code}")
def track(request: Request, code: str, session: MaybeSessionDep) -> Response:
    """The concern's status, dates and public notes: nothing personal."""
    _limit(request)
    return _track_page(request, session, code)


@router.post("/track/{code}/feedback")
def feedback(
    request: Request, code: str, form: AnonymousFormDep, session: MaybeSessionDep
) -> Response:
    """The resident says whether it was solved and how satisfied they are."""
    _limit(request)
    app = minqing(request)
    try:
        body = parse(FeedbackIn, payload(form, FeedbackIn))
        app.feedback_by_tracking_code(code, body.solved, body.satisfaction, body.comment)
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise
        return _track_page(request, session, code, errors_of(exc, lang_of(request)), form.flat())
    return redirect(f"/ui/track/{code}", thanks=1)


@router.get("/track/{code}/feedback")
def feedback_page(code: str) -> Response:
    """The answer's address is a form's; GET goes to the tracking page."""
    return redirect(f"/ui/track/{quote(code)}")


@router.get("/public/commitments")
def commitments_board(
    request: Request,
    session: MaybeSessionDep,
    status: Annotated[str, Query(max_length=40)] = "",
    at: Annotated[int | None, Query(ge=0)] = None,
) -> Response:
    """Every commitment the community made, in progress, fulfilled or written off, with its
    milestones: no personal data (the same read model as /public/commitments)."""
    _limit(request)
    app = minqing(request)
    runner: ProjectionRunner = request.app.state.projections
    if at is not None:
        runner.wait_for(Commitments.name, at, READ_YOUR_WRITES_SECONDS)
    everything = commitments.board(app.db, CommitmentQuery(), app.members_shown_in_public())
    chosen = status if status in everything["counts"] else ""
    items = [i for i in everything["items"] if not chosen or i["status"] == chosen]
    context = {"items": items, "counts": everything["counts"], "status": chosen}
    return render(request, "commitments.html", context, session=session)


@router.get("/public/board")
def public_board_page(
    request: Request,
    session: MaybeSessionDep,
    month: Annotated[str | None, Query(max_length=7)] = None,
) -> Response:
    """The community's public board (八公开) as an A3 poster to print, in both languages."""
    _limit(request)
    app = minqing(request)
    window = request.app.state.settings.response_window_days
    context = {"b": board_data.board(app, month or None, window)}
    return render(request, "public_board.html", context, session=session)


@router.get("/public/achievements")
def achievement_library(
    request: Request,
    session: MaybeSessionDep,
    category: Annotated[str, Query(max_length=40)] = "",
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
    at: Annotated[int | None, Query(ge=0)] = None,
) -> Response:
    """What was delivered, newest first: resolved concerns and adopted suggestions, with no
    personal data (the same read model as /public/achievements)."""
    _limit(request)
    app = minqing(request)
    runner: ProjectionRunner = request.app.state.projections
    if at is not None:
        runner.wait_for(Achievements.name, at, READ_YOUR_WRITES_SECONDS)
    chosen = category if category in {c.value for c in Category} else ""
    query = AchievementQuery(categories=[chosen] if chosen else [])
    page = achievements.list_achievements(
        app.db,
        query,
        zone=app.zone,
        cursor=cursor,
        limit=ACHIEVEMENTS_PAGE,
        cell_m=request.app.state.settings.public_cell_m,
    )
    context = {
        "entries": page.items,
        "next_cursor": page.next_cursor,
        "category": chosen,
        "photos": public_photos(app, page.items),
    }
    return render(request, "achievements.html", context, session=session)
