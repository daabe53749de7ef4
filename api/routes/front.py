"""The front door: `GET /` is a small bilingual page linking the web UI, the public pages,
the API documentation and the health endpoints; JSON clients get the same links as JSON."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from api.ui.render import ENV


@dataclass(frozen=True)
class Link:
    """One door of the service: where it is and what it is called in both languages."""

    rel: str
    href: str
    zh: str
    en: str


@dataclass(frozen=True)
class Group:
    """Links for one kind of visitor."""

    zh: str
    en: str
    links: tuple[Link, ...]


GROUPS: tuple[Group, ...] = (
    Group(
        "居民和社区工作者",
        "Residents and community workers",
        (
            Link("ui", "/ui/", "网页界面（登录）", "Web UI (sign in)"),
            Link("track", "/ui/track", "民情进度查询", "Track a concern"),
            Link("achievements", "/ui/public/achievements", "成果库", "Achievement library"),
            Link("commitments", "/ui/public/commitments", "承诺公开栏", "Commitments board"),
            Link("board", "/ui/public/board", "居务公开栏", "Public board"),
        ),
    ),
    Group(
        "开发和系统对接",
        "Developers and integrators",
        (
            Link("docs", "/docs", "接口文档（Swagger UI）", "API documentation (Swagger UI)"),
            Link("redoc", "/redoc", "接口文档（ReDoc）", "API documentation (ReDoc)"),
            Link("openapi", "/openapi.json", "OpenAPI 文档", "OpenAPI document"),
            Link("asyncapi", "/asyncapi.json", "AsyncAPI 文档", "AsyncAPI document (events)"),
            Link("event_schemas", "/api/v1/events/schemas", "事件模式", "Event schemas"),
            Link("open311", "/open311/v2/services.json", "Open311 服务列表", "Open311 services"),
            Link("workflow", "/workflow", "民情办理流程（JSON）", "The concern lifecycle (JSON)"),
            Link("workflow_diagram", "/workflow.mmd", "流程图（mermaid）", "Lifecycle diagram"),
        ),
    ),
    Group(
        "运维",
        "Operators",
        (
            Link("health", "/healthz", "存活检查", "Liveness"),
            Link("ready", "/readyz", "就绪检查", "Readiness"),
            Link("metrics", "/metrics", "监控指标（Prometheus）", "Metrics (Prometheus)"),
        ),
    ),
)

router = APIRouter(tags=["front"])


def wants_json(accept: str) -> bool:
    """True when the Accept header prefers application/json to text/html (HTML wins ties,
    and a missing header or */* gets HTML)."""
    html, json = 0.0, 0.0
    for part in accept.split(","):
        kind, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        kind = kind.strip().lower()
        if kind == "text/html":
            html = max(html, q)
        elif kind == "application/json":
            json = max(json, q)
    return json > html


def index() -> dict[str, Any]:
    """The links as JSON."""
    return {
        "name": "Minqing 民情",
        "links": [
            {"rel": link.rel, "href": link.href, "title": {"zh": link.zh, "en": link.en}}
            for group in GROUPS
            for link in group.links
        ],
    }


@router.get("/", include_in_schema=False)
def front_page(request: Request) -> Response:
    """The front page (HTML), or its links as JSON for `Accept: application/json`."""
    headers = {"Vary": "Accept"}
    if wants_json(request.headers.get("accept", "")):
        return JSONResponse(index(), headers=headers)
    page = ENV.get_template("front.html").render(groups=GROUPS)
    return HTMLResponse(page, headers=headers)
