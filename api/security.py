"""What every response carries and what the server believes of a request: security headers,
forwarded headers from trusted proxies only, and tracking codes kept out of the access log.

`install(app)` is the one line api/main.py calls; it also serves /docs and /redoc from the
package (api/docs.py), so the interactive documentation works without internet.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from api import docs, doors
from application.settings import Settings

# No inline script or style anywhere: pages load their scripts and styles from this origin.
# Images may be data: URLs (Swagger UI's icons are); nothing may frame a page.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HEADERS: tuple[tuple[str, str], ...] = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
)
# Sent only over HTTPS (the connection's, or a trusted proxy's X-Forwarded-Proto).
HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")


class SecurityHeaders:
    """Adds HEADERS to every HTTP response (a header a route set itself is kept), and HSTS
    when the request came over HTTPS. Pure ASGI, so streamed responses stream on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; add the headers as the response starts."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        secure = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in (*HEADERS, *([HSTS] if secure else [])):
                    if name not in headers:
                        headers.append(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def trusted_proxies(settings: Settings) -> list[str]:
    """The addresses and networks MINQING_TRUSTED_PROXIES lists (none by default)."""
    return [p.strip() for p in settings.trusted_proxies.split(",") if p.strip()]


# Tracking codes are a resident's secret: the access log shows their paths without them.
_SECRET_PATHS = (
    (re.compile(r"(/(?:api/v1|ui)/track/)[^/?#\s\"]+"), r"\1***"),
    (re.compile(r"(/open311/v2/tokens/)[^/?#.\s\"]+"), r"\1***"),
    (re.compile(r"(/ui/track\?(?:[^#\s\"]*&)?code=)[^&#\s\"]*"), r"\1***"),
)


def redact(text: str) -> str:
    """`text` with every tracking code in a path replaced by ***."""
    for pattern, replacement in _SECRET_PATHS:
        text = pattern.sub(replacement, text)
    return text


class RedactTrackingCodes(logging.Filter):
    """Rewrites uvicorn's access-log lines so no tracking code is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the record's arguments (uvicorn passes the path as one) and message."""
        if isinstance(record.args, tuple):
            record.args = tuple(_redacted(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _redacted(v) for k, v in record.args.items()}
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def _redacted(value: Any) -> Any:
    return redact(value) if isinstance(value, str) else value


_FILTER = RedactTrackingCodes()
ACCESS_LOGGERS = ("uvicorn.access",)


def install_log_filter(loggers: Iterable[str] = ACCESS_LOGGERS) -> None:
    """Put the redacting filter on the access loggers (once: the same filter object)."""
    for name in loggers:
        logging.getLogger(name).addFilter(_FILTER)


def install(app: FastAPI, settings: Settings) -> None:
    """Security headers on every response, forwarded headers only from trusted proxies, the
    access log without tracking codes, the documentation pages served offline and each
    operation's door (api.doors) in the OpenAPI document."""
    docs.install(app, CONTENT_SECURITY_POLICY)
    doors.install(app)  # who may call each operation, published in the OpenAPI document
    app.add_middleware(SecurityHeaders)
    # Outermost, so the headers above and every route see the client's address and scheme.
    # uvicorn must not apply its own proxy headers first: `minqing serve` turns them off.
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=trusted_proxies(settings))
    install_log_filter()
