"""The ledger's figures (台账指标): one table of definitions (projections/ledger_tally.py
computes them; projections/ledger_facts.py reads the rows they count).

Every figure is defined once here, with its Chinese and English labels and how it is
computed; the JSON ledger, the CSV and XLSX exports and the drill-down all read this table,
so a cell and the list behind it cannot disagree. A concern counts in the month it was
raised (in the community's time zone), whatever happened to it later: the worked story's
streetlight job, raised on 3 March and resolved on 8 April, is a March concern resolved on
time. A visit counts in the month of its date.

Pure data: the definitions and their tests (the read model's rows come from
projections.ledger).
"""

from __future__ import annotations

from domain.errors import Invalid
from domain.lifecycle import Status
from domain.vocabulary import Library, PriorityVisit, Satisfaction
from projections.ledger_exceptions import EXCEPTION_COUNTS, EXCEPTION_RATES

# The facts and a figure's shape live in projections/ledger_facts.py; imported from here too,
# as they always were.
from projections.ledger_facts import Clock as Clock
from projections.ledger_facts import ConcernFacts as ConcernFacts
from projections.ledger_facts import ConcernTest as ConcernTest
from projections.ledger_facts import Figure as Figure
from projections.ledger_facts import Kind as Kind
from projections.ledger_facts import Subject as Subject
from projections.ledger_facts import VisitFacts as VisitFacts
from projections.ledger_facts import VisitTest as VisitTest
from projections.ledger_facts import concern_facts as concern_facts
from projections.ledger_facts import visit_facts as visit_facts

GROUP_KEYS = ("month", "grid", "category")
DEFAULT_GROUP_BY = GROUP_KEYS


def _visits(kind: PriorityVisit) -> Figure:
    return Figure(
        f"priority_visits_{kind.value}",
        f"重点走访·{kind.zh}",
        f"Priority visits: {kind.en.lower()}",
        f"走访“{kind.zh}”的次数",
        f"visits to households marked {kind.value}",
        "visits",
        visit_test=lambda v: v.priority_visit == kind.value,
    )


def _satisfaction(level: Satisfaction) -> Figure:
    return Figure(
        level.value,
        f"回访{level.zh}",
        f"Feedback: {level.en.lower()}",
        f"最近一次回访为“{level.zh}”的民情数",
        f"concerns whose latest feedback says {level.value}",
        "concerns",
        concern_test=lambda c, _: c.satisfaction == level.value,
    )


def _rate(name: str, zh: str, en: str, numerator: str, denominator: str, how: str) -> Figure:
    return Figure(
        name,
        zh,
        en,
        f"{_LABEL[numerator]} ÷ {_LABEL[denominator]}；分母为零时为空",
        f"{numerator} ÷ {denominator} ({how}); null when the denominator is zero",
        "concerns",
        kind="rate",
        numerator=numerator,
        denominator=denominator,
    )


