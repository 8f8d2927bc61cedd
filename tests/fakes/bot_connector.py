"""A stand-in for the Bot Connector service Teams bots talk to (activity.serviceUrl), on loopback.

It answers what botbuilder's ConnectorClient calls, on the decoded paths (conversation
ids such as `19:abc@thread.tacv2;messageid=1` arrive percent-encoded):

    POST /v3/conversations/{conversation}/activities              send to the conversation
    POST /v3/conversations/{conversation}/activities/{replyToId}  reply to an activity
    PUT  /v3/conversations/{conversation}/activities/{id}         update an activity
    GET  /v3/conversations/{conversation}/members/{id}            member lookup
    POST /v3/conversations                                         a new conversation: in Teams, a
                                                                   new thread in the channel named
                                                                   by channelData.channel.id

and records every call. `messages` holds what Teams would show now: each posted activity by
id, replaced by its updates. Anything else lands in `unexpected` (tests assert it is empty).
With `authorize` set, calls whose Authorization header it rejects answer 401. With
`thread_limits` set, the per-thread limits Teams applies to a bot's sends, replies and
updates (7 in 1 s, 8 in 2 s, 60 in 30 s) answer 429 with Retry-After, noted in `throttled`. An activity over
Teams' message size limit (about 28 KB of JSON; base64 `data:` images are not counted, as Teams
documents, but each may hold at most 1 MB) is refused with 413 MessageSizeTooBig, as Teams
refuses it, and noted in `refused`.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

ACTIVITIES = re.compile(r"^/v3/conversations/(?P<conversation>[^/]+)/activities(?:/(?P<id>[^/]+))?$")
MESSAGE_LIMIT = 28 * 1024
IMAGE_LIMIT = 1 << 20  # an inline (base64) image: at most 1 MB, and not counted in MESSAGE_LIMIT
MEMBER = re.compile(r"^/v3/conversations/(?P<conversation>[^/]+)/members/(?P<id>[^/]+)$")
THREAD_LIMITS = ((1.0, 7), (2.0, 8), (30.0, 60))  # (window s, operations) per bot and thread


@dataclass
class ConnectorCall:
    kind: str  # "send", "reply", "update", "member", "create"
    conversation: str
    activity_id: str | None
    body: dict[str, Any]
    authorization: str | None
    at: float = field(default_factory=time.monotonic)  # when it arrived


class BotConnectorStandIn:
    """Start with `await start()`; `base` is the serviceUrl to put in activities."""

    def __init__(self, authorize: Callable[[str | None], bool] | None = None) -> None:
        self.authorize = authorize
        self.calls: list[ConnectorCall] = []
        self.messages: dict[str, dict[str, Any]] = {}
        self.members: dict[str, dict[str, Any]] = {}
        self.unexpected: list[str] = []
        self.refused: list[str] = []  # activities over the size limit
        self.thread_limits = False  # True: Teams' per-thread rate limits answer 429
        self.throttled: list[str] = []  # "<method> <conversation>" answered 429
        self._operations: dict[str, list[float]] = {}
        self._ids = itertools.count(1)
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.base = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base = f"http://127.0.0.1:{port}/"

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def add_member(
        self, user_id: str, aad_object_id: str, name: str, email: str | None, upn: str = ""
    ) -> None:
        """A member the lookup finds by Teams user id or AAD object id (TeamsChannelAccount shape)."""
        member = {
            "id": user_id,
            "name": name,
            "aadObjectId": aad_object_id,
            "email": email,
            "userPrincipalName": upn or email,
            "givenName": name,
            "tenantId": "",
            "userRole": "user",
        }
        self.members[user_id] = member
        self.members[aad_object_id] = member

    async def until(self, condition: Callable[[], bool]) -> None:
        """Wait until `condition()` holds, checked after every call received (the test timeout bounds it)."""
        while not condition():
            self._changed.clear()
            await self._changed.wait()

    def _record(self, call: ConnectorCall) -> None:
        self.calls.append(call)
        self._changed.set()

    def of(self, kind: str) -> list[ConnectorCall]:
        return [c for c in self.calls if c.kind == kind]

    def posted(self) -> list[ConnectorCall]:
        return [c for c in self.calls if c.kind in ("send", "reply")]

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path  # decoded
        if self.authorize is not None and not self.authorize(request.headers.get("Authorization")):
            self.unexpected.append(f"unauthenticated {request.method} {path}")
            return web.json_response({"error": {"code": "Unauthorized"}}, status=401)
        if path == "/v3/conversations" and request.method == "POST":
            return await self._create(request)
        activities, member = ACTIVITIES.match(path), MEMBER.match(path)
        if activities and request.method in ("POST", "PUT"):
            return await self._activity(request, activities)
        if member and request.method == "GET":
            return self._member(request, member)
        self.unexpected.append(f"{request.method} {path}")
        return web.json_response({"error": {"code": "NotFound"}}, status=404)

    async def _activity(self, request: web.Request, match: re.Match[str]) -> web.Response:
        raw = await request.read()
        body = await request.json()
        images = [len(uri) for uri in _inline_images(body)]
        if len(raw) - sum(images) > MESSAGE_LIMIT or any(size > IMAGE_LIMIT * 4 // 3 + 64 for size in images):
            self.refused.append(request.path)
            return web.json_response(
                {"error": {"code": "MessageSizeTooBig", "message": "Message size too big"}}, status=413
            )
        conversation, activity_id = match["conversation"], match["id"]
        if self._over_thread_limit(conversation):
            self.throttled.append(f"{request.method} {conversation}")
            return web.json_response(
                {"error": {"code": "Throttled", "message": "Too many requests"}},
                status=429,
                headers={"Retry-After": "1"},
            )
        if request.method == "PUT":
            kind = "update"
            if activity_id not in self.messages:
                self.unexpected.append(f"update of unknown activity {activity_id}")
                return web.json_response({"error": {"code": "NotFound"}}, status=404)
            self.messages[activity_id] = body
            new_id = activity_id
        else:
            kind = "reply" if activity_id else "send"
            new_id = f"bot-{next(self._ids)}"
            self.messages[new_id] = body
        self._record(
            ConnectorCall(kind, conversation, activity_id, body, request.headers.get("Authorization"))
        )
        return web.json_response({"id": new_id})

    def _over_thread_limit(self, conversation: str) -> bool:
        if not self.thread_limits:
            return False
        now = time.monotonic()
        done = [t for t in self._operations.get(conversation, []) if now - t < THREAD_LIMITS[-1][0]]
        if any(sum(1 for t in done if now - t < window) >= most for window, most in THREAD_LIMITS):
            return True
        self._operations[conversation] = [*done, now]
        return False

    async def _create(self, request: web.Request) -> web.Response:
        """Teams: `{"isGroup": true, "channelData": {"channel": {"id": ...}}, "activity": {...}}` posts
        the activity as a new thread; its conversation id is `<channel>;messageid=<activity id>`."""
        body = await request.json()
        channel = ((body.get("channelData") or {}).get("channel") or {}).get("id")
        if not body.get("isGroup") or not channel or not body.get("activity"):
            self.unexpected.append(f"create conversation without a channel and an activity: {body}")
            return web.json_response({"error": {"code": "BadArgument"}}, status=400)
        new_id = f"bot-{next(self._ids)}"
        self.messages[new_id] = body["activity"]
        conversation = f"{channel};messageid={new_id}"
        self._record(ConnectorCall("create", conversation, None, body, request.headers.get("Authorization")))
        return web.json_response({"id": conversation, "activityId": new_id})

    def _member(self, request: web.Request, match: re.Match[str]) -> web.Response:
        self._record(
            ConnectorCall(
                "member", match["conversation"], match["id"], {}, request.headers.get("Authorization")
            )
        )
        member = self.members.get(match["id"])
        if member is None:
            return web.json_response(
                {"error": {"code": "MemberNotFoundInConversation", "message": "not a member"}}, status=404
            )
        return web.json_response(member)


def _inline_images(body: dict[str, Any]) -> list[str]:
    """The `data:image/...` URIs of an activity's attachments (Teams shows them inline)."""
    return [
        str(a.get("contentUrl"))
        for a in body.get("attachments") or []
        if str(a.get("contentUrl", "")).startswith("data:image/")
    ]
