"""Named recipients: 'notify the Infra Ops channel on teams', 'send a teams message to the NOC',
'send an email to the dba team saying ...'.

Recipients are often names, not #channels or addresses (the notification settings map names to
where they go). When a message names a channel word (teams, slack, email, sms, text, page), has
a notification verb and no #channel, address or URL, the name is rewritten as `to='<name>'` so
the rest of the pipeline reads it as the recipient (and never as hosts or as the message).
"""

from __future__ import annotations

import re

_NAME = r"(?P<name>[A-Za-z][\w&.'-]*(?:\s+[A-Za-z][\w&.'-]*){0,3}?)"
_KIND = r"(?:\s+(?:channel|group|room|chat|space))?"
_CHAT = r"(?:ms\s+|microsoft\s+)?(?:teams|slack)"
_ENDS = (
    r"(?=\s*(?::|[,.;!?]|$|\b(?:saying|that|which|with|about|to\s+say|the\s+message|telling|"
    r"on\s+" + _CHAT + r"|in\s+" + _CHAT + r"|via\s+" + _CHAT + r"|using|know)\b))"
)
_FORMS = (
    # "send a teams message to the NOC: ...", "post to Ops Team on slack that ..."
    re.compile(
        r"\bto\s+(?:the\s+)?(?:(?:channel|group|room|space)\s+)?" + _NAME + _KIND + _ENDS, re.IGNORECASE
    ),
    # "notify the Infra Ops channel on teams that ...", "tell the service desk in teams ..."
    re.compile(
        r"\b(?:notify|tell|message|inform|alert|ping|page|let)\s+(?:the\s+)?"
        + _NAME
        + _KIND
        + r"(?=\s+(?:know\s+)?(?:on|in|via)\s+"
        + _CHAT
        + r"\b)",
        re.IGNORECASE,
    ),
    # "slack the storefront team: checkout is slow" (the chat word used as the verb)
    re.compile(r"^\s*" + _CHAT + r"\s+(?:the\s+)?" + _NAME + r"(?=\s*:)", re.IGNORECASE),
    # "teams channel Network Team: ...", "the slack channel platform-alerts saying ..."
    re.compile(
        r"\b" + _CHAT + r"\s+(?:channel|group|room|chat|space)\s+(?:called\s+|named\s+)?" + _NAME + _ENDS,
        re.IGNORECASE,
    ),
    # "post in the Platform Team channel on teams that ...": the channel word closes the name
    re.compile(
        r"\b(?:in|into|on)\s+(?:the\s+)?" + _NAME + r"\s+(?:channel|group|room|space)\b", re.IGNORECASE
    ),
    # "email the dba team saying ...", "page the on-call: ..." (the channel word used as the verb)
    re.compile(r"^\s*(?:e-?mail|mail|page|text|sms)\s+(?:the\s+)?" + _NAME + _ENDS, re.IGNORECASE),
)
# a channel word standing alone (not inside a host name such as mail-gw-01)
_CHANNEL_WORD = re.compile(r"(?<![\w-])(?:" + _CHAT + r"|e-?mail|mail|sms|text|page)(?![\w-])", re.IGNORECASE)
_ADDRESSED = re.compile(r"(?<![\w&])#[\w]|@[\w-]+\.|\bhttps?://|(?<![\w+])\+\d", re.IGNORECASE)
_CHAT_WORD = re.compile(r"\b" + _CHAT + r"\b", re.IGNORECASE)
_VERB = re.compile(
    r"(?<![\w-])(?:send|notify|post|message|tell|inform|alert|page|let|write|ping|announce|e-?mail|mail|text)(?![\w-])",
    re.IGNORECASE,
)
_NOT_NAMES = frozenset(
    {
        "the",
        "a",
        "an",
        "it",
        "them",
        "him",
        "her",
        "us",
        "me",
        "everyone",
        "everybody",
        "all",
        "teams",
        "slack",
    }
)


def name_recipient(text: str) -> str:
    """Rewrite the first named chat recipient as `to='<name>'`; other text is unchanged."""
    leading = re.match(r"\s*" + _CHAT + r"\b", text, re.IGNORECASE) is not None
    if _ADDRESSED.search(text) or not _CHANNEL_WORD.search(text) or not (_VERB.search(text) or leading):
        return text
    for number, form in enumerate(_FORMS):
        for found in form.finditer(text):
            name = found.group("name").strip()
            if not _usable(name) or not (_VERB.search(text[: found.start("name")]) or leading):
                continue
            start, end = found.span()
            keep = text[start : found.start("name")] if number in {1, 2, 5} else ""  # the verb (or chat word)
            keep = re.sub(r"\bthe\s+$", "", keep, flags=re.IGNORECASE)
            rest = text[end:].lstrip()
            chat = _CHAT_WORD.search(text[start:end])
            via = f" via {chat.group(0)}" if chat and not _CHAT_WORD.search(text[:start] + rest) else ""
            return f"{text[:start]}{keep} to='{name}'{via} {rest}".strip()
    return text


def _usable(name: str) -> bool:
    """A name, not a host ('db-01'), pronoun or chat word."""
    words = name.lower().split()
    acronym = len(name) > 1 and name.split()[0].isupper() and len(name.split()[0]) > 1  # "IT Ops"
    if (
        not words
        or (words[0] in _NOT_NAMES and not acronym)
        or words[-1] in {"on", "in", "via"}
        or re.search(r"\d", name)
    ):
        return False
    return not any(
        w in {"teams", "slack", "email", "e-mail", "mail", "message", "that", "saying"} for w in words
    )
