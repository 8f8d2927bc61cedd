"""Entity extraction for one clause: targets and selectors against the inventory, plus slots.

Targets: inventory names (case, dashes, zero-padding and small typos tolerated when
unambiguous), addresses, ranges (web-01 through web-03, web-01..03), selectors
(environment, location, os, type, tags, service), exclusions and pronouns.
Slots: ports, services, facts, DNS names and record types, paths, e-mail addresses,
channels, quoted text and counts.
"""

from __future__ import annotations

import fnmatch
import itertools
import re
from dataclasses import dataclass, field

from pipeline.nlu.apposition import mark_descriptions
from pipeline.nlu.inventory import InventoryIndex, is_address, is_fqdn, signature
from pipeline.nlu.lexicon import (
    EXCLUSION_PHRASES,
    EXCLUSION_WORDS,
    HOST_NOUNS,
    PRONOUNS,
    RANGE_WORDS,
)
from pipeline.nlu.selectors import Selector, read_selector
from pipeline.nlu.slots import Slots, extract_slots, record_nouns
from pipeline.nlu.text import Token

_DOTTED_RANGE = re.compile(r"^([a-z][a-z0-9_-]*?)(\d+)\.\.(?:[a-z][a-z0-9_-]*?)?(\d+)$")
_DASHED_RANGE = re.compile(r"^([a-z][a-z0-9_]*?-?)(\d+)-((?:[a-z][a-z0-9_]*?-?)?)(\d+)$")


@dataclass
class Targets:
    names: list[str] = field(default_factory=list)
    raw: list[str] = field(default_factory=list)  # addresses / DNS names not in the inventory
    unknown: list[str] = field(default_factory=list)
    ambiguous: dict[str, tuple[str, ...]] = field(default_factory=dict)
    selector: Selector = field(default_factory=Selector)
    exclude: list[str] = field(default_factory=list)
    pronoun: bool = False

    def empty(self) -> bool:
        return not (self.names or self.raw or self.selector.is_set())


@dataclass
class Clause:
    """Everything extracted from one clause of a request."""

    tokens: list[Token]
    targets: Targets
    slots: Slots

    @property
    def words(self) -> list[str]:
        return [t.low for t in self.tokens if t.kind == "word"]

    @property
    def free(self) -> list[str]:
        return [t.low for t in self.tokens if t.kind == "word" and not t.used]


def extract(tokens: list[Token], index: InventoryIndex) -> Clause:
    """Mark tokens used by entities and return what they mean."""
    split = _exclusion_start(tokens, index)
    main, excluded = tokens[:split], tokens[split:]
    targets = Targets()
    record = record_nouns(main)  # "the name servers for example.com": no hosts meant
    before = [t.used for t in main]
    _hosts(main, index, targets)
    named = [t for t, was in zip(main, before, strict=True) if t.used and not was]
    mark_descriptions(main, named, index)  # "the database db-stg-01": describes, never selects
    targets.selector.named = bool(targets.names)
    read_selector(main, index, targets.selector)
    _raw_targets(main, targets)
    if excluded:
        targets.exclude = _exclusions(excluded, index)
    targets.pronoun = _pronoun(main)
    slots = extract_slots(tokens, index)  # "all servers except the dbs: disk usage"
    slots.record_type = slots.record_type or record
    _services_they_run(tokens, targets, slots, index)
    return Clause(tokens, targets, slots)


def _services_they_run(tokens: list[Token], targets: Targets, slots: Slots, index: InventoryIndex) -> None:
    """'the DNS service on the domain controller': a word that *is* the name of a service the
    targeted assets run (or is called a service) names that service, not a protocol or port."""
    if not slots.weak_services or not (targets.names or targets.selector.is_set()):
        return
    sel = targets.selector
    assets = index.select(names=targets.names) if targets.names else []
    if sel.is_set() and not targets.names:
        assets = index.select(
            types=sel.types, os=sel.os, environments=sel.environments, locations=sel.locations, tags=sel.tags
        )
    running = {s.lower() for a in assets for s in a.services}
    written = {t.low for t in tokens if t.kind == "word"}
    for service in list(slots.weak_services):
        if service.lower() in running and service.lower() in written:
            slots.weak_services.remove(service)
            slots.services.append(service)


# ---------------------------------------------------------------------- exclusions


