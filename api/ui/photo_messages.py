"""The photo pages' and the inbox's words, in Chinese and English (merged into api/ui/messages.py's
catalogue, which checks both languages hold the same keys)."""

from __future__ import annotations

PHOTO_MESSAGES: dict[str, dict[str, str]] = {
    "zh": {
        "f.photo": "照片",
        "f.caption": "照片说明",
        "f.publishable": "可在成果库公开",
        "f.shows_resident": "照片中有居民本人",
        "f.photo_kind": "照片类型",
        "photo.kind.intake": "现场照片",
        "photo.kind.before": "整改前",
        "photo.kind.after": "整改后",
        "photo.title": "照片",
        "photo.none": "还没有照片。",
        "photo.add": "添加照片",
        "photo.take": "拍照或选择照片",
        "photo.help": "可直接用手机拍照；位置、机型等信息会被去除。单张不超过 8 MB。",
        "photo.resident_help": "拍到居民本人的照片不能公开，居民要求删除个人信息时一并删除。",
        "photo.erased": "照片已随居民个人信息删除",
        "photo.open": "查看原图：{caption}",
        "done.photo": "添加照片",
        # the inbox (api/ui/inbox.py)
        "nav.inbox": "待办",
        "nav.count": "{n} 项待办",
        "inbox.title": "待办",
        "inbox.nothing": "眼下没有需要您处理的事项。",
        "inbox.votes": "等待您表决",
        "inbox.vote_open": "表决进行中，您还没有投票",
        "inbox.due": "即将到期或已逾期的交办",
        "inbox.due_on": "{date}到期",
        "inbox.overdue_since": "{date}到期，已逾期",
        "inbox.decide.triage": "待分拣的民情",
        "inbox.decide.committee": "待支委会研究的民情",
        "inbox.decide.overdue": "已逾期、待决定延期或改派的民情",
        "inbox.open_queue": "打开队列（共 {n} 条）",
        # the dashboard (api/ui/pages/dashboard.py)
        "nav.dashboard": "指标看板",
        "dash.title": "指标看板",
        "dash.public_title": "公开指标",
        "dash.intro": "按月份和网格统计的各项指标；点击任一数字，查看其背后的民情。",
        "dash.public_intro": "按月份统计的各项指标；少于 5 件的数字不公开。",
        "dash.trends": "趋势",
        "dash.by_month": "按月份",
        "dash.by_grid": "按网格",
        "dash.hidden": "少于5",
        "dash.hidden_hint": "件数少于 5，不公开",
        "dash.open_intro": "共 {n} 件民情计入此项。",
        "dash.back": "返回指标看板",
        # working offline (api/ui/static/offline.js)
        "offline.queued": "现在没有网络：已保存在手机上，联网后会自动提交。",
        "offline.draft_restored": "已恢复上次未提交的草稿。",
        "nav.outbox": "待发送",
        "outbox.title": "待发送",
        "outbox.intro": (
            "没有网络时登记的内容保存在这部手机上，联网后自动提交；被退回的会写明原因。"
        ),
        "outbox.empty": "没有等待发送的内容。",
        "outbox.waiting": "等待发送",
        "outbox.refused": "被退回",
        "outbox.drop": "删除",
        "err.photo_unreadable": "{label}无法识别，请用 JPEG、PNG 或 WebP 格式的照片",
        "err.photo_empty": "请拍摄或选择{label}",
        "err.photo_too_big": "{label}太大了，单张不能超过 {mb} MB",
        "err.photo_pixels": "{label}像素过多（最多 4000 万像素）",
        "err.photo_twice": "这张照片已经添加过了",
        "err.photo_many": "一条民情最多 {n} 张照片",
        "err.photo_public_resident": "拍到居民本人的照片不能公开",
        "err.photo_not_now": "现在不能添加这类照片：现场照片在交办前添加，整改前后照片在办理中添加",
    },
    "en": {
        "f.photo": "Photo",
        "f.caption": "Caption",
        "f.publishable": "May be shown in the public achievement library",
        "f.shows_resident": "The resident is in the photo",
        "f.photo_kind": "Kind of photo",
        "photo.kind.intake": "Seen at intake",
        "photo.kind.before": "Before the work",
        "photo.kind.after": "After the work",
        "photo.title": "Photos",
        "photo.none": "No photos yet.",
        "photo.add": "Add the photo",
        "photo.take": "Take or choose a photo",
        "photo.help": (
            "Take it with the phone's camera; its location and device details are removed."
            " At most 8 MB a photo."
        ),
        "photo.resident_help": (
            "A photo of the resident is never public, and is deleted when the resident asks"
            " for their personal data to be erased."
        ),
        "photo.erased": "Photo erased with the resident's personal data",
        "photo.open": "Open the full photo: {caption}",
        "done.photo": "Photo attached",
        # the inbox (api/ui/inbox.py)
        "nav.inbox": "To do",
        "nav.count": "{n} waiting for you",
        "inbox.title": "To do",
        "inbox.nothing": "Nothing needs your action just now.",
        "inbox.votes": "Waiting for your vote",
        "inbox.vote_open": "a vote is open and you have not voted",
        "inbox.due": "Your assignments due soon or overdue",
        "inbox.due_on": "due {date}",
        "inbox.overdue_since": "due {date}, overdue",
        "inbox.decide.triage": "Concerns waiting to be triaged",
        "inbox.decide.committee": "Concerns waiting for the committee",
        "inbox.decide.overdue": "Overdue concerns: extend or reassign?",
        "inbox.open_queue": "Open the queue ({n} in all)",
        # the dashboard (api/ui/pages/dashboard.py)
        "nav.dashboard": "Dashboard",
        "dash.title": "Dashboard",
        "dash.public_title": "Public figures",
        "dash.intro": (
            "The indicators by month and by grid; every figure opens the concerns behind it."
        ),
        "dash.public_intro": "The indicators by month; any count under 5 is not shown.",
        "dash.trends": "Trends",
        "dash.by_month": "By month",
        "dash.by_grid": "By grid",
        "dash.hidden": "under 5",
        "dash.hidden_hint": "fewer than 5: not shown",
        "dash.open_intro": "{n} concerns count in this figure.",
        "dash.back": "Back to the dashboard",
        # working offline (api/ui/static/offline.js)
        "offline.queued": (
            "No network now: saved on this phone, and sent by itself when the network returns."
        ),
        "offline.draft_restored": "The draft you had not sent yet is back.",
        "nav.outbox": "Outbox",
        "outbox.title": "Outbox",
        "outbox.intro": (
            "What was recorded without a network waits on this phone and is sent when the"
            " network returns; what was refused says why."
        ),
        "outbox.empty": "Nothing is waiting to be sent.",
        "outbox.waiting": "Waiting",
        "outbox.refused": "Refused",
        "outbox.drop": "Remove",
        "err.photo_unreadable": "{label} is not a photo we can read: use JPEG, PNG or WebP",
        "err.photo_empty": "Take or choose the {label}",
        "err.photo_too_big": "{label} is too big: at most {mb} MB a photo",
        "err.photo_pixels": "{label} has too many pixels (at most 40 megapixels)",
        "err.photo_twice": "This photo is already attached",
        "err.photo_many": "A concern holds at most {n} photos",
        "err.photo_public_resident": "A photo of the resident cannot be made public",
        "err.photo_not_now": (
            "This kind of photo cannot be added now: intake photos before the work is"
            " assigned, before/after photos while it is in hand"
        ),
    },
}
