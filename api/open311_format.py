"""Open311 GeoReport v2's formats: errors in the spec's shape, JSON and XML answers, the
service list, and a new request's form as a concern to raise (api/routes/open311.py serves
them; api/errors.py answers failures on /open311/ paths with `error`)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any

from fastapi import Response
from fastapi.responses import JSONResponse

from application.commands import NewConcern
from application.minqing import Minqing
from application.settings import Settings
from domain.geo import Point, cell_of
from domain.lifecycle import Status
from domain.residents import ResidentData
from domain.vocabulary import Category, Channel, DutyRole, Library

CLOSED = frozenset(
    {Status.RESOLVED, Status.DECLINED, Status.MERGED, Status.WITHDRAWN, Status.VOIDED}
)
TITLE_FROM_DESCRIPTION = 50
GROUP = "社区民情 Community concerns"
Row = dict[str, Any]
_REQUEST_FIELDS = (
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
)

_KEYWORDS: Mapping[Category, str] = {
    Category.POLICY_INQUIRY: "政策,咨询,低保,医保,养老,policy,inquiry,benefits",
    Category.DISPUTE: "矛盾,纠纷,邻里,调解,dispute,neighbours,mediation",
    Category.HARDSHIP_RELIEF: "困难,救助,帮扶,hardship,relief,assistance",
    Category.ENVIRONMENT: "环境,卫生,垃圾,路灯,environment,sanitation,litter,streetlight",
    Category.LIVELIHOOD_PROJECT: "民生,项目,加装电梯,停车,livelihood,project,elevator,parking",
    Category.COMMUNITY_AFFAIRS: "社区,事务,居务,公开,community,affairs",
}


class Open311Error(Exception):
    """An error answered in the spec's format."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


def check_format(fmt: str) -> str:
    if fmt not in ("json", "xml"):
        raise Open311Error(404, f"format {fmt!r} is not served; use .json or .xml")
    return fmt


def xml_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def xml_document(root: str, item: str, rows: list[Row]) -> bytes:
    top = ET.Element(root)
    for row in rows:
        element = ET.SubElement(top, item)
        for key, value in row.items():
            ET.SubElement(element, key).text = xml_text(value)
    body: bytes = ET.tostring(top, encoding="utf-8")
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body


def answer(fmt: str, root: str, item: str, rows: list[Row], status: int = 200) -> Response:
    if fmt == "xml":
        return Response(
            xml_document(root, item, rows), status_code=status, media_type="text/xml; charset=utf-8"
        )
    return JSONResponse(rows, status_code=status)


def error(fmt: str, code: int, description: str) -> Response:
    rows = [{"code": code, "description": description}]
    return answer("xml" if fmt == "xml" else "json", "errors", "error", rows, status=code)


def services_rows() -> list[Row]:
    return [
        {
            "service_code": c.value,
            "service_name": c.zh,
            "description": c.en,
            "metadata": False,
            "type": "realtime",
            "keywords": _KEYWORDS[c],
            "group": GROUP,
        }
        for c in Category
    ]


def coordinate(form: Mapping[str, str], name: str, limit: float) -> float | None:
    raw = form.get(name, "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise Open311Error(400, f"{name} must be a number") from None
    if not -limit <= value <= limit:
        raise Open311Error(400, f"{name} must be between -{limit:g} and {limit:g}")
    return value


def person_name(first: str, last: str) -> str | None:
    if not (first or last):
        return None
    # Chinese names are written family name first, without a space.
    cjk = any("\u4e00" <= ch <= "\u9fff" for ch in first + last)
    return f"{last}{first}" if cjk else f"{first} {last}".strip()


def draft(form: Mapping[str, str], settings: Settings) -> NewConcern:
    code = form.get("service_code", "").strip()
    if code not in {c.value for c in Category}:
        raise Open311Error(400, f"service_code {code!r} is not a service; see services.json")
    description = form.get("description", "").strip()
    if not description:
        raise Open311Error(400, "description is required")
    title = (form.get("title") or form.get("attribute[title]") or "").strip()
    grid = (form.get("attribute[grid]") or settings.open311_default_grid or "").strip()
    if not grid:
        raise Open311Error(400, "attribute[grid] is required (or set MINQING_OPEN311_DEFAULT_GRID)")
    library = (form.get("attribute[library]") or Library.PROBLEM.value).strip()
    if library not in {x.value for x in Library}:
        raise Open311Error(400, f"attribute[library] must be one of {', '.join(Library)}")
    lat, long = coordinate(form, "lat", 90), coordinate(form, "long", 180)
    # A location the resident gives is where they are, often their home: it is kept only in
    # their encrypted data, with the address, and never shown again.
    place = " ".join(
        p
        for p in (
            form.get("address_string", "").strip(),
            f"({lat}, {long})" if lat is not None and long is not None else "",
        )
        if p
    )
    resident = ResidentData(
        name=person_name(form.get("first_name", "").strip(), form.get("last_name", "").strip()),
        phone=form.get("phone", "").strip() or None,
        address=place or None,
        email=form.get("email", "").strip() or None,
    )
    return NewConcern(
        title=title or description[:TITLE_FROM_DESCRIPTION],
        description=description,
        category=Category(code),
        library=Library(library),
        channel=Channel.ONLINE,
        grid=grid,
        resident=resident,
    )


def local_time(app: Minqing, utc: str | None) -> str | None:
    return datetime.fromisoformat(utc).astimezone(app.zone).isoformat() if utc else None


def request_row(app: Minqing, row: Mapping[str, Any], cell_m: int) -> Row:
    """A concern-list row (with its public note) as an Open311 service request; its point,
    if it has one, only as the centre of its cell of `cell_m` metres."""
    status = Status(row["status"])
    due = (
        datetime.combine(date.fromisoformat(row["due_on"]), time(23, 59, 59), tzinfo=app.zone)
        if row["due_on"]
        else None
    )
    duty = DutyRole(row["duty_role"]) if row["duty_role"] else None
    category = Category(row["category"])
    out: Row = dict.fromkeys(_REQUEST_FIELDS)
    out.update(
        service_request_id=row["reference"],
        status="closed" if status in CLOSED else "open",
        status_notes=row["note"] or f"{status.zh} ({status.en})",
        service_name=category.zh,
        service_code=category.value,
        description=row["title"],
        agency_responsible=f"{duty.zh} ({duty.en})" if duty else None,
        requested_datetime=local_time(app, row["raised_at"]),
        updated_datetime=local_time(app, row["updated_at"]),
        expected_datetime=due.isoformat() if due else None,
    )
    if row.get("lat") is not None and row.get("lng") is not None:
        centre = cell_of(Point(float(row["lat"]), float(row["lng"])), cell_m).centre()
        out.update(lat=centre.lat, long=centre.lng)
    # An extension field: Minqing's own status, for clients that want more than open/closed.
    out["minqing_status"] = status.value
    return out
