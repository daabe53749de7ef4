"""Webhooks against a real receiver on loopback, on SQLite and PostgreSQL.

The receiver (tests/webhook_receiver.py) checks every request's signature with the Standard
Webhooks algorithm written from the spec. The dispatcher runs in a thread of the test, or as
a `minqing worker webhooks` process that is killed with SIGKILL and started again.
"""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from adapters.feed import EventFeed
from adapters.webhooks import DeliveryStatus, Status, Webhooks, check_url
from api.demo import load_demo
from application.minqing import Minqing
from domain.errors import Invalid
from domain.principal import Principal
from domain.vocabulary import DutyRole, Role
from tests.conftest import create_database, drop_database
from tests.integration.support import RESIDENT, STAFF, add_member, draft, open_app
from tests.webhook_receiver import Answer, Received, Receiver, in_order, receiving
from workers.webhooks import Dispatcher, DispatcherConfig

INTEGRATOR = Principal(
    id="integrator-1",
    name="hotline",
    roles=frozenset({Role.INTEGRATOR}),
    grids=frozenset(),
)
FAST = (0.0, 0.2, 0.4)  # three attempts in about 0.6 s, then parked
PATIENT = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0)  # about 10 s
ROOT = Path(__file__).resolve().parents[2]


def config(**overrides: Any) -> DispatcherConfig:
    values: dict[str, Any] = {
        "allow_private": True,
        "schedule": FAST,
        "poll_seconds": 0.05,
        "timeout": 5.0,
        **overrides,
    }
    return DispatcherConfig(**values)


@contextmanager
def dispatching(app: Minqing, **overrides: Any) -> Iterator[Dispatcher]:
    """A dispatcher running in a thread of this test."""
    dispatcher = Dispatcher(app, config(**overrides))
    dispatcher.start()
    try:
        yield dispatcher
    finally:
        dispatcher.stop()


def subscribe(
    webhooks: Webhooks, receiver: Receiver, types: tuple[str, ...] = ()
) -> tuple[str, str]:
    """Subscribe the receiver; it learns the secret. (id, secret)"""
    sub, secret = webhooks.create(INTEGRATOR, receiver.url, types)
    receiver.secrets.append(secret)
    return sub.id, secret


def concern_story(app: Minqing, owner: UUID, notes: int = 3) -> UUID:
    """Raise a concern (with a resident's personal data), handle it, record progress."""
    concern_id = UUID(app.raise_concern(STAFF, draft()).id)
    due = app.clock().date() + timedelta(days=30)
    app.handle_now(concern_id, STAFF, owner, DutyRole.ENVIRONMENT_MONITOR, due)
    for i in range(notes):
        app.record_progress(concern_id, STAFF, f"进展 {i + 1}")
    return concern_id


def published_after(app: Minqing, after: int) -> dict[str, dict[str, Any]]:
    """Every published CloudEvent after a position, by id (as the pull feed shows them)."""
    feed = EventFeed(app, "urn:minqing:community")
    events: dict[str, dict[str, Any]] = {}
    while True:
        page = feed.page(after, 1000)
        events.update({e["id"]: e for e in page.events})
        if page.next_after == after:
            return events
        after = page.next_after


def all_of(expected: set[str]) -> Callable[[Receiver], bool]:
    return lambda r: expected <= r.accepted_ids()


def assert_same_body_per_webhook_id(receiver: Receiver) -> None:
    bodies: dict[str, set[bytes]] = defaultdict(set)
    for r in receiver.all():
        bodies[r.webhook_id].add(r.body)
    assert all(len(b) == 1 for b in bodies.values()), "a redelivery changed the body"


# -- delivery ---------------------------------------------------------------------------------


