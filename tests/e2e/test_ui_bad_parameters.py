"""A page asked for with a bad parameter answers the UI's error page in the reader's
language, naming the parameter in words, never the API's JSON or pydantic's English."""

from __future__ import annotations

from domain.vocabulary import Role
from tests.conftest import Server
from tests.e2e.ui_client import signed_in, text_of, ui_user


def test_a_bad_page_parameter_is_an_error_page_in_the_readers_words(
    shared_server: Server,
) -> None:
    staff = ui_user(shared_server, [Role.STAFF], ["2"])
    with signed_in(shared_server, staff) as s:
        for url in ("/ui/triage?at=abc", "/ui/triage?at=-1", "/ui/concerns?cursor=garbage"):
            page = s.get(url)
            assert page.status_code == 422, url
            assert page.headers["content-type"].startswith("text/html"), url
            said = text_of(page.text)
            assert "出错了" in said, url
            assert "Input should" not in said, url
            assert "String should" not in said, url
        english = s.get("/ui/triage?at=abc&lang=en")
        assert "Input should" not in text_of(english.text)
        assert english.headers["content-type"].startswith("text/html")
