"""The text policy (domain/text.py) where input is not a JSON body: Open311's form posts
and parameters (refused in the GeoReport format), the web UI's record form, its tracking
feedback, sign-in and page parameters (refused on the page, as other validation errors
are), and the command line. Each refusal names the field, in words, and records nothing."""

from __future__ import annotations

import re
from datetime import date, timedelta
from uuid import UUID

import pytest

from api.cli import main as cli_main
from domain.vocabulary import Category, DutyRole, Role
from tests.conftest import Server
from tests.e2e.ui_client import browser, csrf_of, sign_in, signed_in, text_of, ui_user
from tests.integration.support import STAFF, draft

NUL, BELL, OVERRIDE = "\x00", "\x07", "\u202e"
OPEN311_POST = {
    "service_code": Category.ENVIRONMENT.value,
    "description": "东侧小路的路灯坏了两个星期",
    "title": "路灯坏了",
    "first_name": "秀英",
    "last_name": "张",
    "phone": "13800000000",
    "email": "resident@example.org",
    "address_string": "幸福里5号楼",
    "attribute[grid]": "2",
}
RECORD = {
    "n": "1",
    "grid": "2",
    "household": "5号楼2单元301",
    "visited_on": date.today().isoformat(),
    "c0.title": "路灯不亮",
    "c0.description": "东侧小路路灯坏了两周",
    "c0.category": "environment",
    "c0.library": "problem",
    "c0.channel": "visit",
    "action": "save",
}


@pytest.mark.parametrize("char", [NUL, BELL, OVERRIDE], ids=["NUL", "BEL", "RLO"])
@pytest.mark.parametrize("field", [k for k in OPEN311_POST if k != "description"])
def test_an_open311_post_with_a_bad_character_is_refused_in_the_spec_format(
    shared_server: Server, field: str, char: str
) -> None:
    _, key = shared_server.principal([Role.COLLECTOR])
    before = shared_server.event_count()
    with shared_server.client() as client:
        form = {**OPEN311_POST, "api_key": key, field: f"{OPEN311_POST[field]}{char}x"}
        r = client.post("/open311/v2/requests.json", data=form)
    assert r.status_code == 400, r.text
    [error] = r.json()
    assert error["code"] == 400
    assert error["description"].startswith(f"{field} contains ")
    assert f"U+{ord(char):04X}" in error["description"]
    assert shared_server.event_count() == before


def test_an_open311_description_takes_lines_and_bidi_but_not_control_characters(
    shared_server: Server,
) -> None:
    _, key = shared_server.principal([Role.COLLECTOR])
    with shared_server.client() as client:
        before = shared_server.event_count()
        form = {**OPEN311_POST, "api_key": key, "description": "灯坏了\x00"}
        refused = client.post("/open311/v2/requests.xml", data=form)
        assert refused.status_code == 400
        assert "<description>description contains a control character (U+0000)" in refused.text
        assert shared_server.event_count() == before
        form["description"] = "第一行\r\n第二行 \u202eabc Cafe\u0301"
        made = client.post("/open311/v2/requests.json", data=form)
        assert made.status_code == 200, made.text
    concern = shared_server.app.concern_by_reference(made.json()[0]["service_request_id"])
    assert concern.description == "第一行\n第二行 \u202eabc Caf\u00e9"


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/open311/v2/requests.json?service_request_id=MQ-2026-0000%00", "service_request_id"),
        ("/open311/v2/requests.json?status=open%07", "status"),
        ("/open311/v2/requests/MQ-2026%00-000001.json", "request_id"),
        ("/open311/v2/tokens/ABC%E2%80%AEDEF.xml", "token"),
        ("/open311/v2/servicerequestupdates.json?start_date=2026-01-01%00", "start_date"),
    ],
)
def test_open311_parameters_with_a_bad_character_are_refused_in_the_spec_format(
    shared_server: Server, path: str, field: str
) -> None:
    with shared_server.client() as client:
        r = client.get(path)
    assert r.status_code == 400, r.text
    description = r.json()[0]["description"] if path.split("?")[0].endswith(".json") else r.text
    assert f"{field} contains " in description


