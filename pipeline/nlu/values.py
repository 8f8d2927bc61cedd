"""Typed values of one clause: services, ports, numbers, durations, paths, DNS names, quoted text,
recipients and key=value pairs. Each value lists the kinds it could be; the tool read decides.

    'ssh'        service (weak) or port 22     '443'         port or number
    'nginx'      service                        '5 times'     number (cue: times)
    '8000-8010'  port range                     '10 min'      duration (600 s)
    '2 KB'       size (2048 bytes)
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pipeline.nlu.dictionary import english
from pipeline.nlu.durations import durations
from pipeline.nlu.english import CARDINALS
from pipeline.nlu.inventory import InventoryIndex, edit_distance, is_fqdn, within_one
from pipeline.nlu.lexicon import (
    FILLER,
    GENERAL_VERBS,
    NOT_SERVICES,
    PORT_NAMES,
    SERVICE_ALIASES,
    WELL_KNOWN_SERVICES,
    vocab,
)
from pipeline.nlu.parse import Claims, Targets, Value
from pipeline.nlu.sizes import sizes
from pipeline.nlu.tokens import Token
from pipeline.nlu.toolwords import ToolWords

_PROTOCOLS = frozenset({"http", "https", "ftp", "smtp", "ssh", "dns", "imap", "pop3"})  # not daemons
_PORT_RANGE = re.compile(r"^(\d{1,5})-(\d{1,5})$")
_MULTIPLIED = re.compile(r"^x(\d{1,3})$|^(\d{1,3})x$")  # 'ping web-01 x5'
_NOT_SERVICE_NAMES = (
    vocab("status of on is this that service services state which what any all every my the a an it them")
    | FILLER
)
_TYPED = {
    "quote": "quote",
    "email": "email",
    "url": "url",
    "channel": "channel",
    "path": "path",
    "phone": "phone",
}


def values(
    tokens: list[Token], index: InventoryIndex, claims: Claims, targets: Targets, words: ToolWords
) -> tuple[Value, ...]:
    """Every typed value written in the clause's tokens that targets did not take.

    The catalog's own words name a service only where the inventory runs one by that name:
    'processes named w3wp' is no BIND daemon, 'the syslog' (a log) no misspelt rsyslog.
    """
    found: list[Value] = []
    claims = _without_rates(tokens, claims)
    found += _typed(tokens, claims)
    found += _durations(tokens, claims)
    found += _sizes(tokens, claims, {i for v in found for i in v.tokens})
    taken = {i for v in found for i in v.tokens}
    for token in tokens:
        if token.kind != "word" or token in claims or token.index in taken:
            continue
        found += _word_values(token, index, words)
    found += _named_services(tokens, claims, index, {i for v in found for i in v.tokens}, words.verbs)
    return tuple(_strengthen(found, tokens, targets, index))


_PER = vocab("a an per every each")
_TIME_UNITS = vocab("second seconds sec secs minute minutes min mins hour hours hr hrs day days")


def _without_rates(tokens: list[Token], claims: Claims) -> Claims:
    """'3 errors a minute', '200 requests per second', '5 timeouts every hour': a rate in a report
    is no argument (neither its count nor its time span): its words are set aside."""
    words = [t for t in tokens if t.kind == "word"]
    rates: list[Token] = []
    for i, token in enumerate(words):
        if not (token.low.isdigit() or token.low in CARDINALS) or token in claims:
            continue
        for gap in (1, 2):
            per, unit = words[i + gap : i + gap + 2] if i + gap + 2 <= len(words) else (None, None)
            nouns = words[i + 1 : i + gap]
            if per is None or unit is None or any(n.low.isdigit() or n.low in _PER for n in nouns):
                break
            if per.low in _PER and unit.low in _TIME_UNITS:
                rates += words[i : i + gap + 2]
                break
    if not rates:
        return claims
    kept = claims.copy()
    kept.take(*rates)
    return kept


def _typed(tokens: list[Token], claims: Claims) -> Iterator[Value]:
    for token in tokens:
        if token in claims:
            continue
        if token.kind in _TYPED:
            yield Value(
                frozenset({_TYPED[token.kind]}), token.text, (token.index,), token.text, cue=token.hint
            )
        elif token.kind == "kv":
            key, _, value = token.text.partition("=")
            text = value.strip("\"'")
            yield Value(frozenset({"kv"}), text, (token.index,), token.text, key=key.lower())


def _durations(tokens: list[Token], claims: Claims) -> Iterator[Value]:
    words = [t for t in tokens if t.kind == "word" and t not in claims]
    for found in durations([t.low for t in words]):
        span = words[found.start : found.end]
        if span[-1].index - span[0].index != len(span) - 1:
            continue  # not written together
        text = " ".join(t.text for t in span)
        yield Value(frozenset({"duration"}), found.seconds, tuple(t.index for t in span), text)


def _sizes(tokens: list[Token], claims: Claims, taken: set[int]) -> Iterator[Value]:
    words = [t for t in tokens if t.kind == "word" and t not in claims and t.index not in taken]
    for found in sizes([t.low for t in words]):
        span = words[found.start : found.end]
        if span[-1].index - span[0].index == len(span) - 1:  # written together
            yield Value(
                frozenset({"size"}), found.bytes, tuple(t.index for t in span), " ".join(t.text for t in span)
            )


def _word_values(token: Token, index: InventoryIndex, words: ToolWords) -> list[Value]:
    low, at = token.low, (token.index,)
    if low.isdigit() and len(low) <= 6:
        kinds = {"number", "port"} if 0 < int(low) <= 65535 else {"number"}
        return [Value(frozenset(kinds), int(low), at, token.text, cue=_spelled_cue(token))]
    multiplied = _MULTIPLIED.match(low)
    if multiplied:
        return [
            Value(
                frozenset({"number"}),
                int(multiplied.group(1) or multiplied.group(2)),
                at,
                token.text,
                cue="x",
            )
        ]
    if low in CARDINALS:
        return [Value(frozenset({"number"}), CARDINALS[low], at, token.text)]
    ports = _PORT_RANGE.match(low)
    if ports and int(ports.group(1)) <= int(ports.group(2)) <= 65535:
        return [Value(frozenset({"port"}), low, at, token.text)]
    if is_fqdn(low):
        return [Value(frozenset({"dns_name"}), token.text, at, token.text)]
    return _service_or_port(token, index, words)


def _spelled_cue(token: Token) -> str:
    """'twice', 'thrice' (read as 2, 3) count times."""
    return "times" if token.text.lower() in {"twice", "thrice"} else ""


def _service_or_port(token: Token, index: InventoryIndex, words: ToolWords) -> list[Value]:
    low, at = token.low, (token.index,)
    kinds: set[str] = set()
    if low in PORT_NAMES:
        kinds.add("port")
    catalog = low in words.vocabulary and low not in index.services
    written = token.text if token.low == token.text.lower() else token.low  # a corrected typo
    name = None if low in words.function_words and catalog else service_name(written, index)
    name = name or (None if catalog else misspelt_service(low, index))
    if name is not None:
        kinds.add("service")
    if not kinds:
        return []
    weak = name is not None and low in NOT_SERVICES and low != "ad"
    port = list(PORT_NAMES.get(low, ()))
    return [Value(frozenset(kinds), name if name is not None else port, at, token.text, key=low, weak=weak)]


def port_numbers(value: Value) -> list[int | str]:
    """The ports a value stands for: 443, '8000-8010', or a protocol's ports ('https' -> 443)."""
    if isinstance(value.value, int) or (isinstance(value.value, str) and _PORT_RANGE.match(value.value)):
        return [value.value]
    return list(PORT_NAMES.get((value.key or value.text).lower(), ()))


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


