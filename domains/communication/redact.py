"""Secrets inside Apprise channel URLs are never echoed: redaction for URLs, recipients and text.

`url_secrets(url)` lists the fragments of a channel URL that are secret: the password,
values of credential-like query parameters and, for token-addressed services
(``slack://TokenA/TokenB/TokenC``, ``msteams://...``, ``twilio://SID:token@...``), the
user, host and path segments that are not a channel, user or phone number. Web and mail
URLs keep their host and plain path words. `ChannelRedactor` removes all of them (and
their URL-encoded forms) from any text, on top of `pipeline.redaction.Redactor`'s
generic patterns.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

from pipeline.redaction import REDACTED, Redactor

WEB_SCHEMES = frozenset(
    {"http", "https", "json", "jsons", "xml", "xmls", "form", "forms", "mailto", "mailtos", "email", "smtp"}
)
_SECRET_PARAM = re.compile(
    r"^(?:pass(?:word)?|pw|secret|token|key|apikey|api_key|access_token|auth|authorization"
    r"|sig|signature|webhook|code|client_secret|user_key|app_key|appkey)$",
    re.IGNORECASE,
)
_ADDRESSING = re.compile(r"^(?:[#@+]|%23|%40|%2B|\d{7,15}$)")  # channels, users, phone numbers
_TOKEN_LIKE = re.compile(r"^(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9_\-.~=]{12,}$")


def url_secrets(url: str) -> list[str]:
    """The secret fragments of one channel URL (decoded), longest first."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return [url]
    web = parts.scheme.lower() in WEB_SCHEMES
    found: list[str] = []
    if parts.password:
        found.append(parts.password)
    if parts.username and not web:
        found.append(parts.username)
    host = parts.netloc.rsplit("@", 1)[-1]
    if host and not web and not _ADDRESSING.match(host):
        found.append(host.rsplit(":", 1)[0] if host.count(":") == 1 else host)
    for segment in filter(None, parts.path.split("/")):
        if (not web and not _ADDRESSING.match(segment)) or _TOKEN_LIKE.match(segment):
            found.append(segment)
    for key, value in parse_qsl(parts.query, keep_blank_values=False):
        if value and (_SECRET_PARAM.match(key) or _TOKEN_LIKE.match(value)):
            found.append(value)
    decoded = {unquote(f) for f in found} | set(found)
    return sorted((f for f in decoded if f), key=len, reverse=True)


def redact_url(url: str) -> str:
    """The URL with every secret fragment replaced by [REDACTED]; scheme and host kept where public."""
    secrets = url_secrets(url)
    try:
        parts = urlsplit(url)
    except ValueError:
        return REDACTED
    netloc = _redact_netloc(parts.netloc, secrets)
    path = "/".join(REDACTED if unquote(s) in secrets else s for s in parts.path.split("/"))
    query = "&".join(_redact_pair(pair, secrets) for pair in parts.query.split("&")) if parts.query else ""
    return urlunsplit((parts.scheme, netloc, path, query, parts.fragment))  # "#channel" is public


def _redact_netloc(netloc: str, secrets: list[str]) -> str:
    userinfo, _, host = netloc.rpartition("@")
    if unquote(host.rsplit(":", 1)[0]) in secrets:
        host = REDACTED + (":" + host.rsplit(":", 1)[1] if host.count(":") == 1 else "")
    if not userinfo:
        return host
    user, colon, _password = userinfo.partition(":")
    user = REDACTED if unquote(user) in secrets else user
    return f"{user}{':' + REDACTED if colon else ''}@{host}"


def _redact_pair(pair: str, secrets: list[str]) -> str:
    key, equals, value = pair.partition("=")
    return f"{key}={REDACTED}" if equals and unquote(value) in secrets else pair


def mask_recipient(to: str) -> str:
    """A recipient as it may be logged: o***@example.org, ***4321 for phone numbers."""
    to = to.strip()
    if "@" in to and not to.startswith("@"):
        local, _, domain = to.rpartition("@")
        return f"{local[:1]}***@{domain}"
    digits = re.sub(r"[^\d]", "", to)
    if len(digits) >= 7 and re.fullmatch(r"[\d\s()+.-]+", to):
        return f"***{digits[-4:]}"
    return to


class ChannelRedactor:
    """Removes the secrets of the configured channel URLs, and generic secrets, from text."""

    def __init__(self, urls: Iterable[str] = ()) -> None:
        self._redactor = Redactor()
        self._urls: dict[str, str] = {}
        self.add_urls(urls)

    def add_urls(self, urls: Iterable[str]) -> None:
        for url in urls:
            self._urls[url] = redact_url(url)
            self._redactor.add_secrets(url_secrets(url))

    def __call__(self, text: str) -> str:
        for url, shown in self._urls.items():
            text = text.replace(url, shown)
        return self._redactor.redact_text(text)
