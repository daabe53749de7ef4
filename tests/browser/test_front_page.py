"""The front page in a real Chromium: styled by the UI's stylesheet under the CSP, fitting a
phone, and its first link takes a newcomer to the sign-in form."""

from __future__ import annotations

from tests.browser.conftest import Site


def test_the_front_page_is_styled_fits_a_phone_and_leads_to_sign_in(shared_site: Site) -> None:
    page = shared_site.page(phone=True)  # Site.close fails the test on any CSP violation
    page.goto(f"{shared_site.base}/")

    # ui.css applied: the header carries the UI's accent colour.
    colour = page.eval_on_selector("header.top", "e => getComputedStyle(e).backgroundColor")
    assert colour == "rgb(179, 38, 30)"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert page.get_by_role("heading", level=1).inner_text().startswith("民情")
    page.get_by_role("link", name="Web UI (sign in)").click()
    page.wait_for_url(f"{shared_site.base}/ui/sign-in**")
    assert page.locator("#password").count() == 1
