"""The resident's tracking page, the operations endpoints, OpenAPI, and personal data."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from domain.lifecycle import TRANSITIONS, Status
from domain.vocabulary import Role
from projections.registry import names
from tests.conftest import Server

DUE = (date.today() + timedelta(days=30)).isoformat()
NAME, PHONE, ADDRESS = "张秀英", "13800000000", "幸福路88号3单元"
RAISE: dict[str, Any] = {
    "title": "5号楼东侧小路路灯两周不亮",
    "description": "东侧小路的路灯已经坏了两个星期。",
    "category": "environment",
    "library": "problem",
    "channel": "visit",
    "grid": "2",
    "building": "5",
    "resident": {"name": NAME, "phone": PHONE, "address": ADDRESS},
}
PERSONAL = (NAME, PHONE, ADDRESS)

# Every path of api.md the service implements so far, with its verbs.
API_PATHS: dict[str, set[str]] = {
    "/api/v1/concerns": {"post"},
    "/api/v1/concerns/{}": {"get"},
    "/api/v1/concerns/{}/history": {"get"},
    **{
        f"/api/v1/concerns/{{}}/{command}": {"post"}
        for command in (
            "refer",
            "handle-now",
            "decline",
            "merge",
            "withdraw",
            "return-for-info",
            "assign",
            "record-progress",
            "extend-deadline",
            "reassign",
            "send-back",
            "resolve",
            "record-feedback",
            "reopen",
        )
    },
    "/api/v1/track/{}": {"get"},
    "/api/v1/track/{}/feedback": {"post"},
    "/api/v1/members": {"get", "post"},
    "/api/v1/members/{}": {"get"},
    "/api/v1/members/{}/points": {"get"},
    "/api/v1/libraries/achievement": {"get"},
    "/api/v1/libraries/{}": {"get"},
    "/public/achievements": {"get"},
    "/healthz": {"get"},
    "/readyz": {"get"},
    "/metrics": {"get"},
    "/workflow": {"get"},
    "/workflow.mmd": {"get"},
}


@dataclass
class Office:
    server: Server
    staff: httpx.Client
    public: httpx.Client
    owner: str

    def raise_concern(self) -> dict[str, Any]:
        r = self.staff.post("/api/v1/concerns", json=RAISE)
        assert r.status_code == 201, r.text
        created: dict[str, Any] = r.json()
        return created

    def resolved(self) -> dict[str, Any]:
        """A new concern, resolved and awaiting the resident's answer."""
        created = self.raise_concern()
        cid = created["id"]
        assign = {"owner": self.owner, "duty_role": "project_coordinator", "due_on": DUE}
        for command, body in (
            ("refer", {}),
            ("assign", assign),
            ("resolve", {"summary": "更换了6盏路灯"}),
        ):
            r = self.staff.post(f"/api/v1/concerns/{cid}/{command}", json=body)
            assert r.status_code == 200, r.text
        return created

    def history(self, cid: str) -> list[dict[str, Any]]:
        r = self.staff.get(f"/api/v1/concerns/{cid}/history")
        assert r.status_code == 200, r.text
        events: list[dict[str, Any]] = r.json()["events"]
        return events


@pytest.fixture(scope="module")
def office(shared_server: Server) -> Iterator[Office]:
    _, token = shared_server.principal([Role.STAFF, Role.COMMITTEE, Role.GRID_LEADER])
    owner = shared_server.member()
    with shared_server.client(token) as staff, shared_server.client() as public:
        yield Office(shared_server, staff, public, owner)


def assert_nothing_personal(text: str) -> None:
    for value in PERSONAL:
        assert value not in text


# -- the tracking page ---------------------------------------------------------------------


def test_the_tracking_page_needs_no_token_and_shows_reference_title_and_status(
    office: Office,
) -> None:
    created = office.raise_concern()
    r = office.public.get(f"/api/v1/track/{created['tracking_code']}")
    assert r.status_code == 200, r.text
    page = r.json()
    assert page["reference"] == created["reference"]
    assert page["title"] == RAISE["title"]
    assert page["status"] == "intake"
    assert page["raised_on"] == date.today().isoformat()


def test_the_tracking_page_never_shows_the_residents_name_phone_or_address(
    office: Office,
) -> None:
    created = office.resolved()
    r = office.public.get(f"/api/v1/track/{created['tracking_code']}")
    assert r.status_code == 200, r.text
    assert_nothing_personal(r.text)
    assert "resident" not in r.json()
    assert r.json()["status"] == "resolved"


def test_the_tracking_page_follows_the_concern(office: Office) -> None:
    created = office.raise_concern()
    code, cid = created["tracking_code"], created["id"]
    assert office.staff.post(f"/api/v1/concerns/{cid}/refer", json={}).status_code == 200
    assert office.public.get(f"/api/v1/track/{code}").json()["status"] == "committee"


