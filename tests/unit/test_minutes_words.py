"""The minutes in words: dates with their weekday, the rule with the article it cites
(article 11 for a branch meeting, 12 for a committee session), in Chinese and English."""

from __future__ import annotations

from datetime import date

from api.minutes_html import changes_in_words, day_in_words, moment_in_words, rule_in_words

DEFAULT = {"quorum": "half", "threshold": "majority_of_entitled", "ballot": "open"}


def test_dates_are_written_in_words_with_the_weekday() -> None:
    assert day_in_words("2026-04-10", "zh") == "2026年4月10日（星期五）"
    assert day_in_words(date(2026, 4, 10), "en") == "Friday 10 April 2026"
    assert moment_in_words("2026-12-10T14:30:00+08:00", "zh") == "2026年12月10日（星期四）14:30"
    assert moment_in_words("2026-12-10T14:30:00+08:00", "en") == "Thursday 10 December 2026, 14:30"
    assert day_in_words(None, "en") == "—"


def test_a_branch_meeting_cites_article_11_and_a_committee_session_article_12() -> None:
    assert rule_in_words(DEFAULT, 11, "zh") == (
        "依据《中国共产党支部工作条例（试行）》第十一条：有表决权的党员半数以上到会方可表决，"
        "赞成人数超过应到会有表决权党员的半数为通过；公开表决。"
    )
    assert rule_in_words(DEFAULT, 11, "en") == (
        "Under article 11 of the Regulations on the Work of Party Branches (trial): a vote may"
        " proceed only with at least half of the members entitled to vote present; an item is"
        " adopted with more than half of those entitled voting for. Open vote."
    )
    stricter = {**DEFAULT, "quorum": "two_thirds", "ballot": "secret"}
    assert "第十二条：支部委员三分之二以上到会" in rule_in_words(stricter, 12, "zh")
    assert "无记名投票" in rule_in_words(stricter, 12, "zh")
    assert "article 12" in rule_in_words(stricter, 12, "en")
    assert "at least two thirds of the committee present" in rule_in_words(stricter, 12, "en")


def test_arrivals_and_departures_read_in_order_with_their_times() -> None:
    changes = [
        {
            "member": {"id": "1", "name": "王芳"},
            "change": "arrived",
            "at": "2026-03-25T15:10:00+08:00",
        },
        {
            "member": {"id": "2", "name": "李强"},
            "change": "left",
            "at": "2026-03-25T15:40:00+08:00",
        },
    ]
    assert changes_in_words(changes, "zh") == "15:10 王芳到会；15:40 李强离会"
    assert changes_in_words(changes, "en") == "15:10 王芳 arrived; 15:40 李强 left"
