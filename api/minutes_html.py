"""The printable minutes page, in Chinese by default and English on request: dates, the
rule and its article, attendance with late arrivals and departures, each item's tally with
the votes needed and its decision, and the chair's signature line, all in words."""

from __future__ import annotations

from datetime import date, datetime
from html import escape
from typing import Any

from domain.vocabulary import DutyRole

LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "minutes": "会议记录",
        "date": "时间",
        "kind": "会议类型",
        "place": "地点",
        "chair": "主持人",
        "rules": "表决规则",
        "quorum": "到会情况",
        "present": "实到",
        "absent": "缺席",
        "changes": "迟到、离会",
        "representatives": "列席居民代表",
        "items": "议题",
        "reference": "编号",
        "tally": "表决结果",
        "decision": "决定",
        "owner": "责任人",
        "due_on": "办结时限",
        "record": "会议纪要",
        "none": "无",
        "pending": "未表决",
        "secret": "无记名投票，仅公布票数。",
        "sign": "主持人（签字）：",
        "sign_date": "日期：",
        "recorder": "记录人（签字）：",
    },
    "en": {
        "minutes": "Minutes",
        "date": "Date",
        "kind": "Kind",
        "place": "Place",
        "chair": "Chair",
        "rules": "Voting rules",
        "quorum": "Attendance",
        "present": "Present",
        "absent": "Absent",
        "changes": "Arrivals and departures",
        "representatives": "Resident representatives (no vote)",
        "items": "Items",
        "reference": "Reference",
        "tally": "Tally",
        "decision": "Decision",
        "owner": "Owner",
        "due_on": "Due",
        "record": "Record",
        "none": "none",
        "pending": "not voted",
        "secret": "Voted by secret ballot: counts only.",
        "sign": "Chair (signature): ",
        "sign_date": "Date: ",
        "recorder": "Recorded by (signature): ",
    },
}
SEP = {"zh": "、", "en": ", "}
_WEEKDAYS = {
    "zh": ["星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日"],
    "en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
}
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_REGULATIONS = {
    "zh": "《中国共产党支部工作条例（试行）》第{n}条",
    "en": "article {n} of the Regulations on the Work of Party Branches (trial)",
}
_ARTICLE_ZH = {11: "十一", 12: "十二"}
_SHARE = {
    "zh": {"half": "半数以上", "two_thirds": "三分之二以上", "all": "全体"},
    "en": {"half": "at least half", "two_thirds": "at least two thirds", "all": "all"},
}
_BASIS = {
    "zh": {11: "有表决权的党员", 12: "支部委员"},
    "en": {11: "of the members entitled to vote", 12: "of the committee"},
}
_THRESHOLD = {
    "zh": {
        "majority_of_entitled": "赞成人数超过应到会有表决权党员的半数为通过",
        "majority_of_present": "赞成人数超过实到党员的半数为通过",
        "two_thirds_of_entitled": "赞成人数达到应到会有表决权党员的三分之二为通过",
        "two_thirds_of_present": "赞成人数达到实到党员的三分之二为通过",
    },
    "en": {
        "majority_of_entitled": "more than half of those entitled voting for",
        "majority_of_present": "more than half of those present voting for",
        "two_thirds_of_entitled": "at least two thirds of those entitled voting for",
        "two_thirds_of_present": "at least two thirds of those present voting for",
    },
}
_BALLOT = {
    "zh": {"open": "公开表决", "secret": "无记名投票"},
    "en": {"open": "open vote", "secret": "secret ballot"},
}


def day_in_words(value: str | date | None, lang: str) -> str:
    """2026年4月10日（星期五）, or Friday 10 April 2026."""
    if not value:
        return "—"
    d = date.fromisoformat(value[:10]) if isinstance(value, str) else value
    weekday = _WEEKDAYS[lang][d.weekday()]
    if lang == "zh":
        return f"{d.year}年{d.month}月{d.day}日（{weekday}）"
    return f"{weekday} {d.day} {_MONTHS[d.month - 1]} {d.year}"


def moment_in_words(value: str | None, lang: str) -> str:
    """The day in words and the time (the meeting's own time zone, as recorded)."""
    if not value:
        return "—"
    moment = datetime.fromisoformat(value)
    gap = "" if lang == "zh" else ", "
    return f"{day_in_words(moment.date(), lang)}{gap}{moment:%H:%M}"


def rule_in_words(rules: dict[str, str], article: int, lang: str) -> str:
    """The meeting's rule as a sentence citing its article."""
    cited = _REGULATIONS[lang].format(
        n=_ARTICLE_ZH.get(article, article) if lang == "zh" else article
    )
    share, basis = _SHARE[lang][rules["quorum"]], _BASIS[lang].get(article, _BASIS[lang][11])
    threshold, ballot = _THRESHOLD[lang][rules["threshold"]], _BALLOT[lang][rules["ballot"]]
    if lang == "zh":
        return f"依据{cited}：{basis}{share}到会方可表决，{threshold}；{ballot}。"
    return (
        f"Under {cited}: a vote may proceed only with {share} {basis} present; an item is"
        f" adopted with {threshold}. {ballot.capitalize()}."
    )


