"""Webhook subscriptions over HTTP: roles, the one-time secret, validation, the delivery log
and replay, with the server's own embedded dispatcher delivering to a real receiver."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from domain.vocabulary import Role
from tests.conftest import BACKENDS, Server, _database, start_server
from tests.webhook_receiver import Answer, Received, receiving

RAISED = "org.minqing.concern.raised.v1"
NAME, PHONE = "张秀英", "13812345678"


@pytest.fixture(scope="module", params=BACKENDS)
def hooks(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A server per backend that may deliver to loopback, retrying three times in 0.6 s."""
    tmp = tmp_path_factory.mktemp("webhooks")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("MINQING_WEBHOOKS_ALLOW_PRIVATE", "1")
        env.setenv("MINQING_WEBHOOKS_RETRY_SCHEDULE", "0,0.2,0.4")
        for url in _database(request.param, request, tmp):
            yield from start_server(url, tmp)


@pytest.fixture
def strict(tmp_path: Path) -> Iterator[Server]:
    """A server with the production default: private targets are refused."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("MINQING_WEBHOOKS_ALLOW_PRIVATE", "0")
        yield from start_server(f"sqlite:///{tmp_path / 'strict.db'}", tmp_path)


def client(server: Server, *roles: Role) -> httpx.Client:
    _, token = server.principal(list(roles))
    return server.client(token)


def create(c: httpx.Client, url: str, **body: Any) -> dict[str, Any]:
    r = c.post("/api/v1/webhooks", json={"url": url, **body})
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


def raise_concern(server: Server, title: str = "5号楼东侧小路路灯两周不亮") -> str:
    with client(server, Role.STAFF) as staff:
        r = staff.post(
            "/api/v1/concerns",
            json={
                "title": title,
                "description": "东侧小路的路灯已经坏了两个星期。",
                "category": "environment",
                "library": "problem",
                "channel": "visit",
                "grid": "2",
                "resident": {"name": NAME, "phone": PHONE},
            },
        )
    assert r.status_code == 201, r.text
    concern_id: str = r.json()["id"]
    return concern_id


def wait_until(check: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
    return value


# -- roles and the secret ------------------------------------------------------------------------


def test_only_integrators_and_admins_manage_webhooks(hooks: Server) -> None:
    url = "https://93.184.216.34/hook"
    with httpx.Client(base_url=hooks.base_url) as anonymous:
        assert anonymous.get("/api/v1/webhooks").status_code == 401
    for role in (Role.STAFF, Role.SUPERVISOR, Role.COLLECTOR, Role.COMMITTEE):
        with client(hooks, role) as c:
            assert c.get("/api/v1/webhooks").status_code == 403
            r = c.post("/api/v1/webhooks", json={"url": url})
            assert r.status_code == 403
            assert r.json()["error"] == "forbidden"
    for role in (Role.INTEGRATOR, Role.ADMIN):
        with client(hooks, role) as c:
            create(c, url)
            assert c.get("/api/v1/webhooks").status_code == 200


def test_the_secret_is_shown_on_create_and_never_again(hooks: Server) -> None:
    with client(hooks, Role.INTEGRATOR) as c:
        r = c.post(
            "/api/v1/webhooks",
            json={"url": "https://93.184.216.34/hook", "event_types": [RAISED]},
        )
        assert r.status_code == 201
        created = r.json()
        assert created["secret"].startswith("whsec_")
        assert r.headers["location"] == f"/api/v1/webhooks/{created['id']}"
        assert r.headers["cache-control"] == "no-store"
        assert created["status"] == "active"
        assert created["event_types"] == [RAISED]

        one = c.get(f"/api/v1/webhooks/{created['id']}")
        listed = c.get("/api/v1/webhooks").json()["items"]
    assert one.status_code == 200
    assert "secret" not in one.json()
    assert all("secret" not in item for item in listed)
    assert created["secret"] not in one.text
    assert created["id"] in {item["id"] for item in listed}


def test_an_integrator_sees_only_its_own_subscriptions_and_an_admin_sees_all(
    hooks: Server,
) -> None:
    with (
        client(hooks, Role.INTEGRATOR) as mine,
        client(hooks, Role.INTEGRATOR) as theirs,
        client(hooks, Role.ADMIN) as admin,
    ):
        own = create(mine, "https://93.184.216.34/mine")
        other = create(theirs, "https://93.184.216.34/theirs")

        assert {i["id"] for i in mine.get("/api/v1/webhooks").json()["items"]} == {own["id"]}
        for path in ("", "/deliveries"):
            r = mine.get(f"/api/v1/webhooks/{other['id']}{path}")
            assert r.status_code == 404
            assert r.json()["error"] == "not_found"
        assert mine.delete(f"/api/v1/webhooks/{other['id']}").status_code == 404
        assert mine.post(f"/api/v1/webhooks/{other['id']}/rotate-secret").status_code == 404
        everyone = {i["id"] for i in admin.get("/api/v1/webhooks").json()["items"]}
        assert {own["id"], other["id"]} <= everyone
        assert admin.patch(f"/api/v1/webhooks/{other['id']}", json={}).status_code == 200


def test_rotating_the_secret_shows_the_new_one_once_and_keeps_the_old_for_a_day(
    hooks: Server,
) -> None:
    with client(hooks, Role.INTEGRATOR) as c:
        created = create(c, "https://93.184.216.34/hook")
        r = c.post(f"/api/v1/webhooks/{created['id']}/rotate-secret")
        assert r.status_code == 200
        rotated = r.json()
        shown = c.get(f"/api/v1/webhooks/{created['id']}").json()
    assert rotated["secret"].startswith("whsec_")
    assert rotated["secret"] != created["secret"]
    assert r.headers["cache-control"] == "no-store"
    expires = datetime.fromisoformat(rotated["previous_secret_expires_at"])
    assert abs(expires - (datetime.now(UTC) + timedelta(hours=24))) < timedelta(minutes=1)
    assert shown["previous_secret_expires_at"] == rotated["previous_secret_expires_at"]
    assert "secret" not in shown


# -- validation ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://93.184.216.34/hook"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"url": ""}, "url"),
        ({}, "url"),
        (
            {"url": "https://93.184.216.34/hook", "event_types": ["org.minqing.nope.v1"]},
            "event_types",
        ),
        ({"url": "https://93.184.216.34/hook", "secret": "abc"}, "secret"),
        ({"url": "https://93.184.216.34/hook", "secret": "whsec_c2hvcnQ="}, "secret"),
        ({"url": "https://93.184.216.34/hook", "colour": "red"}, "colour"),
    ],
)
def test_bad_subscriptions_are_refused_naming_the_field(
    hooks: Server, body: dict[str, Any], field: str
) -> None:
    with client(hooks, Role.INTEGRATOR) as c:
        r = c.post("/api/v1/webhooks", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "invalid"
    assert field in [f["field"] for f in r.json()["fields"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "from"),
        ({"from": 3}, "to"),
        ({"from": 5, "to": 1}, "to"),
        ({"from": -1, "to": 1}, "from"),
        ({"parked": True, "from": 1, "to": 2}, "parked"),
        ({"parked": "yes"}, "parked"),
    ],
)
def test_bad_replays_are_refused_naming_the_field(
    hooks: Server, body: dict[str, Any], field: str
) -> None:
    with client(hooks, Role.INTEGRATOR) as c:
        created = create(c, "https://93.184.216.34/hook")
        r = c.post(f"/api/v1/webhooks/{created['id']}/replay", json=body)
    assert r.status_code == 422, r.text
    assert field in [f["field"] for f in r.json()["fields"]]


def test_private_targets_are_refused_without_the_setting(strict: Server) -> None:
    with client(strict, Role.INTEGRATOR) as c:
        for url in (
            "http://127.0.0.1:8080/hook",
            "http://localhost/hook",
            "http://10.0.0.5/hook",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]/hook",
        ):
            r = c.post("/api/v1/webhooks", json={"url": url})
            assert r.status_code == 422, (url, r.text)
            assert [f["field"] for f in r.json()["fields"]] == ["url"]
            assert "MINQING_WEBHOOKS_ALLOW_PRIVATE" in r.json()["message"]
        created = create(c, "https://93.184.216.34/hook")
        r = c.patch(f"/api/v1/webhooks/{created['id']}", json={"url": "http://10.0.0.5/"})
        assert r.status_code == 422
        assert c.get("/api/v1/webhooks").json()["items"][0]["url"] == created["url"]


# -- lifecycle -------------------------------------------------------------------------------------


def test_a_subscription_is_changed_disabled_and_deleted_and_its_log_stays(hooks: Server) -> None:
    with client(hooks, Role.INTEGRATOR) as c:
        created = create(c, "https://93.184.216.34/hook")
        path = f"/api/v1/webhooks/{created['id']}"

        r = c.patch(
            path,
            json={"url": "https://93.184.216.34/other", "event_types": [RAISED]},
        )
        assert r.status_code == 200
        assert (r.json()["url"], r.json()["event_types"]) == (
            "https://93.184.216.34/other",
            [RAISED],
        )
        r = c.patch(path, json={"status": "disabled"})
        assert r.json()["status"] == "disabled"
        assert r.json()["disabled_reason"].startswith("disabled by ")
        r = c.patch(path, json={"status": "active"})
        assert (r.json()["status"], r.json()["disabled_reason"]) == ("active", None)
        assert c.patch(path, json={"status": "deleted"}).status_code == 422

        r = c.delete(path)
        assert r.status_code == 204
        assert c.get(path).status_code == 404
        assert c.patch(path, json={"status": "active"}).status_code == 404
        assert c.delete(path).status_code == 404
        assert created["id"] not in {i["id"] for i in c.get("/api/v1/webhooks").json()["items"]}
        log = c.get(f"{path}/deliveries")
    assert log.status_code == 200
    assert set(log.json()["counts"]) == {"pending", "delivered", "parked", "cancelled"}


# -- delivery, through the server's embedded dispatcher ----------------------------------------


def test_a_concern_raised_over_http_is_delivered_signed_without_personal_data(
    hooks: Server,
) -> None:
    with receiving() as receiver, client(hooks, Role.INTEGRATOR) as c:
        created = create(c, receiver.url, event_types=[RAISED], description="12345 热线")
        receiver.secrets.append(created["secret"])
        concern_id = raise_concern(hooks)

        assert receiver.wait_for(lambda r: len(r.accepted()) == 1)
        log = wait_until(
            lambda: (
                page
                if (page := c.get(f"/api/v1/webhooks/{created['id']}/deliveries").json())["counts"][
                    "delivered"
                ]
                == 1
                else None
            )
        )

    (got,) = receiver.accepted()
    assert got.event["type"] == RAISED
    assert got.event["subject"] == concern_id
    assert got.webhook_id == got.event["id"]
    assert NAME not in got.body.decode()
    assert PHONE not in got.body.decode()
    assert got.event["data"]["resident_ref"].startswith("R-")
    (row,) = log["items"]
    assert (row["webhook_id"], row["status"], row["attempts"]) == (got.webhook_id, "delivered", 1)
    assert row["attempt_log"][0]["status_code"] == 200
    assert row["delivered_at"] is not None


def test_parked_messages_are_listed_then_replayed_and_a_range_is_sent_again(
    hooks: Server,
) -> None:
    healthy = False

    def answer(_: Received) -> Answer:
        return (200, {}) if healthy else (500, {})

    with receiving(respond=answer) as receiver, client(hooks, Role.INTEGRATOR) as c:
        created = create(c, receiver.url, event_types=[RAISED])
        receiver.secrets.append(created["secret"])
        path = f"/api/v1/webhooks/{created['id']}"
        raise_concern(hooks)

        parked = wait_until(
            lambda: c.get(f"{path}/deliveries", params={"status": "parked"}).json()["items"]
        )
        assert len(parked) == 1
        assert parked[0]["attempts"] == 3
        assert [a["status_code"] for a in parked[0]["attempt_log"]] == [500, 500, 500]

        healthy = True
        r = c.post(f"{path}/replay", json={"parked": True})
        assert r.status_code == 202
        assert r.json() == {"queued": 1}
        assert receiver.wait_for(lambda r: len(r.accepted()) == 1)

        position = parked[0]["position"]
        r = c.post(f"{path}/replay", json={"from": position, "to": position})
        assert r.json() == {"queued": 1}
        assert receiver.wait_for(lambda r: len(r.accepted()) == 2)
        counts = wait_until(
            lambda: (
                k if (k := c.get(f"{path}/deliveries").json()["counts"])["delivered"] == 1 else None
            )
        )
    assert counts["parked"] == 0
    first, second = receiver.accepted()
    assert first.webhook_id == second.webhook_id == parked[0]["webhook_id"]
    assert first.body == second.body


def test_readyz_reports_the_dispatchers_lag_and_the_oldest_undelivered_message(
    hooks: Server,
) -> None:
    release = threading.Event()

    def slow(_: Received) -> Answer:
        release.wait(20)  # the delivery is under way, so the message is still undelivered
        return 200, {}

    with receiving(respond=slow) as receiver, client(hooks, Role.INTEGRATOR) as c:
        created = create(c, receiver.url, event_types=[RAISED])
        receiver.secrets.append(created["secret"])
        public = hooks.client()
        try:
            raise_concern(hooks)

            def waiting() -> dict[str, Any] | None:
                backlog: dict[str, Any] = public.get("/readyz").json()["webhooks"]
                return backlog if backlog["undelivered"] >= 1 else None

            backlog = wait_until(waiting)
            assert backlog["head"] >= backlog["position"]
            assert backlog["lag"] == backlog["head"] - backlog["position"]
            time.sleep(0.3)
            backlog = public.get("/readyz").json()["webhooks"]
            assert backlog["oldest_undelivered_age_seconds"] >= 0.3
            assert datetime.fromisoformat(backlog["oldest_undelivered_at"]) <= datetime.now(UTC)
        finally:
            release.set()
        assert receiver.wait_for(lambda r: len(r.accepted()) == 1)
        done = wait_until(
            lambda: (
                b if (b := public.get("/readyz").json()["webhooks"])["undelivered"] == 0 else None
            )
        )
        public.close()
    assert done["oldest_undelivered_at"] is None
    assert done["oldest_undelivered_age_seconds"] is None
