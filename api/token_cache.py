"""The principals of bearer tokens, kept for a few seconds per process.

Every authenticated request names its caller by token; looking it up costs a query. A
token seen in the last `MINQING_TOKEN_CACHE_SECONDS` (default 5) is answered from memory,
so a revoked token (`minqing tokens revoke`, another process) still works that long here;
0 turns the cache off. Unknown tokens are never kept (no memory for guesses).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from domain.principal import Principal

# At most this many tokens are kept; beyond it the oldest entries go first.
MAX_TOKENS = 10_000


class TokenCache:
    """Principals by token, each kept `seconds` after it was looked up."""

    def __init__(
        self,
        lookup: Callable[[str], Principal | None],
        seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lookup = lookup
        self._seconds = seconds
        self._clock = clock
        self._kept: dict[str, tuple[float, Principal]] = {}
        self._lock = threading.Lock()

    def cached(self, token: str) -> Principal | None:
        """The principal kept for `token` if it is still fresh (no query)."""
        entry = self._kept.get(token)
        if entry is None or entry[0] <= self._clock():
            return None
        return entry[1]

    def authenticate(self, token: str) -> Principal | None:
        """The principal of a live token (from memory while fresh), or None."""
        if (principal := self.cached(token)) is not None:
            return principal
        principal = self._lookup(token)
        if principal is not None and self._seconds > 0:
            with self._lock:
                if len(self._kept) >= MAX_TOKENS:
                    # Dicts keep insertion order: drop the oldest half at once.
                    for old in list(self._kept)[: MAX_TOKENS // 2]:
                        del self._kept[old]
                self._kept[token] = (self._clock() + self._seconds, principal)
        return principal
