"""Events already in the log whose text holds NUL (recorded by code older than the edge's
text policy) never stop a read model: on both stores every read model moves past them, the
concern list, queues, libraries, ledger, points and Open311 answer, and `minqing
projections rebuild` completes. On PostgreSQL, which cannot store NUL in text, the read
models show U+FFFD in its place."""

from __future__ import annotations

import dataclasses
import time
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest

from api.cli import main as cli_main
from application.minqing import Minqing, NewConcern, NewVisit
from domain.meeting import MeetingKind
from domain.principal import Principal
from domain.residents import ResidentData
from domain.vocabulary import Category, Channel, DutyRole, Library, Role, Satisfaction
from domain.voting import Choice
from tests.conftest import Server

NUL = "\x00"
BOSS = Principal(
    id="boss",
    name="boss",
    roles=frozenset({Role.STAFF, Role.GRID_LEADER, Role.COMMITTEE, Role.CHAIR, Role.ADMIN}),
    grids=frozenset(),
)


def nul(words: str) -> str:
    """`words` with a NUL in the middle."""
    middle = len(words) // 2
    return words[:middle] + NUL + words[middle:]


def record_history_with_nul(app: Minqing) -> dict[str, str]:
    """Straight through the Application (no edge in between): a concern from raising to the
    resident's feedback, a declined one, a meeting and a visit, NUL in every text."""
    members = [
        app.register_member(BOSS, nul(name), ["2"], [DutyRole.ENVIRONMENT_MONITOR], True).id
        for name in ("李强", "赵敏")
    ]
    voters = [UUID(m) for m in members]
    # Only the meeting's named chair runs it: the first member, signed in as BOSS.
    chair = dataclasses.replace(BOSS, member_id=voters[0])

    def concern(title: str) -> UUID:
        draft = NewConcern(
            title=nul(title),
            description=nul("东侧小路的路灯已经坏了两个星期"),
            category=Category.ENVIRONMENT,
            library=Library.PROBLEM,
            channel=Channel.VISIT,
            grid="2",
            building=nul("5号楼"),
            resident=ResidentData(name=nul("张秀英"), phone=nul("13800000000")),
        )
        return UUID(app.raise_concern(BOSS, draft).id)

    lights, storage = concern("灯坏了"), concern("楼道堆物")
    now = app.clock()
    app.refer(lights, BOSS, nul("转支委会"))
    meeting = UUID(
        app.schedule_meeting(
            BOSS,
            nul("主题党日"),
            MeetingKind.THEMATIC_PARTY_DAY,
            now + timedelta(days=1),
            nul("党群服务中心"),
            voters[0],
            voters,
        ).id
    )
    app.shortlist(meeting, chair, lights)
    app.open_meeting(meeting, chair, voters, [nul("居民代表")])
    app.open_vote(meeting, chair, lights)
    for voter in voters:
        app.cast_vote(meeting, chair, lights, Choice.FOR, voter=voter)
    app.close_vote(meeting, chair, lights)
    app.close_meeting(meeting, chair, nul("会议纪要"))
    due = now.date() + timedelta(days=10)
    app.assign(lights, chair, voters[0], DutyRole.ENVIRONMENT_MONITOR, due, nul("会上决定"))
    app.record_progress(lights, BOSS, nul("已订购灯具"))
    app.resolve(lights, BOSS, nul("更换了6盏路灯"))
    app.record_feedback(lights, BOSS, True, Satisfaction.SATISFIED, nul("很满意"))
    app.decline(storage, BOSS, nul("不属于社区职责范围"))
    visit = NewVisit(
        grid="2", household=nul("5号楼2单元301"), visited_on=now.date(), notes=nul("独居老人")
    )
    app.record_visit(BOSS, visit)
    return {"lights": str(lights), "member": members[0]}


def caught_up(server: Server, client: Any) -> None:
    """Wait until every read model holds the whole log (fail after 20 s)."""
    head = server.event_count()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        ready = client.get("/readyz").json()
        positions = {name: p["position"] for name, p in ready["projections"].items()}
        if positions and all(position >= head for position in positions.values()):
            return
        time.sleep(0.1)
    pytest.fail(f"the read models did not reach position {head}: {positions}")


def test_every_read_model_moves_past_text_with_nul_and_its_reads_work(
    server: Server, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    made = record_history_with_nul(server.app)
    _, token = server.principal([Role.STAFF, Role.SUPERVISOR, Role.ADMIN])
    shown = "\ufffd" if server.database_url.startswith("postgres") else NUL
    with server.client(token) as client:
        caught_up(server, client)
        listed = client.get("/api/v1/concerns")
        assert listed.status_code == 200, listed.text
        titles = {i["title"] for i in listed.json()["items"]}
        assert titles == {nul(t).replace(NUL, shown) for t in ("灯坏了", "楼道堆物")}
        reads = [
            "/api/v1/queues/committee",
            "/api/v1/queues/overdue",
            "/api/v1/libraries/problem",
            "/api/v1/libraries/achievement",
            "/public/achievements",
            "/api/v1/ledger?group_by=month,grid,category",
            "/api/v1/ledger?format=csv",
            "/api/v1/visits",
            f"/api/v1/members/{made['member']}/points",
            "/open311/v2/requests.json",
            "/open311/v2/servicerequestupdates.xml",
        ]
        for path in reads:
            r = client.get(path)
            assert r.status_code == 200, (path, r.text)
        [entry] = client.get("/api/v1/libraries/achievement").json()["items"]
        assert entry["summary"] == nul("更换了6盏路灯").replace(NUL, shown)
        ledger = client.get("/api/v1/ledger").json()
        assert ledger["totals"]["figures"]["concerns_collected"] == 2

    assert server.served is not None
    monkeypatch.setenv("MINQING_DATABASE_URL", server.database_url)
    monkeypatch.setenv("MINQING_MASTER_KEY", server.served.state.settings.master_key)
    monkeypatch.setenv("MINQING_EMBEDDED_WORKERS", "false")
    capsys.readouterr()
    assert cli_main(["projections", "rebuild"]) == 0
    assert "read models in one pass" in capsys.readouterr().out