_COUNTS: tuple[Figure, ...] = (
    Figure(
        "visits",
        "走访次数",
        "Visits",
        "登记的入户走访次数（按走访日期计月）",
        "household visits recorded, counted in the month of the visit's date",
        "visits",
        visit_test=lambda v: True,
    ),
    Figure(
        "priority_visits",
        "重点走访（四访四问）",
        "Priority visits",
        "标注了重点走访类别的走访次数",
        "visits marked with a priority-visit kind",
        "visits",
        visit_test=lambda v: v.priority_visit is not None,
    ),
    *(_visits(kind) for kind in PriorityVisit),
    Figure(
        "concerns_collected",
        "收集民情",
        "Concerns collected",
        "当月（按提出时间，社区时区）登记的民情数，不含作废的",
        "concerns raised, counted in the month they were raised (community time zone),"
        " voided ones left out",
        "concerns",
        concern_test=lambda c, _: True,
    ),
    Figure(
        "referred",
        "提交支委会",
        "Referred to the committee",
        "曾提交支委会研究的民情数",
        "concerns referred to the branch committee at least once",
        "concerns",
        concern_test=lambda c, _: c.referred_at is not None,
    ),
    Figure(
        "discussed",
        "提交党员大会议定",
        "Discussed at a meeting",
        "曾列入党员大会议程的民情数",
        "concerns shortlisted onto a branch meeting's agenda at least once",
        "concerns",
        concern_test=lambda c, _: c.shortlisted_at is not None,
    ),
    Figure(
        "adopted",
        "会议通过",
        "Adopted at a meeting",
        "党员大会表决通过的民情数",
        "concerns a branch meeting adopted",
        "concerns",
        concern_test=lambda c, _: c.adopted_at is not None,
    ),
    Figure(
        "assigned",
        "交办",
        "Assigned",
        "曾明确责任人和时限（交办或即接即办）的民情数",
        "concerns given an owner and a due date at least once (assigned or handled now)",
        "concerns",
        concern_test=lambda c, _: c.assigned_at is not None,
    ),
    Figure(
        "resolved",
        "办结",
        "Resolved",
        "现为已办结的民情数（重新办理的不计，再次办结后计入）",
        "concerns resolved now (a reopened one counts again once resolved again)",
        "concerns",
        concern_test=lambda c, _: c.resolved,
    ),
    Figure(
        "resolved_on_time",
        "按期办结",
        "Resolved on time",
        "已办结且办结日期不晚于当时的办结时限（超期经申诉豁免的视为按期）",
        "resolved concerns whose (latest) resolution came by the due date, or whose late"
        " handling an approved appeal exempts",
        "concerns",
        concern_test=lambda c, _: c.resolved and c.on_time,
    ),
    Figure(
        "due",
        "应结案",
        "Due for closure",
        "有办结时限且已办结或时限已过的民情数",
        "concerns with a due date that were resolved or whose due date has passed",
        "concerns",
        concern_test=lambda c, today: c.due(today),
    ),
    Figure(
        "people_helped",
        "帮扶困难群众",
        "People helped",
        "难点库中已办结的民情数",
        "hardship-library concerns resolved",
        "concerns",
        concern_test=lambda c, _: c.resolved and c.library == Library.HARDSHIP.value,
    ),
    Figure(
        "declined",
        "明确拒办",
        "Declined",
        "明确拒办（含党员大会否决）的民情数",
        "concerns declined, by staff or the committee or rejected by a meeting",
        "concerns",
        concern_test=lambda c, _: c.status == Status.DECLINED.value,
    ),
    Figure(
        "responded",
        "按时响应",
        "Responded in time",
        "交办后责任人在响应时限内首次处理（进展、办结或退回）的民情数",
        "assigned concerns whose owner first acted (progress, resolve or send back)"
        " within the response window",
        "concerns",
        concern_test=lambda c, _: c.responded,
    ),
    Figure(
        "response_due",
        "应响应",
        "Due for a response",
        "已交办的民情数，不含尚在响应时限内且未处理的",
        "assigned concerns, except those still inside the response window with no action",
        "concerns",
        concern_test=lambda c, _: c.response_due,
    ),
    Figure(
        "feedback_given",
        "已回访",
        "Feedback given",
        "居民已回访（评价）的民情数",
        "concerns with at least one answer from the resident",
        "concerns",
        concern_test=lambda c, _: c.feedback_count > 0,
    ),
    Figure(
        "solved",
        "回访已解决",
        "Feedback: solved",
        "最近一次回访表示已解决的民情数",
        "concerns whose latest feedback says solved",
        "concerns",
        concern_test=lambda c, _: bool(c.solved),
    ),
    *(_satisfaction(level) for level in Satisfaction),
    Figure(
        "satisfied_or_basically",
        "满意及基本满意",
        "Satisfied or basically satisfied",
        "最近一次回访为满意或基本满意的民情数",
        "concerns whose latest feedback says satisfied or basically satisfied",
        "concerns",
        concern_test=lambda c, _: (
            c.satisfaction in (Satisfaction.SATISFIED.value, Satisfaction.BASICALLY_SATISFIED.value)
        ),
    ),
    Figure(
        "reopened",
        "返工",
        "Reopened",
        "办结后曾重新办理的民情数",
        "concerns reopened after a resolution at least once",
        "concerns",
        concern_test=lambda c, _: c.reopened_count > 0,
    ),
    Figure(
        "resolved_ever",
        "曾办结",
        "Resolved at least once",
        "至少办结过一次的民情数（含之后重新办理的）",
        "concerns resolved at least once, reopened later or not",
        "concerns",
        concern_test=lambda c, _: c.resolutions > 0,
    ),
    Figure(
        "extended",
        "延期",
        "Extended",
        "办结时限曾延期的民情数",
        "concerns whose due date was extended at least once",
        "concerns",
        concern_test=lambda c, _: c.extended_count > 0,
    ),
    *EXCEPTION_COUNTS,
)
_LABEL = {f.name: f.zh for f in _COUNTS}