def _quorum(q: dict[str, Any], lang: str) -> str:
    needed = q.get("needed")
    if lang == "zh":
        state = "符合规定人数" if q["reached"] else "未达到规定人数"
        return f"应到 {q['entitled']} 人，实到 {q['present']} 人，{state}" + (
            f"（至少 {needed} 人）" if needed else ""
        )
    state = "quorum reached" if q["reached"] else "quorum not reached"
    return f"{q['present']} of {q['entitled']} entitled members present: {state}" + (
        f" ({needed} needed)" if needed else ""
    )


def _tally(item: dict[str, Any], lang: str) -> str:
    t = item["tally"] or {}
    counts = [t.get(k, 0) for k in ("for", "against", "abstain")]
    needed = item.get("votes_needed")
    if lang == "zh":
        text = "赞成 {} 票，反对 {} 票，弃权 {} 票".format(*counts)
        return text + (f"（通过需赞成 {needed} 票）" if needed else "")
    text = "For {}, Against {}, Abstain {}".format(*counts)
    return text + (f" ({needed} for needed to adopt)" if needed else "")


def _decision(item: dict[str, Any], lang: str) -> str:
    if not item["owner"]:
        return "—"
    role = DutyRole(item["duty_role"]) if item["duty_role"] else None
    role_name = (role.zh if lang == "zh" else role.en) if role else ""
    due = day_in_words(item["due_on"], lang)
    name = item["owner"]["name"]
    if lang == "zh":
        return f"{name}（{role_name}），{due}前办结"
    return f"{name} ({role_name}), due {due}"


def _change(c: dict[str, Any], lang: str) -> str:
    at = datetime.fromisoformat(c["at"]).strftime("%H:%M")
    name = c["member"]["name"]
    if lang == "zh":
        return f"{at} {name}{'到会' if c['change'] == 'arrived' else '离会'}"
    return f"{at} {name} {'arrived' if c['change'] == 'arrived' else 'left'}"


def changes_in_words(changes: list[dict[str, Any]], lang: str) -> str:
    """Late arrivals and departures in order: 15:10 王芳到会；15:40 李强离会."""
    return ("; " if lang == "en" else "；").join(_change(c, lang) for c in changes)


def render(data: dict[str, Any], lang: str) -> str:
    """A self-contained HTML page of the minutes; every user text is escaped."""
    t = LABELS[lang]
    m = data["meeting"]
    att = data["attendance"]
    sep = SEP[lang]

    def names(people: list[dict[str, str]]) -> str:
        return escape(sep.join(p["name"] for p in people)) or t["none"]

    rows = []
    for item in data["items"]:
        label = item["decision_label"][lang] if item["decision_label"] else t["pending"]
        rows.append(
            "<tr>"
            f"<td>{escape(item['reference'])}</td><td>{escape(item['title'])}</td>"
            f"<td>{escape(_tally(item, lang))}</td><td>{escape(label)}</td>"
            f"<td>{escape(_decision(item, lang))}</td>"
            "</tr>"
        )
    representatives = escape(sep.join(att["resident_representatives"])) or t["none"]
    changes = changes_in_words(att.get("changes", []), lang)
    secret = f"<p><em>{t['secret']}</em></p>" if data["rules"]["ballot"] == "secret" else ""
    article = data.get("article") or 11
    return f"""<!doctype html>
<html lang="{"zh-CN" if lang == "zh" else "en"}">
<head><meta charset="utf-8"><title>{escape(m["title"])} — {t["minutes"]}</title>
<link rel="stylesheet" href="/ui/static/minutes.css"></head>
<body>
<h1>{escape(m["title"])} · {t["minutes"]}</h1>
<dl>
<dt>{t["date"]}</dt><dd>{escape(moment_in_words(m["scheduled_for"], lang))}</dd>
<dt>{t["kind"]}</dt><dd>{escape(m["kind_label"][lang])}</dd>
<dt>{t["place"]}</dt><dd>{escape(m["place"] or "—")}</dd>
<dt>{t["chair"]}</dt><dd>{escape(data["chair"]["name"])}</dd>
<dt>{t["rules"]}</dt><dd>{escape(rule_in_words(data["rules"], article, lang))}</dd>
<dt>{t["quorum"]}</dt><dd>{escape(_quorum(att["quorum"], lang))}</dd>
<dt>{t["present"]}</dt><dd>{names(att["present"])}</dd>
<dt>{t["absent"]}</dt><dd>{names(att["absent"])}</dd>
<dt>{t["changes"]}</dt><dd>{escape(changes) or t["none"]}</dd>
<dt>{t["representatives"]}</dt><dd>{representatives}</dd>
</dl>
<h2>{t["items"]}</h2>
{secret}
<table>
<thead><tr><th>{t["reference"]}</th><th>{t["items"]}</th><th>{t["tally"]}</th>
<th>{t["decision"]}</th><th>{t["owner"]} · {t["due_on"]}</th></tr></thead>
<tbody>
{"".join(rows)}
</tbody>
</table>
<h2>{t["record"]}</h2>
<p>{escape(data["minutes"] or "—")}</p>
<p class="signature">{t["sign"]}<span class="line">{"&nbsp;" * 24}</span>
 {escape(data["chair"]["name"])} {t["sign_date"]}<span class="line">{"&nbsp;" * 16}</span></p>
<p class="signature">{t["recorder"]}<span class="line">{"&nbsp;" * 24}</span></p>
</body>
</html>
"""
