"""The photo verbs on the in-memory store: attach (who, when, which kind), read back under
the concern's rules, public only when publishable and listed, erased with the resident."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from adapters.images import check_photo
from application.photos import NewPhoto
from application.residents import erase_personal_data
from domain.errors import Conflict, Forbidden, Invalid, NotFound
from domain.photos import PhotoKind
from domain.vocabulary import DutyRole
from tests.unit.verbs_support import (
    ADMIN,
    COLLECTOR,
    STAFF,
    SUPERVISOR,
    Office,
    open_office,
    person,
)


@pytest.fixture
def office() -> Office:
    return open_office()


def photo(shade: int) -> NewPhoto:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (shade, 100, 100)).save(out, "PNG")
    return check_photo(out.getvalue())


def test_an_intake_photo_is_recorded_by_digest_and_read_by_who_reads_the_concern(
    office: Office,
) -> None:
    app = office.app
    concern = office.raise_concern()
    shot = photo(1)
    result = app.attach_photo(concern, COLLECTOR, shot, PhotoKind.INTAKE, "现场")
    assert result.extra == {"digest": shot.facts.digest, "kind": "intake"}
    attached = app.get_concern(concern).photos
    assert [(p["digest"], p["kind"], p["caption"]) for p in attached] == [
        (shot.facts.digest, "intake", "现场")
    ]
    assert app.get_concern(concern).status == "intake"
    kept = app.photo(concern, SUPERVISOR, shot.facts.digest)
    assert (kept.data, kept.thumb) == (shot.data, shot.thumb)
    with pytest.raises(Forbidden):
        app.photo(concern, office.owner_principal, shot.facts.digest)
    with pytest.raises(NotFound):
        app.photo(office.raise_concern(), STAFF, shot.facts.digest)
    with pytest.raises(Invalid, match="already attached"):
        app.attach_photo(concern, COLLECTOR, shot, PhotoKind.INTAKE)


def test_before_and_after_are_the_owners_while_the_work_is_on(office: Office) -> None:
    app = office.app
    concern = office.raise_concern()
    with pytest.raises(Conflict, match="cannot be attached"):
        app.attach_photo(concern, STAFF, photo(2), PhotoKind.BEFORE)
    app.handle_now(concern, STAFF, office.owner, DutyRole.ENVIRONMENT_MONITOR, office.due())
    with pytest.raises(Forbidden):
        app.attach_photo(concern, COLLECTOR, photo(3), PhotoKind.AFTER)
    with pytest.raises(Forbidden):
        app.attach_photo(
            concern, person("other", *office.owner_principal.roles), photo(3), PhotoKind.AFTER
        )
    with pytest.raises(Conflict, match="cannot be attached"):
        app.attach_photo(concern, COLLECTOR, photo(4), PhotoKind.INTAKE)
    app.attach_photo(concern, office.owner_principal, photo(5), PhotoKind.BEFORE)
    after = photo(6)
    app.attach_photo(concern, office.owner_principal, after, PhotoKind.AFTER, publishable=True)
    assert [p["kind"] for p in app.get_concern(concern).photos] == ["before", "after"]
    # Public only once the concern is in the achievement library.
    with pytest.raises(NotFound):
        app.public_photo(concern, after.facts.digest)
    app.resolve(concern, office.owner_principal, "已修好")
    assert app.public_photo(concern, after.facts.digest).data == after.data
    with pytest.raises(NotFound):
        app.public_photo(concern, photo(5).facts.digest)


def test_a_photo_of_the_resident_is_never_public_and_goes_with_their_erasure(
    office: Office,
) -> None:
    app = office.app
    concern = office.raise_concern()
    with pytest.raises(Invalid, match="publishable"):
        app.attach_photo(
            concern, STAFF, photo(7), PhotoKind.INTAKE, publishable=True, shows_resident=True
        )
    face, scene = photo(8), photo(9)
    app.attach_photo(concern, STAFF, face, PhotoKind.INTAKE, shows_resident=True)
    app.attach_photo(concern, STAFF, scene, PhotoKind.INTAKE)
    ref = app.get_concern(concern).resident_ref
    assert ref is not None
    erase_personal_data(app, ADMIN, ref)
    gone = app.photo(concern, STAFF, face.facts.digest)
    assert (gone.data, gone.thumb) == (None, None)
    assert gone.erased_at is not None
    assert app.photo(concern, STAFF, scene.facts.digest).data == scene.data
    # The digest stays in the log.
    assert face.facts.digest in [p["digest"] for p in app.get_concern(concern).photos]
