"""The Teams adapter: botbuilder's CloudAdapter in front of the kernel.

    POST /api/messages (adapters.teams.http: JSON, JWT) -> CloudAdapter turn -> TeamsBot
      message        -> tenant + identity + dedupe -> WorkQueue -> submit -> card (posted once,
                        progress and answer update it in place, proactively)
      card click     -> invoke `adaptiveCard/action` (Action.Execute) or message with value
                        (Action.Submit) -> decide in the background; the invoke is answered
                        with the refreshed card (who decided, when) within `invoke_wait_s`,
                        the shared card is updated for everyone, then progress and result
      suggestion     -> Action.Submit {"verb": "suggest", "text"}: the request it carries, handled
                        as a message from the clicker (their rights and approvals)

The adapter holds no business rules: rights, approvals and idempotency of runs are the
kernel's. It only makes sure one Teams delivery becomes at most one kernel call.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Coroutine
from typing import Any

from botbuilder.core import ActivityHandler, InvokeResponse, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import AdaptiveCardInvokeResponse, ChannelAccount, ConversationReference
from botframework.connector.auth import BotFrameworkAuthentication, ServiceClientCredentialsFactory

from adapters.progress import ThrottledProgress
from adapters.teams import parse, render
from adapters.teams.auth import build_authentication
from adapters.teams.config import TeamsConfig
from adapters.teams.memory import ConversationMemory
from adapters.teams.metrics import TeamsMetrics
from adapters.teams.outbox import CardThread
from adapters.teams.people import TeamsPeople
from adapters.work_queue import WorkQueue
from pipeline import messages
from pipeline.contracts import (
    ApprovalPrompt,
    ChatIdentity,
    Decision,
    InboundMessage,
    Progress,
    Reply,
    Response,
)
from pipeline.ports import Cache, Decide, Submit

log = logging.getLogger(__name__)

BUSY = "I'm busy with other requests right now and did not start this one. Please try again in a minute."
BAD_BUTTON = "That button is not one I know; nothing was run."
OTHER_TENANT = (
    "Sorry, this OpsConductor serves other organisations only, so I can't act on requests "
    "from yours. Ask your administrator if you think this is wrong."
)
WELCOME = (
    "Hi, I'm OpsConductor. Mention me in a channel (@OpsConductor <request>) or write to me "
    "here; changes are shown as a plan and wait for an approver. Type `help` for examples."
)
CARD_RESPONSE = "application/vnd.microsoft.card.adaptive"
MESSAGE_RESPONSE = "application/vnd.microsoft.activity.message"
ERROR_RESPONSE = "application/vnd.microsoft.error"


class TeamsAdapter:
    """Teams in front of the kernel. Wire with `submit`, `decide` and a `Cache` (dedupe, member
    lookups, approval cards); `credentials` replaces the app-password token factory."""

    def __init__(
        self,
        config: TeamsConfig,
        *,
        submit: Submit,
        decide: Decide,
        cache: Cache,
        authentication: BotFrameworkAuthentication | None = None,
        credentials: ServiceClientCredentialsFactory | None = None,
        metrics: TeamsMetrics | None = None,
    ) -> None:
        self.config = config
        self.metrics = metrics
        self.submit = submit
        self.decide = decide
        self.cache = cache
        self.cloud = CloudAdapter(authentication or build_authentication(config, credentials))
        self.bot = TeamsBot(self)
        self.queue = WorkQueue(config.queue_size, config.workers, name="teams")
        self.people = TeamsPeople(cache, config.member_ttl_s)
        self.memory = ConversationMemory(cache, config.card_ttl_s)
        self._background: set[asyncio.Task[Any]] = set()

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        if not self.config.auth_enabled:
            log.warning("teams authentication is off (no app id): for local testing only")
        await self.queue.start()

    async def stop(self) -> None:
        await self.drain()
        await self.queue.stop()
        reused = getattr(self.cloud.bot_framework_authentication, "reused_credentials", None)
        if reused is not None:
            reused.close()  # the login thread

    async def drain(self) -> None:
        """Wait until every accepted request and click has been answered (tests, shutdown)."""
        while True:
            await self.queue.join()
            if not self._background:
                return
            await asyncio.gather(*list(self._background), return_exceptions=True)

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("teams background work failed: %r", task.exception())

    async def _first(self, context: TurnContext) -> bool:
        """True the first time this activity is seen within the dedupe TTL (across replicas
        with Redis); Teams redelivers when it did not get an answer in time."""
        activity = context.activity
        conversation = activity.conversation.id if activity.conversation else ""
        key = f"teams:activity:{parse.tenant_of(activity)}:{conversation}:{activity.id or ''}"
        if not activity.id:
            return True
        try:
            first = await self.cache.add(key, b"1", self.config.dedupe_ttl_s)
        except Exception:  # fail open: an unavailable cache must not silence the bot
            log.warning("dedupe cache unavailable; handling %s anyway", activity.id, exc_info=True)
            return True
        if not first and self.metrics:
            self.metrics.duplicates.inc()
        return first

    def _thread(self, context: TurnContext, activity_id: str | None = None) -> CardThread:
        return self._thread_for(TurnContext.get_conversation_reference(context.activity), activity_id)

    def _thread_for(self, reference: ConversationReference, activity_id: str | None = None) -> CardThread:
        return CardThread(self.cloud, reference, self.config.app_id, activity_id)

    # ------------------------------------------------------------------ admission

    async def admit(self, context: TurnContext) -> ChatIdentity | str:
        """The sender's identity (completed with e-mail), or the refusal to show them."""
        activity = context.activity
        if not self.config.tenant_allowed(parse.tenant_of(activity)):
            log.info("teams request from a tenant not allowed: %r", parse.tenant_of(activity)[:64])
            return OTHER_TENANT
        identity = parse.identity_of(activity)
        if identity is None:
            return messages.UNKNOWN_PERSON
        return await self.people.complete(context, identity)

    # ------------------------------------------------------------------ messages

    async def on_message(self, context: TurnContext) -> None:
        """A request, or a suggestion button's request sent as the clicker's own message."""
        suggestion = parse.suggested(context.activity)
        click = parse.card_click(context.activity) if suggestion is None else None
        if click is not None:
            await self._on_submit(context, click)
            return
        admitted = await self.admit(context)
        if isinstance(admitted, str) or suggestion == "":
            await context.send_activity(admitted if isinstance(admitted, str) else BAD_BUTTON)
            return
        if not await self._first(context):
            log.info("duplicate teams activity ignored: %s", context.activity.id)
            return
        message = parse.inbound(context.activity, admitted)
        thread = self._thread(context)
        await self.memory.keep_reference(
            message.message_id, TurnContext.get_conversation_reference(context.activity)
        )
        if not self.queue.offer(lambda: self._answer(message, thread)):
            await self._busy(context)

    async def _answer(self, message: InboundMessage, thread: CardThread) -> None:
        """Run one request through the kernel; progress, then the answer, on one card."""

        async def show(event: Progress) -> None:
            await thread.show(render.render_progress(event), f"Running {event.tool}")

        progress = ThrottledProgress(show, self.config.progress_interval_s)
        response = await self.guarded(self.submit(message, progress), progress)
        content = render.render(response)
        if isinstance(response, ApprovalPrompt):  # a plan too long for its card: whole, just above it
            for part in render.prompt_parts(response):
                await thread.post(part, "The plan awaiting approval")
        await thread.show(content, response.summary)
        if isinstance(response, ApprovalPrompt):
            await self.memory.keep_card(response.execution_id, content, thread.activity_id)
        elif response.files:
            await thread.attach(response.files)

    async def deliver(self, message: InboundMessage, response: Response) -> None:
        """A later answer to a request (an expired approval, a run finished elsewhere): it
        replaces the request's approval card when there is one, else is posted in its thread.
        Raises LookupError when the request's conversation reference is no longer known."""
        reference = await self.memory.reference(message.message_id)
        if reference is None:
            raise LookupError(f"no conversation reference kept for {message.message_id}")
        kept = await self.memory.card(response.execution_id) if response.execution_id else None
        thread = self._thread_for(reference, kept.activity_id if kept else None)
        decided = response.decided if isinstance(response, Reply) else None
        header = [render.decided_stamp(decided)] if decided is not None else []  # decided elsewhere
        await thread.show(render.render(response, header), response.summary)
        if isinstance(response, Reply) and response.files:
            await thread.attach(response.files)

    # ------------------------------------------------------------------ card clicks

    async def on_card_invoke(self, context: TurnContext) -> InvokeResponse:
        """`adaptiveCard/action`: answered (HTTP 200) with a card or a message for the clicker."""
        click = parse.card_click(context.activity)
        admitted = await self.admit(context)
        if isinstance(admitted, str):
            return _message(admitted)
        if click is None or not click.known:
            log.info("unknown teams card action ignored")
            return _invoke(
                AdaptiveCardInvokeResponse(
                    status_code=400, type=ERROR_RESPONSE, value={"code": "BadRequest", "message": BAD_BUTTON}
                )
            )
        if not await self._first(context):
            return _message(messages.DUPLICATE)
        decision = parse.decision(context.activity, click, admitted)
        who = admitted.display_name or admitted.email or admitted.user_id
        if decision.action != "decide":
            return await self._aside(context, decision, who, click)
        run = DecisionRun(self, decision, who, click, self._thread(context, click.card_activity_id))
        task = self._spawn(run.run())
        await asyncio.wait([task], timeout=self.config.invoke_wait_s)
        if task.done() and not task.cancelled() and task.exception() is None:
            response: Response = task.result()
            if not took_effect(response):
                return _message(response.summary)
            return _card(render.render(response, [run.stamp()]))
        run.interim = True  # the card is settled when the decision is through
        if run.progress.first.is_set():  # running: the decision took effect
            return _card(render.render_text("⏳ Running…", [run.stamp()]))
        return _card(render.card([run.stamp(pending=True)]))

    async def _aside(
        self, context: TurnContext, decision: Decision, who: str, click: parse.CardClick
    ) -> InvokeResponse:
        """Check first on a prompt, Undo on a result: the answer (the check's result, the undo's
        approval prompt) is posted below; the card clicked stays as it was, buttons included."""
        run = DecisionRun(self, decision, who, click, self._thread(context, None))
        task = self._spawn(run.run())
        if decision.action == "undo":
            return _message(f"↩️ {who} asked to undo it; the plan to approve follows below.")
        if decision.action == "cancel":  # quick (a stored request): the clicker learns if it was refused
            await asyncio.wait([task], timeout=self.config.invoke_wait_s)
            done = task.done() and not task.cancelled() and task.exception() is None
            if done and not took_effect(task.result()):
                return _message(task.result().summary)
            return _message(f"⏹ {who} asked to cancel it; the run's commands are being stopped.")
        kept = await self.memory.card(decision.execution_id)
        note = f"🔎 {who} asked for a check; its result follows below. The approval is still open."
        return _card(render.with_note(kept.content, note)) if kept is not None else _message(note)

    async def _on_submit(self, context: TurnContext, click: parse.CardClick) -> None:
        """Action.Submit (older clients): no reply to the click, so the card itself says it all."""
        admitted = await self.admit(context)
        if isinstance(admitted, str):
            await context.send_activity(admitted)
            return
        if not click.known:
            await context.send_activity(BAD_BUTTON)
            return
        if not await self._first(context):
            return
        decision = parse.decision(context.activity, click, admitted)
        who = admitted.display_name or admitted.email or admitted.user_id
        card = click.card_activity_id if decision.action == "decide" else None  # a check posts anew
        run = DecisionRun(self, decision, who, click, self._thread(context, card))
        run.interim = True  # nobody was answered: a refusal goes onto the card
        if not self.queue.offer(run.settled):
            await self._busy(context)

    # ------------------------------------------------------------------ plumbing

    async def _busy(self, context: TurnContext) -> None:
        if self.metrics:
            self.metrics.rejected.inc()
        await context.send_activity(BUSY)

    async def guarded(self, call: Awaitable[Response], progress: ThrottledProgress) -> Response:
        try:
            return await call
        except Exception as err:  # the kernel answers its own errors; this is a bug somewhere
            log.exception("teams request failed")
            return Reply(outcome="error", summary=messages.INTERNAL.format(kind=type(err).__name__))
        finally:
            await progress.close()


