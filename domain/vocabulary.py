"""The domain's words: enumerations with their Chinese and English labels."""

from __future__ import annotations

from enum import StrEnum


class Labelled(StrEnum):
    """A string enumeration whose members carry a Chinese and an English label."""

    zh: str
    en: str

    def __new__(cls, value: str, zh: str = "", en: str = "") -> Labelled:
        member = str.__new__(cls, value)
        member._value_ = value
        member.zh = zh
        member.en = en
        return member

    @classmethod
    def labels(cls) -> list[dict[str, str]]:
        """Every member as `{value, zh, en}`, in declaration order."""
        return [{"value": m.value, "zh": m.zh, "en": m.en} for m in cls]


class Category(Labelled):
    POLICY_INQUIRY = ("policy_inquiry", "政策咨询", "Policy inquiry")
    DISPUTE = ("dispute", "矛盾纠纷", "Dispute")
    HARDSHIP_RELIEF = ("hardship_relief", "困难救助", "Hardship relief")
    ENVIRONMENT = ("environment", "环境卫生", "Environment and sanitation")
    LIVELIHOOD_PROJECT = ("livelihood_project", "民生项目", "Livelihood project")
    COMMUNITY_AFFAIRS = ("community_affairs", "社区事务", "Community affairs")


class Library(Labelled):
    HARDSHIP = ("hardship", "难点库", "Hardship library")
    PROBLEM = ("problem", "问题库", "Problem library")
    SUGGESTION = ("suggestion", "建议库", "Suggestion library")


class Channel(Labelled):
    VISIT = ("visit", "上门走访", "Household visit")
    WALK_IN = ("walk_in", "请进来谈", "Walk-in")
    RECEPTION_DAY = ("reception_day", "书记接待日", "Secretary's reception day")
    FORUM = ("forum", "座谈会", "Forum")
    HOTLINE = ("hotline", "热线", "Hotline")
    ONLINE = ("online", "网上", "Online")


class PriorityVisit(Labelled):
    HARDSHIP = ("hardship", "困难户", "Hardship household")
    MIGRANT_RETURNEE = ("migrant_returnee", "返乡务工人员", "Returning migrant worker")
    PETITIONER = ("petitioner", "信访户", "Petitioner")
    ELDERLY_SICK = ("elderly_sick", "老弱病残", "Elderly or sick")


class DutyRole(Labelled):
    POLICY_EXPLAINER = ("policy_explainer", "政策宣传员", "Policy explainer")
    MEDIATOR = ("mediator", "矛盾调解员", "Mediator")
    CARE_HELPER = ("care_helper", "爱心帮扶员", "Care helper")
    ENVIRONMENT_MONITOR = ("environment_monitor", "环境卫生监督员", "Environment monitor")
    PROJECT_COORDINATOR = ("project_coordinator", "民生项目协调员", "Project coordinator")
    AFFAIRS_MONITOR = ("affairs_monitor", "居务监督员", "Community affairs monitor")


# Each duty role answers one category (六员 match 六类别).
DUTY_ROLE_FOR_CATEGORY: dict[Category, DutyRole] = {
    Category.POLICY_INQUIRY: DutyRole.POLICY_EXPLAINER,
    Category.DISPUTE: DutyRole.MEDIATOR,
    Category.HARDSHIP_RELIEF: DutyRole.CARE_HELPER,
    Category.ENVIRONMENT: DutyRole.ENVIRONMENT_MONITOR,
    Category.LIVELIHOOD_PROJECT: DutyRole.PROJECT_COORDINATOR,
    Category.COMMUNITY_AFFAIRS: DutyRole.AFFAIRS_MONITOR,
}


class Satisfaction(Labelled):
    SATISFIED = ("satisfied", "满意", "Satisfied")
    BASICALLY_SATISFIED = ("basically_satisfied", "基本满意", "Basically satisfied")
    DISSATISFIED = ("dissatisfied", "不满意", "Dissatisfied")


class Role(Labelled):
    COLLECTOR = ("collector", "民情搜集义务人", "Collector")
    GRID_LEADER = ("grid_leader", "片长", "Grid leader")
    STAFF = ("staff", "社区工作人员", "Community staff")
    COMMITTEE = ("committee", "支委会", "Branch committee")
    CHAIR = ("chair", "会议主持人", "Meeting chair")
    MEMBER = ("member", "党员", "Party member")
    SUPERVISOR = ("supervisor", "督查", "Supervisor")
    INTEGRATOR = ("integrator", "对接系统", "Integrator")
    ADMIN = ("admin", "管理员", "Administrator")
    RESIDENT = ("resident", "居民", "Resident")
    SYSTEM = ("system", "系统", "System")


# "Staff roles" in api.md: the people who work cases inside the community.
STAFF_ROLES: frozenset[Role] = frozenset(
    {Role.COLLECTOR, Role.GRID_LEADER, Role.STAFF, Role.COMMITTEE, Role.CHAIR, Role.ADMIN}
)
