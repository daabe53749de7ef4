"""Photos in Chromium: a collector on a phone takes a photo on the record form (the file
input the camera fills), and the concern page shows it to staff as a thumbnail that loads
under the Content-Security-Policy, with no serious axe violation on the page and its form."""

from __future__ import annotations

import io

from PIL import Image
from playwright.sync_api import expect

from domain.vocabulary import Role
from tests.browser.conftest import Site
from tests.browser.test_accessibility import axe_source, violations

TITLE = "3号楼楼道堆放纸箱"


def camera_shot() -> bytes:
    out = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    Image.new("RGB", (1200, 900), (160, 80, 40)).save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_a_photo_taken_on_a_phone_is_shown_on_the_concern_page(shared_site: Site) -> None:
    site = shared_site
    site.user("photo-collector", [Role.COLLECTOR], ["2"])
    site.user("photo-staff", [Role.STAFF], ["2"])
    collector = site.page("photo-collector", phone=True)
    collector.goto(f"{site.base}/ui/record")
    collector.get_by_label("走访户（门牌）").fill("3号楼2单元502")
    collector.get_by_label("标题").fill(TITLE)
    collector.get_by_label("具体情况").fill("楼道里堆满了纸箱，消防通道被堵。")
    collector.get_by_label("类别").select_option("environment")
    collector.get_by_label("入库").select_option("problem")
    collector.get_by_label("照片", exact=False).first.set_input_files(
        {"name": "IMG_0042.jpg", "mimeType": "image/jpeg", "buffer": camera_shot()}
    )
    collector.get_by_role("button", name="保存走访").last.click()
    expect(collector.get_by_role("heading", name="走访已登记。")).to_be_visible()
    reference = collector.locator(".ref").first.inner_text()

    staff = site.page("photo-staff", lang="zh")
    staff.goto(f"{site.base}/ui/concerns/{reference}")
    photo = staff.locator(".photos .gallery img").first
    expect(photo).to_be_visible()
    # Loaded, not a broken image: the thumbnail's own pixels (lazy, so wait until it is in;
    # a broken image completes with no width and fails the assertion below).
    handle = photo.element_handle()
    staff.wait_for_function("(img) => img.complete", arg=handle)
    assert staff.evaluate("(img) => img.naturalWidth", handle) == 320
    expect(staff.locator(".photos .gallery .kind").first).to_have_text("现场照片")
    assert violations(staff, axe_source()) == []
