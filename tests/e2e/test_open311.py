"""Open311 GeoReport v2 over HTTP: formats, the spec's field lists, creating, status mapping."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest

from application.minqing import NewConcern
from domain.lifecycle import Status
from domain.vocabulary import Category, Channel, DutyRole, Library, Role
from tests.conftest import Server

FIRST, LAST, PHONE, EMAIL = "秀英", "张", "13812345678", "zhang@example.cn"
ADDRESS = "幸福里5号楼2单元301"
LAT, LONG = "31.2304", "121.4737"
DESCRIPTION = "东侧小路的路灯已经坏了两个星期，老人晚上出门很不安全，希望尽快修好。" * 2
PERSONAL = (FIRST + LAST, LAST + FIRST, PHONE, EMAIL, ADDRESS, LAT, LONG)
SERVICE_FIELDS = {
    "service_code",
    "service_name",
    "description",
    "metadata",
    "type",
    "keywords",
    "group",
}
# GeoReport v2, GET Service Requests: every field of the response.
REQUEST_FIELDS = {
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
}


@pytest.fixture(scope="module", autouse=True)
def default_grid() -> Iterator[None]:
    """Servers of this module raise Open311 requests in grid 2 unless told otherwise."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MINQING_OPEN311_DEFAULT_GRID", "2")
        yield


def xml(response: httpx.Response) -> ET.Element:
    assert response.headers["content-type"].startswith("text/xml")
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(response.content)  # noqa: S314 - our own server's answer


@dataclass
class City:
    server: Server
    client: httpx.Client
    key: str

    def post(self, fmt: str = "json", **fields: str) -> httpx.Response:
        form = {
            "api_key": self.key,
            "service_code": Category.ENVIRONMENT.value,
            "description": DESCRIPTION,
            "first_name": FIRST,
            "last_name": LAST,
            "phone": PHONE,
            "email": EMAIL,
            "address_string": ADDRESS,
            "lat": LAT,
            "long": LONG,
            **fields,
        }
        return self.client.post(f"/open311/v2/requests.{fmt}", data=form)

    def create(self) -> dict[str, Any]:
        r = self.post()
        assert r.status_code == 200, r.text
        created: dict[str, Any] = r.json()[0]
        return created


@pytest.fixture
def city(shared_server: Server) -> Iterator[City]:
    _, key = shared_server.principal([Role.COLLECTOR])
    with shared_server.client() as client:
        yield City(shared_server, client, key)


def concern_of(city: City, reference: str) -> Any:
    return city.server.app.concern_by_reference(reference)


# -- services --------------------------------------------------------------------------------


def test_services_json_lists_the_six_categories_with_the_spec_fields(city: City) -> None:
    services = city.client.get("/open311/v2/services.json").json()
    assert [s["service_code"] for s in services] == [c.value for c in Category]
    for service in services:
        assert set(service) == SERVICE_FIELDS
        assert service["metadata"] is False
        assert service["type"] == "realtime"
    environment = services[3]
    assert environment["service_name"] == "环境卫生"
    assert environment["description"] == "Environment and sanitation"


def test_services_xml_parses_with_the_spec_root_and_elements(city: City) -> None:
    root = xml(city.client.get("/open311/v2/services.xml"))
    assert root.tag == "services"
    services = root.findall("service")
    assert len(services) == 6
    for service in services:
        assert {child.tag for child in service} == SERVICE_FIELDS
        assert service.findtext("metadata") == "false"


# -- creating --------------------------------------------------------------------------------


def test_posting_a_request_creates_an_online_concern_in_intake(city: City) -> None:
    created = city.create()
    assert created["service_request_id"].startswith("MQ-")
    assert created["token"]
    assert created["service_notice"]
    assert "account_id" in created
    concern = concern_of(city, created["service_request_id"])
    assert concern.status == "intake"
    assert concern.channel == "online"
    assert concern.library == "problem"
    assert concern.grid == "2"
    assert concern.category == "environment"
    assert concern.title == DESCRIPTION[:50]
    assert concern.description == DESCRIPTION


