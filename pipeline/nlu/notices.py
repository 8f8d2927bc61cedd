"""Notification text: the free-text message of 'notify #ops that ...' is quoted so it stays data.

The recipient (#channel, address, phone, webhook URL, or a name rewritten by
`recipients.name_recipient`) anchors the message; how it is sent ('on slack') and
politeness ('? thanks') are not part of it; ', then <verb>' starts the next step.
"""

from __future__ import annotations

import functools
import re

from pipeline.nlu.recipients import name_recipient

__all__ = ["cut_message", "name_recipient"]

_NOTIFY_ANCHOR = re.compile(
    r"\bto='[^']+'|\bhttps?://[^\s<>\"'`]*[^\s<>\"'`.,;:!?)]|(?<![\w.+-])[\w.+-]++@[\w-]+(?:\.[\w-]+)+|(?<![\w&])#[\w][\w.-]*|(?<![\w+])\+\d[\d\s().-]{6,18}\d|"
    r"\b(?:slack|teams|sms|e-?mail|webhook|on-?call)\b",
    re.IGNORECASE,
)
_URL = re.compile(r"\bhttps?://[^\s<>\"'`]*[^\s<>\"'`.,;:!?)]")
_NOTIFY_VERB = re.compile(
    r"\b(?:send|notify|e-?mail|mail|post|message|tell|inform|page|alert|text|let|write|announce|ping|sms|"
    r"trigger|call|fire)\b",
    re.IGNORECASE,
)
_MESSAGE_START = re.compile(
    r"\s*(?::|\b(?:saying|that says|which says|to say|with (?:the )?(?:message|text|note)|"
    r"telling (?:them|him|her|everyone|people)(?: that)?|that|know that|about|"
    r"(?:and )?let (?:them|him|her|everyone|people|us|the team|\w+) know(?: that)?)\b)\s*",
    re.IGNORECASE,
)


def cut_message(text: str, verbs: frozenset[str]) -> str:
    """Quote the free-text message of a notification ('... saying X') so it stays data.

    `verbs`: the verbs that start a next step after the message ('..., then restart it').
    """
    anchor = _NOTIFY_ANCHOR.search(text)
    verb = _NOTIFY_VERB.search(text)
    if anchor is None or '"' in text[anchor.end() :] or "`" in text[anchor.end() :]:
        return text
    if verb is None and anchor.start() > 0:
        return text  # no verb: only "slack #ops: ..." (the channel first) is a notification
    start = max(anchor.end(), verb.end() if verb else 0)
    start = max([start] + [u.end() for u in _URL.finditer(text)])  # "https:" starts no message
    if verb is None:
        return _leading_recipient_message(text, anchor)
    intro = _MESSAGE_START.search(text, start)
    if intro is None:
        return _after_last_recipient(text, start)
    if not text[intro.end() :].strip():
        return text
    rest = text[intro.end() :]
    follow = _next_step(verbs).search(rest)
    message, tail = (rest[: follow.start()], rest[follow.start() :]) if follow else (rest, "")
    message = _unwrap(_tidy(message)).replace("`", "'")
    if not message:
        return text
    return f"{text[: intro.start()]} `{message}` {tail}".rstrip()


_POLITE_END = re.compile(
    r"[\s,;:.!?-]*\b(?:thanks|thank you|thx|ty|cheers|please|pls|asap)\W*$", re.IGNORECASE
)
_VIA_CHAT = re.compile(
    r"^(?:on|in|via|over|through|using)\s+(?:ms\s+)?(?:slack|teams|e-?mail|sms)\b[\s,:-]*", re.IGNORECASE
)


_KNOW = re.compile(r"^know\b(?:\s+that\b)?[\s:,-]*", re.IGNORECASE)  # "let x@y.z know it's done"


def _tidy(message: str) -> str:
    """'on slack', a trailing '? thanks': how it is sent, and politeness, are not the message."""
    message = _KNOW.sub("", _VIA_CHAT.sub("", message.strip()))
    polite = _POLITE_END.search(message)
    while polite and polite.start() > 0:
        message = message[: polite.start()].rstrip(" ,;:-?!")
        polite = _POLITE_END.search(message)
    return message.strip()


def _unwrap(message: str) -> str:
    """A message written in single quotes keeps its words, not the quotes."""
    if len(message) >= 2 and message[0] == message[-1] and message[0] in "'\"":
        return message[1:-1].strip()
    return message


@functools.lru_cache(maxsize=8)
def _next_step(verbs: frozenset[str]) -> re.Pattern[str]:
    """', then restart ...' after a message starts the next step (it is still shown for approval)."""
    return re.compile(
        r"(?:[,;.]\s*(?:and\s+)?then|\band then)\s+(?=[a-z])|"
        r"[;.]\s+(?:and\s+)?(?:also\s+)?(?=(?:" + "|".join(sorted(map(re.escape, verbs))) + r")\b)",
        re.IGNORECASE,
    )


_TEMPLATE_ONLY = re.compile(
    r"(?:with|using|from|per|via)\s+(?:the\s+|our\s+|a\s+)?[\w.-]+\s+template\W*", re.IGNORECASE
)


def _after_last_recipient(text: str, start: int) -> str:
    """'email ops@example.com db-01 is back': the words after the recipient are the message."""
    recipients = [
        m
        for m in _NOTIFY_ANCHOR.finditer(text)
        if m.group(0)[0] in "#+" or "@" in m.group(0) or "://" in m.group(0)
    ]
    if not recipients or recipients[-1].end() < start:
        return text
    end = recipients[-1].end()
    rest = text[end:]
    stop = re.search(r"[;.]\s|\bthen\b", rest)
    message, tail = (rest[: stop.start()], rest[stop.start() :]) if stop else (rest, "")
    message = _tidy(message.strip(" :,-"))
    if len(message.split()) < 2 or _TEMPLATE_ONLY.fullmatch(message):
        return text  # 'email ops@example.com using the outage template': a template, no message
    return f"{text[:end]} `{message.replace('`', chr(39))}` {tail}".rstrip()


def _leading_recipient_message(text: str, anchor: re.Match[str]) -> str:
    """'teams #infra deploy finished': everything after the leading recipients is the message."""
    end = anchor.end()
    while following := _NOTIFY_ANCHOR.match(text, end + len(text[end:]) - len(text[end:].lstrip(" :,"))):
        end = following.end()
    message = _tidy(text[end:].lstrip(" :,-"))
    if not message:
        return text
    return f"{text[:end]} `{message.replace('`', chr(39))}`"
