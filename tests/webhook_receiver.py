"""A real webhook receiver on loopback that checks every request as the Standard Webhooks
spec says a receiver must: the signature (HMAC-SHA256 of `id.timestamp.body` under the
base64 key of a `whsec_…` secret, any of the space-separated `v1,…` signatures) and the
timestamp's freshness. Written from the spec, not from Minqing's code, so that it checks
the dispatcher rather than agreeing with it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOLERANCE_SECONDS = 5 * 60


def spec_signature(secret: str, msg_id: str, timestamp: str, body: bytes) -> str:
    """The spec's `v1` signature, computed from scratch."""
    assert secret.startswith("whsec_")
    key = base64.b64decode(secret[len("whsec_") :])
    signed = msg_id.encode() + b"." + timestamp.encode() + b"." + body
    return base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def verifying_secrets(
    secrets: list[str], msg_id: str, timestamp: str, body: bytes, header: str
) -> set[str]:
    """Which of `secrets` one of the header's signatures was made with."""
    given = set()
    for part in header.split(" "):
        version, _, signature = part.partition(",")
        if version == "v1" and signature:
            given.add(signature)
    return {
        s
        for s in secrets
        if any(hmac.compare_digest(spec_signature(s, msg_id, timestamp, body), g) for g in given)
    }


@dataclass(frozen=True)
class Received:
    """One request the receiver accepted as authentic, and what it answered."""

    webhook_id: str
    timestamp: str
    signature: str
    body: bytes
    event: dict[str, Any]
    answered: int
    at: float
    verified_with: frozenset[str]

    @property
    def position(self) -> int:
        return int(self.event["sequence"])

    @property
    def subject(self) -> str:
        return str(self.event["subject"])


Answer = tuple[int, dict[str, str]]
Responder = Callable[[Received], Answer]


def always_ok(_: Received) -> Answer:
    return 200, {}


@dataclass
class Receiver:
    """A threaded HTTP server on 127.0.0.1 that verifies and records each delivery."""

    secrets: list[str] = field(default_factory=list)
    respond: Responder = always_ok
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    arrived: threading.Condition = field(default_factory=threading.Condition)
    port: int = 0
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> None:
        """Listen (on the same port as before, after a `stop`)."""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                receiver._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        self.port = int(server.server_address[1])
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop listening: connections are refused until `start` again."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("content-length") or 0)
        body = request.rfile.read(length)
        msg_id = request.headers.get("webhook-id") or ""
        timestamp = request.headers.get("webhook-timestamp") or ""
        signature = request.headers.get("webhook-signature") or ""
        problem = None
        verified: set[str] = set()
        if not (msg_id and timestamp.isdigit() and signature):
            problem = "missing webhook headers"
        elif abs(time.time() - int(timestamp)) > TOLERANCE_SECONDS:
            problem = f"stale timestamp {timestamp}"
        else:
            verified = verifying_secrets(list(self.secrets), msg_id, timestamp, body, signature)
            if not verified:
                problem = f"bad signature for {msg_id}"
        if problem is not None:
            with self.lock:
                self.rejected.append(problem)
            request.send_response(401)
            request.send_header("content-length", "0")
            request.end_headers()
            return
        if self.delay:
            time.sleep(self.delay)
        event = json.loads(body)
        provisional = Received(
            msg_id, timestamp, signature, body, event, 0, time.time(), frozenset(verified)
        )
        status, headers = self.respond(provisional)
        record = Received(
            msg_id, timestamp, signature, body, event, status, time.time(), frozenset(verified)
        )
        with self.lock:
            self.received.append(record)
        request.send_response(status)
        for name, value in headers.items():
            request.send_header(name, value)
        request.send_header("content-length", "0")
        request.end_headers()
        with self.arrived:
            self.arrived.notify_all()

    # -- what the tests look at ------------------------------------------------------------

    def all(self) -> list[Received]:
        with self.lock:
            return list(self.received)

    def accepted(self) -> list[Received]:
        """The deliveries answered with a 2xx."""
        return [r for r in self.all() if 200 <= r.answered < 300]

    def accepted_ids(self) -> set[str]:
        return {r.webhook_id for r in self.accepted()}

    def wait_for(self, done: Callable[[Receiver], bool], timeout: float = 30.0) -> bool:
        """Wait until `done(self)` holds; False after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while not done(self):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            with self.arrived:
                self.arrived.wait(min(remaining, 0.1))
        return True

    def by_subject(self) -> dict[str, list[int]]:
        """Each subject's positions in the order they arrived (2xx answers only)."""
        out: dict[str, list[int]] = defaultdict(list)
        for r in self.accepted():
            out[r.subject].append(r.position)
        return dict(out)


def in_order(receiver: Receiver) -> bool:
    """No subject's event arrived after a later one of the same subject (any answer)."""
    seen: dict[str, int] = {}
    for r in receiver.all():
        if r.position < seen.get(r.subject, 0):
            return False
        seen[r.subject] = max(seen.get(r.subject, 0), r.position)
    return True


@contextmanager
def receiving(
    secrets: list[str] | None = None, respond: Responder = always_ok
) -> Iterator[Receiver]:
    """A started receiver, stopped at the end of the block."""
    receiver = Receiver(secrets=list(secrets or []), respond=respond)
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.stop()