@pytest.mark.parametrize(
    ("field", "shown_as"),
    [("c0.title", "c0-title"), ("c0.description", "c0-description"), ("household", "household")],
)
def test_the_record_form_shows_a_control_character_next_to_the_field(
    shared_server: Server, field: str, shown_as: str
) -> None:
    collector = ui_user(shared_server, [Role.COLLECTOR], ["2"])
    before = shared_server.event_count()
    with signed_in(shared_server, collector) as c:
        page = c.get("/ui/record")
        form = {**RECORD, "csrf": csrf_of(page.text), field: f"{RECORD[field]}{NUL}"}
        r = c.post("/ui/record", data=form)
    assert r.status_code == 422
    error = re.search(rf'id="{shown_as}-error">([^<]*)<', r.text)
    assert error, r.text
    # In the reader's language (zh by default), naming the field by its label.
    assert text_of(error.group(1)).endswith("」含有不允许的控制字符。")
    assert f'aria-invalid="true" aria-describedby="{shown_as}-error"' in r.text
    assert shared_server.event_count() == before


def test_the_tracking_page_refuses_a_comment_with_a_control_character(
    shared_server: Server,
) -> None:
    app = shared_server.app
    cid = UUID(app.raise_concern(STAFF, draft()).id)
    owner = UUID(shared_server.member())
    app.handle_now(cid, STAFF, owner, DutyRole.PROJECT_COORDINATOR, date.today() + timedelta(5))
    app.resolve(cid, STAFF, "更换了路灯")
    code = app.get_concern(cid).tracking_code
    before = shared_server.event_count()
    with browser(shared_server) as resident:
        token = csrf_of(resident.get(f"/ui/track/{code}").text)
        answer = {"csrf": token, "solved": "true", "satisfaction": "satisfied"}
        r = resident.post(f"/ui/track/{code}/feedback", data={**answer, "comment": "谢谢\x1b"})
        assert r.status_code == 422
        assert "「意见」含有不允许的控制字符。" in text_of(r.text)
        assert shared_server.event_count() == before
        r = resident.post(f"/ui/track/{code}/feedback", data={**answer, "comment": "谢谢\r\n再见"})
        assert r.status_code == 303
    [answered] = [e for e in app.history(cid) if e["type"] == "FeedbackRecorded"]
    assert answered["data"]["comment"] == "谢谢\n再见"


def test_sign_in_refuses_a_name_with_a_control_character_on_the_form(
    shared_server: Server,
) -> None:
    with browser(shared_server) as client:
        r = sign_in(client, "admin\x00")
    assert r.status_code == 422
    error = re.search(r'id="name-error">([^<]*)<', r.text)
    assert error
    assert text_of(error.group(1)).endswith("」含有不允许的控制字符。")


def test_a_page_parameter_with_a_control_character_is_an_error_page(
    shared_server: Server,
) -> None:
    staff = ui_user(shared_server, [Role.STAFF], ["2"])
    with signed_in(shared_server, staff) as c:
        for path in ("/ui/concerns?q=%E7%81%AF%00", "/ui/concerns/MQ-2026%00"):
            r = c.get(path)
            assert r.status_code == 422
            assert r.headers["content-type"].startswith("text/html")
            # In the reader's words, naming the parameter by its label where it has one.
            assert "含有不允许的控制字符" in text_of(r.text)
            assert "U+0000" not in text_of(r.text)


@pytest.mark.parametrize(
    ("argv", "argument"),
    [
        (["users", "add", "王\x1b芳", "--role", "collector"], "name"),
        (["users", "add", "wang", "--role", "collector", "--grid", "2\n3"], "--grid"),
        (["tokens", "issue", "admin", "--label", "phone\u202e"], "--label"),
    ],
)
def test_the_command_line_refuses_names_labels_and_grids_with_bad_characters(
    argv: list[str], argument: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli_main(argv)
    assert exited.value.code == 2
    assert f"argument {argument}: contains " in capsys.readouterr().err
