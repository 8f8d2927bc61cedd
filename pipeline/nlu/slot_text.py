"""Slots read from words rather than typed values: free text led by a cue ('matching java',
'java processes'), inventory filters and fields ('the prod windows hosts', 'address=...'), and
the name of an asset that is not in the inventory yet."""

from __future__ import annotations

from typing import Any

from pipeline.nlu.english import INDEFINITES, stem
from pipeline.nlu.lexicon import COMMON, FILLER, GENERAL_VERBS, HOST_NOUNS, PRONOUNS, QUANTIFIERS, vocab
from pipeline.nlu.parse import Parse
from pipeline.nlu.reading import Reading
from pipeline.nlu.tokens import Token
from pipeline.nlu.toolwords import SlotView

_GLUE = vocab("by to on after the a an")
_SERVICE_LIKE = vocab("java python node ruby perl php docker")
_STATES = frozenset(stem(w) for w in vocab("running active stopped dead alive listening open"))


def free_text(slot: SlotView, reading: Reading, parse: Parse) -> str | None:
    """'matching gunicorn', "named 'java -jar'", 'gunicorn processes', or quoted text."""
    tokens = list(parse.tokens)
    follows = {p[0] for p in slot.follows}
    for i, _ in enumerate(tokens[:-1]):
        if not any(_written_before(tokens, i, lead) for lead in slot.leads):
            continue
        following = [t for t in tokens[i + 1 : i + 3] if t.low not in _GLUE]
        if following and _text_word(following[0], reading, parse):
            return following[0].text
    for i, token in enumerate(tokens[1:], 1):
        if stem(token.low) in follows and _text_word(tokens[i - 1], reading, parse):
            return tokens[i - 1].text
    after_name = _after_name(reading, parse) if slot.required else None
    if after_name is not None:
        return after_name
    services = [str(v.value) for v in parse.values if v.has("service") and not v.weak]
    return services[0] if services and slot.leads and _cue_written(slot, parse) else None


def _written_before(tokens: list[Token], at: int, lead: tuple[str, ...]) -> bool:
    """The whole lead ends at token `at` ('filtered by' X, not any 'by': 'processes by memory')."""
    start = at - len(lead) + 1
    return start >= 0 and tuple(stem(t.low) for t in tokens[start : at + 1]) == lead


def _after_name(reading: Reading, parse: Parse) -> str | None:
    """'the package version pack for curl': the word after a tool's written name (and 'for' / 'of' /
    'with') is what it is asked about (its required text)."""
    named = [i for m in reading.matches if m.role == "name" for i in m.tokens]
    if not named:
        return None
    end = max(parse.position(i) for i in named)
    following = [t for t in parse.tokens[end + 1 : end + 3] if t.low not in _GLUE | _NAME_LINKS]
    return following[0].text if following and _text_word(following[0], reading, parse) else None


_NAME_LINKS = vocab("for of with")


def _cue_written(slot: SlotView, parse: Parse) -> bool:
    cues = {p[0] for p in (*slot.leads, *slot.follows)}
    return any(stem(t.low) in cues for t in parse.tokens)


def _text_word(token: Token, reading: Reading, parse: Parse) -> bool:
    """Quoted text or a word that is not a verb, pronoun, filler, glue or one of the tool's words."""
    if token.kind == "quote":
        return True
    if token.kind != "word" or token.index in parse.claimed or token.low.isdigit():
        return False
    own = {i for m in reading.matches for i in m.tokens}
    ignored = GENERAL_VERBS | FILLER | COMMON | PRONOUNS | QUANTIFIERS | HOST_NOUNS | INDEFINITES
    if token.index in own or token.low in _SERVICE_LIKE:
        return token.low in _SERVICE_LIKE
    return token.low not in ignored and stem(token.low) not in _STATES


def query_filters(parse: Parse) -> dict[str, Any]:
    """What an inventory question selects by: one value per field, tags, the service."""
    sel = parse.targets.selector
    args: dict[str, Any] = {}
    single = {"type": sel.types, "os": sel.os, "environment": sel.environments, "location": sel.locations}
    for key, found in single.items():
        if len(found) == 1:
            args[key] = found[0]
    if sel.tags:
        args["tags"] = dict(sel.tags)
    if len(sel.services) == 1:
        args["service"] = sel.services[0]
    if len(parse.targets.names) == 1 and not sel.is_set():
        args["name"] = parse.targets.names[0]
    return args


def inventory_fields(parse: Parse) -> dict[str, Any]:
    """Fields an inventory change sets: key=value pairs first, then the selector's words."""
    sel = parse.targets.selector
    kv = {v.key: str(v.value) for v in parse.values if v.has("kv")}
    fields: dict[str, Any] = {}
    for key in ("address", "type", "os", "environment", "location"):
        if key in kv:
            fields[key] = kv[key]
    for short, key in {"env": "environment", "loc": "location", "ip": "address"}.items():
        if short in kv:
            fields[key] = kv[short]
    for key, found in (("environment", sel.environments), ("location", sel.locations), ("os", sel.os)):
        if found and key not in fields:
            fields[key] = found[0]
    if len(sel.types) == 1 and "type" not in fields:
        fields["type"] = sel.types[0]
    if sel.tags:
        fields["tags"] = dict(sel.tags)
    if "address" not in fields and parse.targets.raw:
        fields["address"] = parse.targets.raw[0]
    return fields


def new_name(parse: Parse) -> str | None:
    """The name of an asset being added: a host-like word the inventory does not know yet."""
    kv = {v.key: str(v.value) for v in parse.values if v.has("kv")}
    names = parse.targets.unknown or ([kv["name"]] if "name" in kv else [])
    return names[0] if names else None
