"""Alerts start their own read-only diagnosis; the findings go to a thread on each chat platform.

    receive(alerts, group)
      firing, new fingerprint   -> claim it (Cache.add: once across retries and replicas)
                                -> one thread per group on every poster (Slack channel, Teams
                                   channel; Alertmanager's groupKey: a storm is one thread), one
                                   diagnosis per batch over the matched assets
                                -> kernel.submit as the alerts principal (viewer: read tools only),
                                   channel "alerts", thread = the group's id
                                -> findings in the threads; suggestions (remediations) become
                                   buttons that any person clicks as a normal request (approval)
      firing, known fingerprint -> nothing (it is being or was diagnosed: no second run)
      resolved                  -> "resolved" in its threads; the fingerprint is released, so a
                                   later firing starts a new diagnosis

The group's threads are kept in the cache (Redis across replicas), and the kernel keeps the
diagnosis message (its thread: the group's id) with the execution, so a diagnosis another
replica resumes after a restart is posted where it belongs: `deliver` is the sweeper's
deliverer for the "alerts" platform. The runbook is the one configured for the alert's name
(`runbooks`), else the configured default (`runbook`), else the one the catalog declares for the
alert (`diagnoses:` on a definition: that alert's own before any alert's, `ToolRegistry.diagnosis_for`);
a runbook that is not read-only is never used. Its arguments come from the alerts' labels (`arguments`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from adapters.alerts.mapping import assets_for
from adapters.alerts.payloads import Alert, Receipt
from pipeline.contracts import ChatIdentity, InboundMessage, Response, Risk, ToolCall, new_id
from pipeline.nlu.messages import structured
from pipeline.ports import AssetDirectory, Cache
from pipeline.registry import ToolRegistry

log = logging.getLogger(__name__)

ALERTS_IDENTITY = ChatIdentity(platform="alerts", user_id="alertmanager", display_name="Alerts")
ALERTS_CHANNEL = "alerts"
RESUMED_HEADLINE = "🔁 A diagnosis interrupted by a restart has finished; its findings follow in this thread."
_GROUP = "alerts:group:"
_GROUP_OF = "alerts:fingerprint-group:"
Submit = Callable[[InboundMessage], Awaitable[Response]]


class AlertPoster(Protocol):
    """Where diagnosis threads go (a Slack channel, a Teams channel)."""

    name: str  # the platform: "slack", "teams"
    channel: str

    async def open(self, text: str) -> str:
        """Post a thread's first message; returns the thread id."""
        ...

    async def note(self, thread: str, text: str) -> None: ...

    async def findings(self, message: InboundMessage, response: Response) -> None:
        """Post the diagnosis answer in `message.thread` of `message.channel` (with its buttons)."""
        ...


@dataclass(frozen=True)
class AlertConfig:
    labels: tuple[str, ...] = ("instance", "host", "hostname", "nodename", "job")
    runbook: str = ""  # every alert's diagnosis; "": the one the catalog declares (`diagnoses:`)
    runbooks: dict[str, str] = field(default_factory=dict)  # alert name -> catalog tool
    remember_s: float = 7 * 86400.0  # how long a firing alert's thread is remembered
    arguments: dict[str, str] = field(default_factory=lambda: {"service": "service"})  # argument <- label