def _exclusion_start(tokens: list[Token], index: InventoryIndex) -> int:
    for i, token in enumerate(tokens):
        if token.kind != "word":
            continue
        if token.low in EXCLUSION_WORDS:
            return i
        for phrase in EXCLUSION_PHRASES:
            lows = [t.low for t in tokens[i : i + len(phrase)]]
            if tuple(lows) == phrase and _names_follow(tokens, i + len(phrase), index):
                return i
    return len(tokens)


def _names_follow(tokens: list[Token], start: int, index: InventoryIndex) -> bool:
    """An exclusion phrase counts only when hosts or selector words follow it."""
    skip = {"the", "any", "for", "on", "in", "at", "from", "to", "of"}  # "but not on web-03"
    rest = [t for t in tokens[start:] if t.kind in {"word", "ip"} and t.low not in skip]
    if not rest:
        return False
    first = rest[0].low
    known = index.environments.keys() | index.locations.keys() | index.os.keys() | index.tag_values.keys()
    lows = [t.low for t in rest[:3]]
    type_phrase = any(index.type_for_words(lows[:width]) for width in (1, 2, 3) if len(lows) >= width)
    return (
        bool(re.search(r"\d", first))
        or first in HOST_NOUNS | {"ones"} | known
        or type_phrase  # "apart from the domain controller", "aside from the load balancer"
        or index.lookup(first).names != ()
    )


def _exclusions(tokens: list[Token], index: InventoryIndex) -> list[str]:
    for token in tokens:
        if token.low in EXCLUSION_WORDS or token.low in {w for p in EXCLUSION_PHRASES for w in p}:
            token.used = True
    found = Targets()
    _hosts(tokens, index, found)
    read_selector(tokens, index, found.selector)
    names = list(found.names)
    sel = found.selector
    if sel.types or sel.os or sel.environments or sel.locations or sel.tags or sel.services:
        names += [
            a.name
            for a in index.select(
                types=sel.types,
                os=sel.os,
                environments=sel.environments,
                locations=sel.locations,
                tags=sel.tags,
                services=sel.services,
            )
        ]
    return list(dict.fromkeys(names + found.unknown))


# ---------------------------------------------------------------------- hosts


def _hosts(tokens: list[Token], index: InventoryIndex, out: Targets) -> None:
    i = 0
    while i < len(tokens):
        consumed = _range_at(tokens, i, index, out) or _name_at(tokens, i, index, out)
        i += consumed or 1


def _name_at(tokens: list[Token], i: int, index: InventoryIndex, out: Targets) -> int:
    token = tokens[i]
    if token.kind == "glob" and not token.used:
        return _glob(token, index, out)
    if token.used or token.kind not in {"word", "ip"}:
        return 0
    if token.low.isdigit() and _continues_list(tokens, i, out):
        return _sibling(token, index, out)
    if token.kind == "ip" or is_address(token.low):
        return _address(token, index, out)
    for width in (3, 2):  # "db 01", "win app 01"
        joined = _joined(tokens, i, width)
        same = index.by_signature.get(signature(joined), []) if joined else []
        found = index.by_normalised.get(joined or "") or (same[0] if len(same) == 1 else None)
        if joined and found:
            _add(out.names, found)
            for t in tokens[i : i + width]:
                t.used = True
            return width
    return _single_name(token, index, out)


def _glob(token: Token, index: InventoryIndex, out: Targets) -> int:
    """'web-*', 'pg-*': every inventory name matching the pattern (none: unknown)."""
    found = [a.name for a in index.assets if fnmatch.fnmatchcase(a.name.lower(), token.low)]
    for name in found:
        _add(out.names, name)
    if not found:
        _add(out.unknown, token.text)
    token.used = True
    return 1


def _continues_list(tokens: list[Token], i: int, out: Targets) -> bool:
    """'db-01 and 02', 'web-01, 02, 03': a bare number right after a listed host."""
    before = tokens[i - 1] if i else None
    if not out.names or before is None or before.low not in {"and", ",", "&"}:
        return False
    earlier = tokens[i - 2] if i >= 2 else None
    return earlier is not None and earlier.used


def _sibling(token: Token, index: InventoryIndex, out: Targets) -> int:
    head = re.match(r"^(.*?)(\d+)$", out.names[-1])
    if head is None:
        return 0
    written = f"{head.group(1)}{int(token.low):0{len(head.group(2))}d}"
    match = index.lookup(written)
    if len(match.names) == 1:
        _add(out.names, match.names[0])
    else:
        _add(out.unknown, written)
    token.used = True
    return 1