def test_every_published_event_arrives_signed_once_in_order_and_as_the_feed_shows_it(
    minqing: Minqing,
) -> None:
    with receiving() as receiver, dispatching(minqing) as dispatcher:
        sub_id, _ = subscribe(dispatcher.webhooks, receiver)
        start = dispatcher.webhooks.get(sub_id).start_after
        owner = add_member(minqing)
        for _ in range(4):
            concern_story(minqing, owner)
        expected = published_after(minqing, start)

        assert receiver.wait_for(all_of(set(expected)))

    assert receiver.rejected == []
    ids = [r.webhook_id for r in receiver.accepted()]
    assert Counter(ids).most_common(1)[0][1] == 1  # no failure, so no redelivery
    assert set(ids) == set(expected)
    assert in_order(receiver)
    for r in receiver.accepted():
        assert r.event == expected[r.webhook_id]  # the feed's own object
        assert r.webhook_id == r.event["id"]
    page = dispatcher.webhooks.deliveries(sub_id, INTEGRATOR, limit=1000)
    assert page.counts["delivered"] == len(expected)
    assert all(d["attempt_log"][0]["status_code"] == 200 for d in page.deliveries)


def test_a_receiver_down_for_a_while_then_up_gets_every_event_in_order_per_concern(
    minqing: Minqing,
) -> None:
    failed_once: set[str] = set()
    lock = threading.Lock()

    def flaky(r: Received) -> Answer:
        # Every third event is refused once after it was read: its redelivery must carry the
        # same webhook-id and body.
        with lock:
            if r.position % 3 == 0 and r.webhook_id not in failed_once:
                failed_once.add(r.webhook_id)
                return 500, {}
        return 200, {}

    with receiving(respond=flaky) as receiver, dispatching(minqing, schedule=PATIENT) as d:
        sub_id, _ = subscribe(d.webhooks, receiver)
        start = d.webhooks.get(sub_id).start_after
        receiver.stop()  # down: connections are refused
        owner = add_member(minqing)
        stories = [concern_story(minqing, owner) for _ in range(5)]
        time.sleep(1.5)
        assert receiver.all() == []
        receiver.start()  # up again, on the same port
        for concern_id in stories:
            minqing.record_progress(concern_id, STAFF, "恢复后的进展")
        expected = published_after(minqing, start)

        assert receiver.wait_for(all_of(set(expected)), timeout=60)
        page = d.webhooks.deliveries(sub_id, INTEGRATOR, limit=1000)

    assert receiver.rejected == []
    assert receiver.accepted_ids() == set(expected)
    assert in_order(receiver)
    assert failed_once, "some events were refused once"
    ids = Counter(r.webhook_id for r in receiver.all())
    assert all(ids[i] == 2 for i in failed_once)  # redelivered with the same webhook-id
    assert_same_body_per_webhook_id(receiver)
    retried = [d for d in page.deliveries if d["total_attempts"] > 1]
    assert retried
    assert any(a["error"] for d in retried for a in d["attempt_log"])  # connection refused


def test_a_subject_waits_for_its_earlier_event_while_other_subjects_go_on(
    minqing: Minqing,
) -> None:
    owner = add_member(minqing)
    slow = concern_story(minqing, owner, notes=0)
    refused: Counter[str] = Counter()

    def refuse_first_of_slow(r: Received) -> Answer:
        if r.subject == str(slow) and refused[r.webhook_id] < 3:
            refused[r.webhook_id] += 1
            return 503, {}
        return 200, {}

    with (
        receiving(respond=refuse_first_of_slow) as receiver,
        dispatching(minqing, schedule=PATIENT) as d,
    ):
        sub_id, _ = subscribe(d.webhooks, receiver)
        start = d.webhooks.get(sub_id).start_after
        minqing.record_progress(slow, STAFF, "第一条")
        minqing.record_progress(slow, STAFF, "第二条")
        others = [concern_story(minqing, owner, notes=1) for _ in range(3)]
        expected = published_after(minqing, start)

        assert receiver.wait_for(all_of(set(expected)), timeout=60)

    assert in_order(receiver)
    arrivals = receiver.accepted()
    first_slow = min(r.at for r in arrivals if r.subject == str(slow))
    # The other concerns did not wait for the slow one's retries.
    assert all(r.at < first_slow for r in arrivals if r.subject in {str(o) for o in others})
    assert receiver.by_subject()[str(slow)] == sorted(receiver.by_subject()[str(slow)])


