"""The web UI's catalogue: both languages complete, every key a template uses present,
dates written the reader's way."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from api.ui.messages import CATALOGUE, translate
from api.ui.render import TEMPLATES, fmt_date, fmt_datetime, label
from api.ui.timeline import rows

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
UI_SOURCES = [*TEMPLATES.glob("*.html"), *Path(TEMPLATES.parent).rglob("*.py")]


def test_both_catalogues_have_the_same_keys_and_no_empty_value() -> None:
    zh, en = CATALOGUE["zh"], CATALOGUE["en"]
    assert set(zh) == set(en)
    assert [k for k, v in {**zh, **en}.items() if not v.strip()] == []
    assert [k for k in zh if zh[k].count("{") != en[k].count("{")] == []


def test_the_english_catalogue_has_no_chinese_but_the_switch_back() -> None:
    # The link back to Chinese is written in Chinese on purpose, and marked lang="zh-CN".
    assert [k for k, v in CATALOGUE["en"].items() if CJK.search(v)] == ["lang.switch"]


def test_every_key_the_pages_use_is_in_the_catalogue() -> None:
    used: set[str] = set()
    for source in UI_SOURCES:
        used |= set(re.findall(r"""\bt\(\s*['"]([a-z_]+(?:\.[a-z_]+)*)['"]""", source.read_text()))
        used |= set(re.findall(r"""translate\(\s*lang,\s*['"]([a-z_.]+)['"]""", source.read_text()))
    assert used, "no keys found: the pattern is wrong"
    assert sorted(used - set(CATALOGUE["zh"])) == []


@pytest.mark.parametrize(("lang", "expected"), [("zh", "2026年3月3日"), ("en", "3 Mar 2026")])
def test_dates_are_written_the_readers_way(lang: str, expected: str) -> None:
    assert fmt_date(date(2026, 3, 3), lang) == expected
    assert fmt_date("2026-03-03", lang) == expected
    assert fmt_date(None, lang) == "—"


def test_times_are_shown_in_the_communitys_zone() -> None:
    shanghai = ZoneInfo("Asia/Shanghai")
    moment = "2026-03-03T02:00:00+00:00"
    assert fmt_datetime(moment, "zh", shanghai) == "2026年3月3日 10:00"
    assert fmt_datetime(datetime(2026, 4, 8, 9, 5, tzinfo=shanghai), "en", shanghai) == (
        "8 Apr 2026 09:05"
    )


def test_domain_values_take_the_glossarys_labels() -> None:
    assert label("zh", "status", "branch_meeting") == "党员大会议定"
    assert label("zh", "duty_role", "project_coordinator") == "民生项目协调员"
    assert label("en", "category", "environment") == "Environment and sanitation"
    assert label("zh", "category", "not-a-category") == "not-a-category"
    assert translate("en", "tasks.due_in", n=3) == "3 days left"


def test_the_timeline_says_who_did_what_and_what_changed_in_words() -> None:
    entries = [
        {
            "version": 4,
            "type": "Assigned",
            "at": "2026-03-25T15:00:00+08:00",
            "actor": "p-chair",
            "role": "chair",
            "role_label": {"zh": "会议主持人", "en": "Meeting chair"},
            "label": {"zh": "交办", "en": "Assigned"},
            "reason": None,
            "data": {"note": "党员大会议定", "owner": "m-li"},
            "changes": {
                "status": {"from": "branch_meeting", "to": "assigned"},
                "owner": {"from": None, "to": "m-li"},
                "due_on": {"from": None, "to": "2026-04-10"},
            },
        },
        {
            "version": 5,
            "type": "FeedbackRecorded",
            "at": "2026-04-12T09:00:00+08:00",
            "actor": "resident:r1",
            "role": "resident",
            "role_label": {"zh": "居民", "en": "Resident"},
            "label": {"zh": "回访", "en": "Resident's feedback recorded"},
            "reason": None,
            "data": {"solved": True, "satisfaction": "satisfied"},
            "changes": {},
        },
    ]
    zh = rows(entries, "zh", {"p-chair": "陈书记 (chen-chair)"}, {"m-li": "李强"}, {})
    assert zh[0]["label"] == "交办"
    assert zh[0]["who"] == "陈书记 (chen-chair)"
    assert zh[0]["role"] == "会议主持人"
    assert zh[0]["details"] == ["党员大会议定"]
    assert zh[0]["changes"] == [
        {"field": "状态", "from": "党员大会议定", "to": "交办中"},
        {"field": "责任人", "from": "—", "to": "李强"},
        {"field": "办结时限", "from": "—", "to": "2026年4月10日"},
    ]
    assert zh[1]["who"] == "居民"
    assert zh[1]["details"] == ["问题是否解决: 已解决", "满意度: 满意"]
    en = rows(entries, "en", {}, {"m-li": "Li Qiang"}, {})
    assert en[0]["changes"][2] == {"field": "Due on", "from": "—", "to": "10 Apr 2026"}
    assert en[1]["details"] == ["Was it solved?: Solved", "Satisfaction: Satisfied"]
