"""Alerts start their own read-only diagnosis; the findings go to a chat thread.

    receive(alerts, group)
      firing, new fingerprint   -> claim it (Cache.add: once across retries and replicas)
                                -> one thread per group (Alertmanager's groupKey; a storm is one
                                   thread), one diagnosis per batch over the matched assets
                                -> kernel.submit as the alerts principal (viewer: read tools only)
                                -> findings in the thread; suggestions become buttons that any
                                   person clicks as a normal request (normal approval)
      firing, known fingerprint -> nothing (it is being or was diagnosed: no second run)
      resolved                  -> "resolved" in its thread; the fingerprint is released, so a
                                   later firing starts a new diagnosis

The runbook is the one configured for the alert's name, else the default (`diag.collect`),
else the fallback when the catalog lacks it; a runbook that is not read-only is never used.
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
Submit = Callable[[InboundMessage], Awaitable[Response]]


class AlertPoster(Protocol):
    """Where diagnosis threads go (a Slack channel, say)."""

    channel: str

    async def open(self, text: str) -> str:
        """Post a thread's first message; returns the thread id."""
        ...

    async def note(self, thread: str, text: str) -> None: ...

    async def findings(self, message: InboundMessage, response: Response) -> None:
        """Post the diagnosis answer in `message.thread` (rendered with its buttons)."""
        ...


@dataclass(frozen=True)
class AlertConfig:
    labels: tuple[str, ...] = ("instance", "host", "hostname", "nodename", "job")
    runbook: str = "diag.collect"
    fallback_runbook: str = "automation.system_info"
    runbooks: dict[str, str] = field(default_factory=dict)  # alert name -> catalog tool
    remember_s: float = 7 * 86400.0  # how long a firing alert's thread is remembered


class AlertDiagnosis:
    def __init__(
        self,
        submit: Submit,
        assets: AssetDirectory,
        registry: ToolRegistry,
        cache: Cache,
        poster: AlertPoster,
        config: AlertConfig = AlertConfig(),
    ) -> None:
        self.submit = submit
        self.assets = assets
        self.registry = registry
        self.cache = cache
        self.poster = poster
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
        thread = await self._thread(group or fresh[0].fingerprint, fresh, targets)
        for alert in fresh:
            await self.cache.set(_key(alert), json.dumps({"thread": thread}).encode(), self.config.remember_s)
        for runbook, names in targets.items():
            text = structured(ToolCall(tool=runbook, targets=tuple(names)))
            message = InboundMessage(
                identity=ALERTS_IDENTITY,
                text=text,
                channel=self.poster.channel,
                thread=thread,
                message_id=new_id(),
            )
            task = asyncio.create_task(self._run(message))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        return thread

    async def _thread(self, group: str, fresh: list[Alert], targets: dict[str, list[str]]) -> str:
        """The group's open thread, or a new one headed by what fired (a storm stays one thread)."""
        slot = "alerts:group:" + hashlib.sha256(group.encode()).hexdigest()
        known = await self.cache.get(slot)
        if known:
            thread = known.decode()
            await self.poster.note(thread, _headline(fresh, targets, again=True))
            return thread
        thread = await self.poster.open(_headline(fresh, targets))
        await self.cache.set(slot, thread.encode(), self.config.remember_s)
        return thread

    async def _run(self, message: InboundMessage) -> None:
        try:
            response = await self.submit(message)
            await self.poster.findings(message, response)
        except Exception:  # the alert stays claimed; the thread says nothing more
            log.exception("alert diagnosis failed for %s", message.text)

    async def _resolve(self, alert: Alert) -> bool:
        raw = await self.cache.get(_key(alert))
        if raw is None or raw == b"claimed":
            return False
        await self.cache.set(_key(alert), b"", ttl_s=0.001)  # released: a new firing diagnoses again
        thread = json.loads(raw).get("thread", "")
        if thread:
            await self.poster.note(thread, f"✅ Resolved: {alert.name} ({_labels(alert)}).")
        return True

    def _runbook(self, alert_name: str) -> str:
        for name in (self.config.runbooks.get(alert_name), self.config.runbook, self.config.fallback_runbook):
            if name and name in self.registry and self.registry.get(name).risk is Risk.READ:
                return name
        raise LookupError("no read-only diagnosis runbook in the catalog (alerts.runbook)")


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
