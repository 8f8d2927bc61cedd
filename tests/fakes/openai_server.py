"""ScriptedOpenAIServer: a stand-in for vLLM / llama.cpp's /v1/chat/completions on loopback.

It answers queued replies in order and records every request. Like the real servers it
rejects a malformed request with HTTP 400; on top of that it writes down what a real
server would silently accept but the bot must never send (no schema, temperature not 0,
no token limit) in `problems`, which the fixtures assert is empty.

    async with ScriptedOpenAIServer() as server:
        server.reply_json({"intent": "query", ...})
        server.reply_status(503)
        ... point the client at server.base_url ...
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Scripted:
    """One queued reply: a completion (content), an HTTP error, or a stall."""

    content: str | None = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    delay_s: float = 0.0
    finish_reason: str = "stop"
    prompt_tokens: int | None = None
    completion_tokens: int = 20


@dataclass
class Recorded:
    body: dict[str, Any]
    headers: dict[str, str]

    @property
    def messages(self) -> list[dict[str, str]]:
        return list(self.body.get("messages", []))

    @property
    def schema(self) -> dict[str, Any] | None:
        fmt = self.body.get("response_format") or {}
        if fmt.get("type") == "json_schema":
            return (fmt.get("json_schema") or {}).get("schema")
        return fmt.get("schema")


class ScriptedOpenAIServer:
    """Answers `POST /v1/chat/completions` from a queue; `GET /health`, `GET /v1/models`."""

    def __init__(self, model: str = "stand-in-model", context_tokens: int | None = None) -> None:
        self.model = model
        self.context_tokens = context_tokens  # like vLLM's max_model_len: longer prompts get a 400
        self.queue: deque[Scripted] = deque()
        self.requests: list[Recorded] = []
        self.problems: list[str] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ------------------------------------------------------------------ script

    def reply_json(self, value: dict[str, Any], **kw: Any) -> None:
        self.queue.append(Scripted(content=json.dumps(value), **kw))

    def reply_text(self, content: str, **kw: Any) -> None:
        self.queue.append(Scripted(content=content, **kw))

    def reply_status(self, status: int, body: str = "", headers: dict[str, str] | None = None) -> None:
        self.queue.append(
            Scripted(status=status, body=body or json.dumps({"error": "scripted"}), headers=headers or {})
        )

    def stall(self, seconds: float) -> None:
        """Answer only after `seconds` (longer than the client's timeout: it times out)."""
        self.queue.append(Scripted(content="{}", delay_s=seconds))

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def __aenter__(self) -> ScriptedOpenAIServer:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._completions)
        app.router.add_get("/v1/models", self._models)
        app.router.add_get("/health", self._health)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # ------------------------------------------------------------------ handlers

    async def _health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": self.model, "object": "model"}]})

    async def _completions(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"error": {"message": "body is not JSON"}}, status=400)
        error = self._check_shape(body)
        self.requests.append(Recorded(body=body, headers=dict(request.headers)))
        if error:
            self.problems.append(error)
            return web.json_response(
                {"error": {"message": error, "type": "invalid_request_error"}}, status=400
            )
        overflow = self._overflow(body)
        if overflow:
            return overflow
        if not self.queue:
            self.problems.append("request arrived with no scripted reply left")
            return web.json_response({"error": {"message": "no scripted reply"}}, status=500)
        scripted = self.queue.popleft()
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if scripted.delay_s:
                await asyncio.sleep(scripted.delay_s)
            return self._answer(scripted, body)
        finally:
            self.in_flight -= 1

    def _overflow(self, body: dict[str, Any]) -> web.Response | None:
        """vLLM's refusal of a prompt longer than the context, in its words (prompt tokens
        estimated at 4 characters each)."""
        if self.context_tokens is None:
            return None
        prompt = sum(len(str(m.get("content", ""))) for m in body["messages"]) // 4
        wanted = int(body.get("max_tokens") or 0)
        if prompt + wanted <= self.context_tokens:
            return None
        message = (
            f"This model's maximum context length is {self.context_tokens} tokens. However, you requested "
            f"{prompt + wanted} tokens ({prompt} in the messages, {wanted} in the completion). "
            "Please reduce the length of the messages or completion."
        )
        error = {"message": message, "type": "BadRequestError", "param": None, "code": 400}
        return web.json_response({"object": "error", **error}, status=400)

    def _answer(self, scripted: Scripted, body: dict[str, Any]) -> web.Response:
        if scripted.status != 200:
            return web.Response(
                status=scripted.status,
                text=scripted.body or "",
                headers=scripted.headers,
                content_type="application/json",
            )
        prompt = scripted.prompt_tokens
        if prompt is None:  # a rough stand-in for a tokenizer: ~4 characters per token
            prompt = sum(len(m.get("content", "")) for m in body["messages"]) // 4
        return web.json_response(
            {
                "id": f"chatcmpl-{len(self.requests)}",
                "object": "chat.completion",
                "model": self.model,
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": scripted.finish_reason,
                        "message": {"role": "assistant", "content": scripted.content},
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt,
                    "completion_tokens": scripted.completion_tokens,
                    "total_tokens": prompt + scripted.completion_tokens,
                },
            }
        )

    @staticmethod
    def _check_shape(body: dict[str, Any]) -> str:
        """What vLLM would reject (400), or what the bot must always send."""
        if not body.get("model"):
            return "model missing"
        if body.get("temperature") != 0:
            return "temperature must be 0"
        if not body.get("max_completion_tokens") or not body.get("max_tokens"):
            return "max_completion_tokens and max_tokens must both be set"
        return _check_messages(body.get("messages")) or _check_format(body.get("response_format"))


def _check_messages(messages: object) -> str:
    if not isinstance(messages, list) or not messages:
        return "messages must be a non-empty list"
    for m in messages:
        if not isinstance(m, dict) or m.get("role") not in {"system", "user", "assistant"}:
            return f"bad message {m!r}"
        if not isinstance(m.get("content"), str):
            return "message content must be a string"
    return ""


def _check_format(fmt: object) -> str:
    if not isinstance(fmt, dict):
        return "response_format missing: output would not be schema-constrained"
    if fmt.get("type") == "json_schema":
        spec = fmt.get("json_schema") or {}
        if not spec.get("name") or not isinstance(spec.get("schema"), dict):
            return "json_schema needs a name and a schema"
        return ""
    if fmt.get("type") == "json_object":
        return (
            "" if isinstance(fmt.get("schema"), dict) else "json_object without a schema is not constrained"
        )
    return f"unknown response_format type {fmt.get('type')!r}"
