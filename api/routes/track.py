"""The resident's tracking page, no token needed: /api/v1/track."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header

from api.deps import FingerprintDep, MinqingDep, RateLimitDep
from api.openapi import answers, errors
from api.responses import TrackOut
from api.schemas import CommandOut, FeedbackIn

router = APIRouter(
    prefix="/api/v1/track",
    tags=["residents"],
    dependencies=[RateLimitDep],
    responses=errors(404, 429, 503),
)


@router.get("/{tracking_code}", **answers(TrackOut))
def track(tracking_code: str, app: MinqingDep) -> dict[str, Any]:
    """Reference, title, status, dates and public notes: nothing personal."""
    return app.public_view(app.track(tracking_code))


@router.post("/{tracking_code}/feedback", response_model=CommandOut, responses=errors(409))
def feedback(
    tracking_code: str,
    body: FeedbackIn,
    app: MinqingDep,
    request_print: FingerprintDep,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> dict[str, Any]:
    """The resident says whether it was solved and how satisfied they are."""
    result = app.feedback_by_tracking_code(
        tracking_code,
        body.solved,
        body.satisfaction,
        body.comment,
        idempotency_key,
        request_print,
    )
    return result.body()
