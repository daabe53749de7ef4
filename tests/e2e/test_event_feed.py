"""The integrator feed over HTTP: pull pages, filters, roles, schemas, AsyncAPI and SSE."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest
from jsonschema import Draft202012Validator

from application.minqing import NewConcern
from domain.cloudevents import BY_TYPE, topics_for
from domain.principal import Principal
from domain.residents import ResidentData
from domain.unreadable import UNREADABLE_TYPE
from domain.vocabulary import Category, Channel, DutyRole, Library, Role
from tests.conftest import Server

NAME, PHONE, ADDRESS = "张秀英", "13812345678", "幸福里5号楼2单元301"
RAISED = "org.minqing.concern.raised.v1"
REFERRED = "org.minqing.concern.referred.v1"


@pytest.fixture(scope="module", autouse=True)
def short_heartbeat() -> Iterator[None]:
    """Servers of this module send a heartbeat every second (15 s in production)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MINQING_EVENT_STREAM_HEARTBEAT_SECONDS", "1")
        patch.setenv("MINQING_EVENT_STREAM_MAX_SECONDS", "60")
        yield


@dataclass
class Office:
    server: Server
    staff: Principal
    reader: httpx.Client
    concerns: list[str] = field(default_factory=list)

    def raise_concern(self, title: str = "5号楼东侧小路路灯两周不亮") -> str:
        draft = NewConcern(
            title=title,
            description="东侧小路的路灯已经坏了两个星期。",
            category=Category.ENVIRONMENT,
            library=Library.PROBLEM,
            channel=Channel.VISIT,
            grid="2",
            resident=ResidentData(name=NAME, phone=PHONE, address=ADDRESS),
        )
        result = self.server.app.raise_concern(self.staff, draft)
        self.concerns.append(result.id)
        return result.id

    def published(self) -> list[int]:
        """Every published position in the log, read directly."""
        rows = self.server.app.recorder.select_notifications(
            0, 1_000_000, topics=topics_for(), inclusive_of_start=False
        )
        return [n.id for n in rows]

    def read_all(self, after: int = 0, limit: int = 7, **params: str) -> tuple[list[Any], int]:
        events: list[Any] = []
        while True:
            r = self.reader.get("/api/v1/events", params={"after": after, "limit": limit, **params})
            assert r.status_code == 200, r.text
            page = r.json()
            events += page["events"]
            assert page["next_after"] >= after
            if not page["events"] and page["next_after"] == after:
                return events, after
            after = page["next_after"]


@pytest.fixture
def office(shared_server: Server) -> Iterator[Office]:
    staff = shared_server.app.accounts.find("admin")
    _, token = shared_server.principal([Role.INTEGRATOR])
    with shared_server.client(token) as reader:
        found = Office(shared_server, staff, reader)
        member = shared_server.member()
        first = found.raise_concern()
        found.server.app.refer(UUID(first), staff, "需支委会研究")
        second = found.raise_concern("楼道堆物")
        found.server.app.handle_now(
            UUID(second),
            staff,
            UUID(member),
            DutyRole.PROJECT_COORDINATOR,
            date.today() + timedelta(days=10),
        )
        found.raise_concern("噪音扰民")
        yield found


def positions(events: list[Any]) -> list[int]:
    return [int(e["sequence"]) for e in events]


# -- pull ------------------------------------------------------------------------------------


def test_reading_from_zero_to_the_end_gets_every_published_event_once_in_order(
    office: Office,
) -> None:
    events, _ = office.read_all()
    assert positions(events) == office.published()
    assert len({e["id"] for e in events}) == len(events)


def test_next_after_reaches_the_head_even_when_the_filter_matches_nothing_there(
    office: Office,
) -> None:
    events, last = office.read_all(type=REFERRED)
    # Events after the last referral were scanned too: the consumer does not rescan them.
    assert last == office.server.event_count()
    assert last > positions(events)[-1]


def test_a_consumer_resumes_after_next_after_and_gets_only_newer_events(office: Office) -> None:
    _, cursor = office.read_all()
    fresh = office.raise_concern("新的民情")
    events, _ = office.read_all(after=cursor)
    assert [e["subject"] for e in events] == [fresh]
    assert events[0]["type"] == RAISED
    assert positions(events)[0] > cursor