class AlertDiagnosis:
    def __init__(
        self,
        submit: Submit,
        assets: AssetDirectory,
        registry: ToolRegistry,
        cache: Cache,
        posters: Sequence[AlertPoster],
        config: AlertConfig = AlertConfig(),
    ) -> None:
        self.submit = submit
        self.assets = assets
        self.registry = registry
        self.cache = cache
        self.posters = list(posters)
        self.config = config
        self.tasks: set[asyncio.Task[Any]] = set()

    async def receive(self, alerts: Sequence[Alert], group: str = "") -> Receipt:
        receipt = Receipt()
        for alert in [a for a in alerts if a.status == "resolved"]:
            if await self._resolve(alert):
                receipt.resolved.append(alert.fingerprint)
        fresh: list[Alert] = []
        for alert in [a for a in alerts if a.status == "firing"]:
            if await self.cache.add(_key(alert), b"claimed", self.config.remember_s):
                fresh.append(alert)
            else:
                receipt.duplicates.append(alert.fingerprint)
        if fresh:
            receipt.thread = await self._diagnose(fresh, group, receipt)
        return receipt

    async def drain(self) -> None:
        """Wait for the diagnoses started so far (tests, shutdown)."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)

    def stop(self) -> None:
        for task in list(self.tasks):
            task.cancel()

    async def _diagnose(self, fresh: list[Alert], group: str, receipt: Receipt) -> str:
        inventory = await self.assets.snapshot()
        targets: dict[str, list[str]] = {}  # runbook -> assets
        for alert in fresh:
            found = assets_for(alert.labels, inventory, self.config.labels)
            if not found:
                receipt.unmatched.append(alert.fingerprint)
                continue
            receipt.diagnosing.append(alert.fingerprint)
            bucket = targets.setdefault(self._runbook(alert.name), [])
            bucket.extend(n for n in found if n not in bucket)
        group_id = hashlib.sha256((group or fresh[0].fingerprint).encode()).hexdigest()[:32]
        threads = await self._threads_for(group_id, fresh, targets)
        receipt.threads = threads
        for alert in fresh:  # apart from the claim: a resolution may release it meanwhile
            await self.cache.set(_GROUP_OF + alert.fingerprint, group_id.encode(), self.config.remember_s)
        for runbook, names in targets.items():
            text = structured(ToolCall(tool=runbook, targets=tuple(names), args=self._args(runbook, fresh)))
            # channel "alerts", thread = the group: the kernel keeps the message with the execution,
            # so a diagnosis resumed after a restart still finds its threads (`deliver`)
            message = InboundMessage(
                identity=ALERTS_IDENTITY,
                text=text,
                channel=ALERTS_CHANNEL,
                thread=group_id,
                message_id=new_id(),
            )
            task = asyncio.create_task(self._run(message))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        return next(iter(threads.values()), "")

    async def deliver(self, message: InboundMessage, response: Response) -> None:
        """The findings of the diagnosis `message` asked for, in its group's thread on every poster;
        also the sweeper's deliverer for diagnoses another replica resumed after a restart."""
        threads = await self._threads(message.thread)
        if not threads:  # the threads were forgotten (an in-process cache that restarted): new ones
            threads = await self._open(message.thread, RESUMED_HEADLINE)
        for poster in self.posters:
            thread = threads.get(poster.name)
            if thread is None:
                continue
            try:
                await poster.findings(
                    message.model_copy(update={"channel": poster.channel, "thread": thread}), response
                )
            except Exception:  # one platform down must not keep the findings from the other
                log.exception("could not post the diagnosis findings to %s", poster.name)

    async def _threads_for(
        self, group_id: str, fresh: list[Alert], targets: dict[str, list[str]]
    ) -> dict[str, str]:
        """The group's open threads, or new ones headed by what fired (a storm stays one thread)."""
        known = await self._threads(group_id)
        if known:
            for poster in self.posters:
                if poster.name in known:
                    await poster.note(known[poster.name], _headline(fresh, targets, again=True))
            return known
        return await self._open(group_id, _headline(fresh, targets))

    async def _open(self, group_id: str, headline: str) -> dict[str, str]:
        threads: dict[str, str] = {}
        for poster in self.posters:
            try:
                threads[poster.name] = await poster.open(headline)
            except Exception:
                log.exception("could not open an alert thread on %s", poster.name)
        await self.cache.set(_GROUP + group_id, json.dumps(threads).encode(), self.config.remember_s)
        return threads

    async def _threads(self, group_id: str) -> dict[str, str]:
        raw = await self.cache.get(_GROUP + group_id) if group_id else None
        found = json.loads(raw) if raw else {}
        return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}

    async def _run(self, message: InboundMessage) -> None:
        try:
            response = await self.submit(message)
            await self.deliver(message, response)
        except Exception:  # the alert stays claimed; the thread says nothing more
            log.exception("alert diagnosis failed for %s", message.text)

    async def _resolve(self, alert: Alert) -> bool:
        if not await self.cache.get(_key(alert)):  # never firing here, or released already
            return False
        await self.cache.delete(_key(alert))  # released: a new firing diagnoses again
        group = await self.cache.get(_GROUP_OF + alert.fingerprint)  # none yet: still opening threads
        threads = await self._threads(group.decode()) if group else {}
        for poster in self.posters:
            if poster.name in threads:
                await poster.note(threads[poster.name], f"✅ Resolved: {alert.name} ({_labels(alert)}).")
        return True

    def _args(self, runbook: str, fresh: list[Alert]) -> dict[str, str]:
        """Arguments the runbook takes, read from the alerts' labels (`arguments`: argument <- label)."""
        fields = self.registry.get(runbook).args_model.model_fields
        args: dict[str, str] = {}
        for arg, label in self.config.arguments.items():
            value = next((a.labels[label] for a in fresh if a.labels.get(label)), "")
            if arg in fields and value:
                args[arg] = value
        return args

    def _runbook(self, alert_name: str) -> str:
        for name in (self.config.runbooks.get(alert_name), self.config.runbook):
            if name and name in self.registry and self.registry.get(name).risk is Risk.READ:
                return name
        declared = self.registry.diagnosis_for(alert_name)
        if declared is None:
            raise LookupError("no read-only tool in the catalog diagnoses alerts (`diagnoses:`)")
        return declared.name


def _key(alert: Alert) -> str:
    return f"alerts:fingerprint:{alert.fingerprint}"


def _labels(alert: Alert) -> str:
    shown = {k: v for k, v in alert.labels.items() if k != "alertname"}
    return ", ".join(f"{k}={v}" for k, v in sorted(shown.items())[:6])


def _headline(fresh: list[Alert], targets: dict[str, list[str]], *, again: bool = False) -> str:
    names = sorted({a.name for a in fresh})
    assets = sorted({n for found in targets.values() for n in found})
    first = fresh[0]
    lines = [
        f"🔔 {'More alerts' if again else 'Alert'}: {', '.join(names)} ({len(fresh)} firing)"
        + (f" on {', '.join(assets)}" if assets else " — no inventory asset matches the labels"),
    ]
    if first.summary:
        lines.append(first.summary)
    if targets:
        lines.append(
            "Diagnosing with " + ", ".join(f"`{r}`" for r in targets) + "; findings follow in this thread."
        )
    return "\n".join(lines)