class DecisionRun:
    """One approve/reject click going through the kernel, shown on the approval card."""

    def __init__(
        self, adapter: TeamsAdapter, decision: Decision, who: str, click: parse.CardClick, thread: CardThread
    ) -> None:
        self.adapter = adapter
        self.decision = decision
        self.who = who
        self.click = click
        self.thread = thread
        self.interim = False  # the clicker was shown "working": the card must be settled afterwards
        self.progress = ThrottledProgress(self._show_progress, adapter.config.progress_interval_s)

    def stamp(self, pending: bool = False) -> render.Element:
        if pending:
            return render.pending_stamp(self.who, self.decision.approve, self.click.when)
        return render.decision_stamp(self.who, self.decision.approve, self.click.when, self.decision.action)

    async def _show_progress(self, event: Progress) -> None:
        await self.thread.show(render.render_progress(event, [self.stamp()]), f"Running {event.tool}")

    async def settled(self) -> None:
        await self.run()

    async def run(self) -> Response:
        response = await self.adapter.guarded(
            self.adapter.decide(self.decision, self.progress), self.progress
        )
        if took_effect(response):
            await self.thread.show(render.render(response, [self.stamp()]), response.summary)
        elif self.interim:
            await self._settle(response)
        return response

    async def _settle(self, response: Response) -> None:
        """The click did nothing (refused, already decided): put the prompt back with why."""
        kept = await self.adapter.memory.card(self.decision.execution_id)
        if kept is not None and self.thread.activity_id is not None:
            await self.thread.show(render.with_note(kept.content, f"{self.who}: {response.summary}"))
        else:
            await self.thread.say(f"{self.who}: {response.summary}")


