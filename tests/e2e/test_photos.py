"""Photos over HTTP on both stores: a phone's photo attached at intake and before/after the
work, kept by its SHA-256 digest in the database with its EXIF gone, its digest in the
event, read back only by who may read the concern, shown publicly only when publishable,
refused with the field named when it is not a photo or too big, and erased with the
resident who is in it (the bytes go, the digest stays)."""

from __future__ import annotations

import hashlib
import io
from datetime import date, timedelta
from typing import Any

import httpx
from PIL import Image

from domain.vocabulary import DutyRole, Role
from tests.conftest import Server

RAISE = {
    "title": "楼道堆放杂物",
    "description": "3号楼2单元楼道堆满纸箱，影响通行",
    "category": "environment",
    "library": "problem",
    "channel": "visit",
    "grid": "2",
}


def phone_photo(
    color: tuple[int, int, int] = (180, 40, 40), size: tuple[int, int] = (1600, 1200)
) -> bytes:
    """A JPEG as a phone takes it: EXIF with its make, GPS position and orientation."""
    image = Image.new("RGB", size, color)
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Model X"  # Model
    exif[0x0112] = 6  # Orientation: rotate 90° to show it upright
    exif[0x8825] = {1: "N", 2: (39.0, 54.0, 27.0), 3: "E", 4: (116.0, 23.0, 50.0)}  # GPS
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def _client(server: Server, roles: list[Role], member: str | None = None) -> httpx.Client:
    _, token = server.principal(roles, member=member)
    return server.client(token)


def attach(client: httpx.Client, concern: str, photo: bytes, **fields: str) -> httpx.Response:
    return client.post(
        f"/api/v1/concerns/{concern}/attachments",
        files={"photo": ("IMG_0001.jpg", photo, "image/jpeg")},
        data=fields,
    )


def test_a_photo_at_intake_is_kept_by_digest_without_exif_and_read_by_staff(
    server: Server,
) -> None:
    with (
        _client(server, [Role.COLLECTOR]) as collector,
        _client(server, [Role.STAFF]) as staff,
        _client(server, [Role.STAFF], member=None) as outsider,
    ):
        concern = ok(collector.post("/api/v1/concerns", json=RAISE), 201)["id"]
        sent = phone_photo()
        answer = ok(attach(collector, concern, sent, caption="楼道现场"), 201)
        digest = answer["digest"]
        assert answer["kind"] == "intake"

        got = staff.get(f"/api/v1/concerns/{concern}/attachments/{digest}")
        assert got.status_code == 200, got.text
        assert got.headers["content-type"] == "image/jpeg"
        # Content-addressed: the digest is the SHA-256 of the bytes kept.
        assert hashlib.sha256(got.content).hexdigest() == digest
        kept = Image.open(io.BytesIO(got.content))
        assert dict(kept.getexif()) == {}  # no make, no model, no GPS
        assert b"PhoneMaker" not in got.content
        assert kept.size == (1200, 1600)  # turned upright by its orientation, then dropped
        thumb = Image.open(
            io.BytesIO(
                staff.get(
                    f"/api/v1/concerns/{concern}/attachments/{digest}", params={"size": "thumb"}
                ).content
            )
        )
        assert max(thumb.size) == 320

        # The digest is in the event (the audit chain covers it), with what it shows.
        events = ok(staff.get(f"/api/v1/concerns/{concern}/history"))["events"]
        attached = [e for e in events if e["type"] == "PhotoAttached"]
        assert [
            (e["data"]["digest"], e["data"]["kind"], e["data"]["caption"]) for e in attached
        ] == [(digest, "intake", "楼道现场")]
        view = ok(staff.get(f"/api/v1/concerns/{concern}"))
        assert view["status"] == "intake"

        # A digest not attached to this concern is not found, even if kept for another.
        other = ok(collector.post("/api/v1/concerns", json={**RAISE, "title": "另一处"}), 201)["id"]
        assert outsider.get(f"/api/v1/concerns/{other}/attachments/{digest}").status_code == 404


def test_the_same_photo_twice_is_refused_and_an_idempotent_retry_records_once(
    server: Server,
) -> None:
    with _client(server, [Role.COLLECTOR]) as collector:
        concern = ok(collector.post("/api/v1/concerns", json=RAISE), 201)["id"]
        photo = phone_photo((10, 120, 60))
        before = server.event_count()
        headers = {"Idempotency-Key": "photo-retry-1"}
        first = collector.post(
            f"/api/v1/concerns/{concern}/attachments",
            files={"photo": ("a.jpg", photo, "image/jpeg")},
            headers=headers,
        )
        again = collector.post(
            f"/api/v1/concerns/{concern}/attachments",
            files={"photo": ("a.jpg", photo, "image/jpeg")},
            headers=headers,
        )
        assert (first.status_code, again.status_code) == (201, 201)
        assert first.json()["digest"] == again.json()["digest"]
        assert server.event_count() == before + 1
        dup = attach(collector, concern, photo)
        assert dup.status_code == 422
        assert dup.json()["fields"][0]["field"] == "photo"


