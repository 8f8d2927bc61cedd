"""The Slack adapter: Bolt listeners that ack at once, workers that call the kernel and answer.

    HTTP (adapters.slack.http) or Socket Mode (adapters.slack.socket)
      -> Bolt AsyncApp: dedupe middleware (event_id / click / trigger_id, via Cache.add)
      -> listener: parse, `WorkQueue.offer` (full -> the user is told to retry), ack
      -> worker: users.info e-mail -> submit/decide -> throttled progress -> Block Kit answer
      a suggestion button -> the request it carries, submitted as the clicker's own message

The adapter holds no business rules: rights, approvals and idempotency of runs are the
kernel's. It only makes sure one Slack delivery becomes at most one kernel call.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from adapters.progress import ThrottledProgress
from adapters.slack import parse
from adapters.slack.config import SlackConfig
from adapters.slack.metrics import SlackMetrics
from adapters.slack.outbox import Conversation, PromptMemory, Responder, retry_handlers
from adapters.slack.people import SlackPeople
from adapters.slack.render import (
    APPROVE_ACTION,
    CANCEL_ACTION,
    CHECK_ACTION,
    REJECT_ACTION,
    SUGGEST_ACTION,
    UNDO_ACTION,
    context,
    decided_stamp_text,
    decision_stamp,
    render,
    render_progress,
    requested_by,
)
from adapters.work_queue import WorkQueue
from pipeline import messages
from pipeline.contracts import ApprovalPrompt, DecisionAction, InboundMessage, Progress, Reply, Response
from pipeline.ports import Cache, Decide, Submit
from pipeline.redaction import Redactor

log = logging.getLogger(__name__)

COMMAND = "/opsconductor"
BUSY = "I'm busy with other requests right now and did not start this one. Please try again in a minute."
BAD_BUTTON = "That button is not one I know; nothing was run."
USAGE = (
    "Mention me in a channel (`@OpsConductor <request>`), send me a direct message, "
    f"or use `{COMMAND} <request>`. Examples on your hosts follow."
)
HANDLED_SUBTYPES = {None, "bot_message", "file_share", "thread_broadcast"}


class SlackAdapter:
    """Slack in front of the kernel. Wire with `submit`, `decide` and a `Cache` (dedupe)."""

    def __init__(
        self,
        config: SlackConfig,
        *,
        submit: Submit,
        decide: Decide,
        cache: Cache,
        metrics: SlackMetrics | None = None,
        client: AsyncWebClient | None = None,
        redact: Callable[[str], str] | None = None,
    ) -> None:
        self.config = config
        self.submit = submit
        self.decide = decide
        # what the adapter itself echoes of a request (a slash command's text) is masked too
        self.redact = redact or Redactor().redact_text
        self.cache = cache
        self.metrics = metrics
        self.client = client or AsyncWebClient(
            token=config.bot_token,
            base_url=config.api_base_url,
            retry_handlers=retry_handlers(config.rate_limit_retries),
        )
        self.queue = WorkQueue(config.queue_size, config.workers, metrics, name="slack")
        self.people = SlackPeople(self.client, cache, config.email_ttl_s)
        self.responder = Responder(config.rate_limit_retries, metrics)
        self.prompts = PromptMemory(cache, config.prompt_ttl_s)
        self.bolt = self._build_bolt()
        self._background: set[asyncio.Task[Any]] = set()

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        await self.queue.start()

    async def stop(self, grace_s: float = 10.0) -> None:
        """Finish accepted requests for up to `grace_s`, then cancel what is left."""
        try:
            async with asyncio.timeout(grace_s):
                await self.drain()
        except TimeoutError:
            log.warning("slack work still running after %.0f s; cancelling it", grace_s)
        await self.queue.stop()
        for task in list(self._background):
            task.cancel()

    async def drain(self) -> None:
        """Wait until every accepted request has been answered (tests, graceful shutdown)."""
        await self.queue.join()
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("slack notice failed: %s", task.exception())

    # ------------------------------------------------------------------ Bolt wiring

    def _build_bolt(self) -> AsyncApp:
        # Signatures are checked by our HTTP endpoint before Bolt sees the request (Bolt's own
        # check logs the body on failure); Socket Mode needs none. Listeners only parse and
        # enqueue, so processing before the response still acks well within 3 s, and
        # deterministically (nothing is left running inside Bolt).
        app = AsyncApp(
            client=self.client,
            request_verification_enabled=False,
            process_before_response=True,
            ignoring_self_events_enabled=True,
            logger=log,
        )
        app.middleware(self._dedupe)
        app.event("app_mention")(self._on_mention)
        app.event("message")(self._on_message)
        app.command(COMMAND)(self._on_command)
        app.action(APPROVE_ACTION)(self._on_approve)
        app.action(REJECT_ACTION)(self._on_reject)
        app.action(re.compile("^" + SUGGEST_ACTION.format(n=r"\d+") + "$"))(self._on_suggestion)
        app.action(CHECK_ACTION)(self._on_check)
        app.action(UNDO_ACTION)(self._on_undo)
        app.action(CANCEL_ACTION)(self._on_cancel)
        app.action(re.compile(".*"))(self._on_unknown_action)
        return app

    async def _dedupe(
        self, body: dict[str, Any], next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse:
        key = parse.dedupe_key(body)
        if key is not None and not await self._first(f"delivery:{key}"):
            log.info("duplicate slack delivery ignored: %s", key)
            if self.metrics:
                self.metrics.duplicates.inc()
            return BoltResponse(status=200, body="")  # answered: Slack stops retrying
        return await next()

    async def _first(self, key: str) -> bool:
        """True the first time `key` is seen within the dedupe TTL, across replicas with Redis."""
        try:
            return await self.cache.add(f"slack:{key}", b"1", self.config.dedupe_ttl_s)
        except Exception:  # fail open: an unavailable cache must not silence the bot
            log.warning("dedupe cache unavailable; handling %s anyway", key, exc_info=True)
            return True

    # ------------------------------------------------------------------ listeners

    async def _on_mention(
        self, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        if event.get("channel_type") == "im" or not self._answers(event):
            return  # DMs arrive as message.im as well
        message, where = parse.event_message(body, event, context.bot_user_id, in_thread=True)
        self._accept(message, where)

    async def _on_message(
        self, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        if event.get("channel_type") != "im" or event.get("subtype") not in HANDLED_SUBTYPES:
            return
        if not self._answers(event):
            return
        message, where = parse.event_message(body, event, context.bot_user_id, in_thread=False)
        self._accept(message, where)

    def _answers(self, event: dict[str, Any]) -> bool:
        return self.config.answer_bots or not parse.from_bot(event)

    async def _on_command(self, ack: Callable[..., Awaitable[None]], body: dict[str, Any]) -> None:
        message, where = parse.command_message(body)
        helping = message.text.lower() in {"", "help", "?"} and bool(where.response_url)
        if helping:
            offered = self.queue.offer(lambda: self._help(message, where))
        else:
            offered = self.queue.offer(lambda: self._answer(message, where, command=True))
        if not offered:
            await ack(text=BUSY)
            return
        working = f"⏳ Working on `{parse.plain_text(self.redact(message.text)[:200], None)}`…"
        await ack(text=USAGE if helping else working)

    async def _on_approve(
        self, ack: Callable[..., Awaitable[None]], body: dict[str, Any], action: dict[str, Any]
    ) -> None:
        await self._on_click(ack, body, action, approve=True)

    async def _on_reject(
        self, ack: Callable[..., Awaitable[None]], body: dict[str, Any], action: dict[str, Any]
    ) -> None:
        await self._on_click(ack, body, action, approve=False)

    async def _on_check(
        self, ack: Callable[..., Awaitable[None]], body: dict[str, Any], action: dict[str, Any]
    ) -> None:
        await self._on_click(ack, body, action, approve=False, kind="check")

    async def _on_undo(
        self, ack: Callable[..., Awaitable[None]], body: dict[str, Any], action: dict[str, Any]
    ) -> None:
        await self._on_click(ack, body, action, approve=False, kind="undo")

    async def _on_cancel(
        self, ack: Callable[..., Awaitable[None]], body: dict[str, Any], action: dict[str, Any]
    ) -> None:
        await self._on_click(ack, body, action, approve=False, kind="cancel")

    async def _on_click(
        self,
        ack: Callable[..., Awaitable[None]],
        body: dict[str, Any],
        action: dict[str, Any],
        *,
        approve: bool,
        kind: DecisionAction = "decide",
    ) -> None:
        await ack()
        click = parse.click(body, action, approve, kind)
        if click is None:
            self._spawn(self.responder.ephemeral(body.get("response_url"), BAD_BUTTON))
        elif not self.queue.offer(lambda: self._decide(click)):
            self._spawn(self.responder.ephemeral(click.response_url, BUSY))

    async def _on_suggestion(
        self, ack: Callable[..., Awaitable[None]], body: dict[str, Any], action: dict[str, Any]
    ) -> None:
        """A suggested request clicked: sent as the clicker's own message (their rights, approvals)."""
        await ack()
        clicked = parse.suggestion(body, action)
        if clicked is None:
            self._spawn(self.responder.ephemeral(body.get("response_url"), BAD_BUTTON))
            return
        self._accept(*clicked)

    async def _on_unknown_action(
        self, ack: Callable[..., Awaitable[None]], body: dict[str, Any], action: dict[str, Any]
    ) -> None:
        await ack()
        log.info("unknown slack action id %r ignored", str(action.get("action_id"))[:64])
        self._spawn(self.responder.ephemeral(body.get("response_url"), BAD_BUTTON))

    def _accept(self, message: Any, where: parse.Where) -> None:
        if not self.queue.offer(lambda: self._answer(message, where)):
            conversation = Conversation(
                self.client, where.channel, thread_ts=where.thread_ts, metrics=self.metrics
            )
            self._spawn(conversation.note(BUSY))

    # ------------------------------------------------------------------ work

    async def _answer(self, message: Any, where: parse.Where, *, command: bool = False) -> None:
        """Run one request through the kernel and show progress, then the answer, in one message."""
        if not await self._first(f"message:{message.message_id}"):
            return  # the same message delivered as two event types
        identity = await self.people.complete(message.identity)
        message = message.model_copy(update={"identity": identity})
        conversation = Conversation(
            self.client,
            where.channel,
            thread_ts=where.thread_ts,
            response_url=where.response_url,
            responder=self.responder,
            metrics=self.metrics,
        )
        header = [requested_by(identity.user_id, self.redact(message.text))] if command else []
        progress = self._progress(conversation, header)
        response = await self._guarded(self.submit(message, progress), progress)
        await conversation.show(render(response).with_header(*header))
        if isinstance(response, ApprovalPrompt) and conversation.ts:  # a decision made elsewhere updates it
            await self.prompts.keep(response.execution_id, conversation.channel, conversation.ts)

    async def _help(self, message: InboundMessage, where: parse.Where) -> None:
        """`/opsconductor help`: the kernel's help (its examples drawn from the live inventory),
        shown to the asker only, like the usage line acked before it."""
        identity = await self.people.complete(message.identity)
        asked = message.model_copy(update={"identity": identity, "text": "help"})
        response = await self._guarded(self.submit(asked, None), ThrottledProgress(_quiet, 60.0))
        await self.responder.send(
            str(where.response_url), render(response), response_type="ephemeral", replace_original=False
        )

    async def _decide(self, click: parse.Click) -> None:
        """Apply a click: the decision goes to the kernel; the prompt message shows who decided,
        progress, then the result. Refusals and late clicks go only to the clicker."""
        identity = await self.people.complete(click.decision.identity)
        decision = click.decision.model_copy(update={"identity": identity})
        decides = decision.action == "decide"  # a check or an undo answers below; the message stays
        conversation = Conversation(
            self.client,
            click.channel,
            thread_ts=click.thread_ts if decides else (click.thread_ts or click.message_ts),
            ts=click.message_ts if decides else None,
            metrics=self.metrics,
        )
        stamp = decision_stamp(identity.user_id, decision.approve, click.when, decision.action)
        progress = self._progress(conversation, [stamp])
        response = await self._guarded(self.decide(decision, progress), progress)
        if _took_effect(response):
            await conversation.show(render(response).with_header(stamp))
        else:
            await self.responder.ephemeral(click.response_url, response.summary)

    async def deliver(self, message: InboundMessage, response: Response) -> None:
        """Post a later answer (an expired approval, a run finished elsewhere) in the request's thread.
        A decision made through another door updates the approval prompt (its buttons gone) with
        who decided, when and where, as a click would; posted in the thread when it is not known."""
        decided = response.decided if isinstance(response, Reply) else None
        kept = await self.prompts.get(response.execution_id) if decided and response.execution_id else None
        conversation = Conversation(
            self.client,
            kept.channel if kept else message.channel,
            thread_ts=message.thread or None,
            ts=kept.ts if kept else None,
            metrics=self.metrics,
        )
        shown = render(response)
        if decided is not None:
            shown = shown.with_header(context(decided_stamp_text(decided)))
        await conversation.show(shown)

    def _progress(self, conversation: Conversation, header: list[dict[str, Any]]) -> ThrottledProgress:
        async def show(event: Progress) -> None:
            await conversation.show(render_progress(event).with_header(*header), final=False)

        return ThrottledProgress(show, self.config.progress_interval_s)

    async def _guarded(self, call: Awaitable[Response], progress: ThrottledProgress) -> Response:
        try:
            return await call
        except Exception as err:  # the kernel answers its own errors; this is a bug somewhere
            log.exception("slack request failed")
            return Reply(outcome="error", summary=messages.INTERNAL.format(kind=type(err).__name__))
        finally:
            await progress.close()


async def _quiet(_: Progress) -> None:
    """A help answer has no progress to show."""


def _took_effect(response: Response) -> bool:
    """A run's result, or a rejection this click made; not a refusal or an earlier decision."""
    if not isinstance(response, Reply):
        return True
    return response.outcome == "answer" or (
        response.outcome == "approval_result" and response.plan is not None
    )
