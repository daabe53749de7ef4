"""The printable minutes page, in Chinese by default and English on request."""

from __future__ import annotations

from html import escape
from typing import Any

LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "minutes": "会议记录",
        "date": "时间",
        "place": "地点",
        "chair": "主持人",
        "rules": "表决规则",
        "entitled": "应到有表决权党员",
        "present": "实到",
        "absent": "缺席",
        "representatives": "列席居民代表",
        "quorum": "到会人数",
        "reached": "符合规定",
        "not_reached": "未达到规定人数",
        "items": "议题",
        "reference": "编号",
        "tally": "表决结果",
        "for": "赞成",
        "against": "反对",
        "abstain": "弃权",
        "decision": "决定",
        "owner": "责任人",
        "due_on": "办结时限",
        "record": "会议纪要",
        "none": "无",
        "pending": "未表决",
        "secret": "无记名投票，仅公布票数",
    },
    "en": {
        "minutes": "Minutes",
        "date": "Date",
        "place": "Place",
        "chair": "Chair",
        "rules": "Voting rules",
        "entitled": "Members entitled to vote",
        "present": "Present",
        "absent": "Absent",
        "representatives": "Resident representatives (no vote)",
        "quorum": "Attendance",
        "reached": "quorum reached",
        "not_reached": "quorum not reached",
        "items": "Items",
        "reference": "Reference",
        "tally": "Tally",
        "for": "For",
        "against": "Against",
        "abstain": "Abstain",
        "decision": "Decision",
        "owner": "Owner",
        "due_on": "Due",
        "record": "Record",
        "none": "none",
        "pending": "not voted",
        "secret": "secret ballot: counts only",
    },
}


def render(data: dict[str, Any], lang: str) -> str:
    """A self-contained HTML page of the minutes; every user text is escaped."""
    t = LABELS[lang]
    m = data["meeting"]
    att = data["attendance"]

    def names(people: list[dict[str, str]]) -> str:
        return (
            escape(
                "、".join(p["name"] for p in people)
                if lang == "zh"
                else ", ".join(p["name"] for p in people)
            )
            or t["none"]
        )

    rows = []
    for item in data["items"]:
        tally = item["tally"]
        label = item["decision_label"][lang] if item["decision_label"] else t["pending"]
        owner = escape(item["owner"]["name"]) if item["owner"] else "—"
        rows.append(
            "<tr>"
            f"<td>{escape(item['reference'])}</td><td>{escape(item['title'])}</td>"
            f"<td>{t['for']} {tally['for']} · {t['against']} {tally['against']} · "
            f"{t['abstain']} {tally['abstain']}</td>"
            f"<td>{escape(label)}</td><td>{owner}</td><td>{escape(item['due_on'] or '—')}</td>"
            "</tr>"
        )
    representatives = escape("、".join(att["resident_representatives"])) or t["none"]
    quorum = att["quorum"]
    reached = t["reached"] if quorum["reached"] else t["not_reached"]
    secret = f"<p><em>{t['secret']}</em></p>" if data["rules"]["ballot"] == "secret" else ""
    return f"""<!doctype html>
<html lang="{"zh-CN" if lang == "zh" else "en"}">
<head><meta charset="utf-8"><title>{escape(m["title"])} — {t["minutes"]}</title>
<link rel="stylesheet" href="/ui/static/minutes.css"></head>
<body>
<h1>{escape(m["title"])} · {t["minutes"]}</h1>
<dl>
<dt>{t["date"]}</dt><dd>{escape(m["scheduled_for"] or "")}</dd>
<dt>{t["place"]}</dt><dd>{escape(m["place"] or "—")}</dd>
<dt>{t["chair"]}</dt><dd>{escape(data["chair"]["name"])}</dd>
<dt>{t["rules"]}</dt><dd>{escape(data["rules"]["quorum"])} / {escape(data["rules"]["threshold"])}
 / {escape(data["rules"]["ballot"])}</dd>
<dt>{t["quorum"]}</dt><dd>{quorum["present"]} / {quorum["entitled"]} ({reached})</dd>
<dt>{t["present"]}</dt><dd>{names(att["present"])}</dd>
<dt>{t["absent"]}</dt><dd>{names(att["absent"])}</dd>
<dt>{t["representatives"]}</dt><dd>{representatives}</dd>
</dl>
<h2>{t["items"]}</h2>
{secret}
<table>
<thead><tr><th>{t["reference"]}</th><th>{t["items"]}</th><th>{t["tally"]}</th>
<th>{t["decision"]}</th><th>{t["owner"]}</th><th>{t["due_on"]}</th></tr></thead>
<tbody>
{"".join(rows)}
</tbody>
</table>
<h2>{t["record"]}</h2>
<p>{escape(data["minutes"] or "—")}</p>
</body>
</html>
"""
