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
        # the concern page's time-limit forms (api/ui/limit_actions.py)
        "limit.supervise": "督办（发黄牌或红牌）",
        "limit.reply-supervision": "答复督办",
        "limit.request-extension": "申请延期",
        "limit.refuse-extension": "不同意延期",
        "limit.appeal": "超期申诉",
        "limit.decide-appeal": "裁定申诉",
        "done.supervise": "已督办",
        "done.reply-supervision": "已答复督办",
        "done.request-extension": "已申请延期",
        "done.refuse-extension": "已不同意延期",
        "done.appeal": "已提出超期申诉",
        "done.decide-appeal": "已裁定申诉",
        "f.until": "挂账至（日期）",
        "limit.suspend": "申请挂账（暂停计时）",
        "limit.approve-suspension": "同意挂账",
        "limit.refuse-suspension": "不同意挂账",
        "limit.resume": "恢复办理（结束挂账）",
        "done.suspend": "已申请挂账",
        "done.approve-suspension": "已同意挂账，计时暂停",
        "done.refuse-suspension": "已不同意挂账",
        "done.resume": "已恢复办理，计时继续",
        "f.grade": "督办等级",
        "f.requirement": "督办要求",
        "f.reply_by": "答复期限",
        "f.reply": "答复内容",
        "f.approved": "裁定",
        "f.overdue_stage": "申诉的超期环节",
        "limit.grade.yellow": "黄牌",
        "limit.grade.red": "红牌",
        "limit.approve": "申诉成立（该环节不计超期）",
        "limit.refuse": "申诉不成立",
        "limit.stage.triage": "分拣",
        "limit.stage.committee": "支委会研究",
        "limit.stage.handling": "办理",
        "limit.stage.feedback": "回访",
        "err.rule.extension_cap": "本轮办理已延期两次，不能再延期。",
        "err.rule.already_overdue": "办理期限已过，已属超期，不能再申请或批准延期。",
        "err.rule.not_assigned": "只有正在办理的民情才能延期或挂账。",
        "err.rule.no_request": "没有等待答复的延期或挂账申请。",
        "err.rule.no_card": "没有等待答复的督办。",
        "err.rule.not_open": (
            "这条民情已经结束或已被合并，不能再督办或加入；同一件事再次发生，请登记新的民情。"
        ),
        "err.rule.card_issued": "这个环节已经发过这种督办牌。",
        "err.rule.appeal_used": "每条民情只能申诉一次，已经申诉过了。",
        "err.rule.not_resolved": "办结之后才能提出超期申诉。",
        "err.rule.no_appeal": "没有等待裁定的申诉。",
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
        # the concern page's time-limit forms (api/ui/limit_actions.py)
        "limit.supervise": "Supervise (yellow or red card)",
        "limit.reply-supervision": "Reply to the supervision",
        "limit.request-extension": "Ask for an extension",
        "limit.refuse-extension": "Refuse the extension",
        "limit.appeal": "Appeal an overdue stage",
        "limit.decide-appeal": "Decide the appeal",
        "done.supervise": "Supervision card issued",
        "done.reply-supervision": "Supervision answered",
        "done.request-extension": "Extension asked for",
        "done.refuse-extension": "Extension refused",
        "done.appeal": "Appeal lodged",
        "done.decide-appeal": "Appeal decided",
        "f.until": "Suspended until (date)",
        "limit.suspend": "Ask to suspend (stop the clock)",
        "limit.approve-suspension": "Approve the suspension",
        "limit.refuse-suspension": "Refuse the suspension",
        "limit.resume": "Resume the work (end the suspension)",
        "done.suspend": "Suspension asked for",
        "done.approve-suspension": "Suspension approved: the clock is stopped",
        "done.refuse-suspension": "Suspension refused",
        "done.resume": "Work resumed: the clock runs again",
        "f.grade": "Card",
        "f.requirement": "What must be done",
        "f.reply_by": "Reply by",
        "f.reply": "Reply",
        "f.approved": "Decision",
        "f.overdue_stage": "Overdue stage appealed",
        "limit.grade.yellow": "Yellow card",
        "limit.grade.red": "Red card",
        "limit.approve": "Upheld (the stage counts as on time)",
        "limit.refuse": "Not upheld",
        "limit.stage.triage": "Triage",
        "limit.stage.committee": "Committee",
        "limit.stage.handling": "Handling",
        "limit.stage.feedback": "Feedback",
        "err.rule.extension_cap": (
            "This round of work has had two extensions; no more may be given."
        ),
        "err.rule.already_overdue": (
            "The due date has passed: the stage is already overdue, so no extension can be"
            " asked for or approved."
        ),
        "err.rule.not_assigned": "Only a concern being handled can be extended or suspended.",
        "err.rule.no_request": "No extension or suspension request waits for an answer.",
        "err.rule.no_card": "No supervision card waits for a reply.",
        "err.rule.not_open": (
            "This concern is closed or merged: it can no longer be supervised or joined;"
            " if the matter has come up again, record a new concern."
        ),
        "err.rule.card_issued": "This stage has already had that card.",
        "err.rule.appeal_used": "A concern is appealed once, and this one has been.",
        "err.rule.not_resolved": "An overdue stage is appealed once the concern is resolved.",
        "err.rule.no_appeal": "No appeal waits for a decision.",
    },
}
