"""Photos in the web UI, over HTTP as a browser posts them (multipart forms, session,
CSRF): taken on the record form and on the concern page, shown as thumbnails to who may
read the concern, refused in the reader's words by the field, and shown on the public
achievement page only when marked publishable."""

from __future__ import annotations

import io
import re
import time
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit
from uuid import UUID

import httpx
from PIL import Image

from domain.vocabulary import DutyRole, Role
from tests.conftest import Server
from tests.e2e.ui_client import csrf_of, signed_in, text_of, ui_user

RECORD = {
    "n": "1",
    "grid": "2",
    "household": "5号楼2单元301",
    "visited_on": date.today().isoformat(),
    "c0.title": "楼道堆放杂物",
    "c0.description": "3号楼2单元楼道堆满纸箱",
    "c0.category": "environment",
    "c0.library": "problem",
    "c0.channel": "visit",
    "action": "save",
}


def jpeg(color: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    Image.new("RGB", (800, 600), color).save(out, "JPEG", exif=exif)
    return out.getvalue()


def thumbs(page: str) -> list[str]:
    return re.findall(r'<img src="([^"]+\?size=thumb)"', page)


def test_a_photo_taken_on_the_record_form_is_on_the_concern_page(
    shared_server: Server,
) -> None:
    collector = ui_user(shared_server, [Role.COLLECTOR], ["2"])
    staff = ui_user(shared_server, [Role.STAFF], ["2"])
    with signed_in(shared_server, collector) as c:
        token = csrf_of(c.get("/ui/record").text)
        assert 'capture="environment"' in c.get("/ui/record").text
        r = c.post(
            "/ui/record",
            data={**RECORD, "csrf": token},
            files={"c0.photo": ("IMG_1.jpg", jpeg((120, 60, 30)), "image/jpeg")},
        )
        assert r.status_code == 303, text_of(r.text)
        concern = parse_qs(urlsplit(r.headers["location"]).query)["concerns"][0]
    recorded = shared_server.app.get_concern(UUID(concern))
    assert [p["kind"] for p in recorded.photos] == ["intake"]
    with signed_in(shared_server, staff) as s:
        page = s.get(f"/ui/concerns/{concern}")
        [thumb] = thumbs(page.text)
        got = s.get(thumb)
        assert got.status_code == 200
        assert got.headers["content-type"] == "image/jpeg"
        assert b"PhoneMaker" not in got.content
        assert max(Image.open(io.BytesIO(got.content)).size) == 320
        assert "现场照片" in text_of(page.text)
        assert "添加照片" in text_of(page.text)  # the timeline says it, in words
    # Signed out, the photo is not there for anyone.
    anonymous = httpx.Client(base_url=shared_server.base_url, timeout=30)
    assert anonymous.get(thumb).status_code in (303, 401, 403)
    anonymous.close()


def test_a_refused_photo_is_said_in_words_by_its_field(shared_server: Server) -> None:
    collector = ui_user(shared_server, [Role.COLLECTOR], ["2"])
    with signed_in(shared_server, collector) as c:
        token = csrf_of(c.get("/ui/record").text)
        before = shared_server.event_count()
        r = c.post(
            "/ui/record",
            data={**RECORD, "csrf": token},
            files={"c0.photo": ("notes.txt", b"hello", "text/plain")},
        )
        assert r.status_code == 422
        said = text_of(r.text)
        assert "照片无法识别，请用 JPEG、PNG 或 WebP 格式的照片" in said
        # The focus goes to the photo's field.
        assert "autofocus" in r.text.split('id="c0-photo"')[1].split(">")[0]
        big = c.post(
            "/ui/record",
            data={**RECORD, "csrf": token},
            files={"c0.photo": ("big.jpg", b"\xff" * (8 * 1024 * 1024 + 10), "image/jpeg")},
        )
        assert big.status_code == 422
        assert "照片太大了，单张不能超过 8 MB" in text_of(big.text)
        assert shared_server.event_count() == before  # nothing recorded


def test_the_owner_adds_after_photos_and_the_public_sees_only_the_publishable(
    shared_server: Server,
) -> None:
    app = shared_server.app
    member = shared_server.member("赵师傅", DutyRole.ENVIRONMENT_MONITOR)
    owner = ui_user(shared_server, [Role.MEMBER], ["2"], member=member)
    staff_principal, _ = shared_server.principal([Role.STAFF])
    collector_principal, _ = shared_server.principal([Role.COLLECTOR])
    from application.minqing import NewConcern
    from domain.vocabulary import Category, Channel, Library

    raised = app.raise_concern(
        collector_principal,
        NewConcern(
            title="垃圾桶破损",
            description="5号楼门口垃圾桶破了",
            category=Category.ENVIRONMENT,
            library=Library.PROBLEM,
            channel=Channel.VISIT,
            grid="2",
        ),
    )
    concern = UUID(raised.id)
    app.handle_now(
        concern,
        staff_principal,
        UUID(member),
        DutyRole.ENVIRONMENT_MONITOR,
        date.today() + timedelta(days=7),
    )
    with signed_in(shared_server, owner) as o:
        page = o.get(f"/ui/concerns/{concern}")
        assert 'enctype="multipart/form-data"' in page.text
        token = csrf_of(page.text)
        kinds = re.findall(r'<option value="(\w+)"', page.text.split('id="photo-kind"')[1][:400])
        assert kinds == ["before", "after"]
        r = o.post(
            f"/ui/concerns/{concern}/photos",
            data={"csrf": token, "kind": "before", "caption": "破损的桶"},
            files={"photo": ("b.jpg", jpeg((50, 50, 50)), "image/jpeg")},
        )
        assert r.status_code == 303
        shown = o.get(r.headers["location"])
        # The message names the concern.
        assert "已完成：添加照片 — " in text_of(shown.text)
        assert "「垃圾桶破损」" in text_of(shown.text)
        r = o.post(
            f"/ui/concerns/{concern}/photos",
            data={"csrf": token, "kind": "after", "publishable": "true"},
            files={"photo": ("a.jpg", jpeg((20, 160, 90)), "image/jpeg")},
        )
        assert r.status_code == 303
        # Both public and showing the resident: refused by the field, in words.
        refused = o.post(
            f"/ui/concerns/{concern}/photos",
            data={"csrf": token, "kind": "after", "publishable": "true", "shows_resident": "true"},
            files={"photo": ("c.jpg", jpeg((1, 2, 3)), "image/jpeg")},
        )
        assert refused.status_code == 422
        assert "拍到居民本人的照片不能公开" in text_of(refused.text)
    app.resolve(concern, owner, "已更换新垃圾桶")
    [after] = [p["digest"] for p in app.get_concern(concern).photos if p["kind"] == "after"]
    public = httpx.Client(base_url=shared_server.base_url, timeout=30)
    # The library is a read model: wait for it to catch up (moments; longer on a loaded machine).
    deadline = time.monotonic() + 30
    while "垃圾桶破损" not in (library := public.get("/ui/public/achievements")).text:
        assert time.monotonic() < deadline, "the achievement library never showed the concern"
        time.sleep(0.1)
    card = (
        library.text.split("垃圾桶破损")[1].split("</li>\n")[0]
        + library.text.split("垃圾桶破损")[1]
    )
    found = [u for u in thumbs(library.text) if str(concern) in u]
    assert found == [f"/public/achievements/{concern}/photos/{after}?size=thumb"]
    assert public.get(found[0]).status_code == 200
    assert "破损的桶" not in card  # the before photo is not public, nor its caption
    public.close()
