"""Argument slots of one clause: ports, services, facts, DNS names, paths, recipients, numbers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pipeline.nlu.inventory import InventoryIndex, edit_distance, is_fqdn, within_one
from pipeline.nlu.lexicon import (
    AMBIGUOUS_RECORD_TYPES,
    CLAUSE_VERBS,
    FACT_WORDS,
    FILLER,
    NOT_SERVICES,
    OS_SYNONYMS,
    PORT_NAMES,
    RECORD_TYPES,
    SERVICE_ALIASES,
    WELL_KNOWN_SERVICES,
    vocab,
)
from pipeline.nlu.text import Token

_PROTOCOLS = frozenset({"http", "https", "ftp", "smtp", "ssh", "dns", "imap", "pop3"})  # not daemons
_PORT_RANGE = re.compile(r"^(\d{1,5})-(\d{1,5})$")
_DURATION = re.compile(r"^(\d{1,5})-?(s|secs?|seconds?|m|mins?|minutes?)$")  # '30s', '2min', '120-second'
_COUNT_WORDS = {
    "times": "count",
    "pings": "count",
    "packets": "count",
    "echoes": "count",
    "requests": "count",
}
_NOT_SERVICE_NAMES = (
    vocab("status of on is this that service services state which what any all every my")
    | FILLER
    | frozenset(FACT_WORDS)
)
_NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "twenty": 20,
    "fifty": 50,
    "hundred": 100,
}


@dataclass
class Slots:
    ports: list[int | str] = field(default_factory=list)  # ints and "low-high" ranges
    port_names: list[str] = field(default_factory=list)  # "ssh", "https" (meaning decided later)
    services: list[str] = field(default_factory=list)
    weak_services: list[str] = field(default_factory=list)  # ssh, dns: services only in service talk
    facts: list[str] = field(default_factory=list)
    record_type: str | None = None
    dns_names: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)  # webhook addresses
    channels: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    quotes: list[str] = field(default_factory=list)
    kv: dict[str, str] = field(default_factory=dict)
    explicit: dict[str, object] = field(default_factory=dict)  # key=value args of a named tool
    numbers: dict[str, int] = field(default_factory=dict)  # count, max_hops, tail_lines, timeout_s
    bare_numbers: list[int] = field(default_factory=list)


def extract_slots(tokens: list[Token], index: InventoryIndex) -> Slots:
    slots = Slots()
    for token in tokens:
        _typed(token, slots)
    _numbers(tokens, slots)
    for i, token in enumerate(tokens):
        if token.kind == "word" and not token.used:
            _word(tokens, i, index, slots)
    _named_services(tokens, slots, index)
    return slots


def _typed(token: Token, slots: Slots) -> None:
    kinds = {
        "quote": slots.quotes,
        "email": slots.emails,
        "url": slots.urls,
        "channel": slots.channels,
        "path": slots.paths,
        "phone": slots.phones,
    }
    if token.kind in kinds:
        kinds[token.kind].append(token.text)
        token.used = True
    elif token.kind == "kv" and not token.used:
        key, _, value = token.text.partition("=")
        slots.kv[key.lower()] = value.strip("\"'")
        token.used = True


def _numbers(tokens: list[Token], slots: Slots) -> None:
    for i, token in enumerate(tokens):
        if token.kind != "word" or token.used:
            continue
        value = _number(token.low)
        duration = _DURATION.match(token.low)
        if value is None and duration:
            unit = "timeout_min" if duration.group(2).startswith("m") else "timeout_s"
            slots.numbers[unit] = int(duration.group(1))
            token.used = True
            continue
        if value is None:
            if _PORT_RANGE.match(token.low):
                slots.ports.append(token.low)
                token.used = True
            continue
        role = _number_role(tokens, i)
        if role:
            slots.numbers[role] = value
        elif token.low.isdigit():
            slots.bare_numbers.append(value)
        else:
            continue
        token.used = True


def _number(low: str) -> int | None:
    if low.isdigit() and len(low) <= 6:
        return int(low)
    if re.fullmatch(r"x\d{1,3}|\d{1,3}x", low):  # "ping web-01 x5"
        return int(low.strip("x"))
    return _NUMBER_WORDS.get(low)


def _number_role(tokens: list[Token], i: int) -> str | None:
    if tokens[i].text.lower() in {"twice", "thrice"} or re.fullmatch(r"x\d+|\d+x", tokens[i].low):
        return "count"
    before = [t.low for t in tokens[max(0, i - 2) : i]]
    after = tokens[i + 1].low if i + 1 < len(tokens) else ""
    if after in _COUNT_WORDS or (before and before[-1] in {"count", "-c", "c"}):
        return "count"
    if after in {"hops", "hop"} or (before and before[-1] in {"hops", "max_hops"}):
        return "max_hops"
    if after in {"lines", "line", "rows"} or (before and before[-1] in {"-n", "n", "lines"}):
        return "tail_lines"
    if after in {"seconds", "second", "secs", "s", "sec"} or "timeout" in before:
        return "timeout_s"  # '120 second timeout', '(timeout: 90)'
    if after in {"minutes", "minute", "mins", "min"}:
        return "timeout_min"
    return None


def _word(tokens: list[Token], i: int, index: InventoryIndex, slots: Slots) -> None:
    token = tokens[i]
    low = token.low
    nxt = tokens[i + 1].low if i + 1 < len(tokens) else ""
    if low.upper() in RECORD_TYPES and _record_type(low, nxt, tokens):
        slots.record_type = low.upper()
    elif is_fqdn(low):
        slots.dns_names.append(token.text)
    elif _fact_word(low) and _fact(_fact_word(low), tokens, i):
        _add(slots.facts, FACT_WORDS[_fact_word(low)])
        return  # fact words stay visible to the classifier
    else:
        _service_or_port(token, index, slots)
        return
    token.used = True


def _fact_word(low: str) -> str:
    """The fact word written, small typos included ('uptiem', 'memroy')."""
    if low in FACT_WORDS:
        return low
    if len(low) < 5 or not low.isalpha():
        return ""
    close = [w for w in FACT_WORDS if len(w) >= 5 and within_one(low, w)]
    return close[0] if len(close) == 1 else ""


_RECORD_NOUNS = {
    ("nameserver",): "NS",
    ("nameservers",): "NS",
    ("name", "server"): "NS",
    ("name", "servers"): "NS",
    ("dns", "server"): "NS",
    ("dns", "servers"): "NS",
    ("mail", "server"): "MX",
    ("mail", "servers"): "MX",
    ("mail", "exchanger"): "MX",
    ("mail", "exchangers"): "MX",
}


def record_nouns(tokens: list[Token]) -> str | None:
    """'which nameservers does example.com use', 'the mail servers for example.org': the record type
    asked about a DNS name (not inventory hosts); its words are used up. Only next to a DNS name."""
    if not any(t.kind == "word" and is_fqdn(t.low) for t in tokens):
        return None
    words = [t for t in tokens if t.kind == "word" and not t.used]
    for i in range(len(words)):
        for width in (2, 1):
            part = words[i : i + width]
            record = _RECORD_NOUNS.get(tuple(t.low for t in part)) if len(part) == width else None
            if record:
                for t in part:
                    t.used = True
                return record
    return None


def _record_type(low: str, nxt: str, tokens: list[Token]) -> bool:
    if low.upper() not in AMBIGUOUS_RECORD_TYPES:
        return low in {"mx", "txt", "aaaa", "cname", "ptr"} or low.isupper()
    lows = {t.low for t in tokens}
    return nxt in {"record", "records", "rr"} or (low == "ns" and bool(lows & {"dns", "lookup", "dig"}))


def _fact(low: str, tokens: list[Token], i: int) -> bool:
    before = tokens[i - 1].low if i else ""
    after = [t.low for t in tokens[i + 1 : i + 3]]
    os_words = {w for group in OS_SYNONYMS.values() for w in group}
    value_follows = bool(after) and after[-1] in os_words and after[0] in {"is", "=", "equals"}
    if before in {"where", "whose", "by"} or value_follows:
        return False  # "assets where os is windows": a filter, not a fact to collect
    if low in {"version", "release"}:
        before = tokens[i - 1].low if i else ""
        return before in {"os", "kernel", "windows", "linux", "system"} or not _mentions_service(tokens)
    if low == "load":
        return True
    return True


def _mentions_service(tokens: list[Token]) -> bool:
    return any(t.low in WELL_KNOWN_SERVICES or t.low in SERVICE_ALIASES for t in tokens)


def _service_or_port(token: Token, index: InventoryIndex, slots: Slots) -> None:
    low = token.low
    if low in PORT_NAMES:
        _add(slots.port_names, low)
    name = service_name(token.text, index) or _misspelt_service(low, index)
    if name is None:
        return
    if low in NOT_SERVICES and low not in {"ad"}:
        _add(slots.weak_services, name)
    else:
        _add(slots.services, name)


def _misspelt_service(low: str, index: InventoryIndex) -> str | None:
    """'ngnix' -> nginx, 'postgress' -> postgresql, 'redsi' -> redis: close to exactly one known service.

    Known: the inventory's services, the well-known lexicon and its aliases. One edit is
    allowed (two for words of eight letters or more); the closest candidate must be unique.
    """
    if len(low) < 5 or not low.isalpha() or low in FILLER or low in CLAUSE_VERBS or low in _NOT_SERVICE_NAMES:
        return None
    if low in PORT_NAMES:
        return None  # 'https' is a protocol (port 443), never a misspelt 'httpd'
    key = f"service-typo:{low}"
    if key not in index.memo:
        index.memo[key] = _closest_service(low, index)
    return index.memo[key]


def _closest_service(low: str, index: InventoryIndex) -> str | None:
    known = {s.lower(): s for s in WELL_KNOWN_SERVICES} | dict(index.services)
    known |= {alias: SERVICE_ALIASES[alias] for alias in SERVICE_ALIASES if len(alias) >= 5}
    limit = 2 if len(low) >= 8 else 1
    best: dict[int, set[str]] = {}
    for key, name in known.items():
        if len(key) < 5 or abs(len(key) - len(low)) > limit:
            continue
        distance = 1 if within_one(low, key) else edit_distance(low, key, limit)
        if distance <= limit:
            best.setdefault(distance, set()).add(service_name(name, index) or name)
    if not best:
        return None
    closest = best[min(best)]
    return closest.pop() if len(closest) == 1 else None


def service_name(written: str, index: InventoryIndex) -> str | None:
    """The service a word names, spelled as the inventory spells it when it knows it."""
    low = written.lower()
    if low in index.services:
        return index.services[low]
    alias = SERVICE_ALIASES.get(low)
    if alias and alias.lower() in index.services:
        return index.services[alias.lower()]
    for known_low, known in index.services.items():
        if known_low.startswith(low + "-") and len(low) >= 4:
            return known  # "grafana" -> "grafana-server"
        if known_low == low + "d" and len(low) >= 4 and low not in _PROTOCOLS:
            return known  # "mysql" where the inventory runs "mysqld"
    if alias:
        return alias
    if low in WELL_KNOWN_SERVICES:
        return written
    return None


def _named_services(tokens: list[Token], slots: Slots, index: InventoryIndex) -> None:
    """'the foo-agent service', 'service foo-agent': a service the lexicon does not know."""
    for i, token in enumerate(tokens):
        if token.low not in {"service", "daemon", "unit"} or token.kind != "word":
            continue
        before = tokens[i - 1] if i else None
        after = tokens[i + 1] if i + 1 < len(tokens) else None
        for candidate in (before, after):
            if candidate is None or candidate.kind not in {"word", "quote"} or candidate.used:
                continue
            if candidate.low in _NOT_SERVICE_NAMES or candidate.low in CLAUSE_VERBS or len(candidate.low) < 2:
                continue
            known = service_name(candidate.text, index) or _misspelt_service(candidate.low, index)
            if not known and re.match(r"^[A-Za-z0-9][\w@.:+-]*$", candidate.text):
                slots.services.append(candidate.text)
                candidate.used = True
            break


def _add(items: list[str], value: str) -> None:
    if value not in items:
        items.append(value)
