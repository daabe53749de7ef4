"""A token's principal is kept a few seconds per process, then looked up again; unknown
tokens are never kept."""

from __future__ import annotations

from api.token_cache import TokenCache
from domain.principal import Principal
from domain.vocabulary import Role

ALICE = Principal(id="p-1", name="alice", roles=frozenset({Role.STAFF}), grids=frozenset())


class Lookups:
    """A principals table: counts the queries."""

    def __init__(self) -> None:
        self.live = {"good": ALICE}
        self.asked = 0

    def __call__(self, token: str) -> Principal | None:
        self.asked += 1
        return self.live.get(token)


def test_a_token_seen_lately_is_answered_without_a_query_until_it_expires() -> None:
    now = [100.0]
    lookups = Lookups()
    cache = TokenCache(lookups, 5.0, clock=lambda: now[0])
    assert cache.cached("good") is None
    assert cache.authenticate("good") == ALICE
    del lookups.live["good"]  # revoked meanwhile, by another process
    now[0] += 4.9
    assert cache.authenticate("good") == ALICE  # still kept: the documented window
    assert lookups.asked == 1
    now[0] += 0.2
    assert cache.authenticate("good") is None
    assert lookups.asked == 2


def test_unknown_tokens_are_never_kept() -> None:
    lookups = Lookups()
    cache = TokenCache(lookups, 5.0)
    assert cache.authenticate("guess") is None
    assert cache.authenticate("guess") is None
    assert lookups.asked == 2


def test_zero_seconds_looks_up_every_time() -> None:
    lookups = Lookups()
    cache = TokenCache(lookups, 0)
    for _ in range(3):
        assert cache.authenticate("good") == ALICE
    assert lookups.asked == 3
