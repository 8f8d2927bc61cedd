"""Where answers go: one message posted once and then updated, files, ephemeral notes.

A `Conversation` posts its first message with chat.postMessage and edits that same
message with chat.update afterwards, so progress and the final answer cost one post and
a few updates. Slash commands in channels the bot has not joined fall back to the
command's response_url (limited to five uses, so no progress there).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.slack.metrics import SlackMetrics
from adapters.slack.render import ATTACH_FAILED, SlackMessage
from pipeline.ports import Cache

log = logging.getLogger(__name__)
NOT_A_MEMBER = {"not_in_channel", "channel_not_found", "is_archived"}


def retry_handlers(rate_limit_retries: int) -> list[Any]:
    """429 answers wait for Retry-After and try again; dropped connections are retried once."""
    return [
        AsyncConnectionErrorRetryHandler(max_retry_count=1),
        AsyncRateLimitErrorRetryHandler(max_retry_count=rate_limit_retries),
    ]


class Responder:
    """Posts to a payload's response_url (ephemeral notes, command answers)."""

    def __init__(self, rate_limit_retries: int = 3, metrics: SlackMetrics | None = None) -> None:
        self._retries = rate_limit_retries
        self._metrics = metrics

    async def send(self, url: str, message: SlackMessage, **options: Any) -> bool:
        client = AsyncWebhookClient(url, retry_handlers=retry_handlers(self._retries))
        if self._metrics:
            self._metrics.api_calls.labels("response_url").inc()
        answer = await client.send(text=message.text, blocks=message.blocks or None, **options)
        if answer.status_code != 200:
            log.warning("response_url answered %s", answer.status_code)
        return answer.status_code == 200

    async def ephemeral(self, url: str | None, text: str) -> None:
        if url:
            await self.send(url, SlackMessage(text=text), response_type="ephemeral", replace_original=False)


class Conversation:
    """One answer in one channel/thread: posted once, then updated in place."""

    def __init__(
        self,
        client: AsyncWebClient,
        channel: str,
        *,
        thread_ts: str | None = None,
        ts: str | None = None,
        response_url: str | None = None,
        responder: Responder | None = None,
        metrics: SlackMetrics | None = None,
    ) -> None:
        self.client = client
        self.channel = channel
        self.thread_ts = thread_ts
        self.ts = ts
        self._response_url = response_url
        self._responder = responder
        self._via_response_url = False
        self._metrics = metrics

    async def show(self, message: SlackMessage, *, final: bool = True) -> None:
        """Post or update the answer; progress (`final=False`) is skipped on response_url."""
        if self._via_response_url:
            if final:
                await self._respond(message)
            return
        try:
            await self._post_or_update(message)
        except SlackApiError as err:
            if err.response.get("error") not in NOT_A_MEMBER or not self._can_respond():
                raise
            log.info("not a member of %s; answering through response_url", self.channel)
            self._via_response_url = True
            if final:
                await self._respond(message)
        if final and not self._via_response_url:
            for path in message.files:
                await self.upload(path)
        if final and message.full_text:
            attached = not self._via_response_url and await self.attach(
                message.full_text, message.file_name, message.file_title
            )
            if not attached and message.must_attach:  # the message points at a file that is not there
                await (
                    self._respond(SlackMessage(text=ATTACH_FAILED))
                    if self._via_response_url
                    else self.note(ATTACH_FAILED)
                )

    async def upload(self, path: str) -> bool:
        """Upload a local file (a chart) into the answer's thread (files.uploadV2 flow); True when done."""
        self._count("files.uploadV2")
        name = Path(path).name
        try:
            await self.client.files_upload_v2(
                channel=self.channel,
                thread_ts=self.thread_ts or self.ts,
                file=path,
                filename=name,
                title=name,
            )
        except (SlackApiError, OSError) as err:  # the answer's text stands without its chart
            log.warning("upload of %s failed: %s", name, err)
            return False
        return True

    async def attach(self, content: str, name: str, title: str) -> bool:
        """Upload the full text as a file (files.uploadV2 flow) next to the answer; True when done."""
        self._count("files.uploadV2")
        try:
            await self.client.files_upload_v2(
                channel=self.channel,
                thread_ts=self.thread_ts or self.ts,
                content=content,
                filename=name,
                title=title,
            )
        except SlackApiError as err:  # the shortened answer is already there
            log.warning("upload of %s failed: %s", name, err.response.get("error"))
            return False
        return True

    async def note(self, text: str) -> None:
        """A short extra message in the same thread (busy, refusals)."""
        self._count("chat.postMessage")
        await self.client.chat_postMessage(channel=self.channel, thread_ts=self.thread_ts, text=text)

    async def _post_or_update(self, message: SlackMessage) -> None:
        if self.ts is None:
            self._count("chat.postMessage")
            answer = await self.client.chat_postMessage(
                channel=self.channel, thread_ts=self.thread_ts, text=message.text, blocks=message.blocks
            )
            self.ts = str(answer["ts"])
            self.channel = str(answer.get("channel") or self.channel)
        else:
            self._count("chat.update")
            await self.client.chat_update(
                channel=self.channel, ts=self.ts, text=message.text, blocks=message.blocks
            )

    def _can_respond(self) -> bool:
        return bool(self._response_url and self._responder and self.ts is None)

    async def _respond(self, message: SlackMessage) -> None:
        assert self._response_url and self._responder
        await self._responder.send(self._response_url, message, response_type="in_channel")

    def _count(self, method: str) -> None:
        if self._metrics:
            self._metrics.api_calls.labels(method).inc()


@dataclass(frozen=True)
class KeptPrompt:
    channel: str
    ts: str


class PromptMemory:
    """Where each approval prompt was posted, in the shared Cache (Redis across replicas), so that
    a decision made through another door updates it as a click would. Best effort: without it
    the decision is posted in the request's thread instead."""

    def __init__(self, cache: Cache, ttl_s: float) -> None:
        self._cache = cache
        self._ttl_s = ttl_s

    async def keep(self, execution_id: str, channel: str, ts: str) -> None:
        value = json.dumps({"channel": channel, "ts": ts}).encode()
        try:
            await self._cache.set(f"slack:prompt:{execution_id}", value, self._ttl_s)
        except Exception:
            log.warning("cache unavailable; the prompt of %s is not kept", execution_id, exc_info=True)

    async def get(self, execution_id: str) -> KeptPrompt | None:
        try:
            raw = await self._cache.get(f"slack:prompt:{execution_id}")
            data = json.loads(raw) if raw else None
        except Exception:
            log.warning("cache unavailable; the prompt of %s is not known", execution_id, exc_info=True)
            return None
        if not isinstance(data, dict) or not data.get("channel") or not data.get("ts"):
            return None
        return KeptPrompt(str(data["channel"]), str(data["ts"]))