def misspelt_service(low: str, index: InventoryIndex) -> str | None:
    """'ngnix' -> nginx, 'postgress' -> postgresql: close to exactly one known service.

    Known: the inventory's services, the well-known lexicon and its aliases. One edit is
    allowed (two for words of eight letters or more); the closest candidate must be unique.
    """
    if (
        len(low) < 5
        or not low.isalpha()
        or low in FILLER
        or low in GENERAL_VERBS
        or low in _NOT_SERVICE_NAMES
    ):
        return None
    if low in PORT_NAMES:
        return None  # 'https' is a protocol (port 443), never a misspelt 'httpd'
    inventory_words = (index.tag_keys, index.tag_values, index.environments, index.locations)
    if any(low in words for words in inventory_words):
        return None  # 'which squad owns ...': the inventory's own word
    if low in english():
        return None  # a real word ('squad') is never a misspelt service ('squid')
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


def _named_services(
    tokens: list[Token], claims: Claims, index: InventoryIndex, taken: set[int], verbs: frozenset[str]
) -> list[Value]:
    """'the foo-agent service', 'service foo-agent': a service the lexicon does not know (a catalog
    verb is none: 'a service restart')."""
    found: list[Value] = []
    for i, token in enumerate(tokens):
        if token.low not in {"service", "daemon", "unit"} or token.kind != "word":
            continue
        for candidate in (tokens[i - 1] if i else None, tokens[i + 1] if i + 1 < len(tokens) else None):
            if candidate is None or candidate.kind not in {"word", "quote"} or candidate in claims:
                continue
            if candidate.index in taken:
                break
            if (
                candidate.low in _NOT_SERVICE_NAMES
                or candidate.low in GENERAL_VERBS
                or candidate.low in verbs
                or len(candidate.low) < 2
            ):
                continue
            known = service_name(candidate.text, index) or misspelt_service(candidate.low, index)
            if not known and re.match(r"^[A-Za-z0-9][\w@.:+-]*$", candidate.text):
                found.append(
                    Value(frozenset({"service"}), candidate.text, (candidate.index,), candidate.text)
                )
            break
    return found


def _strengthen(
    found: list[Value], tokens: list[Token], targets: Targets, index: InventoryIndex
) -> list[Value]:
    """'the DNS service on the domain controller': a weak service the targets run is a service."""
    if not any(v.weak for v in found) or not (targets.names or targets.selector.is_set()):
        return found
    sel = targets.selector
    assets = index.select(names=targets.names) if targets.names else []
    if sel.is_set() and not targets.names:
        assets = index.select(
            names=sel.names,
            types=sel.types,
            os=sel.os,
            environments=sel.environments,
            locations=sel.locations,
            tags=sel.tags,
        )
    running = {s.lower() for a in assets for s in a.services}
    return [
        Value(v.kinds, v.value, v.tokens, v.text, v.key, False, v.cue)
        if v.weak and str(v.value).lower() in running
        else v
        for v in found
    ]