def test_a_page_holds_at_most_limit_events_oldest_first(office: Office) -> None:
    r = office.reader.get("/api/v1/events", params={"after": 0, "limit": 2})
    page = r.json()
    assert len(page["events"]) == 2
    assert positions(page["events"]) == sorted(positions(page["events"]))
    assert page["next_after"] == positions(page["events"])[-1]


def test_the_type_filter_returns_only_those_types(office: Office) -> None:
    events, _ = office.read_all(type=f"{RAISED},{REFERRED}")
    assert {e["type"] for e in events} == {RAISED, REFERRED}
    everything, _ = office.read_all()
    assert events == [e for e in everything if e["type"] in (RAISED, REFERRED)]


def test_the_type_filter_may_be_repeated(office: Office) -> None:
    r = office.reader.get(
        "/api/v1/events", params=[("type", RAISED), ("type", REFERRED), ("limit", "1000")]
    )
    assert {e["type"] for e in r.json()["events"]} == {RAISED, REFERRED}


def test_the_subject_filter_returns_one_aggregates_events_in_version_order(
    office: Office,
) -> None:
    subject = office.concerns[0]
    events, last = office.read_all(subject=subject)
    assert {e["subject"] for e in events} == {subject}
    assert [e["data"]["version"] for e in events] == [1, 2]
    assert last == office.server.event_count()


def test_bad_filters_and_limits_are_refused_with_the_field_named(office: Office) -> None:
    for params, name in (
        ({"type": "org.minqing.concern.nonsense.v1"}, "type"),
        ({"subject": "not-a-uuid"}, "subject"),
        ({"limit": "0"}, "limit"),
        ({"limit": "1001"}, "limit"),
        ({"after": "-1"}, "after"),
    ):
        r = office.reader.get("/api/v1/events", params=params)
        assert r.status_code == 422, params
        assert r.json()["fields"][0]["field"] == name


def test_the_feed_needs_a_token_and_the_integrator_or_supervisor_role(office: Office) -> None:
    server = office.server
    with server.client() as anonymous:
        assert anonymous.get("/api/v1/events").status_code == 401
        assert anonymous.get("/api/v1/events/stream").status_code == 401
    for roles, status in (
        ([Role.STAFF, Role.ADMIN], 403),
        ([Role.COLLECTOR], 403),
        ([Role.SUPERVISOR], 200),
        ([Role.INTEGRATOR], 200),
    ):
        _, token = server.principal(roles)
        with server.client(token) as caller:
            assert caller.get("/api/v1/events").status_code == status, roles


def test_no_feed_page_carries_the_residents_personal_data(office: Office) -> None:
    r = office.reader.get("/api/v1/events", params={"limit": 1000})
    body = r.content.decode()
    for secret in (NAME, PHONE, ADDRESS):
        assert secret not in body
    for event in r.json()["events"]:
        assert "tracking_code" not in event["data"]
        assert "resident_data" not in event["data"]
    raised = [e for e in r.json()["events"] if e["type"] == RAISED]
    assert all(e["data"]["resident_ref"].startswith("R-") for e in raised)


# -- schemas and AsyncAPI --------------------------------------------------------------------


def test_every_event_validates_against_the_schema_its_dataschema_names(office: Office) -> None:
    events, _ = office.read_all(limit=1000)
    with office.server.client() as public:
        for event in events:
            # An absolute URI under MINQING_PUBLIC_URL (the test server's own address).
            schema_url = office.server.base_url + "/api/v1/events/schemas/" + event["type"]
            assert event["dataschema"] == schema_url
            r = public.get(event["dataschema"])
            assert r.status_code == 200
            validator = Draft202012Validator(r.json())
            assert list(validator.iter_errors(event["data"])) == []


def test_the_schemas_endpoint_lists_every_published_type(office: Office) -> None:
    with office.server.client() as public:
        body = public.get("/api/v1/events/schemas").json()
        # Every published type, and the stand-in for an event that can no longer be read.
        assert set(body["schemas"]) == set(BY_TYPE) | {UNREADABLE_TYPE}
        assert "resident_data" in body["withheld"][RAISED]
        assert public.get("/api/v1/events/schemas/org.minqing.nothing.v1").status_code == 404


