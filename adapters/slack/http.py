"""The HTTP endpoint for Slack: signature first, then Bolt's dispatch, mounted in our aiohttp app.

One path serves events, slash commands and interactivity (Slack's manifest points all
three at it); Bolt tells them apart by payload. Every request is verified with the
signing secret and the 5-minute timestamp window before anything parses it; a failure
answers 401 and logs one line without the body.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import Clock, SignatureVerifier

from adapters.payloads import PayloadRejected, decode, parse_form, parse_json
from adapters.slack.app import SlackAdapter

log = logging.getLogger(__name__)
SLACK_PATH = "/slack/events"
MAX_BODY_BYTES = 1024 * 1024


class _WallClock(Clock):
    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now

    def now(self) -> float:
        return self._now()


def request_kind(content_type: str, raw: bytes) -> str:
    """event, command, action or other, for metrics (no parsing beyond a prefix)."""
    if content_type == "application/json":
        return "event"
    if raw.startswith(b"payload="):
        return "action"
    return "command" if b"command=" in raw else "other"


def checked_body(raw: bytes, content_type: str) -> str:
    """The body as text once it is UTF-8, sanely nested JSON or form (PayloadRejected otherwise)."""
    text = decode(raw)
    if content_type == "application/json":
        parse_json(text)
    else:
        parse_form(text)
    return text


class SlackEndpoint:
    """aiohttp handler for `SLACK_PATH`; `routes()` mounts it."""

    def __init__(
        self, adapter: SlackAdapter, signing_secret: str, clock: Callable[[], float] = time.time
    ) -> None:
        if not signing_secret:
            raise ValueError("Slack HTTP mode needs a signing secret")
        self.adapter = adapter
        self.verifier = SignatureVerifier(signing_secret, clock=_WallClock(clock))

    def routes(self) -> list[web.RouteDef]:
        return [web.post(SLACK_PATH, self.handle)]

    async def handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        kind = request_kind(request.content_type, raw)
        response = await self._handle(request, raw)
        metrics = self.adapter.metrics
        if metrics:
            metrics.requests.labels(kind, str(response.status)).inc()
            if response.status == 200:
                metrics.acks.inc()
            if "X-Slack-Retry-Num" in request.headers:
                metrics.retries.inc()
        return response

    async def _handle(self, request: web.Request, raw: bytes) -> web.StreamResponse:
        timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
        try:
            decode(raw)  # the signature library decodes the body itself, and fails on non-UTF-8
        except PayloadRejected as err:
            log.warning("slack request refused: %s (%d bytes)", err, len(raw))
            return web.json_response({"error": "malformed payload"}, status=400)
        if not self._valid(raw, timestamp, request.headers.get("X-Slack-Signature", "")):
            log.warning(
                "slack request refused: bad signature or stale timestamp (from %s, timestamp %r, %d bytes)",
                request.remote,
                timestamp[:20],
                len(raw),
            )
            return web.json_response({"error": "invalid request"}, status=401)
        try:
            body = checked_body(raw, request.content_type)
            bolt_request = AsyncBoltRequest(
                body=body, query=request.query_string, headers=dict(request.headers)
            )
        except (ValueError, RecursionError) as err:  # undecodable, too deep, malformed JSON or payload
            why = str(err) if isinstance(err, PayloadRejected) else "malformed payload"
            log.warning("slack request refused: %s (%d bytes)", why, len(raw))
            return web.json_response({"error": "malformed payload"}, status=400)
        return await to_aiohttp_response(await self.adapter.bolt.async_dispatch(bolt_request))

    def _valid(self, raw: bytes, timestamp: str, signature: str) -> bool:
        if not timestamp.isdigit() or not signature:
            return False
        return self.verifier.is_valid(raw, timestamp, signature)
