"""Request bodies within limits: at most `max_body_bytes`, and JSON in UTF-8 nested at most
`MAX_JSON_DEPTH` levels, checked as the body streams in, never buffered here.

A body over the limit is refused before the application reads it when its Content-Length
says so, and otherwise at the chunk that crosses the limit (chunked transfer): the rest is
never read. The refusals are HTTPExceptions, which FastAPI lets through its body parsing
untouched, so api/errors.py answers them with the contract's JSON.
"""

from __future__ import annotations

import codecs
import re

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import BodyNotJson, BodyTooLarge, refusal
from domain.photos import MAX_PHOTO_BYTES

# Deeper JSON than any request of this API needs: Python's parser recurses per level (a
# body of 100,000 `[` is a RecursionError), and validation walks each level again.
MAX_JSON_DEPTH = 32
# A body over the limit is still read (and dropped) up to this size before the 413 is sent,
# so an ordinary client gets the answer instead of a reset connection; past it the
# connection is closed unread.
DRAIN_BYTES = 8 * 1024 * 1024
# A form with files (multipart) may carry this many photos besides its fields: each photo is
# held to its own limit where it is read (api/routes/attachments.py, the web UI's forms).
PHOTOS_PER_FORM = 3


class JsonShape:
    """Follows a streamed JSON body chunk by chunk: UTF-8 and nesting depth only (the parser
    checks everything else), with no more state than a few flags between chunks."""

    _OUTSIDE = re.compile(rb'[\[\]{}"]')
    _INSIDE = re.compile(rb'[\\"]')

    def __init__(self, max_depth: int = MAX_JSON_DEPTH) -> None:
        self.max_depth = max_depth
        self.depth = 0
        self.in_string = False
        self.escaped = False
        self._utf8 = codecs.getincrementaldecoder("utf-8")()

    def feed(self, chunk: bytes, final: bool) -> str | None:
        """Take the next chunk; the problem found so far, if any."""
        try:
            self._utf8.decode(chunk, final)
        except UnicodeDecodeError as exc:
            return f"the body is not valid UTF-8 ({exc.reason})"
        return self._nesting(chunk)

    def _nesting(self, chunk: bytes) -> str | None:
        pos, end = 0, len(chunk)
        if self.escaped and end:
            pos, self.escaped = 1, False  # the character after a backslash that ended a chunk
        while pos < end:
            if self.in_string:
                m = self._INSIDE.search(chunk, pos)
                if m is None:
                    break
                pos = m.end()
                if m.group() == b'"':
                    self.in_string = False
                elif pos < end:
                    pos += 1  # whatever is escaped, it does not end the string
                else:
                    self.escaped = True
                continue
            m = self._OUTSIDE.search(chunk, pos)
            if m is None:
                break
            pos = m.end()
            token = m.group()
            if token == b'"':
                self.in_string = True
            elif token in (b"[", b"{"):
                self.depth += 1
                if self.depth > self.max_depth:
                    return f"the body nests arrays and objects deeper than {self.max_depth} levels"
            else:
                self.depth -= 1  # unbalanced brackets are the parser's to report
        return None


def _is_json(headers: Headers) -> bool:
    """Bodies FastAPI parses as JSON: a JSON media type, or none at all."""
    kind = headers.get("content-type")
    if kind is None:
        return True
    media = kind.split(";")[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


class BodyLimits:
    """ASGI middleware: refuses request bodies over `max_bytes` (413) and JSON bodies that
    are not UTF-8 or nest too deeply (422), while they stream."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, upload_bytes: int = PHOTOS_PER_FORM * MAX_PHOTO_BYTES
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.upload_bytes = upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        declared = _content_length(headers)
        multipart = headers.get("content-type", "").lower().startswith("multipart/form-data")
        limit = self.max_bytes + (self.upload_bytes if multipart else 0)
        if declared is not None and declared > limit:
            if declared <= DRAIN_BYTES:
                await _drain(receive)
            await _refuse(scope, send, BodyTooLarge(limit))
            return
        shape = JsonShape() if _is_json(headers) else None
        size = 0
        started = False

        async def limited() -> Message:
            nonlocal size
            message = await receive()
            if message["type"] != "http.request":
                return message
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge(limit)
            if shape is not None:
                problem = shape.feed(chunk, final=not message.get("more_body", False))
                if problem is not None:
                    raise BodyNotJson(problem)
            return message

        async def sending(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited, sending)
        except (BodyTooLarge, BodyNotJson) as exc:
            # Raised where nothing answered it (e.g. in a middleware that read the body).
            if started:
                raise
            await _refuse(scope, send, exc)


def _content_length(headers: Headers) -> int | None:
    raw = headers.get("content-length")
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


async def _drain(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return


async def _refuse(scope: Scope, send: Send, exc: HTTPException) -> None:
    response = refusal(Request(scope), exc)
    await response(scope, _nothing, send)


async def _nothing() -> Message:
    return {"type": "http.disconnect"}