def test_a_410_disables_the_subscription_until_it_is_enabled_again(minqing: Minqing) -> None:
    gone = threading.Event()
    gone.set()

    def answer(_: Received) -> Answer:
        return (410, {}) if gone.is_set() else (200, {})

    owner = add_member(minqing)
    with receiving(respond=answer) as receiver, dispatching(minqing) as d:
        sub_id, _ = subscribe(d.webhooks, receiver)
        start = d.webhooks.get(sub_id).start_after
        concern_story(minqing, owner, notes=2)  # one subject: one delivery at a time
        assert receiver.wait_for(lambda r: len(r.all()) >= 1)
        deadline = time.monotonic() + 30
        while d.webhooks.get(sub_id).status is not Status.DISABLED:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        sub = d.webhooks.get(sub_id)
        assert sub.disabled_reason == "the receiver answered 410 Gone"
        time.sleep(0.5)
        assert len(receiver.all()) == 1  # nothing more was sent to it
        page = d.webhooks.deliveries(sub_id, INTEGRATOR)
        assert page.counts["pending"] == len(page.deliveries) > 1
        assert page.counts["parked"] == 0

        gone.clear()
        d.webhooks.update(sub_id, INTEGRATOR, status=Status.ACTIVE)
        d.kick()
        expected = published_after(minqing, start)
        assert receiver.wait_for(all_of(set(expected)))

    assert in_order(receiver)


def test_after_the_last_retry_a_message_is_parked_later_events_go_on_and_replay_sends_it(
    minqing: Minqing,
) -> None:
    owner = add_member(minqing)
    healed = threading.Event()
    poison = "org.minqing.concern.raised.v1"

    def answer(r: Received) -> Answer:
        # The concern's first event fails every time until the receiver is fixed.
        if r.event["type"] == poison and not healed.is_set():
            return 500, {}
        return 200, {}

    with receiving(respond=answer) as receiver, dispatching(minqing) as d:
        sub_id, _ = subscribe(d.webhooks, receiver)
        start = d.webhooks.get(sub_id).start_after
        concern_id = UUID(minqing.raise_concern(STAFF, draft()).id)
        due = minqing.clock().date() + timedelta(days=30)
        minqing.handle_now(concern_id, STAFF, owner, DutyRole.ENVIRONMENT_MONITOR, due)
        events = published_after(minqing, start)
        poisoned = {i for i, e in events.items() if e["type"] == poison}
        later = set(events) - poisoned
        assert len(poisoned) == len(later) == 1

        # Parked after three attempts; the concern's later event is sent all the same.
        assert receiver.wait_for(all_of(later))
        page = d.webhooks.deliveries(sub_id, INTEGRATOR, status=DeliveryStatus.PARKED)
        assert [p["webhook_id"] for p in page.deliveries] == sorted(poisoned)
        parked = page.deliveries[0]
        assert parked["attempts"] == len(FAST)
        assert [a["status_code"] for a in parked["attempt_log"]] == [500, 500, 500]
        assert parked["parked_at"] is not None
        assert Counter(r.webhook_id for r in receiver.all())[parked["webhook_id"]] == 3

        healed.set()
        assert d.webhooks.replay(sub_id, INTEGRATOR, parked=True) == 1
        d.kick()
        assert receiver.wait_for(all_of(poisoned))
        assert d.webhooks.replay(sub_id, INTEGRATOR, parked=True) == 0

    page = d.webhooks.deliveries(sub_id, INTEGRATOR)
    assert page.counts["parked"] == 0
    assert page.counts["delivered"] == len(page.deliveries)
    assert_same_body_per_webhook_id(receiver)


