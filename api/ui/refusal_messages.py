"""The refusals in words (api/ui/refusals.py) and the error pages, in Chinese and English
(merged into api/ui/messages.py's catalogue, which checks both languages hold the same keys)."""

from __future__ import annotations

REFUSAL_MESSAGES: dict[str, dict[str, str]] = {
    "zh": {
        "error.title": "出错了",
        "error.forbidden": "您的角色或网格无权查看或办理此项。",
        "error.not_found": "找不到该页面或记录。",
        "error.csrf": "表单已失效（缺少或错误的安全令牌），请返回刷新页面后重试。",
        "error.rate_limited": "请求过于频繁，请稍后再试。",
        "error.invalid": "地址中的参数无效，未作任何更改。",
        "error.unavailable": "数据库暂时无法访问（可能正在重启），请稍后再试。",
        "error.internal": "系统出现意外错误，已记录，请稍后再试。",
        "err.this_field": "此项",
        "err.required": "请填写「{label}」。",
        "err.choose": "请选择「{label}」。",
        "err.choose_some": "「{label}」请至少选择 {n} 项。",
        "err.too_many": "「{label}」最多选择 {n} 项。",
        "err.too_short": "「{label}」至少需要 {n} 个字。",
        "err.too_long": "「{label}」最多 {n} 个字，现在有 {have} 个字。",
        "err.too_long_plain": "「{label}」最多 {n} 个字。",
        "err.date": "「{label}」请填写有效的日期，例如 2026-03-25。",
        "err.datetime": "「{label}」请填写有效的日期和时间。",
        "err.date_or_month": "「{label}」请填写日期（2026-03-25）或月份（2026-03）。",
        "err.number": "「{label}」请填写数字。",
        "err.past": "「{label}」不能早于今天。",
        "err.future": "「{label}」不能晚于今天。",
        "err.window": "「{label}」须在 {first} 至 {last} 之间。",
        "err.day_of_year": "「{label}」须是{year}年的一天。",
        "err.before_from": "「{label}」不能早于起始日期。",
        "err.later": "「{label}」须晚于现在的办结时限（{date}）。",
        "err.version": "「{label}」须在 1 到 {n} 之间。",
        "err.line_break": "「{label}」只能填写一行，不能换行。",
        "err.bidi": "「{label}」含有不允许的文字方向控制符。",
        "err.control": "「{label}」含有不允许的控制字符。",
        "err.no_concern": "「{label}」：找不到这条民情，请核对编号。",
        "err.not_open": "「{label}」：那条民情已是「{status}」，只能合并到尚在办理中的民情。",
        "err.merge_self": "「{label}」：不能合并到它自己。",
        "err.meeting_past": "「{label}」：这次会议已经开过了。",
        "err.anonymous_data": "匿名登记时不能填写居民姓名和电话。",
        "err.same_owner": "「{label}」：已经是这位责任人和职责，无需改派。",
        "err.deputy_same": "「{label}」须是主持人以外的党员。",
        "err.voters": "「{label}」请至少选择一位有表决权的党员。",
        "err.no_vote_member": "「{label}」：所选党员没有表决权。",
        "err.no_member": "「{label}」：名册中没有这位党员。",
        "err.cursor": "页码已失效，请从第一页重新查看。",
        "err.invalid": "「{label}」填写有误，请检查。",
        "err.transition": "这条民情目前是「{status}」，不能「{action}」。现在可以办理：{allowed}。",
        "err.nothing": "无",
        "err.version_mismatch": "这条民情在您打开页面后已有新的办理，请查看最新情况后再操作。",
        "err.conflict": "有人同时修改了这条记录，请刷新页面后重试。",
        "err.already_voted": "您（或该党员）已经对本议题表决过，不能重复表决。",
        "err.not_present": "该党员不在本次会议的签到名单中，不能表决。",
        "err.not_entitled": "该党员没有本次会议的表决权。",
        "err.vote_closed": "本议题的表决已经结束。",
        "err.vote_not_open": "本议题还没有开始表决。",
        "err.vote_already_open": "本议题已经在表决中。",
        "err.meeting_closed": "会议已经结束。",
        "err.meeting_not_open": "会议还没有开始。",
        "err.meeting_opened": "会议已经开始，不能再签到。",
        "err.no_quorum": (
            "到会有表决权的党员不足半数（法定人数），不能表决：应到{entitled}人，实到{present}人，"
            "至少需要{needed}人。"
        ),
        "err.quorum_present": (
            "到会人数已达到规定（{present}/{entitled}，需要{needed}人），不能宣布不足法定人数。"
        ),
        "err.vote_open": "还有议题正在表决，请先结束表决。",
        "err.already_present": "该党员已经在签到名单中。",
        "err.suspended": "这条民情已挂账，恢复办理后才能继续办理。",
        "err.suspension_used": "这条民情已经挂账过一次，不能再次挂账。",
        "err.not_suspended": "这条民情没有挂账，无需恢复办理。",
        "err.secret_ballot": (
            "本次会议为无记名投票，主持人不能代为登记某位党员的选择，请党员本人投票。"
        ),
        "err.already_on_agenda": "这条民情已经在本次会议的议程中。",
        "err.not_on_agenda": "这条民情不在本次会议的议程中。",
        "err.duplicate_name": "这个用户名已经有人使用。",
        "err.pending": "已有一项申请在等待审批。",
        "err.no_proposal": "没有等待审批的作废申请。",
        "err.not_found.concern": "找不到这条民情。",
        "err.not_found.meeting": "找不到这次会议。",
        "err.not_found.member": "名册中没有这位党员。",
        "err.not_found.item": "会议议程中没有这一项。",
        "err.owner_only": "只有这条民情的责任人可以办理此项。",
        "err.roles": "此项需要以下角色之一：{roles}。",
        "err.grid": "这条记录不在您负责的网格内。",
        "err.refused": "未能办理，请稍后再试。",
    },
    "en": {
        "error.title": "Something went wrong",
        "error.forbidden": "Your roles or grids do not allow this.",
        "error.not_found": "There is no such page or record.",
        "error.csrf": (
            "The form has expired (its security token is missing or wrong);"
            " go back, reload the page and try again."
        ),
        "error.rate_limited": "Too many requests; please try again shortly.",
        "error.invalid": "The address holds a parameter that is not valid; nothing was changed.",
        "error.unavailable": (
            "The database cannot be reached (it may be restarting); please try again shortly."
        ),
        "error.internal": (
            "Something unexpected failed; it has been logged. Please try again shortly."
        ),
        "err.this_field": "This field",
        "err.required": "Please fill in “{label}”.",
        "err.choose": "Please choose “{label}”.",
        "err.choose_some": "“{label}”: choose at least {n}.",
        "err.too_many": "“{label}”: choose at most {n}.",
        "err.too_short": "“{label}” needs at least {n} characters.",
        "err.too_long": "“{label}” may have at most {n} characters; it has {have}.",
        "err.too_long_plain": "“{label}” may have at most {n} characters.",
        "err.date": "“{label}”: enter a real date, such as 2026-03-25.",
        "err.datetime": "“{label}”: enter a real date and time.",
        "err.date_or_month": "“{label}”: enter a date (2026-03-25) or a month (2026-03).",
        "err.number": "“{label}”: enter a number.",
        "err.past": "“{label}” cannot be before today.",
        "err.future": "“{label}” cannot be after today.",
        "err.window": "“{label}” must lie between {first} and {last}.",
        "err.day_of_year": "“{label}” must be a day of {year}.",
        "err.before_from": "“{label}” cannot be before the start.",
        "err.later": "“{label}” must be later than the current due date ({date}).",
        "err.version": "“{label}” must be from 1 to {n}.",
        "err.line_break": "“{label}” must be a single line.",
        "err.bidi": "“{label}” holds a text-direction control character, which is not allowed.",
        "err.control": "“{label}” holds a control character, which is not allowed.",
        "err.no_concern": "“{label}”: there is no such concern; check the reference.",
        "err.not_open": "“{label}”: that concern is “{status}”; merge only into an open one.",
        "err.merge_self": "“{label}”: a concern cannot be merged into itself.",
        "err.meeting_past": "“{label}”: that meeting has already taken place.",
        "err.anonymous_data": "An anonymous concern cannot carry the resident's name or phone.",
        "err.same_owner": "“{label}”: that is already the owner and duty role.",
        "err.deputy_same": "“{label}” must be another member than the chair.",
        "err.voters": "“{label}”: choose at least one member entitled to vote.",
        "err.no_vote_member": "“{label}”: that member has no vote in the branch.",
        "err.no_member": "“{label}”: there is no such member in the registry.",
        "err.cursor": "That page no longer exists; start again from the first page.",
        "err.invalid": "“{label}” is not valid; please check it.",
        "err.transition": (
            "This concern is “{status}” now, so it cannot be “{action}”. What can be done now:"
            " {allowed}."
        ),
        "err.nothing": "nothing",
        "err.version_mismatch": (
            "Someone acted on this concern after you opened the page;"
            " look at where it stands now and try again."
        ),
        "err.conflict": "Someone changed this at the same moment; reload the page and try again.",
        "err.already_voted": "This vote was already cast on this item; nobody votes twice.",
        "err.not_present": "That member is not recorded as present, so cannot vote.",
        "err.not_entitled": "That member has no vote at this meeting.",
        "err.vote_closed": "The vote on this item is closed.",
        "err.vote_not_open": "The vote on this item has not been opened.",
        "err.vote_already_open": "The vote on this item is already open.",
        "err.meeting_closed": "The meeting is closed.",
        "err.meeting_not_open": "The meeting has not been opened.",
        "err.meeting_opened": "The meeting has already opened; attendance is recorded.",
        "err.no_quorum": (
            "No quorum, so no vote: {present} of the {entitled} members entitled to vote are"
            " present, and at least {needed} must be."
        ),
        "err.quorum_present": (
            "The quorum is present ({present} of {entitled}, {needed} needed): the meeting"
            " cannot be declared inquorate."
        ),
        "err.vote_open": "A vote is still open; close it first.",
        "err.already_present": "That member is already recorded as present.",
        "err.suspended": "This concern is suspended; resume it before handling it further.",
        "err.suspension_used": "This concern was suspended once already; it cannot be again.",
        "err.not_suspended": "This concern is not suspended; there is nothing to resume.",
        "err.secret_ballot": (
            "This meeting votes by secret ballot: the chair cannot record a member's choice;"
            " each member votes for themselves."
        ),
        "err.already_on_agenda": "This concern is already on the meeting's agenda.",
        "err.not_on_agenda": "This concern is not on the meeting's agenda.",
        "err.duplicate_name": "That user name is taken.",
        "err.pending": "A request already waits for a decision.",
        "err.no_proposal": "No void proposal waits for a decision.",
        "err.not_found.concern": "There is no such concern.",
        "err.not_found.meeting": "There is no such meeting.",
        "err.not_found.member": "There is no such member in the registry.",
        "err.not_found.item": "There is no such item on the agenda.",
        "err.owner_only": "Only the concern's owner can do this.",
        "err.roles": "This needs one of the roles: {roles}.",
        "err.grid": "This is outside the grids you work in.",
        "err.refused": "This could not be done; please try again shortly.",
    },
}
