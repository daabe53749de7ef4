"""The public event contract: CloudEvents mapping, stable ids, schemas, and no personal data.

Every event here is made by the real aggregates in memory (no storage): a story that
reaches every event class of Concern, Meeting, Member, Visit and Resident, with a
resident's name, phone and address sealed into the concern and a resident representative
named at the meeting.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from uuid import NAMESPACE_URL, UUID, uuid5
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from domain import cloudevents
from domain.cloudevents import CONTRACTS, ENVELOPE_FIELDS, contract_for, to_cloudevent
from domain.concern import Assignment, Concern
from domain.hotspot import Hotspot, proactive_concern
from domain.hotspots import proactive_concern_id
from domain.index import Index
from domain.meeting import Meeting, MeetingKind
from domain.member import Member
from domain.photos import PhotoFacts, PhotoKind
from domain.principal import Actor
from domain.resident_record import Resident
from domain.supervision import Grade
from domain.visit import SealedHousehold, Visit
from domain.vocabulary import (
    Category,
    Channel,
    DutyRole,
    Library,
    PriorityVisit,
    Role,
    Satisfaction,
)
from domain.voting import Choice, Rules

ZONE = ZoneInfo("Asia/Shanghai")
AT = datetime(2026, 3, 3, 9, 0, tzinfo=ZONE)
DUE = date(2026, 4, 10)
SOURCE = "urn:minqing:test"
PUBLIC_URL = "https://minqing.example.cn/"

# What must never leave: the resident's identity, their credential, the sealed ciphertext,
# a household's circumstances, a member's and a resident representative's names.
RESIDENT_NAME, RESIDENT_PHONE, RESIDENT_ADDRESS = "张秀英", "13812345678", "幸福里5号楼2单元301"
TRACKING_CODE = "TRKSECRET234"
CIPHERTEXT = f"v1:SEALED[{RESIDENT_NAME}|{RESIDENT_PHONE}|{RESIDENT_ADDRESS}]"
MEMBER_NAME = "李强委员"
REPRESENTATIVE = "居民代表王秀兰"
COSIGNER_NAME = "v1:SEALED[联名居民李秀兰|13900000000]"
PERSONAL = (
    COSIGNER_NAME,
    RESIDENT_NAME,
    RESIDENT_PHONE,
    RESIDENT_ADDRESS,
    TRACKING_CODE,
    CIPHERTEXT,
    MEMBER_NAME,
    REPRESENTATIVE,
    PriorityVisit.PETITIONER.value,
)
RESIDENT_REF = "R-0123456789abcdef"

STAFF = Actor("staff-1", Role.STAFF)
COMMITTEE = Actor("committee-1", Role.COMMITTEE)
CHAIR = Actor("chair-1", Role.CHAIR)
OWNER = Actor("owner-1", Role.MEMBER)
COLLECTOR = Actor("collector-1", Role.COLLECTOR)
WATCHER = Actor("system:deadline-watcher", Role.SYSTEM)
SUPERVISOR = Actor("supervisor-1", Role.SUPERVISOR)


@dataclass(frozen=True)
class Position:
    """A stand-in notification: only its position matters to the mapping."""

    id: int


def _concern(n: int) -> Concern:
    return Concern.raise_new(
        reference=f"MQ-2026-{n:06d}",
        tracking_code=TRACKING_CODE,
        title="5号楼东侧小路路灯两周不亮",
        description="东侧小路的路灯已经坏了两个星期，老人晚上出门不安全。",
        category=Category.ENVIRONMENT,
        library=Library.PROBLEM,
        channel=Channel.VISIT,
        grid="2",
        building="5",
        priority_visit=PriorityVisit.PETITIONER,
        resident_ref=RESIDENT_REF,
        resident_data=CIPHERTEXT,
        anonymous=False,
        actor=COLLECTOR,
        at=AT,
    )


def _meeting(ballot: str, voters: list[UUID], chair: UUID) -> Meeting:
    return Meeting.schedule(
        title="3月主题党日·民情会诊",
        kind=MeetingKind.THEMATIC_PARTY_DAY,
        scheduled_for=AT + timedelta(days=20),
        place="社区党群服务中心",
        chair=chair,
        eligible_voters=voters,
        rules=Rules.parse({"ballot": ballot}),
        actor=COMMITTEE,
        at=AT,
    )


@dataclass(frozen=True)
class Story:
    """Every event the story recorded, in order, and which meetings vote in secret."""

    events: list[Any]
    secret_meetings: frozenset[UUID]

    def cloudevents(self) -> Iterator[dict[str, Any]]:
        for position, event in enumerate(self.events, start=1):
            yield to_cloudevent(
                Position(position),
                event,
                SOURCE,
                public_url=PUBLIC_URL,
                is_secret_ballot=lambda m: m in self.secret_meetings,
            )


MILESTONE = UUID("00000000-0000-4000-8000-0000000000cc")


def _story() -> Story:
    later = AT + timedelta(days=1)
    member = Member.register(
        name=MEMBER_NAME,
        grids=["2"],
        duty_roles=[DutyRole.ENVIRONMENT_MONITOR],
        votes_in_branch=True,
        actor_id="admin",
        actor_role=Role.ADMIN.value,
        at=AT,
    )
    other = Member.register(
        name="赵敏",
        grids=["2"],
        duty_roles=[DutyRole.MEDIATOR],
        votes_in_branch=True,
        actor_id="admin",
        actor_role=Role.ADMIN.value,
        at=AT,
    )
    story_extra: list[Any] = []
    member.set_public_identity(True, "admin", Role.ADMIN.value, AT)
    member.give_feedback("2026H1", "excellent", "很负责", "admin", Role.STAFF.value, AT)
    for kind, extra in (
        ("in_service", {"organisation": "县林业局", "reported_on": AT.date()}),
        ("volunteer", {"badge_number": "V-0001"}),
    ):
        served = Member.register(
            name="在职",
            grids=["2"],
            duty_roles=[],
            votes_in_branch=False,
            actor_id="admin",
            actor_role=Role.ADMIN.value,
            at=AT,
            kind=kind,
            **extra,
        )
        story_extra.append(served)
    voters = [member.id, other.id]
    secret = _meeting("secret", voters, member.id)
    open_ballot = _meeting("open", voters, member.id)

    # Adopted at the secret-ballot meeting, then worked through every assigned step.
    main = _concern(1)
    # The triage stage ran a day past its limit before it was referred.
    main.note_stage_missed(WATCHER, "triage", AT, AT + timedelta(days=1), AT + timedelta(days=2))
    # A second household raises the same matter and joins the concern (sealed, withheld).
    main.add_cosigner(
        STAFF,
        resident_ref="R-cosigner",
        resident_data=COSIGNER_NAME,
        anonymous=False,
        channel=Channel.VISIT,
        at=AT,
    )
    main.refer(STAFF, "需支委会研究", AT)
    main.return_for_info(COMMITTEE, "哪几根灯杆", AT)
    main.refer(STAFF, None, AT)
    secret.add_item(COMMITTEE, main.id, AT)
    main.shortlist(COMMITTEE, secret.id, secret.title, AT)
    # Plain text stands in for the ciphertext here, so the publisher is seen to withhold
    # the sealed fields whatever they hold.
    secret.open(CHAIR, voters, [{"resident_ref": "R-rep", "name": REPRESENTATIVE}], AT)
    secret.open_vote(CHAIR, main.id, AT, ballot_box="B-box")
    # Stand-ins for sealed choices (the application seals them under the vote's key).
    secret.cast_vote(OWNER, main.id, member.id, None, False, AT, sealed="sealed:1")
    secret.cast_vote(OWNER, main.id, other.id, None, False, AT, sealed="sealed:2")
    tally = secret.close_vote(CHAIR, main.id, AT, ["for", "for"]).as_dict()
    main.record_outcome(CHAIR, secret.id, tally, AT)
    main.assign(CHAIR, Assignment(member.id, DutyRole.ENVIRONMENT_MONITOR, DUE), None, AT)
    main.record_progress(OWNER, "已订购新灯", AT)
    main.add_milestone(OWNER, MILESTONE, "订购新灯", DUE, AT)
    main.complete_milestone(OWNER, MILESTONE, "已到货", AT)
    after = PhotoFacts("ab" * 32, "image/jpeg", 1600, 1200, 240_000)
    main.attach_photo(OWNER, after, PhotoKind.AFTER, "张大爷家门口", True, False, AT)
    main.extend_deadline(COMMITTEE, DUE + timedelta(days=7), "配件延期", AT)
    main.reassign(COMMITTEE, other.id, DutyRole.MEDIATOR, "李强出差", AT)
    main.send_back(OWNER, "不属本人职责", AT)
    main.assign(COMMITTEE, Assignment(member.id, DutyRole.ENVIRONMENT_MONITOR, DUE), None, AT)
    main.note_deadline_missed(WATCHER, datetime(2026, 4, 11, 9, 0, tzinfo=ZONE))
    main.supervise(SUPERVISOR, Grade.RED, "三日内答复", DUE, "handling", AT, AT)
    main.reply_supervision(OWNER, "已订购新灯", AT)
    main.request_extension(OWNER, "灯具到货推迟", AT)
    main.refuse_extension(COMMITTEE, "请先联系其他供应商", AT)
    main.request_extension(OWNER, "供应商均缺货", AT)
    main.request_suspension(OWNER, "等待供电公司改线", AT.date() + timedelta(days=30), AT)
    main.refuse_suspension(COMMITTEE, "请先联系供电公司", AT)
    main.request_suspension(OWNER, "供电公司排期到下月", AT.date() + timedelta(days=30), AT)
    main.approve_suspension(COMMITTEE, AT)
    main.resume(OWNER, AT, main.due_on, AT)
    main.resolve(OWNER, "更换了六盏路灯", later)
    main.record_feedback(COLLECTOR, False, Satisfaction.DISSATISFIED, "还有一盏不亮", later)
    main.resolve(OWNER, "第七盏也换了", later)
    main.note_feedback_overdue(WATCHER, 7, later + timedelta(days=8))
    main.record_feedback(COLLECTOR, True, Satisfaction.SATISFIED, "都亮了", later)
    main.appeal_overdue(OWNER, "handling", "配件全市缺货", later + timedelta(days=8))
    main.decide_appeal(SUPERVISOR, True, "情况属实", later + timedelta(days=8))
    main.write_off(STAFF, "承诺已兑现", later + timedelta(days=8))
    main.reopen(STAFF, "居民再次反映", later + timedelta(days=9))

    # Rejected and deferred at the open-ballot meeting (votes recorded by show of hands).
    rejected, deferred = _concern(2), _concern(3)
    for concern in (rejected, deferred):
        concern.refer(STAFF, None, AT)
        open_ballot.add_item(COMMITTEE, concern.id, AT)
        concern.shortlist(COMMITTEE, open_ballot.id, open_ballot.title, AT)
    open_ballot.open(CHAIR, voters, [], AT)
    open_ballot.open_vote(CHAIR, rejected.id, AT)
    open_ballot.cast_vote(CHAIR, rejected.id, member.id, Choice.AGAINST, True, AT)
    open_ballot.cast_vote(CHAIR, rejected.id, other.id, Choice.AGAINST, True, AT)
    rejected.record_outcome(
        CHAIR, open_ballot.id, open_ballot.close_vote(CHAIR, rejected.id, AT).as_dict(), AT
    )
    for concern_id in open_ballot.close(CHAIR, "会议纪要", AT):
        assert concern_id == deferred.id
        deferred.record_outcome(
            CHAIR, open_ballot.id, open_ballot.items[str(concern_id)]["tally"], AT
        )

    # Too few came: one arrives late and leaves again; the chair declares it inquorate.
    inquorate, late = _meeting("open", voters, member.id), _concern(8)
    late.refer(STAFF, None, AT)
    inquorate.add_item(COMMITTEE, late.id, AT)
    late.shortlist(COMMITTEE, inquorate.id, inquorate.title, AT)
    inquorate.open(CHAIR, [], [], AT)
    inquorate.record_attendance(CHAIR, [member.id], [], AT)
    inquorate.record_attendance(CHAIR, [], [member.id], AT)
    for concern_id in inquorate.declare_inquorate(CHAIR, AT):
        late.record_outcome(CHAIR, inquorate.id, inquorate.items[str(concern_id)]["tally"], AT)

    # The short ways out of intake.
    declined, merged, withdrawn, handled = (_concern(n) for n in (4, 5, 6, 7))
    declined.decline(STAFF, "不属于社区职责范围", AT)
    merged.merge_into(STAFF, main.id, "重复", AT)
    withdrawn.withdraw(STAFF, "居民撤回", AT)
    # A void refused, then proposed again and approved.
    voided = _concern(8)
    voided.propose_void(STAFF, "重复登记", AT)
    voided.refuse_void(SUPERVISOR, "不是重复", AT)
    voided.propose_void(STAFF, "不符合立案条件", AT)
    voided.approve_void(SUPERVISOR, AT)
    handled.handle_now(STAFF, Assignment(member.id, DutyRole.ENVIRONMENT_MONITOR, DUE), "即办", AT)

    # A household visit: the household (an address) and the notes stay inside.
    visit = Visit.record(
        grid="2",
        household=RESIDENT_ADDRESS,
        visited_on=AT.date(),
        priority_visit=PriorityVisit.ELDERLY_SICK,
        notes=f"{RESIDENT_NAME}独居，电话{RESIDENT_PHONE}",
        concern_ids=[main.id],
        actor_id=COLLECTOR.id,
        actor_role=COLLECTOR.role.value,
        at=AT,
        seal=lambda grid, text: SealedHousehold("R-household", text, f"key of {grid}/{text}"),
    )
    # The resident's data erased: the record names only the pseudonym.
    erased = Resident(resident_ref=RESIDENT_REF, actor_id="admin", actor_role="admin", at=later)
    # A hotspot of three concerns at a cell, and its proactive concern on the committee's desk.
    hotspot = Hotspot(
        grid="2",
        kind="cell",
        where="500m:4690:23807",
        category=Category.ENVIRONMENT.value,
        starts=AT,
        ends=AT + timedelta(days=30),
        concern_ids=[str(main.id), str(rejected.id), str(deferred.id)],
        count=3,
        days=1,
        high_incidence=False,
        proactive_concern_id=proactive_concern_id(UUID(int=7)),
        actor_id="system:hotspots",
        actor_role=Role.SYSTEM.value,
        at=later,
    )
    proactive = proactive_concern(
        hotspot,
        reference="MQ-2026-000099",
        tracking_code="PROACTIVE999",
        title="主动治理：楼道杂物",
        description="同类诉求 3 件",
        actor=Actor("system:hotspots", Role.SYSTEM),
        at=later,
    )

    aggregates: list[Any] = [
        member,
        other,
        secret,
        open_ballot,
        main,
        rejected,
        deferred,
        declined,
        merged,
        withdrawn,
        voided,
        handled,
        visit,
        erased,
        inquorate,
        late,
        hotspot,
        proactive,
        *story_extra,
    ]
    events = [e for a in aggregates for e in a.collect_events()]
    return Story(events, frozenset({secret.id}))


@pytest.fixture(scope="module")
def story() -> Story:
    return _story()


def _event_classes() -> set[type]:
    found = set()
    for aggregate in (Concern, Meeting, Member, Visit, Resident, Hotspot):
        base = aggregate.Event
        for value in vars(aggregate).values():
            is_event = isinstance(value, type) and issubclass(value, base)
            if is_event and value not in (base, aggregate.Created):
                found.add(value)
    return found


# -- coverage of the contract --------------------------------------------------------------


def test_every_event_class_of_every_aggregate_has_a_contract() -> None:
    declared = {c.event_class for c in CONTRACTS}
    assert _event_classes() - declared == set()
    assert declared - _event_classes() == set()


def test_every_field_of_every_event_is_either_published_or_withheld_with_a_reason() -> None:
    for contract in CONTRACTS:
        names = {f.name for f in dataclasses.fields(contract.event_class)} - set(ENVELOPE_FIELDS)
        classified = set(contract.fields) | set(contract.withheld) | {"actor_id", "actor_role"}
        assert names == classified, contract.type
        assert not set(contract.fields) & set(contract.withheld), contract.type
        assert all(reason.strip() for reason in contract.withheld.values())


def test_the_story_records_every_published_event_type(story: Story) -> None:
    assert {type(e) for e in story.events} == _event_classes()


def test_index_events_are_not_published() -> None:
    claim = Index(key="reference:MQ-2026-000001", target=UUID(int=1))
    event = claim.collect_events()[0]
    assert contract_for(event) is None
    with pytest.raises(KeyError):
        to_cloudevent(Position(1), event, SOURCE)
    assert all(":Index." not in topic for topic in cloudevents.topics_for())


# -- the envelope ----------------------------------------------------------------------------


def test_a_raised_concern_maps_to_a_cloudevent_with_every_required_attribute(
    story: Story,
) -> None:
    raised = next(e for e in story.cloudevents() if e["type"].endswith(".concern.raised.v1"))
    assert raised["specversion"] == "1.0"
    assert raised["type"] == "org.minqing.concern.raised.v1"
    assert raised["source"] == SOURCE
    assert UUID(raised["id"])
    assert UUID(raised["subject"])
    assert datetime.fromisoformat(raised["time"]) == AT
    assert raised["time"].endswith("+08:00")
    assert raised["datacontenttype"] == "application/json"
    assert raised["dataschema"] == (
        "https://minqing.example.cn/api/v1/events/schemas/org.minqing.concern.raised.v1"
    )
    assert raised["data"]["resident_ref"] == RESIDENT_REF
    assert raised["data"]["reference"] == "MQ-2026-000001"
    assert raised["data"]["version"] == 1


def test_types_are_named_by_aggregate_and_event_in_snake_case() -> None:
    types = {c.type for c in CONTRACTS}
    assert {
        "org.minqing.concern.raised.v1",
        "org.minqing.concern.handled_now.v1",
        "org.minqing.concern.adopted_at_meeting.v1",
        "org.minqing.meeting.vote_cast.v1",
        "org.minqing.member.registered.v1",
    } <= types


def test_dataschema_is_an_absolute_url_under_the_public_url_and_the_schemas_id(
    story: Story,
) -> None:
    for event in story.cloudevents():
        parts = urlsplit(event["dataschema"])
        assert (parts.scheme, parts.netloc) == ("https", "minqing.example.cn"), event["type"]
        assert parts.path == "/api/v1/events/schemas/" + event["type"]
        assert cloudevents.BY_TYPE[event["type"]].schema(PUBLIC_URL)["$id"] == event["dataschema"]
    # Without a configured address: the default of MINQING_PUBLIC_URL, still absolute.
    plain = to_cloudevent(Position(1), story.events[0], SOURCE)
    assert plain["dataschema"].startswith(cloudevents.DEFAULT_PUBLIC_URL + "/api/v1/")


def test_an_erasure_is_published_with_the_pseudonym_only(story: Story) -> None:
    [erased] = [e for e in story.cloudevents() if e["type"].startswith("org.minqing.resident.")]
    assert erased["type"] == "org.minqing.resident.data_erased.v1"
    assert erased["data"] == {
        "version": 1,
        "actor_id": "admin",
        "actor_role": "admin",
        "resident_ref": RESIDENT_REF,
    }


def test_sequence_is_the_position_zero_padded_to_twenty_digits(story: Story) -> None:
    first = next(story.cloudevents())
    assert first["sequence"] == "00000000000000000001"
    assert cloudevents.sequence(12345) == "00000000000000012345"
    assert len(cloudevents.sequence(2**63 - 1)) == 20


def test_ids_are_stable_across_readings_and_unique_per_event(story: Story) -> None:
    first = [e["id"] for e in story.cloudevents()]
    again = [e["id"] for e in story.cloudevents()]
    assert first == again
    assert len(set(first)) == len(first)
    event = story.events[0]
    assert first[0] == cloudevents.event_id(event.originator_id, event.originator_version)


def test_the_id_does_not_depend_on_the_position_or_the_source(story: Story) -> None:
    event = story.events[0]
    one = to_cloudevent(Position(1), event, "urn:a")
    other = to_cloudevent(Position(99), event, "urn:b")
    assert one["id"] == other["id"]


# -- personal data ---------------------------------------------------------------------------


def test_the_story_s_raw_events_do_carry_every_personal_value(story: Story) -> None:
    # So the next test would notice a leak: each value is there to be leaked.
    raw = " ".join(str(vars(e)) for e in story.events)
    for secret in PERSONAL:
        assert secret in raw, secret


def test_no_published_event_carries_personal_data(story: Story) -> None:
    for event in story.cloudevents():
        text = json.dumps(event, ensure_ascii=False)
        for secret in PERSONAL:
            assert secret not in text, (event["type"], secret)
        for withheld in ("resident_data", "tracking_code", "priority_visit", "name"):
            assert withheld not in event["data"], event["type"]
        assert "resident_representatives" not in event["data"]


def test_a_secret_ballot_vote_is_published_without_its_choice(story: Story) -> None:
    votes = [e for e in story.cloudevents() if e["type"] == "org.minqing.meeting.vote_cast.v1"]
    secret = [e for e in story.cloudevents() if e["type"] == "org.minqing.meeting.ballot_cast.v1"]
    shown = [v for v in votes if UUID(v["subject"]) not in story.secret_meetings]
    assert secret
    assert shown
    assert all(set(v["data"]) & {"choice", "sealed_choice"} == set() for v in secret)
    assert all(v["data"]["voter"] for v in secret)
    assert [v["data"]["choice"] for v in shown] == ["against", "against"]


def test_without_a_ballot_lookup_a_vote_is_withheld_as_if_secret(story: Story) -> None:
    vote = next(e for e in story.events if type(e).__name__ == "VoteCast")
    assert "choice" not in to_cloudevent(Position(1), vote, SOURCE)["data"]


# -- schemas ---------------------------------------------------------------------------------


def test_every_schema_is_a_valid_json_schema() -> None:
    for schema in cloudevents.schemas().values():
        Draft202012Validator.check_schema(schema)


def test_every_emitted_data_validates_against_its_schema(story: Story) -> None:
    schemas = cloudevents.schemas()
    checker = Draft202012Validator.FORMAT_CHECKER
    for event in story.cloudevents():
        validator = Draft202012Validator(schemas[event["type"]], format_checker=checker)
        errors = [e.message for e in validator.iter_errors(event["data"])]
        assert errors == [], event["type"]


def test_a_schema_refuses_data_with_a_withheld_field() -> None:
    schema = cloudevents.BY_TYPE["org.minqing.concern.raised.v1"].schema()
    assert schema["additionalProperties"] is False
    assert "resident_data" not in schema["properties"]
    assert "tracking_code" not in schema["properties"]


def test_the_choice_is_optional_only_in_the_vote_schema() -> None:
    vote = cloudevents.BY_TYPE["org.minqing.meeting.vote_cast.v1"].schema()
    assert "choice" in vote["properties"]
    assert "choice" not in vote["required"]
    for contract in CONTRACTS:
        schema = contract.schema()
        if contract.type != "org.minqing.meeting.vote_cast.v1":
            assert set(schema["required"]) == set(schema["properties"]), contract.type


@settings(max_examples=300, deadline=None)
@given(originator_id=st.uuids(), version=st.integers(min_value=1, max_value=10**12))
def test_an_events_id_is_the_uuid5_of_its_aggregate_and_version(
    originator_id: UUID, version: int
) -> None:
    # Integrators dedupe by `id` (and webhooks send it as webhook-id): it must never change.
    expected = uuid5(uuid5(NAMESPACE_URL, "urn:minqing:cloudevents"), f"{originator_id}:{version}")
    assert cloudevents.event_id(originator_id, version) == str(expected)
