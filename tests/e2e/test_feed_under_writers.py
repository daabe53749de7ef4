"""The pull feed over HTTP while eight writers append through the API at the same time: a
reader paging from 0 to the end gets every published event exactly once, in log order."""

from __future__ import annotations

import threading

from domain.cloudevents import topics_for
from domain.vocabulary import Role
from tests.conftest import Server

WRITERS = 8
CONCERNS_PER_WRITER = 15
CONCERN = {
    "title": "楼道堆物",
    "description": "三楼楼道堆放杂物，影响通行。",
    "category": "environment",
    "library": "problem",
    "channel": "visit",
    "grid": "2",
}


def write(server: Server, token: str, failures: list[BaseException]) -> None:
    try:
        with server.client(token) as staff:
            for n in range(CONCERNS_PER_WRITER):
                r = staff.post("/api/v1/concerns", json={**CONCERN, "title": f"楼道堆物 {n}"})
                assert r.status_code == 201, r.text
                if n % 3 == 0:
                    refer = staff.post(f"/api/v1/concerns/{r.json()['id']}/refer", json={})
                    assert refer.status_code == 200, refer.text
    except BaseException as exc:  # the test reports it
        failures.append(exc)


def test_paging_the_feed_during_eight_concurrent_writers_skips_and_repeats_nothing(
    server: Server,
) -> None:
    _, reader_token = server.principal([Role.INTEGRATOR])
    tokens = [server.principal([Role.STAFF, Role.GRID_LEADER])[1] for _ in range(WRITERS)]
    failures: list[BaseException] = []
    writers = [threading.Thread(target=write, args=(server, t, failures)) for t in tokens]
    for w in writers:
        w.start()
    seen: list[int] = []
    after = 0
    pages_while_writing = 0
    with server.client(reader_token) as reader:
        while True:
            writing = any(w.is_alive() for w in writers)
            r = reader.get("/api/v1/events", params={"after": after, "limit": 13})
            assert r.status_code == 200, r.text
            page = r.json()
            seen += [int(e["sequence"]) for e in page["events"]]
            assert page["next_after"] >= after
            after = page["next_after"]
            pages_while_writing += bool(writing and page["events"])
            if not writing and not page["events"]:
                break
    for w in writers:
        w.join()

    assert failures == []
    assert pages_while_writing > 1  # the reader really raced the writers
    log = server.app.recorder.select_notifications(
        0, 1_000_000, topics=topics_for(), inclusive_of_start=False
    )
    assert seen == [n.id for n in log]  # every event, in log order
    assert len(seen) == len(set(seen))  # none twice
    referred = (CONCERNS_PER_WRITER + 2) // 3
    assert len(seen) == WRITERS * (CONCERNS_PER_WRITER + referred)