def test_a_replayed_range_is_sent_again_with_the_same_webhook_ids(minqing: Minqing) -> None:
    with receiving() as receiver, dispatching(minqing) as d:
        sub_id, _ = subscribe(d.webhooks, receiver)
        start = d.webhooks.get(sub_id).start_after
        owner = add_member(minqing)
        concern_story(minqing, owner, notes=2)
        expected = published_after(minqing, start)
        assert receiver.wait_for(all_of(set(expected)))
        positions = sorted(int(e["sequence"]) for e in expected.values())
        first, last = positions[1], positions[-2]

        queued = d.webhooks.replay(sub_id, INTEGRATOR, start=first, end=last)
        d.kick()

        assert queued == len(positions) - 2
        assert receiver.wait_for(lambda r: len(r.all()) == len(expected) + queued)
    again = Counter(r.webhook_id for r in receiver.all())
    replayed = {i for i, n in again.items() if n == 2}
    assert {int(expected[i]["sequence"]) for i in replayed} == set(positions[1:-1])
    # The replayed events, too, arrive in order per subject.
    second = receiver.all()[len(expected) :]
    for subject in {r.subject for r in second}:
        mine = [r.position for r in second if r.subject == subject]
        assert mine == sorted(mine)
    assert_same_body_per_webhook_id(receiver)


def test_retry_after_is_honoured_before_the_next_attempt(minqing: Minqing) -> None:
    answered: Counter[str] = Counter()

    def busy_once(r: Received) -> Answer:
        answered[r.webhook_id] += 1
        return (503, {"Retry-After": "2"}) if answered[r.webhook_id] == 1 else (200, {})

    with receiving(respond=busy_once) as receiver, dispatching(minqing) as d:
        subscribe(d.webhooks, receiver, ("org.minqing.member.registered.v1",))
        add_member(minqing)
        assert receiver.wait_for(lambda r: len(r.accepted()) == 1)

    first, second = receiver.all()
    assert first.webhook_id == second.webhook_id
    # The schedule alone would have retried after 0.2 s.
    assert second.at - first.at >= 1.9


def test_during_a_rotation_both_secrets_sign_and_after_the_grace_only_the_new_one(
    minqing: Minqing,
) -> None:
    with receiving() as receiver, dispatching(minqing, rotation_grace=3.0) as d:
        sub_id, old = subscribe(d.webhooks, receiver, ("org.minqing.member.registered.v1",))
        add_member(minqing)
        assert receiver.wait_for(lambda r: len(r.accepted()) == 1)

        _, new = d.webhooks.rotate_secret(sub_id, INTEGRATOR)
        receiver.secrets.append(new)
        assert new != old
        add_member(minqing)
        assert receiver.wait_for(lambda r: len(r.accepted()) == 2)
        time.sleep(3.1)  # the grace period ends
        add_member(minqing)
        assert receiver.wait_for(lambda r: len(r.accepted()) == 3)

    before, during, after = receiver.accepted()
    assert before.verified_with == {old}
    assert during.verified_with == {old, new}  # a receiver holding either secret verifies
    assert len(during.signature.split(" ")) == 2
    assert after.verified_with == {new}
    assert len(after.signature.split(" ")) == 1
    assert receiver.rejected == []


def test_a_new_subscription_receives_only_later_events_of_its_types(minqing: Minqing) -> None:
    owner = add_member(minqing)
    concern_story(minqing, owner, notes=1)  # before the subscription: not sent
    with receiving() as receiver, dispatching(minqing) as d:
        sub_id, _ = subscribe(
            d.webhooks,
            receiver,
            ("org.minqing.concern.raised.v1", "org.minqing.concern.progress_recorded.v1"),
        )
        start = d.webhooks.get(sub_id).start_after
        concern_story(minqing, owner, notes=2)
        wanted = {
            i
            for i, e in published_after(minqing, start).items()
            if e["type"].endswith(("raised.v1", "progress_recorded.v1"))
        }
        assert len(wanted) == 3
        assert receiver.wait_for(all_of(wanted))
        time.sleep(0.3)
    assert receiver.accepted_ids() == wanted