def test_the_asyncapi_document_covers_pull_stream_and_webhooks(office: Office) -> None:
    with office.server.client() as public:
        doc = public.get("/asyncapi.json").json()
    assert doc["asyncapi"] == "3.0.0"
    assert set(doc["channels"]) == {"pull", "stream", "webhooks"}
    headers = doc["components"]["schemas"]["WebhookHeaders"]["properties"]
    assert {"webhook-id", "webhook-timestamp", "webhook-signature"} <= set(headers)
    for operation in doc["operations"].values():
        channel = operation["channel"]["$ref"].rsplit("/", 1)[1]
        for message in operation["messages"]:
            name = message["$ref"].rsplit("/", 1)[1]
            assert name in doc["channels"][channel]["messages"]
    # Every published type is a message of every channel, the visit and the erasure too.
    messages = doc["components"]["messages"]
    by_type = {m["name"]: m for key, m in messages.items() if not key.endswith("_webhook")}
    assert set(by_type) == set(BY_TYPE) | {UNREADABLE_TYPE}
    for channel in doc["channels"].values():
        assert len(channel["messages"]) == len(BY_TYPE) + 1
    visit = by_type["org.minqing.visit.recorded.v1"]["payload"]["allOf"][1]["properties"]
    assert set(visit["data"]["properties"]) == {
        "version",
        "actor_id",
        "actor_role",
        "grid",
        "visited_on",
        "concern_ids",
    }
    assert "org.minqing.resident.data_erased.v1" in by_type
    envelope = doc["components"]["schemas"]["CloudEvent"]["properties"]
    assert envelope["dataschema"]["format"] == "uri"


# -- Server-Sent Events ----------------------------------------------------------------------


@dataclass
class Message:
    id: int | None = None
    data: dict[str, Any] | None = None
    comments: list[str] = field(default_factory=list)


def sse(response: httpx.Response, seconds: float) -> Iterator[Message]:
    """Messages (and comment-only blocks) as they arrive, for at most `seconds`."""
    deadline = time.monotonic() + seconds
    current = Message()
    for line in response.iter_lines():
        if line == "":
            if current.id is not None or current.data is not None or current.comments:
                yield current
            current = Message()
        elif line.startswith(":"):
            current.comments.append(line[1:].strip())
        elif line.startswith("id:"):
            current.id = int(line[3:].strip())
        elif line.startswith("data:"):
            current.data = json.loads(line[5:].strip())
        if time.monotonic() > deadline:
            return


def events_of(response: httpx.Response, count: int, seconds: float = 10) -> list[Message]:
    found = []
    for message in sse(response, seconds):
        if message.data is not None:
            found.append(message)
            if len(found) == count:
                break
    return found


def test_the_stream_sends_events_with_their_position_as_id(office: Office) -> None:
    expected = office.published()[:3]
    with office.reader.stream("GET", "/api/v1/events/stream", params={"after": 0}) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        got = events_of(r, 3)
    assert [m.id for m in got] == expected
    assert [int(m.data["sequence"]) for m in got if m.data] == expected


def test_last_event_id_resumes_the_stream_after_that_position(office: Office) -> None:
    published = office.published()
    with office.reader.stream(
        "GET",
        "/api/v1/events/stream",
        params={"after": 0},  # the header wins, as on an EventSource reconnect
        headers={"Last-Event-ID": str(published[1])},
    ) as r:
        got = events_of(r, 2)
    assert [m.id for m in got] == published[2:4]


def test_an_idle_stream_sends_a_heartbeat_within_the_interval(office: Office) -> None:
    head = office.server.event_count()
    started = time.monotonic()
    with office.reader.stream("GET", "/api/v1/events/stream", params={"after": head}) as r:
        beat = next(m for m in sse(r, 10) if "keep-alive" in m.comments)
    assert beat.data is None
    assert time.monotonic() - started < 5


def test_a_new_event_reaches_an_open_stream(office: Office) -> None:
    head = office.server.event_count()
    with office.reader.stream(
        "GET", "/api/v1/events/stream", params={"after": head, "type": RAISED}
    ) as r:
        fresh = office.raise_concern("直播中的民情")
        got = events_of(r, 1, seconds=10)
    assert [m.data["subject"] for m in got if m.data] == [fresh]


def test_the_stream_applies_the_subject_filter(office: Office) -> None:
    subject = office.concerns[1]
    with office.reader.stream("GET", "/api/v1/events/stream", params={"subject": subject}) as r:
        got = events_of(r, 2)
    assert {m.data["subject"] for m in got if m.data} == {subject}


def test_a_bad_last_event_id_is_refused(office: Office) -> None:
    r = office.reader.get("/api/v1/events/stream", headers={"Last-Event-ID": "abc"})
    assert r.status_code == 422