def test_the_residents_details_are_kept_only_in_their_encrypted_data(city: City) -> None:
    created = city.create()
    app = city.server.app
    concern = concern_of(city, created["service_request_id"])
    resident = app.keyring.open(concern.resident_ref, concern.resident_data)
    assert resident is not None
    assert resident.name == LAST + FIRST  # a Chinese name: family name first
    assert resident.phone == PHONE
    assert resident.email == EMAIL
    assert resident.address is not None
    assert ADDRESS in resident.address
    assert LAT in resident.address
    for secret in PERSONAL:
        assert secret not in concern.title + concern.description


def test_a_post_may_name_the_grid_library_and_title_and_send_json(city: City) -> None:
    r = city.client.post(
        "/open311/v2/requests.json",
        json={
            "api_key": city.key,
            "service_code": "dispute",
            "description": "楼上装修噪音",
            "attribute[grid]": "3",
            "attribute[library]": "suggestion",
            "title": "装修噪音",
        },
    )
    assert r.status_code == 200, r.text
    concern = concern_of(city, r.json()[0]["service_request_id"])
    assert (concern.grid, concern.library, concern.title) == ("3", "suggestion", "装修噪音")


def test_an_xml_post_answers_in_xml(city: City) -> None:
    root = xml(city.post("xml"))
    assert root.tag == "service_requests"
    request = root.find("request")
    assert request is not None
    assert (request.findtext("service_request_id") or "").startswith("MQ-")
    assert request.find("service_notice") is not None


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"api_key": ""}, 403),
        ({"api_key": "mq_not-a-token"}, 403),
        ({"service_code": "potholes"}, 400),
        ({"description": "  "}, 400),
        ({"lat": "north"}, 400),
        ({"long": "999"}, 400),
        ({"attribute[library]": "nothing"}, 400),
    ],
)
def test_a_bad_post_is_refused_in_the_spec_error_format(
    city: City, fields: dict[str, str], code: int
) -> None:
    r = city.post(**fields)
    assert r.status_code == code
    [error] = r.json()
    assert error["code"] == code
    assert error["description"]


def test_a_key_whose_principal_may_not_raise_concerns_is_forbidden(city: City) -> None:
    _, key = city.server.principal([Role.INTEGRATOR])
    r = city.post(api_key=key)
    assert r.status_code == 403
    assert r.json()[0]["code"] == 403


def test_errors_answer_in_xml_on_xml_paths(city: City) -> None:
    root = xml(city.post("xml", service_code="potholes"))
    assert root.tag == "errors"
    error = root.find("error")
    assert error is not None
    assert error.findtext("code") == "400"
    assert error.findtext("description")


# -- reading ---------------------------------------------------------------------------------


def test_get_requests_has_every_spec_field_and_nothing_personal(city: City) -> None:
    created = city.create()
    r = city.client.get("/open311/v2/requests.json")
    assert r.status_code == 200
    rows = {row["service_request_id"]: row for row in r.json()}
    row = rows[created["service_request_id"]]
    assert set(row) >= REQUEST_FIELDS
    assert row["status"] == "open"
    assert row["service_code"] == "environment"
    assert row["service_name"] == "环境卫生"
    assert row["description"] == DESCRIPTION[:50]
    assert row["address"] is None
    assert row["lat"] is None
    assert datetime.fromisoformat(row["requested_datetime"]).tzinfo is not None
    body = r.content.decode()
    for secret in (*PERSONAL, created["token"]):
        assert secret not in body


def test_get_requests_xml_parses_with_every_spec_element(city: City) -> None:
    created = city.create()
    root = xml(city.client.get("/open311/v2/requests.xml"))
    assert root.tag == "service_requests"
    by_id = {r.findtext("service_request_id"): r for r in root.findall("request")}
    request = by_id[created["service_request_id"]]
    assert {child.tag for child in request} >= REQUEST_FIELDS
    assert request.findtext("status") == "open"


