"""The commitments in the web UI over HTTP, on both backends: staff add milestones and mark
them done from the concern's page, write the fulfilled commitment off; the public board
(/ui/public/commitments) shows it in Chinese and English with its progress and status, the
member's name only once they agreed, and nothing personal; the tracking page shows the
milestones."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, timedelta
from uuid import UUID

from domain.vocabulary import DutyRole, Role, Satisfaction
from tests.conftest import Server
from tests.e2e.ui_client import browser, csrf_of, signed_in, ui_user
from tests.integration.support import STAFF, draft

SECRETS = ("张秀英", "13812345678")


def test_milestones_from_the_concern_page_and_the_public_board_in_both_languages(
    shared_server: Server,
) -> None:
    app = shared_server.app
    owner = shared_server.member("王建国")
    cid = UUID(app.raise_concern(STAFF, replace(draft(title="西山广场绿化"), grid="2")).id)
    due = date.today() + timedelta(days=20)
    app.handle_now(cid, STAFF, UUID(owner), DutyRole.ENVIRONMENT_MONITOR, due)
    concern = app.get_concern(cid)
    staff = ui_user(shared_server, [Role.STAFF], ["2"])
    with signed_in(shared_server, staff) as s, browser(shared_server) as anyone:
        page = s.get(f"/ui/concerns/{cid}")
        assert 'data-action="add_milestone"' in page.text
        token = csrf_of(page.text)
        for title in ("规划设计", "栽种花木"):
            added = s.post(
                f"/ui/concerns/{cid}/act/add_milestone",
                data={"csrf": token, "title": title, "due_on": due.isoformat()},
            )
            assert added.status_code == 303, added.text
        page = s.get(f"/ui/concerns/{cid}")
        options = re.findall(r'<option value="([0-9a-f-]{36})">规划设计', page.text)
        assert len(options) == 1
        done = s.post(
            f"/ui/concerns/{cid}/act/complete_milestone",
            data={"csrf": token, "milestone_id": options[0], "note": "已出图"},
        )
        assert done.status_code == 303, done.text
        at = done.headers["location"].rpartition("at=")[2]

        board = anyone.get(f"/ui/public/commitments?at={at}")
        assert board.status_code == 200
        card = board.text.split(f'data-reference="{concern.reference}"')[1].split("</li>\n")[0]
        assert "西山广场绿化" in card
        assert "承诺中" in card
        assert "50%" in card
        assert "王建国" not in board.text  # not agreed to be shown
        english = anyone.get("/ui/public/commitments?lang=en")
        assert "Commitments board" in english.text
        assert "In progress" in english.text

        app.set_public_identity(UUID(owner), STAFF, True)
        app.resolve(cid, STAFF, "广场绿化完成")
        app.record_feedback(cid, STAFF, True, Satisfaction.SATISFIED)
        page = s.get(f"/ui/concerns/{cid}")
        off = s.post(
            f"/ui/concerns/{cid}/act/write_off", data={"csrf": csrf_of(page.text), "note": ""}
        )
        assert off.status_code == 303, off.text
        at = off.headers["location"].rpartition("at=")[2]
        board = anyone.get(f"/ui/public/commitments?status=written_off&at={at}&lang=zh")
        card = board.text.split(f'data-reference="{concern.reference}"')[1].split("</li>\n")[0]
        assert "已注销" in card
        assert "王建国" in card
        for secret in (*SECRETS, concern.tracking_code or "?"):
            assert secret not in board.text

        tracked = anyone.get(f"/ui/track/{concern.tracking_code}")
        assert "规划设计" in tracked.text
        assert "50%" in tracked.text
        assert "已注销" in tracked.text
