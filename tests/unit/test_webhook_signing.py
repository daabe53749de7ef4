"""Standard Webhooks signing, the retry schedule setting, Retry-After and target checks: no I/O."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from adapters.webhooks import (
    SECRET_PREFIX,
    Resolver,
    check_url,
    new_secret,
    secret_key,
    sign,
    signature_header,
)
from domain.errors import Invalid
from workers.webhooks import parse_schedule, retry_after_seconds

# The worked example used by the Standard Webhooks reference libraries' own tests.
EXAMPLE_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
EXAMPLE_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
EXAMPLE_TIMESTAMP = 1614265330
EXAMPLE_BODY = b'{"test": 2432232314}'
EXAMPLE_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_the_signature_matches_the_specs_worked_example() -> None:
    key = secret_key(EXAMPLE_SECRET)
    assert sign(key, EXAMPLE_ID, EXAMPLE_TIMESTAMP, EXAMPLE_BODY) == EXAMPLE_SIGNATURE


def test_a_changed_body_id_or_timestamp_changes_the_signature() -> None:
    key = secret_key(EXAMPLE_SECRET)
    assert sign(key, EXAMPLE_ID, EXAMPLE_TIMESTAMP, EXAMPLE_BODY + b" ") != EXAMPLE_SIGNATURE
    assert sign(key, EXAMPLE_ID + "x", EXAMPLE_TIMESTAMP, EXAMPLE_BODY) != EXAMPLE_SIGNATURE
    assert sign(key, EXAMPLE_ID, EXAMPLE_TIMESTAMP + 1, EXAMPLE_BODY) != EXAMPLE_SIGNATURE


def test_during_a_rotation_the_header_carries_one_signature_per_key_space_separated() -> None:
    old, new = secret_key(new_secret()), secret_key(EXAMPLE_SECRET)
    header = signature_header([new, old], EXAMPLE_ID, EXAMPLE_TIMESTAMP, EXAMPLE_BODY)
    first, second = header.split(" ")
    assert first == EXAMPLE_SIGNATURE
    assert second == sign(old, EXAMPLE_ID, EXAMPLE_TIMESTAMP, EXAMPLE_BODY)


def test_a_new_secret_is_whsec_and_32_random_bytes() -> None:
    secrets = {new_secret() for _ in range(20)}
    assert len(secrets) == 20
    for secret in secrets:
        assert secret.startswith(SECRET_PREFIX)
        assert len(base64.b64decode(secret[len(SECRET_PREFIX) :])) == 32


@pytest.mark.parametrize(
    "bad", ["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_not base64!", "whsec_a"]
)
def test_a_secret_without_the_prefix_or_with_bad_base64_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="whsec_"):
        secret_key(bad)


def test_the_retry_schedule_setting_is_seconds_before_each_attempt() -> None:
    assert parse_schedule("0,5,300,1800,7200,18000,36000,36000") == (
        0,
        5,
        300,
        1800,
        7200,
        18000,
        36000,
        36000,
    )
    assert parse_schedule("0, 0.2 ,0.4") == (0, 0.2, 0.4)
    for bad in ("", "a,b", "0,-1", " , "):
        with pytest.raises(ValueError, match="MINQING_WEBHOOKS_RETRY_SCHEDULE"):
            parse_schedule(bad)


def test_retry_after_is_read_as_seconds_or_as_an_http_date() -> None:
    now = datetime(2026, 3, 25, 9, 0, tzinfo=UTC)
    assert retry_after_seconds("120", now.timestamp()) == 120
    later = format_datetime(now + timedelta(seconds=90), usegmt=True)
    assert retry_after_seconds(later, now.timestamp()) == pytest.approx(90)
    earlier = format_datetime(now - timedelta(seconds=90), usegmt=True)
    assert retry_after_seconds(earlier, now.timestamp()) == 0
    for absent in (None, "", "soon", "-5"):
        assert retry_after_seconds(absent, now.timestamp()) is None


def _resolves_to(*addresses: str) -> Resolver:
    def resolver(host: str, port: int) -> list[str]:
        return list(addresses)

    return resolver


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.1",
        "172.31.255.255",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",  # noqa: S104 - a target to refuse, not a bind address
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:10.0.0.1",
        "224.0.0.1",
    ],
)
def test_a_host_resolving_to_a_non_public_address_is_refused(address: str) -> None:
    with pytest.raises(Invalid) as refused:
        check_url(
            "https://hooks.example.org/x", allow_private=False, resolver=_resolves_to(address)
        )
    assert refused.value.fields[0][0] == "url"


def test_one_private_address_among_public_ones_is_enough_to_refuse() -> None:
    mixed = _resolves_to("93.184.216.34", "10.0.0.1")
    with pytest.raises(Invalid):
        check_url("https://hooks.example.org/x", allow_private=False, resolver=mixed)
    public = _resolves_to("93.184.216.34", "2606:2800:220:1::")
    url = "https://hooks.example.org/x"
    assert check_url(f"  {url} ", allow_private=False, resolver=public) == url