def test_one_request_by_id_in_json_and_xml(city: City) -> None:
    reference = city.create()["service_request_id"]
    [row] = city.client.get(f"/open311/v2/requests/{reference}.json").json()
    assert row["service_request_id"] == reference
    root = xml(city.client.get(f"/open311/v2/requests/{reference}.xml"))
    assert root.findtext("request/service_request_id") == reference
    missing = city.client.get("/open311/v2/requests/MQ-1999-000001.json")
    assert missing.status_code == 404
    assert missing.json()[0]["code"] == 404


def test_a_token_leads_to_its_service_request(city: City) -> None:
    created = city.create()
    [row] = city.client.get(f"/open311/v2/tokens/{created['token']}.json").json()
    assert row["service_request_id"] == created["service_request_id"]
    root = xml(city.client.get(f"/open311/v2/tokens/{created['token']}.xml"))
    assert root.findtext("request/service_request_id") == created["service_request_id"]
    assert city.client.get("/open311/v2/tokens/NOSUCHTOKEN2.json").status_code == 404


def test_minqing_statuses_map_to_open_and_closed_with_public_notes(city: City) -> None:
    app = city.server.app
    staff = app.accounts.find("admin")
    declined = city.create()["service_request_id"]
    app.decline(concern_of(city, declined).id, staff, "不属于社区职责范围，已转交物业")
    assigned = city.create()["service_request_id"]
    due = date.today() + timedelta(days=10)
    member = UUID(city.server.member(duty=DutyRole.ENVIRONMENT_MONITOR))
    app.handle_now(concern_of(city, assigned).id, staff, member, DutyRole.ENVIRONMENT_MONITOR, due)
    rows = city.client.get(
        "/open311/v2/requests.json", params={"service_request_id": f"{declined},{assigned}"}
    ).json()
    by_id = {r["service_request_id"]: r for r in rows}
    closed, open_ = by_id[declined], by_id[assigned]
    assert closed["status"] == "closed"
    assert "不属于社区职责范围" in closed["status_notes"]
    assert open_["status"] == "open"
    assert open_["expected_datetime"].startswith(due.isoformat())
    assert "环境卫生监督员" in open_["agency_responsible"]
    assert open_["minqing_status"] == "assigned"

    only_closed = city.client.get("/open311/v2/requests.json", params={"status": "closed"})
    ids = {r["service_request_id"] for r in only_closed.json()}
    assert declined in ids
    assert assigned not in ids
    assert all(r["status"] == "closed" for r in only_closed.json())


def test_the_service_code_filter(city: City) -> None:
    dispute = city.post(service_code="dispute").json()[0]["service_request_id"]
    rows = city.client.get("/open311/v2/requests.json", params={"service_code": "dispute"}).json()
    assert dispute in {r["service_request_id"] for r in rows}
    assert {r["service_code"] for r in rows} == {"dispute"}


def test_the_date_window_defaults_to_ninety_days_and_may_not_be_wider(city: City) -> None:
    reference = city.create()["service_request_id"]
    old = {"start_date": "2020-01-01T00:00:00+08:00", "end_date": "2020-03-01T00:00:00+08:00"}
    rows = city.client.get("/open311/v2/requests.json", params=old).json()
    assert reference not in {r["service_request_id"] for r in rows}
    wide = {"start_date": "2020-01-01T00:00:00Z", "end_date": "2020-06-01T00:00:00Z"}
    r = city.client.get("/open311/v2/requests.json", params=wide)
    assert r.status_code == 400
    assert "90 days" in r.json()[0]["description"]
    bad = city.client.get("/open311/v2/requests.json", params={"start_date": "yesterday"})
    assert bad.status_code == 400


# -- servicerequestupdates -------------------------------------------------------------------