FIGURES: tuple[Figure, ...] = (
    _COUNTS[0],
    Figure(
        "households_visited",
        "走访户数",
        "Households visited",
        "走访过的不同住户数（同一网格内同一住户只计一次）",
        "distinct households among the visits (the same household in a grid counts once)",
        "visits",
        kind="distinct",
        basis="visits",
    ),
    *_COUNTS[1:],
    Figure(
        "median_days_to_resolve",
        "办结天数中位数",
        "Median days to resolve",
        "已办结民情从提出到办结的自然日数的中位数",
        "median of the calendar days from raised to resolved, over the resolved concerns",
        "concerns",
        kind="median",
        basis="resolved",
    ),
    Figure(
        "residents_raising",
        "反映居民",
        "Residents who raised a matter",
        "当月登记的民情背后的居民人数：提出人加联名居民（合并的民情计入保留的一件）",
        "the residents behind the concerns raised: whoever raised each and its co-signers"
        " (a merged concern's residents count with the one it was merged into)",
        "concerns",
        kind="residents",
        basis="concerns_collected",
    ),
    Figure(
        "residents_helped",
        "受益居民",
        "Residents helped",
        "已办结民情的反映居民人数",
        "the residents behind the resolved concerns",
        "concerns",
        kind="residents",
        basis="resolved",
    ),
    Figure(
        "declined_reasons",
        "拒办理由",
        "Reasons for declining",
        "明确拒办的理由及件数",
        "the reasons given for the declined concerns, with how many each",
        "concerns",
        kind="reasons",
        basis="declined",
    ),
    _rate(
        "response_rate",
        "响应率",
        "Response rate",
        "responded",
        "response_due",
        "assigned concerns whose owner acted within the response window",
    ),
    _rate(
        "resolution_rate",
        "解决率",
        "Resolution rate",
        "solved",
        "feedback_given",
        "feedback saying solved",
    ),
    _rate(
        "satisfaction_rate",
        "满意率",
        "Satisfaction rate",
        "satisfied_or_basically",
        "feedback_given",
        "satisfied or basically satisfied",
    ),
    _rate(
        "on_time_closure_rate",
        "按期结案率",
        "On-time closure rate",
        "resolved_on_time",
        "due",
        "resolved by the due date",
    ),
    _rate("rework_rate", "返工率", "Rework rate", "reopened", "resolved_ever", "reopened"),
    _rate("extension_rate", "延期率", "Extension rate", "extended", "assigned", "extended"),
    _rate(
        "decline_rate",
        "拒办率",
        "Decline rate",
        "declined",
        "concerns_collected",
        "declined",
    ),
    *(_rate(*spec) for spec in EXCEPTION_RATES),
)
BY_NAME: dict[str, Figure] = {f.name: f for f in FIGURES}

# The cell keys as columns, with their labels.
KEY_LABELS: dict[str, tuple[str, str]] = {
    "month": ("月份", "Month"),
    "grid": ("网格", "Grid"),
    "category": ("类别", "Category"),
}


def parse_group_by(text: str | None) -> tuple[str, ...]:
    """`month,grid,category` (any of them, in any order, each once; empty: totals only)."""
    if text is None:
        return DEFAULT_GROUP_BY
    keys = tuple(k.strip() for k in text.split(",") if k.strip())
    unknown = [k for k in keys if k not in GROUP_KEYS]
    if unknown:
        raise Invalid([("group_by", f"unknown key {unknown[0]!r}; use {', '.join(GROUP_KEYS)}")])
    if len(set(keys)) != len(keys):
        raise Invalid([("group_by", "names a key twice")])
    return keys
