"""Request dependencies: the application, the caller, idempotency keys and If-Match; the
read models (and waiting for them), the webhook store; a concern named in a path."""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from adapters.webhooks import Webhooks
from api.errors import RateLimited, Unauthenticated, error_body
from api.token_cache import TokenCache
from application import requests
from application.minqing import Idempotency, Minqing
from application.settings import Settings
from domain.errors import Forbidden, Invalid, NotFound
from domain.principal import Principal
from domain.references import REFERENCE
from domain.vocabulary import Role
from projections.runner import ProjectionRunner

# The dependencies of every command are async and cheap (no query but a token not seen for
# a few seconds): FastAPI runs a sync dependency in its thread pool, one hop each, so a
# command would pay four or five; now it pays one, for the route itself.


async def get_minqing(request: Request) -> Minqing:
    """The process's one Minqing application, made in the lifespan handler."""
    app: Minqing = request.app.state.minqing
    return app


async def get_settings(request: Request) -> Settings:
    """The settings the process was started with."""
    settings: Settings = request.app.state.settings
    return settings


MinqingDep = Annotated[Minqing, Depends(get_minqing)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_principal(
    request: Request, authorization: Annotated[str | None, Header()] = None
) -> Principal:
    """The caller named by the bearer token; 401 without a valid one."""
    if not authorization:
        raise Unauthenticated("an Authorization: Bearer <token> header is required")
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("the Authorization header must be 'Bearer <token>'")
    tokens: TokenCache = request.app.state.tokens
    principal = tokens.cached(token)
    if principal is None:
        # Not seen lately: the query runs in the thread pool, never on the event loop.
        principal = await run_in_threadpool(tokens.authenticate, token)
    if principal is None:
        raise Unauthenticated("the token is unknown or has been revoked")
    requests.note_principal(principal.id)  # for the request's log line
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require(*roles: Role, member_may: bool = False) -> object:
    """A dependency that refuses (403) a caller holding none of `roles`.

    With `member_may`, a caller linked to a member passes too: whether they are the
    concern's owner is decided once the concern is loaded.
    """
    allowed = frozenset(roles)

    async def check(principal: PrincipalDep) -> Principal:
        if principal.roles & allowed or (member_may and principal.member_id is not None):
            return principal
        names = ", ".join(sorted(r.value for r in allowed))
        raise Forbidden(f"this needs one of the roles {names}")

    return Depends(check)


async def get_idempotency(
    request: Request,
    principal: PrincipalDep,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> Idempotency | None:
    """The Idempotency-Key with a fingerprint of this request (path and body)."""
    if idempotency_key is None:
        return None
    return Idempotency(principal.id, idempotency_key, await fingerprint(request))


async def fingerprint(request: Request) -> str:
    """A hash of the method, the path and the body's JSON (key order does not matter)."""
    raw = await request.body()
    try:
        body = json.dumps(json.loads(raw or b"null"), sort_keys=True, ensure_ascii=False)
    except ValueError:
        body = raw.decode("utf-8", "replace")
    return hashlib.sha256(f"{request.method} {request.url.path}\n{body}".encode()).hexdigest()


IdempotencyDep = Annotated[Idempotency | None, Depends(get_idempotency)]


async def get_if_match(if_match: Annotated[str | None, Header()] = None) -> int | None:
    """The version named by If-Match (`"3"`, `W/"3"` or `3`), if any."""
    if if_match is None or if_match.strip() == "*":
        return None
    m = re.fullmatch(r'\s*(?:W/)?"?(\d+)"?\s*', if_match)
    if not m:
        raise Invalid([("If-Match", "must be the concern's version as given in its ETag")])
    return int(m.group(1))


IfMatchDep = Annotated[int | None, Depends(get_if_match)]


class RateLimiter:
    """A sliding one-minute window per client address."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def check(self, client: str) -> None:
        """Count one request from `client`, or raise RateLimited."""
        now = time.monotonic()
        with self._lock:
            hits = self._hits[client]
            while hits and hits[0] <= now - 60:
                hits.popleft()
            if len(hits) >= self.per_minute:
                raise RateLimited(int(60 - (now - hits[0])) + 1)
            hits.append(now)


async def limit_rate(request: Request) -> None:
    """Throttle unauthenticated callers so tracking codes cannot be guessed by brute force."""
    limiter: RateLimiter = request.app.state.rate_limiter
    limiter.check(request.client.host if request.client else "unknown")


RateLimitDep = Depends(limit_rate)


FingerprintDep = Annotated[str, Depends(fingerprint)]


# -- read models -------------------------------------------------------------------------------

# What a read endpoint answers: its page, or the 503 of a read model not caught up yet.
Out = dict[str, Any] | JSONResponse
# How long a read waits for its read model to reach the `min_position` it was given.
READ_YOUR_WRITES_SECONDS = 2.0


async def get_projections(request: Request) -> ProjectionRunner:
    """The process's projection runner (running in the background or not)."""
    runner: ProjectionRunner = request.app.state.projections
    return runner


ProjectionsDep = Annotated[ProjectionRunner, Depends(get_projections)]


def caught_up(runner: ProjectionRunner, name: str, min_position: int | None) -> JSONResponse | int:
    """The projection's position once it has reached `min_position`, or the 503 answer."""
    if min_position is None:
        return runner.position(name)
    current = runner.wait_for(name, min_position, READ_YOUR_WRITES_SECONDS)
    if current >= min_position:
        return current
    message = (
        f"the {name} read model has reached position {current}, not yet {min_position};"
        " try again shortly"
    )
    return JSONResponse(
        error_body("unavailable", message, position=current),
        status_code=503,
        headers={"Retry-After": "1"},
    )


def concern_id(app: Minqing, raw: str) -> UUID:
    """A concern's UUID from its id or its reference (MQ-2026-000123)."""
    if REFERENCE.fullmatch(raw):
        return app.concern_by_reference(raw).id
    try:
        return UUID(raw)
    except ValueError:
        raise NotFound("concern", raw) from None


# -- webhooks ----------------------------------------------------------------------------------


def get_webhooks(request: Request) -> Webhooks:
    """The webhook subscriptions and outbox (made, with their tables, at start)."""
    webhooks: Webhooks = request.app.state.webhooks
    return webhooks


WebhooksDep = Annotated[Webhooks, Depends(get_webhooks)]


def get_wake_dispatcher(request: Request) -> Callable[[], None]:
    """What makes this process's webhook dispatcher look at the outbox now."""
    wake: Callable[[], None] = request.app.state.wake_dispatcher
    return wake


WakeDispatcherDep = Annotated[Callable[[], None], Depends(get_wake_dispatcher)]