def test_service_request_updates_list_status_changes_in_the_window(city: City) -> None:
    app = city.server.app
    reference = city.create()["service_request_id"]
    app.decline(concern_of(city, reference).id, app.accounts.find("admin"), "已转交物业处理")
    r = city.client.get("/open311/v2/servicerequestupdates.json")
    assert r.status_code == 200
    updates = [u for u in r.json() if u["service_request_id"] == reference]
    assert len(updates) == 1
    update = updates[0]
    assert update["status"] == "closed"
    assert "已转交物业处理" in update["description"]
    assert UUID(update["update_id"])
    assert {"update_id", "updated_datetime", "media_url"} <= set(update)
    root = xml(city.client.get("/open311/v2/servicerequestupdates.xml"))
    assert root.tag == "service_request_updates"
    assert reference in {u.findtext("service_request_id") for u in root.findall("request_update")}


# -- unknown paths ---------------------------------------------------------------------------


def test_unknown_paths_and_formats_answer_in_the_spec_error_format(city: City) -> None:
    r = city.client.get("/open311/v2/potholes.json")
    assert r.status_code == 404
    assert r.json()[0]["code"] == 404
    r = city.client.get("/open311/v2/services.csv")
    assert r.status_code == 404
    assert r.json()[0]["code"] == 404
    r = city.client.delete("/open311/v2/requests.json")
    assert r.status_code == 405
    assert r.json()[0]["code"] == 405


# -- read from the read models: window, filters, notes ---------------------------------------


def test_without_dates_only_the_last_ninety_days_are_listed(city: City) -> None:
    app = city.server.app
    recent = city.create()["service_request_id"]
    now = app.clock
    long_ago = datetime.now(app.zone) - timedelta(days=100)
    app.clock = lambda: long_ago  # a request raised 100 days ago, as the log records it
    try:
        draft = NewConcern(
            title="旧的请求",
            description=DESCRIPTION,
            category=Category.ENVIRONMENT,
            library=Library.PROBLEM,
            channel=Channel.ONLINE,
            grid="2",
        )
        old = app.raise_concern(app.accounts.find("admin"), draft).reference
    finally:
        app.clock = now
    listed = {r["service_request_id"] for r in city.client.get("/open311/v2/requests.json").json()}
    assert recent in listed
    assert old not in listed
    window = {
        "start_date": (long_ago - timedelta(days=1)).isoformat(),
        "end_date": (long_ago + timedelta(days=1)).isoformat(),
    }
    rows = city.client.get("/open311/v2/requests.json", params=window).json()
    assert old in {r["service_request_id"] for r in rows}
    assert recent not in {r["service_request_id"] for r in rows}
    # Only an end date: the 90 days up to it.
    until = {"end_date": (long_ago + timedelta(days=1)).isoformat()}
    rows = city.client.get("/open311/v2/requests.json", params=until).json()
    assert old in {r["service_request_id"] for r in rows}
    # By id, any age.
    [row] = city.client.get("/open311/v2/requests.json", params={"service_request_id": old}).json()
    assert row["requested_datetime"].startswith(long_ago.date().isoformat())


def test_requests_are_newest_first_and_filters_may_be_repeated_or_comma_separated(
    city: City,
) -> None:
    dispute = city.post(service_code="dispute").json()[0]["service_request_id"]
    hardship = city.post(service_code="hardship_relief").json()[0]["service_request_id"]
    app = city.server.app
    app.withdraw(concern_of(city, hardship).id, app.accounts.find("admin"), "居民撤回")
    choices: list[list[tuple[str, str | int | float | bool | None]]] = [
        [("service_code", "dispute,hardship_relief")],
        [("service_code", "dispute"), ("service_code", "hardship_relief")],
    ]
    for params in choices:
        rows = city.client.get("/open311/v2/requests.json", params=params).json()
        ids = [r["service_request_id"] for r in rows]
        assert {dispute, hardship} <= set(ids)
        assert {r["service_code"] for r in rows} <= {"dispute", "hardship_relief"}
        assert ids.index(hardship) < ids.index(dispute)  # newest first
        times = [r["requested_datetime"] for r in rows]
        assert times == sorted(times, reverse=True)
    both: list[tuple[str, str | int | float | bool | None]] = [
        ("status", "open"),
        ("status", "closed"),
    ]
    either = {
        r["service_request_id"]
        for r in city.client.get("/open311/v2/requests.json", params=both).json()
    }
    assert {dispute, hardship} <= either
    closed = city.client.get(
        "/open311/v2/requests.json", params={"status": "closed", "service_code": "hardship_relief"}
    ).json()
    assert hardship in {r["service_request_id"] for r in closed}
    assert all(r["status"] == "closed" for r in closed)
    bad = city.client.get("/open311/v2/requests.json", params={"status": "pending"})
    assert bad.status_code == 400