def test_what_is_not_a_photo_or_too_big_is_refused_naming_the_field(server: Server) -> None:
    with _client(server, [Role.COLLECTOR]) as collector:
        concern = ok(collector.post("/api/v1/concerns", json=RAISE), 201)["id"]
        before = server.event_count()
        for name, raw, kind in (
            ("notes.txt", b"not a photo at all", "text/plain"),
            ("broken.jpg", phone_photo()[:2000], "image/jpeg"),
            ("empty.jpg", b"", "image/jpeg"),
        ):
            r = collector.post(
                f"/api/v1/concerns/{concern}/attachments", files={"photo": (name, raw, kind)}
            )
            assert r.status_code == 422, (name, r.text)
            assert r.json()["error"] == "invalid"
            assert [f["field"] for f in r.json()["fields"]] == ["photo"]
        gif = io.BytesIO()
        Image.new("RGB", (10, 10)).save(gif, "GIF")
        r = attach(collector, concern, gif.getvalue())
        assert (r.status_code, r.json()["fields"][0]["field"]) == (422, "photo")
        r = attach(collector, concern, phone_photo(), kind="sideways")
        assert (r.status_code, r.json()["fields"][0]["field"]) == (422, "kind")

        # 9 MB of noise: over the photo's 8 MB limit, under the form's.
        big = collector.post(
            f"/api/v1/concerns/{concern}/attachments",
            files={"photo": ("big.jpg", b"\xff" * (9 * 1024 * 1024), "image/jpeg")},
        )
        assert big.status_code == 413, big.text
        assert big.json()["error"] == "too_large"
        assert big.json()["fields"][0]["field"] == "photo"
        assert server.event_count() == before


def test_before_and_after_photos_by_the_owner_and_public_only_when_publishable(
    server: Server,
) -> None:
    owner_member = server.member("王建国", DutyRole.ENVIRONMENT_MONITOR)
    with (
        _client(server, [Role.COLLECTOR]) as collector,
        _client(server, [Role.STAFF]) as staff,
        _client(server, [Role.MEMBER], member=owner_member) as owner,
    ):
        concern = ok(collector.post("/api/v1/concerns", json=RAISE), 201)["id"]
        # Before/after belong to the work: refused while the concern is in intake.
        early = attach(staff, concern, phone_photo(), kind="before")
        assert (early.status_code, early.json()["rule"]) == (409, "photo_not_now")
        due = (date.today() + timedelta(days=10)).isoformat()
        ok(
            staff.post(
                f"/api/v1/concerns/{concern}/handle-now",
                json={"owner": owner_member, "duty_role": "environment_monitor", "due_on": due},
            )
        )
        # A collector may not photograph the work; the owner may.
        assert attach(collector, concern, phone_photo(), kind="after").status_code == 403
        before = ok(attach(owner, concern, phone_photo((90, 90, 90)), kind="before"), 201)
        after = ok(
            attach(owner, concern, phone_photo((20, 160, 220)), kind="after", publishable="true"),
            201,
        )
        both = attach(
            owner,
            concern,
            phone_photo((1, 2, 3)),
            kind="after",
            publishable="true",
            shows_resident="true",
        )
        assert (both.status_code, both.json()["fields"][0]["field"]) == (422, "publishable")

        public = httpx.Client(base_url=server.base_url, timeout=30)
        path = f"/public/achievements/{concern}/photos/"
        # Not in the achievement library yet: nothing public.
        assert public.get(path + after["digest"]).status_code == 404
        ok(owner.post(f"/api/v1/concerns/{concern}/resolve", json={"summary": "杂物已清理"}))
        shown = public.get(path + after["digest"])
        assert shown.status_code == 200
        assert hashlib.sha256(shown.content).hexdigest() == after["digest"]
        # The "before" photo was not marked publishable.
        assert public.get(path + before["digest"]).status_code == 404
        public.close()


def test_a_photo_that_shows_the_resident_is_erased_with_them(server: Server) -> None:
    with (
        _client(server, [Role.COLLECTOR]) as collector,
        _client(server, [Role.STAFF]) as staff,
        _client(server, [Role.ADMIN]) as admin,
    ):
        body = {**RAISE, "resident": {"name": "张秀英", "phone": "13800000000"}}
        concern = ok(collector.post("/api/v1/concerns", json=body), 201)["id"]
        shows = ok(
            attach(collector, concern, phone_photo((200, 200, 0)), shows_resident="true"), 201
        )
        scene = ok(attach(collector, concern, phone_photo((0, 200, 200))), 201)
        url = f"/api/v1/concerns/{concern}/attachments/"
        assert staff.get(url + shows["digest"]).status_code == 200
        ref = ok(
            staff.get(f"/api/v1/concerns/{concern}", params={"reveal": "true", "reason": "核实"})
        )
        resident_ref = ref["resident_ref"]
        ok(admin.post(f"/api/v1/residents/{resident_ref}/erase"))

        gone = staff.get(url + shows["digest"])
        assert gone.status_code == 404
        assert "erased" in gone.json()["message"]
        # The photo without the resident stays; the erased one's digest stays in the log.
        assert staff.get(url + scene["digest"]).status_code == 200
        events = ok(staff.get(f"/api/v1/concerns/{concern}/history"))["events"]
        assert shows["digest"] in [e["data"].get("digest") for e in events]