class TeamsBot(ActivityHandler):  # type: ignore[misc]
    """botbuilder's view of the adapter: routes activity kinds to it."""

    def __init__(self, adapter: TeamsAdapter) -> None:
        self.adapter = adapter

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        await self.adapter.on_message(turn_context)

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        # botbuilder 4.17.1's own adaptiveCard/action path answers 500 (it serialises the
        # response body twice), so card actions are answered here with a model body.
        if turn_context.activity.name == parse.CARD_ACTION:
            return await self.adapter.on_card_invoke(turn_context)
        return await super().on_invoke_activity(turn_context)

    async def on_members_added_activity(
        self, members_added: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        bot_id = turn_context.activity.recipient.id if turn_context.activity.recipient else None
        allowed = self.adapter.config.tenant_allowed(parse.tenant_of(turn_context.activity))
        if allowed and any(m.id == bot_id for m in members_added):
            await turn_context.send_activity(WELCOME)


def took_effect(response: Response) -> bool:
    """A run's result, or a rejection this click made; not a refusal or an earlier decision."""
    if not isinstance(response, Reply):
        return True
    return response.outcome == "answer" or (
        response.outcome == "approval_result" and response.plan is not None
    )


def _invoke(body: AdaptiveCardInvokeResponse) -> InvokeResponse:
    return InvokeResponse(status=200, body=body)


def _card(content: render.Card) -> InvokeResponse:
    return _invoke(AdaptiveCardInvokeResponse(status_code=200, type=CARD_RESPONSE, value=content))


def _message(text: str) -> InvokeResponse:
    """A message for the clicker only. Its value is a string, which the botbuilder model
    (value typed as a dict) cannot serialise, so the body is the wire JSON itself."""
    return InvokeResponse(status=200, body={"statusCode": 200, "type": MESSAGE_RESPONSE, "value": text})
