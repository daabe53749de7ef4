"""What the time-limit tests (appeals, extensions) send and check over HTTP: a concern to
raise in grid 2, the community's zone, and an answer's status with its JSON body."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

ZONE = ZoneInfo("Asia/Shanghai")
RAISE = {
    "title": "路灯不亮",
    "description": "东侧小路路灯坏了",
    "category": "environment",
    "library": "problem",
    "channel": "visit",
    "grid": "2",
}


def status(r: Any, code: int) -> dict[str, Any]:
    """The JSON body of `r`, after checking it answered `code`."""
    assert r.status_code == code, r.text
    body: dict[str, Any] = r.json()
    return body
