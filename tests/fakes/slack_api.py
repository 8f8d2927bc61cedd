"""Stand-in for Slack's cloud on loopback: the Web API, file uploads, response_url and the
Socket Mode websocket. It records what Slack would have received.

Messages are checked against Slack's Block Kit limits and refused as Slack refuses them
(`invalid_blocks`: more than 50 blocks, a section or context text over 3,000 characters, a
button value over 2,000, a table block over 100 rows or 20 cells a row; `only_one_table_allowed`:
two table blocks; `msg_too_long`: text over 40,000 characters).

Web API methods answer like slack.com/api: `auth.test`, `chat.postMessage`,
`chat.update`, `chat.postEphemeral`, `users.info`, `files.getUploadURLExternal` (+ the
upload URL it hands out), `files.completeUploadExternal`, `apps.connections.open`
(returns a ws:// URL served here). `rate_limit_once(method)` makes the next call of
a method answer 429 with Retry-After: 0, as Slack does when rate limited. With
`update_interval_s` set, editing one message again sooner than that answers 429 with
Retry-After: 1 (Slack allows about one `chat.update` per second on a message) and is noted
in `too_fast`. Any other method fails the test.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

BOT_USER = "UBOT"
BOT_ID = "BBOT"
TEAM = "T1"


@dataclass
class ApiCall:
    method: str
    args: dict[str, Any]
    token: str
    at: float = field(default_factory=time.monotonic)  # when it arrived


@dataclass
class SocketSession:
    """One Socket Mode connection: envelopes to push, acks received."""

    ws: web.WebSocketResponse
    acks: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)


class SlackApiStandIn:
    """Mock Slack Web API server (aiohttp on 127.0.0.1); start with `await start()`."""

    def __init__(self) -> None:
        self.calls: list[ApiCall] = []
        self.uploads: list[bytes] = []
        self.responses: list[dict[str, Any]] = []  # response_url posts
        self.users: dict[str, dict[str, Any]] = {}
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}
        self.not_member: set[str] = set()  # channels where chat.postMessage answers not_in_channel
        self.unexpected: list[str] = []
        self._rate_limited: set[str] = set()
        self.update_interval_s = 0.0  # > 0: a message edited again sooner answers 429
        self.too_fast: list[ApiCall] = []
        self._edited: dict[tuple[str, str], float] = {}
        self._ts = itertools.count(1)
        self._files = itertools.count(1)
        self.sockets: asyncio.Queue[SocketSession] = asyncio.Queue()
        self._runner: web.AppRunner | None = None
        self.base = ""

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> str:
        app = web.Application()
        app.add_routes(
            [
                web.post("/api/{method}", self._api),
                web.get("/api/{method}", self._api),
                web.post("/upload/{file_id}", self._upload),
                web.post("/respond/{token}", self._respond),
                web.get("/link", self._socket),
                web.route("*", "/{tail:.*}", self._unknown),
            ]
        )
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base = f"http://127.0.0.1:{port}"
        return f"{self.base}/api/"

    async def close(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    # ------------------------------------------------------------------ test controls

    def rate_limit_once(self, method: str) -> None:
        self._rate_limited.add(method)

    def add_user(self, user_id: str, email: str | None, name: str = "") -> None:
        profile = {"display_name": name or user_id, "real_name": name or user_id}
        if email:
            profile["email"] = email
        self.users[user_id] = {"id": user_id, "name": name or user_id, "profile": profile}

    def response_url(self, token: str = "r1") -> str:
        return f"{self.base}/respond/{token}"

    def of(self, method: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method == method]

    def methods(self) -> list[str]:
        return [c.method for c in self.calls]

    # ------------------------------------------------------------------ handlers

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await _args(request)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ") or str(args.get("token", ""))
        self.calls.append(ApiCall(method, args, token))
        if method in self._rate_limited:
            self._rate_limited.discard(method)
            return web.json_response(
                {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "0"}
            )
        if method == "chat.update" and self._edited_too_soon(args):
            self.too_fast.append(self.calls[-1])
            return web.json_response(
                {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "1"}
            )
        answer = getattr(self, "_" + method.replace(".", "_"), None)
        if answer is None:
            self.unexpected.append(method)
            return web.json_response({"ok": False, "error": "unknown_method"}, status=404)
        return web.json_response(answer(args, token))

    def _edited_too_soon(self, args: dict[str, Any]) -> bool:
        if self.update_interval_s <= 0:
            return False
        key, now = (str(args.get("channel")), str(args.get("ts"))), time.monotonic()
        if now - self._edited.get(key, float("-inf")) < self.update_interval_s:
            return True
        self._edited[key] = now
        return False

    def _auth_test(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        return {
            "ok": True,
            "user_id": BOT_USER,
            "bot_id": BOT_ID,
            "team_id": TEAM,
            "team": "Test",
            "user": "ops",
        }

    def _chat_postMessage(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        channel = str(args.get("channel"))
        if channel in self.not_member:
            return {"ok": False, "error": "not_in_channel"}
        refused = block_kit_error(args)
        if refused:
            return {"ok": False, "error": refused}
        ts = f"1700000000.{next(self._ts):06d}"
        message = {
            "ts": ts,
            "text": args.get("text"),
            "blocks": args.get("blocks"),
            "thread_ts": args.get("thread_ts"),
        }
        self.messages[(channel, ts)] = message
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _chat_update(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        key = (str(args.get("channel")), str(args.get("ts")))
        if key not in self.messages:
            return {"ok": False, "error": "message_not_found"}
        refused = block_kit_error(args)
        if refused:
            return {"ok": False, "error": refused}
        self.messages[key].update(text=args.get("text"), blocks=args.get("blocks"))
        return {"ok": True, "channel": key[0], "ts": key[1], "text": args.get("text")}

    def _chat_postEphemeral(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        return {"ok": True, "message_ts": f"1700000000.{next(self._ts):06d}"}

    def _users_info(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        user = self.users.get(str(args.get("user")))
        return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}

    def _files_getUploadURLExternal(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        file_id = f"F{next(self._files):04d}"
        return {"ok": True, "upload_url": f"{self.base}/upload/{file_id}", "file_id": file_id}

    def _files_completeUploadExternal(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        files = json.loads(args["files"]) if isinstance(args.get("files"), str) else args.get("files", [])
        return {"ok": True, "files": [{"id": f["id"], "title": f.get("title", "")} for f in files]}

    def _apps_connections_open(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        if not token.startswith("xapp-"):
            return {"ok": False, "error": "not_allowed_token_type"}
        return {"ok": True, "url": f"ws://127.0.0.1:{self.base.rsplit(':', 1)[1]}/link"}

    async def _upload(self, request: web.Request) -> web.Response:
        self.uploads.append(await request.read())
        return web.Response(text=f"OK - {len(self.uploads[-1])}")

    async def _respond(self, request: web.Request) -> web.Response:
        self.responses.append(await request.json())
        return web.Response(text="ok")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        session = SocketSession(ws)
        await ws.send_json({"type": "hello", "num_connections": 1, "debug_info": {"host": "stand-in"}})
        await self.sockets.put(session)
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                await session.acks.put(json.loads(msg.data))
        return ws

    async def _unknown(self, request: web.Request) -> web.Response:
        self.unexpected.append(f"{request.method} {request.path}")
        return web.Response(status=404)


def block_kit_error(args: dict[str, Any]) -> str | None:
    """The error Slack answers for a message over its limits, or None."""
    if len(str(args.get("text") or "")) > 40_000:
        return "msg_too_long"
    blocks = args.get("blocks") or []
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    if len(blocks) > 50:
        return "invalid_blocks"
    tables = [b for b in blocks if b.get("type") == "table"]
    if len(tables) > 1:
        return "only_one_table_allowed"
    if any(table_error(t) for t in tables):
        return "invalid_blocks"
    for block in blocks:
        texts = [block.get("text") or {}, *(block.get("elements") or [])]
        if any(len(str(t.get("text", ""))) > 3_000 for t in texts if isinstance(t, dict)):
            return "invalid_blocks"
        if any(
            len(str(e.get("value", ""))) > 2_000 for e in block.get("elements") or [] if isinstance(e, dict)
        ):
            return "invalid_blocks"
    return None


def table_error(block: dict[str, Any]) -> str | None:
    """What Slack's table block refuses: no rows, over 100 rows or 20 cells a row (or 20 column
    settings), a cell that is not raw_text/rich_text, an empty raw_text."""
    rows = block.get("rows")
    if not isinstance(rows, list) or not rows or len(rows) > 100:
        return "rows: 1 to 100"
    if len(block.get("column_settings") or []) > 20:
        return "column_settings: at most 20"
    for row in rows:
        if not isinstance(row, list) or not row or len(row) > 20:
            return "cells: 1 to 20 a row"
        for cell in row:
            if not isinstance(cell, dict) or cell.get("type") not in {"raw_text", "rich_text"}:
                return "cell type"
            if cell["type"] == "raw_text" and not cell.get("text"):
                return "empty raw_text"
    return None


async def _args(request: web.Request) -> dict[str, Any]:
    """Arguments as Slack reads them: query string plus a JSON or form body."""
    args: dict[str, Any] = dict(request.query)
    if request.method == "GET":
        return args
    if request.content_type == "application/json":
        body = await request.json()
        args.update(body if isinstance(body, dict) else {})
    else:
        args.update(await request.post())
    return args