@pytest.mark.parametrize("code", ["NOSUCHCODE23", "x", "MQ-2026-000001"])
def test_an_unknown_tracking_code_is_404(code: str, office: Office) -> None:
    r = office.public.get(f"/api/v1/track/{code}")
    assert r.status_code == 404, r.text
    assert r.json()["error"] == "not_found"
    assert r.json()["message"]


def test_feedback_on_an_unknown_tracking_code_is_404_and_records_nothing(office: Office) -> None:
    before = office.server.event_count()
    r = office.public.post(
        "/api/v1/track/NOSUCHCODE23/feedback", json={"solved": True, "satisfaction": "satisfied"}
    )
    assert r.status_code == 404, r.text
    assert r.json()["error"] == "not_found"
    assert office.server.event_count() == before


@pytest.mark.parametrize(
    ("solved", "satisfaction"),
    [
        pytest.param(True, "dissatisfied", id="solved-but-dissatisfied"),
        pytest.param(False, "basically_satisfied", id="not-solved"),
        pytest.param(False, "dissatisfied", id="not-solved-and-dissatisfied"),
    ],
)
def test_resident_feedback_that_is_not_solved_or_dissatisfied_reopens_the_concern(
    solved: bool, satisfaction: str, office: Office
) -> None:
    created = office.resolved()
    cid, code = created["id"], created["tracking_code"]
    r = office.public.post(
        f"/api/v1/track/{code}/feedback",
        json={"solved": solved, "satisfaction": satisfaction, "comment": "路灯还是不亮"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "assigned"
    assert r.json()["version"] == 6
    # Two events were recorded; the response names the position of the last one.
    assert r.json()["position"] == office.server.event_count()
    view = office.staff.get(f"/api/v1/concerns/{cid}").json()
    assert view["status"] == "assigned"
    assert view["round"] == 2
    events = office.history(cid)
    assert [e["type"] for e in events][-2:] == ["FeedbackRecorded", "Reopened"]
    feedback = events[-2]["data"]
    assert feedback["solved"] is solved
    assert feedback["satisfaction"] == satisfaction
    assert events[-2]["role"] == events[-1]["role"] == "resident"
    assert office.public.get(f"/api/v1/track/{code}").json()["status"] == "assigned"


def test_resident_feedback_solved_and_satisfied_leaves_the_concern_resolved(
    office: Office,
) -> None:
    created = office.resolved()
    cid, code = created["id"], created["tracking_code"]
    r = office.public.post(
        f"/api/v1/track/{code}/feedback",
        json={"solved": True, "satisfaction": "basically_satisfied"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "resolved"
    assert [e["type"] for e in office.history(cid)][-1] == "FeedbackRecorded"
    assert office.staff.get(f"/api/v1/concerns/{cid}").json()["round"] == 1


def test_staff_recording_dissatisfied_feedback_reopens_the_concern_too(office: Office) -> None:
    cid = office.resolved()["id"]
    r = office.staff.post(
        f"/api/v1/concerns/{cid}/record-feedback",
        json={"solved": True, "satisfaction": "dissatisfied"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "assigned"
    assert [e["type"] for e in office.history(cid)][-2:] == ["FeedbackRecorded", "Reopened"]


def test_feedback_before_the_concern_is_resolved_is_409(office: Office) -> None:
    created = office.raise_concern()
    before = office.server.event_count()
    r = office.public.post(
        f"/api/v1/track/{created['tracking_code']}/feedback",
        json={"solved": True, "satisfaction": "satisfied"},
    )
    assert r.status_code == 409, r.text
    assert r.json()["error"] == "transition_not_allowed"
    assert r.json()["status"] == "intake"
    assert office.server.event_count() == before


# -- operations ----------------------------------------------------------------------------


def test_healthz_says_the_process_is_alive(office: Office) -> None:
    r = office.public.get("/healthz")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"


def test_readyz_reports_the_event_log_position(office: Office) -> None:
    office.raise_concern()
    r = office.public.get("/readyz")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "ok"
    assert r.json()["position"] == office.server.event_count()


def _samples(text: str) -> dict[str, float]:
    """`name{labels}` -> value of every sample line of a Prometheus text body."""
    found = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            found[key] = float(value)
    return found


def test_metrics_show_the_log_the_read_models_and_events_by_type(office: Office) -> None:
    position = office.raise_concern()["position"]
    page = office.staff.get("/api/v1/concerns", params={"min_position": position})
    assert page.status_code == 200, page.text
    deadline = time.monotonic() + 30
    while True:  # every read model follows the concern list within moments
        r = office.public.get("/metrics")
        assert r.status_code == 200, r.text
        samples = _samples(r.text)
        lags = {k: v for k, v in samples.items() if k.startswith("minqing_projection_lag{")}
        if (lags and not any(lags.values())) or time.monotonic() > deadline:
            break
        time.sleep(0.05)

    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert "# TYPE minqing_log_position gauge" in r.text
    assert samples["minqing_log_position"] == office.server.event_count()
    assert set(lags) == {f'minqing_projection_lag{{projection="{n}"}}' for n in names()}
    assert not any(lags.values()), lags
    raised = samples['minqing_events{type="Concern.Raised"}']
    listed = office.staff.get("/api/v1/concerns", params={"limit": 200}).json()["items"]
    assert raised >= len(listed) >= 1
    assert samples['minqing_webhook_messages{state="parked"}'] == 0


def test_workflow_lists_every_status_and_every_transition_of_the_lifecycle(
    office: Office,
) -> None:
    r = office.public.get("/workflow")
    assert r.status_code == 200, r.text
    flow = r.json()
    assert {s["value"] for s in flow["states"]} == {s.value for s in Status}
    assert flow["initial"] == "intake"
    published = [
        (t["action"], tuple(t["from"]), t["to"], tuple(t["roles"]), t["guard"])
        for t in flow["transitions"]
    ]
    expected = [
        (
            t.action.value,
            tuple(s.value for s in t.sources),
            t.dest.value,
            tuple(sorted(r.value for r in t.roles)),
            t.guard,
        )
        for t in TRANSITIONS
    ]
    assert published == expected
    owners = {t["action"] for t in flow["transitions"] if t["owner_may"]}
    assert owners == {t.action.value for t in TRANSITIONS if t.owner_may}


def test_workflow_mmd_is_a_mermaid_state_diagram_with_every_status_and_transition(
    office: Office,
) -> None:
    r = office.public.get("/workflow.mmd")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert "stateDiagram" in text
    for status in Status:
        assert re.search(rf"\b{status.value}\b", text), status.value
    edges = re.findall(r"^\s*(\w+) --> (\w+): (.+)$", text, flags=re.MULTILINE)
    for t in TRANSITIONS:
        for source in t.sources:
            labels = [label for a, b, label in edges if (a, b) == (source.value, t.dest.value)]
            assert any(t.action.value in label for label in labels), (t.action, source)


def test_openapi_lists_every_path_of_the_contract_implemented_so_far(office: Office) -> None:
    r = office.public.get("/openapi.json")
    assert r.status_code == 200, r.text
    served = {
        re.sub(r"\{[^}]+\}", "{}", path): {m for m in verbs if m != "parameters"}
        for path, verbs in r.json()["paths"].items()
    }
    for path, verbs in API_PATHS.items():
        assert path in served, path
        assert verbs <= served[path], path


def test_openapi_has_an_example_for_raising_a_concern(office: Office) -> None:
    spec = office.public.get("/openapi.json").json()
    content = spec["paths"]["/api/v1/concerns"]["post"]["requestBody"]["content"]
    media = content["application/json"]
    examples: list[Any] = []
    if "example" in media:
        examples.append(media["example"])
    examples += [e.get("value", e) for e in media.get("examples", {}).values()]
    ref = media["schema"].get("$ref", "")
    if ref:
        schema = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
        examples += schema.get("examples", [])
        if "example" in schema:
            examples.append(schema["example"])
    assert examples
    for example in examples:
        assert {"title", "description", "category", "library", "channel", "grid"} <= set(example)


def test_the_interactive_docs_are_served(office: Office) -> None:
    assert office.public.get("/docs").status_code == 200


# -- personal data -------------------------------------------------------------------------


def test_staff_see_the_residents_decrypted_name_and_phone(office: Office) -> None:
    cid = office.raise_concern()["id"]
    resident = office.staff.get(f"/api/v1/concerns/{cid}").json()["resident"]
    assert resident["name"] == NAME
    assert resident["phone"] == PHONE
    assert resident["address"] == ADDRESS


def test_a_committee_member_sees_the_resident_redacted(office: Office) -> None:
    cid = office.raise_concern()["id"]
    _, token = office.server.principal([Role.COMMITTEE])
    with office.server.client(token) as committee:
        r = committee.get(f"/api/v1/concerns/{cid}")
    assert r.status_code == 200, r.text
    assert r.json()["resident"] == {"redacted": True}
    assert_nothing_personal(r.text)


def test_the_raised_event_in_the_history_holds_neither_name_nor_phone(office: Office) -> None:
    cid = office.raise_concern()["id"]
    r = office.staff.get(f"/api/v1/concerns/{cid}/history")
    assert r.status_code == 200, r.text
    assert_nothing_personal(r.text)
    raised = r.json()["events"][0]
    assert raised["type"] == "Raised"
    assert raised["data"]["title"] == RAISE["title"]


def test_an_anonymous_concern_has_no_resident(office: Office) -> None:
    body = {k: v for k, v in RAISE.items() if k != "resident"}
    r = office.staff.post("/api/v1/concerns", json={**body, "anonymous": True})
    assert r.status_code == 201, r.text
    view = office.staff.get(f"/api/v1/concerns/{r.json()['id']}").json()
    assert view["anonymous"] is True
    assert view["resident"] is None
