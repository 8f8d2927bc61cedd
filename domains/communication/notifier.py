"""Delivery through Apprise: route a (channel, to) pair to a configured URL, send, retry, log.

Routing (`route_for`), with route names as in `NotifyConfig.channels`:
- email: "email:<to>" if configured, else the "email" URL with its recipient set to
  `to` (Apprise's ``to=`` parameter); `to` must be an e-mail address.
- slack: "slack:<to>" if configured, else the "slack" URL posting to channel `to`
  (``to=#ops-alerts``).
- sms: "sms:<to>" if configured, else the "sms" URL with ``to=<phone number>``.
- webhook and teams: `to` names a configured route ("webhook:<to>" or "<to>"); the
  plain "webhook"/"teams" URL is used when `to` is "default" or the kind itself.
Nothing here ever returns, logs or raises a channel URL or its secrets.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import apprise

from domains.communication.config import NotifyConfig
from domains.communication.ports import DeliveryAttempt, DeliveryLog, DeliveryStatus
from domains.communication.redact import ChannelRedactor, mask_recipient
from pipeline.errors import InvalidRequest, ToolFailed

log = logging.getLogger(__name__)

_EMAIL = re.compile(r"^[^@\s/?&#]+@[A-Za-z0-9.-]+\.?[A-Za-z0-9-]*$")
_PHONE = re.compile(r"^\+?[\d\s().-]{7,20}$")
_SLACK_TARGET = re.compile(r"^[#@]?[\w.-]{1,80}$")
_NAMED_KINDS = ("webhook", "teams")
_KINDS = ("email", "slack", "teams", "webhook", "sms")


@dataclass(frozen=True)
class Route:
    """Where a message goes: the route name (safe to show) and the URL (secret)."""

    name: str
    url: str
    to_redacted: str


@dataclass(frozen=True)
class DeliveryOutcome:
    route: str
    to_redacted: str
    attempts: int
    status: DeliveryStatus
    error: str = ""


def route_for(config: NotifyConfig, channel: str, to: str) -> Route:
    """The route for `channel` and `to`; InvalidRequest/ToolFailed say what is missing, never a URL."""
    to = to.strip()
    exact = config.url(f"{channel}:{to}")
    if exact is not None:
        return Route(f"{channel}:{mask_recipient(to)}", exact, mask_recipient(to))
    if channel in _NAMED_KINDS:
        return _named_route(config, channel, to)
    default = config.url(channel)
    if default is None:
        raise ToolFailed(f"no {channel} channel is configured")
    return Route(channel, with_recipient(default, _recipient(channel, to)), mask_recipient(to))


def _named_route(config: NotifyConfig, channel: str, to: str) -> Route:
    if to in ("", "default", channel):
        default = config.url(channel)
        if default is not None:
            return Route(channel, default, channel)
    elif ":" not in to and to not in _KINDS:
        named = config.url(to)
        if named is not None:
            return Route(to, named, to)
    names = sorted(n.split(":", 1)[1] for n in config.channels if n.startswith(f"{channel}:"))
    known = f"; configured: {', '.join(names)}" if names else ""
    raise ToolFailed(f"no {channel} named {to!r} is configured{known}")


def _recipient(channel: str, to: str) -> str:
    if channel == "email" and not _EMAIL.match(to):
        raise InvalidRequest(f"{to!r} is not an e-mail address")
    if channel == "sms" and not _PHONE.match(to):
        raise InvalidRequest(f"{to!r} is not a phone number")
    if channel == "slack" and not _SLACK_TARGET.match(to):
        raise InvalidRequest(f"{to!r} is not a Slack channel or user (e.g. #ops-alerts)")
    return re.sub(r"[\s().-]", "", to) if channel == "sms" else to


def with_recipient(url: str, to: str) -> str:
    """`url` with its ``to=`` parameter replaced by `to` (other parameters kept)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k.lower() != "to"]
    query.append(("to", to))
    return urlunsplit(parts._replace(query=urlencode(query)))


class Notifier:
    """Sends one message over one route with retries and backoff, logging every attempt."""

    def __init__(
        self,
        config: NotifyConfig,
        *,
        log_store: DeliveryLog | None = None,
        redactor: ChannelRedactor | None = None,
    ) -> None:
        self.config = config
        self.log_store = log_store
        self.redact = redactor or ChannelRedactor(s.get_secret_value() for s in config.channels.values())

    async def deliver(
        self,
        route: Route,
        *,
        channel: str,
        title: str,
        body: str,
        template: str | None = None,
        execution_id: str | None = None,
    ) -> DeliveryOutcome:
        """Send until one attempt succeeds or retries run out; never raises for a failed send."""
        self.redact.add_urls([route.url])
        attempts, error = 0, ""
        for attempts in range(1, self.config.retries + 2):
            error = await self._attempt(route.url, title, body)
            last = attempts == self.config.retries + 1
            status: DeliveryStatus = "sent" if not error else ("failed" if last else "retrying")
            entry = DeliveryAttempt(
                channel, route.name, route.to_redacted, status, attempts, error, template, execution_id
            )
            await self._log(entry)
            if not error:
                return DeliveryOutcome(route.name, route.to_redacted, attempts, "sent")
            if not last:
                await asyncio.sleep(self._backoff(attempts))
        return DeliveryOutcome(route.name, route.to_redacted, attempts, "failed", error)

    def _backoff(self, attempt: int) -> float:
        return float(min(self.config.backoff_s * 2 ** (attempt - 1), self.config.backoff_max_s))

    async def _attempt(self, url: str, title: str, body: str) -> str:
        """'' when delivered, else why not (redacted)."""
        notifier = apprise.Apprise()
        if not notifier.add(url):
            return "the configured URL is not a valid Apprise URL"
        try:
            async with asyncio.timeout(self.config.attempt_timeout_s + 1):
                result = await notifier.async_notify(
                    body=body,
                    title=title,
                    body_format=apprise.NotifyFormat.TEXT,
                    timeout=self.config.attempt_timeout_s,
                    log_level=logging.WARNING,  # capture why a service failed, per call
                )
        except TimeoutError:
            return f"no answer within {self.config.attempt_timeout_s:g} s"
        except Exception as err:  # Apprise plugins raise whatever their SDKs raise
            return self.redact(f"{type(err).__name__}: {err}")
        if result:
            return ""
        return self.redact(_failure_text(result))

    async def _log(self, entry: DeliveryAttempt) -> None:
        if self.log_store is None:
            return
        try:
            await asyncio.shield(self.log_store.record(entry))
        except Exception:
            log.warning("could not log a %s delivery attempt", entry.channel, exc_info=True)


def _failure_text(result: Any) -> str:
    """The warnings Apprise captured for a failed call, or its status."""
    messages: list[str] = []
    logs = getattr(result, "logs", None)
    if callable(logs):
        for entry in logs():
            level = getattr(entry, "level", logging.WARNING)
            if isinstance(level, str):
                level = logging.getLevelName(level.upper())
            if not isinstance(level, int) or level >= logging.WARNING:
                messages.append(str(getattr(entry, "message", entry)))
    status = getattr(result, "status", None)
    fallback = f"delivery failed ({getattr(status, 'value', status) or 'no detail'})"
    return "; ".join(dict.fromkeys(messages))[:500] or fallback
