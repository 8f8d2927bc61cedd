"""The HTTP endpoint for Teams (`/api/messages`), mounted in our aiohttp app.

It does what `CloudAdapter.process(request, bot)` does, in the same order (parse the
activity, authenticate it, run the turn, write the invoke response), but answers each
failure with the right status instead of 500: not JSON -> 415, malformed activity or no
conversation -> 400, any token problem (missing, expired, wrongly signed, wrong audience
or service URL, or any token while authentication is off) -> 401.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from botbuilder.core import serializer_helper
from botbuilder.schema import Activity
from botframework.connector.auth import AuthenticateRequestResult

from adapters.payloads import PayloadRejected, decode, parse_json
from adapters.teams.app import TeamsAdapter
from adapters.teams.login import TeamsLoginError

log = logging.getLogger(__name__)
TEAMS_PATH = "/api/messages"
KINDS = {
    "message",
    "invoke",
    "conversationUpdate",
    "installationUpdate",
    "messageReaction",
    "typing",
    "event",
}


class TeamsEndpoint:
    """aiohttp handler for `TEAMS_PATH`; `routes()` mounts it."""

    def __init__(self, adapter: TeamsAdapter) -> None:
        self.adapter = adapter

    def routes(self) -> list[web.RouteDef]:
        return [web.post(TEAMS_PATH, self.handle)]

    async def handle(self, request: web.Request) -> web.StreamResponse:
        response, kind = await self._handle(request)
        if self.adapter.metrics:
            self.adapter.metrics.requests.labels(kind, str(response.status)).inc()
        return response

    async def _handle(self, request: web.Request) -> tuple[web.StreamResponse, str]:
        if "json" not in request.content_type:
            return _error(415, "expected an application/json activity"), "unreadable"
        raw = await request.read()
        activity = _activity(raw)
        if isinstance(activity, str):
            log.warning("teams request refused: %s (%d bytes)", activity, len(raw))
            return _error(400, activity), "unreadable"
        kind = activity.type if activity.type in KINDS else "other"  # bounded label values
        return await self._process(request, activity), kind

    async def _process(self, request: web.Request, activity: Activity) -> web.StreamResponse:
        try:
            auth = await self._authenticate(activity, request.headers.get("Authorization"))
            if auth is None:
                return _error(401, "unauthorized")
            invoke = await self.adapter.cloud.process_activity(auth, activity, self.adapter.bot.on_turn)
        except TeamsLoginError as err:  # signing keys or the bot's own token out of reach
            log.error("teams request not served: %s", err)
            return _error(503, "the bot cannot reach its Microsoft login service right now")
        except Exception:
            log.exception("teams turn failed (%s)", activity.type)
            return _error(500, "internal error")
        if invoke is not None:
            body = invoke.body if isinstance(invoke.body, dict | None) else serializer_helper(invoke.body)
            return web.json_response(body, status=invoke.status)
        return web.Response(status=201)

    async def _authenticate(self, activity: Activity, header: str | None) -> AuthenticateRequestResult | None:
        authentication = self.adapter.cloud.bot_framework_authentication
        try:
            return await authentication.authenticate_request(activity, header)
        except TeamsLoginError:
            raise
        except Exception as err:  # PermissionError, PyJWT errors, unknown signing key, ...
            log.warning("teams request refused: %s (%s)", type(err).__name__, str(err)[:200] or "no detail")
            return None


def _activity(raw: bytes) -> Activity | str:
    """The activity in the body, or why it is not one."""
    try:
        body: Any = parse_json(decode(raw))
    except PayloadRejected as err:
        return str(err)
    if not isinstance(body, dict):
        return "the body is not an activity object"
    try:
        activity = Activity().deserialize(body)
    except Exception:
        return "malformed activity"
    if not activity.type:
        return "activity without a type"
    if activity.conversation is None or not activity.conversation.id:
        return "activity without a conversation"
    if not activity.service_url:
        return "activity without a serviceUrl"
    return activity


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)