def test_no_resident_personal_data_in_any_webhook_body(minqing: Minqing) -> None:
    with receiving() as receiver, dispatching(minqing) as d:
        sub_id, _ = subscribe(d.webhooks, receiver)
        start = d.webhooks.get(sub_id).start_after
        for _ in load_demo(minqing):  # the whole worked story: concerns, meeting, votes
            pass
        owner = add_member(minqing)
        concern_story(minqing, owner)
        expected = published_after(minqing, start)
        assert receiver.wait_for(all_of(set(expected)), timeout=60)

    types = {r.event["type"] for r in receiver.accepted()}
    assert {"org.minqing.concern.raised.v1", "org.minqing.meeting.vote_cast.v1"} <= types
    personal = [
        RESIDENT.name,
        RESIDENT.phone,
        RESIDENT.address,
        "张秀英",
        "13800000000",
        "5号楼2单元301",
    ]
    for r in receiver.accepted():
        text = r.body.decode()
        for value in personal:
            assert value
            assert value not in text, (value, r.event["type"])
        assert "tracking_code" not in r.event["data"]


# -- target URLs ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://172.16.5.4/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[fe80::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/hook",
        "ftp://93.184.216.34/hook",
        "file:///etc/passwd",
        "http:///hook",
        "http://user:pw@93.184.216.34/hook",
    ],
)
def test_private_loopback_link_local_and_non_http_targets_are_refused_naming_url(
    url: str,
) -> None:
    with pytest.raises(Invalid) as refused:
        check_url(url, allow_private=False)
    assert [f for f, _ in refused.value.fields] == ["url"]


def test_a_host_name_is_judged_by_every_address_it_resolves_to() -> None:
    addresses = {"hooks.example.org": ["93.184.216.34"], "sneaky.example.org": ["10.0.0.7"]}

    def resolver(host: str, _: int) -> list[str]:
        return addresses[host]

    assert check_url("https://hooks.example.org/in", allow_private=False, resolver=resolver)
    with pytest.raises(Invalid, match=r"10\.0\.0\.7"):
        check_url("https://sneaky.example.org/in", allow_private=False, resolver=resolver)
    assert check_url("http://127.0.0.1:9/hook", allow_private=True)
    with pytest.raises(Invalid):
        check_url("ftp://127.0.0.1/hook", allow_private=True)


def test_a_private_target_is_refused_at_creation_and_again_at_delivery(minqing: Minqing) -> None:
    strict = Webhooks(minqing, allow_private=False)
    with pytest.raises(Invalid) as refused:
        strict.create(INTEGRATOR, "http://127.0.0.1:9/hook")
    assert refused.value.fields[0][0] == "url"
    assert strict.all() == []

    # Allowed when it was made, refused by a dispatcher without the setting.
    with receiving() as receiver:
        sub_id, _ = subscribe(Webhooks(minqing, allow_private=True), receiver)
        dispatcher = Dispatcher(minqing, config(allow_private=False))
        try:
            add_member(minqing)
            dispatcher.follow_once()
            assert dispatcher.deliver_due() == 1
        finally:
            dispatcher.client.close()
        assert receiver.all() == []
    page = dispatcher.webhooks.deliveries(sub_id)
    assert page.deliveries[0]["last_error"].startswith("refused: url:")


# -- the worker process -----------------------------------------------------------------------