def test_status_notes_show_what_the_tracking_page_shows(city: City) -> None:
    app = city.server.app
    staff = app.accounts.find("admin")
    created = city.create()
    reference = created["service_request_id"]
    cid = concern_of(city, reference).id
    member = UUID(city.server.member(duty=DutyRole.ENVIRONMENT_MONITOR))
    app.handle_now(cid, staff, member, DutyRole.ENVIRONMENT_MONITOR, date.today() + timedelta(3))
    app.resolve(cid, staff, "更换了6盏路灯")

    def notes() -> str:
        listed = {
            r["service_request_id"]: r for r in city.client.get("/open311/v2/requests.json").json()
        }
        [one] = city.client.get(f"/open311/v2/requests/{reference}.json").json()
        assert listed[reference]["status_notes"] == one["status_notes"]
        return str(one["status_notes"])

    assert notes() == "更换了6盏路灯"
    tracked = city.client.get(f"/api/v1/track/{created['token']}").json()
    assert tracked["public_notes"] == ["更换了6盏路灯"]
    app.reopen(cid, staff, "居民反映又坏了")  # the reason of a reopening is not public
    status = Status.ASSIGNED
    assert notes() == f"{status.zh} ({status.en})"


def test_updates_carry_the_extensions_fields_and_only_public_notes(city: City) -> None:
    app = city.server.app
    staff = app.accounts.find("admin")
    withdrawn = city.create()["service_request_id"]
    app.withdraw(concern_of(city, withdrawn).id, staff, "居民电话里说自己解决了")
    r = city.client.get("/open311/v2/servicerequestupdates.json")
    [update] = [u for u in r.json() if u["service_request_id"] == withdrawn]
    assert set(update) >= {
        "update_id",
        "service_request_id",
        "status",
        "updated_datetime",
        "description",
        "media_url",
    }
    assert update["status"] == "closed"
    assert "居民电话里说自己解决了" not in r.text  # a withdrawal's reason stays internal
    assert datetime.fromisoformat(update["updated_datetime"]).tzinfo is not None
    old = {"start_date": "2020-01-01T00:00:00+08:00", "end_date": "2020-03-01T00:00:00+08:00"}
    listed = city.client.get("/open311/v2/servicerequestupdates.json", params=old).json()
    assert withdrawn not in {u["service_request_id"] for u in listed}
    root = xml(city.client.get("/open311/v2/servicerequestupdates.xml"))
    for element in root.findall("request_update"):
        assert {child.tag for child in element} >= {
            "update_id",
            "service_request_id",
            "status",
            "updated_datetime",
            "description",
            "media_url",
        }


def test_tokens_and_posts_carry_the_spec_fields_in_json_and_xml(city: City) -> None:
    created = city.create()
    assert set(created) >= {"service_request_id", "token", "service_notice", "account_id"}
    [row] = city.client.get(f"/open311/v2/tokens/{created['token']}.json").json()
    assert set(row) == {"service_request_id", "token"}
    root = xml(city.client.get(f"/open311/v2/tokens/{created['token']}.xml"))
    request = root.find("request")
    assert request is not None
    assert {child.tag for child in request} == {"service_request_id", "token"}
    posted = xml(city.post("xml")).find("request")
    assert posted is not None
    assert {child.tag for child in posted} >= {
        "service_request_id",
        "token",
        "service_notice",
        "account_id",
    }
