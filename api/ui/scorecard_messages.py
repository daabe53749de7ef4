"""The scorecards page's and the concern page's time-limit forms' words, in Chinese and
English (merged into api/ui/messages.py's catalogue, which checks both languages hold the
same keys)."""

from __future__ import annotations

SCORECARD_MESSAGES: dict[str, dict[str, str]] = {
    "zh": {
        "nav.scorecards": "考核记分",
        "score.title": "考核记分卡",
        "score.subject": "考核对象",
        "score.subject.owner": "承办党员",
        "score.subject.grid": "网格",
        "score.subject.collector": "民情搜集人",
        "score.when_hint": (
            "按民情登记日期统计。起止填月份（如 2026-03）或日期（如 2026-03-15）；不填即全部时间。"
        ),
        "score.how": (
            "综合得分＝按期办结率×{on_time}＋（1－返工率）×{rework}＋（1－延期率）×{extension}"
            "＋满意率×{satisfaction}，按有数据的项折算为百分制。等级："
        ),
        "score.voided": "已作废的 {n} 件民情不计入任何指标。",
        "score.table": "记分卡",
        "score.concerns": "民情数",
        "score.on_time_closure": "按期办结率",
        "score.rework": "返工率",
        "score.extension": "延期率",
        "score.satisfaction": "满意率",
        "score.response": "响应用时",
        "score.hours": "{n} 工作小时",
        "score.response_text": "中位数 {median} 工作小时，平均 {mean} 工作小时（交办至首次处理）",
        "score.cards": "督办牌",
        "score.cards_count": "黄牌 {yellow}，红牌 {red}",
        "score.yellow": "黄牌",
        "score.red": "红牌",
        "score.score": "综合得分",
        "score.grade": "等级",
        "score.of": "{who} 的记分明细",
        "score.counted": "计入",
        "score.of_these": "基数",
        "score.no_concerns": "无",
    },
    "en": {
        "nav.scorecards": "Scorecards",
        "score.title": "Scorecards",
        "score.subject": "Scored",
        "score.subject.owner": "Owner",
        "score.subject.grid": "Grid",
        "score.subject.collector": "Collector",
        "score.when_hint": (
            "Counted by the day a concern was recorded. Give a month (2026-03) or a day "
            "(2026-03-15) for either end; leave both empty for all time."
        ),
        "score.how": (
            "Score = on-time closure × {on_time} + (1 − rework) × {rework} + (1 − extension)"
            " × {extension} + satisfaction × {satisfaction}, out of 100 over the figures"
            " that have data. Grades:"
        ),
        "score.voided": "{n} voided concerns count in no figure.",
        "score.table": "Scorecards",
        "score.concerns": "Concerns",
        "score.on_time_closure": "On-time closure",
        "score.rework": "Rework",
        "score.extension": "Extension",
        "score.satisfaction": "Satisfaction",
        "score.response": "Response time",
        "score.hours": "{n} working hours",
        "score.response_text": (
            "median {median} working hours, mean {mean} (assignment to first action)"
        ),
        "score.cards": "Supervision cards",
        "score.cards_count": "{yellow} yellow, {red} red",
        "score.yellow": "Yellow cards",
        "score.red": "Red cards",
        "score.score": "Score",
        "score.grade": "Grade",
        "score.of": "Scorecard of {who}",
        "score.counted": "Counted",
        "score.of_these": "Out of",
        "score.no_concerns": "none",
    },
}