def _worker(url: str, key: bytes, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "MINQING_DATABASE_URL": url,
        "MINQING_MASTER_KEY": base64.b64encode(key).decode(),
        "MINQING_WEBHOOKS_ALLOW_PRIVATE": "1",
        "MINQING_WEBHOOKS_RETRY_SCHEDULE": ",".join(str(s) for s in PATIENT),
        "MINQING_WEBHOOKS_CONCURRENCY": "2",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "api.cli", "worker", "webhooks"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("ab"),  # a file: a full pipe would block the worker
    )


@pytest.fixture
def pg_url(postgres_admin: str) -> Iterator[str]:
    url = create_database(postgres_admin)
    try:
        yield url
    finally:
        drop_database(postgres_admin, url)


def test_a_dispatcher_process_killed_mid_delivery_and_restarted_loses_nothing(
    pg_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "worker.log"
    key = os.urandom(32)
    app = open_app(pg_url, key)
    workers: list[subprocess.Popen[bytes]] = []
    holding, release = threading.Event(), threading.Event()
    held: list[str] = []

    def hold_the_fifteenth(r: Received) -> Answer:
        # The receiver has the body; the dispatcher waits for the answer when it is killed.
        if not held and len(receiver.all()) >= 14:
            held.append(r.webhook_id)
            holding.set()
            release.wait(30)
        return 200, {}

    try:
        with receiving(respond=hold_the_fifteenth) as receiver:
            sub_id, _ = subscribe(Webhooks(app, allow_private=True), receiver)
            start = app.db.fetchone(
                "SELECT start_after FROM minqing_webhooks WHERE id = ?", (sub_id,)
            )["start_after"]
            owner = add_member(app)
            stories = [concern_story(app, owner, notes=2) for _ in range(12)]

            workers.append(_worker(pg_url, key, log))
            assert holding.wait(60), log.read_text()
            workers[0].send_signal(signal.SIGKILL)
            assert workers[0].wait(10) == -signal.SIGKILL
            release.set()
            for concern_id in stories:  # written while no dispatcher runs
                app.record_progress(concern_id, STAFF, "重启期间的进展")

            workers.append(_worker(pg_url, key, log))
            expected = published_after(app, int(start))
            assert receiver.wait_for(all_of(set(expected)), timeout=90), log.read_text()

            workers[1].send_signal(signal.SIGTERM)  # graceful stop
            assert workers[1].wait(30) == 0
    finally:
        release.set()
        for w in workers:
            if w.poll() is None:
                w.kill()
                w.wait(10)
        app.close()

    assert receiver.rejected == []
    assert receiver.accepted_ids() == set(expected)
    assert in_order(receiver)
    # The delivery cut short by the kill was sent again, with the same webhook-id and body.
    assert Counter(r.webhook_id for r in receiver.all())[held[0]] == 2
    assert_same_body_per_webhook_id(receiver)
    again = open_app(pg_url, key)
    try:
        counts = Webhooks(again, allow_private=True).deliveries(sub_id).counts
    finally:
        again.close()
    assert counts["delivered"] == len(expected)
    assert counts["pending"] == counts["parked"] == 0


def test_a_second_dispatcher_on_postgresql_stands_by_and_nothing_is_sent_twice(
    pg_url: str,
) -> None:
    key = os.urandom(32)
    apps = [open_app(pg_url, key) for _ in range(2)]
    try:
        with receiving() as receiver, dispatching(apps[0]) as one, dispatching(apps[1]) as two:
            sub_id, _ = subscribe(one.webhooks, receiver)
            start = one.webhooks.get(sub_id).start_after
            owner = add_member(apps[0])
            for _ in range(5):
                concern_story(apps[0], owner)
            expected = published_after(apps[0], start)
            assert receiver.wait_for(all_of(set(expected)))
            assert [one.leading, two.leading].count(True) == 1
    finally:
        for app in apps:
            app.close()
    assert Counter(r.webhook_id for r in receiver.all()).most_common(1)[0][1] == 1
    assert in_order(receiver)
