"""Webhook subscriptions: /api/v1/webhooks (roles integrator and admin).

Deliveries follow the Standard Webhooks spec (workers/webhooks.py, which this process runs
or another does). The signing secret
(`whsec_…`) is in the response to create and to rotate-secret, and never again. Integrators
see and manage the subscriptions they created; admins see all of them.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import ConfigDict, Field, StrictBool, StringConstraints

from adapters.webhooks import (
    MAX_DESCRIPTION_LENGTH,
    MAX_URL_LENGTH,
    DeliveryStatus,
    Status,
    Subscription,
)
from api.deps import get_wake_dispatcher, get_webhooks, require
from api.openapi import answers, errors
from api.responses_registers import Deliveries, Replayed, WebhookList, WebhookOut
from api.schemas import MULTI_LINE, SINGLE_LINE, Body
from domain.errors import Invalid
from domain.principal import Principal
from domain.vocabulary import Role

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"], responses=errors(401, 403, 503))
Manager = Annotated[Principal, require(Role.INTEGRATOR, Role.ADMIN)]
# The text policy (domain/text.py) on every field, as on every other body.
Url = Annotated[str, StringConstraints(max_length=MAX_URL_LENGTH), SINGLE_LINE]
EventType = Annotated[str, StringConstraints(max_length=200), SINGLE_LINE]
Description = Annotated[str, StringConstraints(max_length=MAX_DESCRIPTION_LENGTH), MULTI_LINE]
Secret = Annotated[str, StringConstraints(max_length=200), SINGLE_LINE]


class WebhookIn(Body):
    """A new subscription."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "url": "https://hotline.example.org/minqing/events",
                    "event_types": ["org.minqing.concern.raised.v1"],
                    "description": "12345 hotline",
                }
            ]
        },
    )

    url: Url
    event_types: list[EventType] = Field(default_factory=list, max_length=100)
    description: Description = ""
    secret: Secret | None = Field(
        default=None,
        description="your own whsec_… secret (24 to 64 bytes); one is made if absent",
    )


class WebhookPatch(Body):
    """Fields to change; absent fields stay."""

    url: Url | None = None
    event_types: list[EventType] | None = Field(default=None, max_length=100)
    status: Status | None = None


class ReplayIn(Body):
    """`{"from": POS, "to": POS}` (inclusive) or `{"parked": true}`."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    start: int | None = Field(default=None, alias="from", ge=0)
    end: int | None = Field(default=None, alias="to", ge=0)
    parked: StrictBool = False


def _view(sub: Subscription, secret: str | None = None) -> dict[str, Any]:
    body = sub.as_dict()
    if secret is not None:
        body["secret"] = secret
    return body


@router.get("", **answers(WebhookList))
def list_webhooks(request: Request, principal: Manager) -> dict[str, Any]:
    """The subscriptions the caller may see (admins: every one)."""
    return {"items": [_view(s) for s in get_webhooks(request).all(principal)]}


@router.post("", **answers(WebhookOut, status=201))
def create_webhook(
    body: WebhookIn, request: Request, response: Response, principal: Manager
) -> dict[str, Any]:
    """Subscribe a URL to events (all types, or `event_types`); the secret is shown once."""
    sub, secret = get_webhooks(request).create(
        principal, body.url, body.event_types, body.description, body.secret
    )
    response.headers["Location"] = f"/api/v1/webhooks/{sub.id}"
    response.headers["Cache-Control"] = "no-store"
    return _view(sub, secret)


@router.get("/{webhook_id}", **answers(WebhookOut, 404))
def get_webhook(webhook_id: str, request: Request, principal: Manager) -> dict[str, Any]:
    """One subscription (without its secret)."""
    return _view(get_webhooks(request).get(webhook_id, principal))


@router.patch("/{webhook_id}", **answers(WebhookOut, 404))
def update_webhook(
    webhook_id: str, body: WebhookPatch, request: Request, principal: Manager
) -> dict[str, Any]:
    """Change the URL, the event types, or the status (`active`, `disabled`)."""
    sub = get_webhooks(request).update(
        webhook_id, principal, url=body.url, event_types=body.event_types, status=body.status
    )
    if sub.status is Status.ACTIVE:
        get_wake_dispatcher(request)()  # rows that waited while it was disabled
    return _view(sub)


@router.delete("/{webhook_id}", **answers(None, 404, status=204, description="deleted"))
def delete_webhook(webhook_id: str, request: Request, principal: Manager) -> Response:
    """Delete the subscription; its delivery log stays readable."""
    get_webhooks(request).delete(webhook_id, principal)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{webhook_id}/rotate-secret", **answers(WebhookOut, 404))
def rotate_secret(
    webhook_id: str, request: Request, response: Response, principal: Manager
) -> dict[str, Any]:
    """A new secret, shown once; the old one keeps signing (a second signature) for 24 h."""
    sub, secret = get_webhooks(request).rotate_secret(webhook_id, principal)
    response.headers["Cache-Control"] = "no-store"
    return _view(sub, secret)


@router.get("/{webhook_id}/deliveries", **answers(Deliveries, 404))
def deliveries(
    webhook_id: str,
    request: Request,
    principal: Manager,
    status: DeliveryStatus | None = None,
    after: Annotated[int, Query(ge=0, description="the last position already seen")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """The delivery log, oldest first: each event's state, attempts and their results;
    `?status=parked` lists the parked messages."""
    page = get_webhooks(request).deliveries(
        webhook_id, principal, status=status, after=after, limit=limit
    )
    return {"items": page.deliveries, "counts": page.counts, "next_after": page.next_after}


@router.post("/{webhook_id}/replay", **answers(Replayed, 404, status=202))
def replay(webhook_id: str, body: ReplayIn, request: Request, principal: Manager) -> dict[str, Any]:
    """Send again the events at positions `from`..`to` (inclusive), or every parked one."""
    if body.parked and (body.start is not None or body.end is not None):
        raise Invalid([("parked", "give either parked: true or from and to, not both")])
    if not body.parked:
        missing = [name for name, v in (("from", body.start), ("to", body.end)) if v is None]
        if missing:
            raise Invalid([(name, "is required (or give parked: true)") for name in missing])
    queued = get_webhooks(request).replay(
        webhook_id, principal, start=body.start, end=body.end, parked=body.parked
    )
    get_wake_dispatcher(request)()
    return {"queued": queued}