def _joined(tokens: list[Token], i: int, width: int) -> str | None:
    part = tokens[i : i + width]
    if len(part) < width or any(t.kind != "word" or t.used for t in part):
        return None
    if not part[-1].low.isdigit() and width != 2:
        return None
    return re.sub(r"[^a-z0-9]", "", "".join(t.low for t in part))


def _single_name(token: Token, index: InventoryIndex, out: Targets) -> int:
    low = token.low
    exact = index.by_name.get(low)
    if exact is not None:
        _add(out.names, exact.name)
        token.used = True
        return 1
    hostish = index.looks_like_host(low)
    if not hostish and not _fuzzy_candidate(low, index):
        return 0
    match = index.lookup(low)
    if len(match.names) == 1:
        _add(out.names, match.names[0])
    elif match.names:
        out.ambiguous[token.text] = match.names
    elif hostish:
        _add(out.unknown, token.text)
    else:
        return 0
    token.used = True
    return 1


def _fuzzy_candidate(low: str, index: InventoryIndex) -> bool:
    """Digit-less words may name a digit-less asset ('bastion'), typos included."""
    if re.search(r"\d", low) or len(low) < 5 or "." in low:
        return False
    return any(not re.search(r"\d", name) for name in index.by_name)


def _address(token: Token, index: InventoryIndex, out: Targets) -> int:
    name = index.by_address.get(token.low)
    if name:
        _add(out.names, name)
    else:
        _add(out.raw, token.text)
    token.used = True
    return 1


def _range_at(tokens: list[Token], i: int, index: InventoryIndex, out: Targets) -> int:
    token = tokens[i]
    if token.used or token.kind != "word":
        return 0
    single = _DOTTED_RANGE.match(token.low) or _DASHED_RANGE.match(token.low)
    if single and index.lookup(token.low).names == ():
        groups = single.groups()
        first, last = groups[0] + groups[1], groups[0] + groups[-1]
        return _expand(first, last, [token], index, out)
    if i + 2 >= len(tokens) + 0 or not index.looks_like_host(token.low):
        return 0
    link, end = tokens[i + 1], tokens[i + 2] if i + 2 < len(tokens) else None
    if end is None or not (link.low in RANGE_WORDS or link.text == "-"):
        return 0
    if end.low.isdigit():
        prefix = re.sub(r"\d+$", "", token.low)
        return _expand(token.low, prefix + end.low, tokens[i : i + 3], index, out)
    if signature(end.low)[0] == signature(token.low)[0] and signature(end.low)[1]:
        return _expand(token.low, end.low, tokens[i : i + 3], index, out)
    return 0


def _expand(first: str, last: str, used: list[Token], index: InventoryIndex, out: Targets) -> int:
    head = re.match(r"^(.*?)(\d+)$", first)
    tail = re.match(r"^(.*?)(\d+)$", last)
    if not head or not tail:
        return 0
    low, high = int(head.group(2)), int(tail.group(2))
    if not 0 <= high - low <= 256:
        return 0
    width = len(head.group(2))
    for number in range(low, high + 1):
        written = f"{head.group(1)}{number:0{width}d}"
        match = index.lookup(written)
        if len(match.names) == 1:
            _add(out.names, match.names[0])
        else:
            _add(out.unknown, written)
    for t in used:
        t.used = True
    return len(used)


def _raw_targets(tokens: list[Token], out: Targets) -> None:
    """DNS names that are not inventory entries stay as written (network tools may use them)."""
    for token in tokens:
        if token.kind == "word" and not token.used and is_fqdn(token.low):
            out.raw.append(token.text)
            token.used = True


def _pronoun(tokens: list[Token]) -> bool:
    lows = [t.low for t in tokens if t.kind == "word"]
    if any(w in {"it", "them", "they", "those", "these", "its", "their", "there", "both"} for w in lows):
        return True
    for a, b in itertools.pairwise(lows):
        if a in {"same", "that", "this", "those", "these", "said"} and b in HOST_NOUNS | {"ones", "one"}:
            return True
    return any(w in PRONOUNS and w == "same" for w in lows)


def _add(items: list[str], value: str) -> None:
    if value not in items:
        items.append(value)
