"""The record form sent again with the same Idempotency-Key (as the phone's outbox does
when an answer was lost) records its visit and concerns once; the service worker's script
is served to control the whole UI."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from domain.vocabulary import Role
from tests.conftest import Server
from tests.e2e.test_ui_photos import RECORD, jpeg
from tests.e2e.ui_client import csrf_of, signed_in, ui_user


def test_a_record_form_sent_twice_with_one_key_is_recorded_once(shared_server: Server) -> None:
    collector = ui_user(shared_server, [Role.COLLECTOR], ["2"])
    with signed_in(shared_server, collector) as c:
        token = csrf_of(c.get("/ui/record").text)
        counts = []
        answers = []
        for _ in range(2):
            answers.append(
                c.post(
                    "/ui/record",
                    data={**RECORD, "csrf": token, "c0.title": "同一张表单发两次"},
                    files={"c0.photo": ("a.jpg", jpeg((9, 9, 9)), "image/jpeg")},
                    headers={"Idempotency-Key": "outbox-7f3c"},
                )
            )
            counts.append(shared_server.event_count())
        assert [a.status_code for a in answers] == [303, 303]
        first, second = (parse_qs(urlsplit(a.headers["location"]).query) for a in answers)
        assert first == second  # the same visit and concern, answered again
        assert counts[0] == counts[1]  # nothing recorded the second time
        sw = c.get("/ui/sw.js")
        assert sw.status_code == 200
        assert sw.headers["service-worker-allowed"] == "/ui/"
        assert "javascript" in sw.headers["content-type"]
