"""/docs (Swagger UI) and /redoc (ReDoc) served from the package, never from a CDN: an
office network without internet still shows them. The assets are fastapi-offline's (a
pinned dependency); the pages have no inline script or style, so the strict
Content-Security-Policy of api.security holds on them too."""

from __future__ import annotations

from html import escape

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs-assets"
# The one relaxation of the policy, on /redoc only: the two style elements ReDoc's bundle
# (fastapi-offline 1.7.7's) makes itself, by the hashes of their text: the empty element its
# styled-components fills through the CSSOM, and a stylesheet it carries. Scripts stay 'self'.
# A new bundle with other styles shows as a violation in tests/browser/test_docs_offline.py.
REDOC_STYLES = (
    "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=' "
    "'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='"
)
# FastAPI's own documentation routes load their assets from a CDN and start Swagger UI with
# an inline script: these paths are replaced (the OAuth2 redirect page is not needed: the
# API takes bearer tokens).
_REPLACED = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})


def swagger_page(title: str, openapi_url: str) -> str:
    """The Swagger UI page: its script, stylesheet and starter all from ASSETS."""
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} - Swagger UI</title>
<link rel="stylesheet" href="{ASSETS}/swagger-ui.css">
<link rel="icon" href="{ASSETS}/favicon.png">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{escape(openapi_url)}"></div>
<script src="{ASSETS}/swagger-ui-bundle.js"></script>
<script src="{ASSETS}/swagger-init.js"></script>
</body>
</html>
"""


def redoc_page(title: str, openapi_url: str) -> str:
    """The ReDoc page: the standalone bundle from ASSETS, no web fonts."""
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} - ReDoc</title>
<link rel="stylesheet" href="{ASSETS}/redoc.css">
<link rel="icon" href="{ASSETS}/favicon.png">
</head>
<body>
<redoc spec-url="{escape(openapi_url)}"></redoc>
<script src="{ASSETS}/redoc.standalone.js"></script>
</body>
</html>
"""


def install(app: FastAPI, policy: str) -> None:
    """Replace FastAPI's /docs and /redoc with pages whose assets this server serves;
    `policy` is the Content-Security-Policy the pages are sent under."""
    app.router.routes[:] = [
        r for r in app.router.routes if getattr(r, "path", None) not in _REPLACED
    ]
    openapi_url = app.openapi_url or "/openapi.json"
    redoc_policy = policy.replace("style-src 'self'", f"style-src 'self' {REDOC_STYLES}")
    app.mount(
        ASSETS,
        StaticFiles(packages=[("fastapi_offline", "static"), ("api", "docs_static")]),
        name="docs-assets",
    )

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return HTMLResponse(swagger_page(app.title, openapi_url))

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return HTMLResponse(
            redoc_page(app.title, openapi_url), headers={"Content-Security-Policy": redoc_policy}
        )
