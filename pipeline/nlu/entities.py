"""Entity extraction for one clause: targets and selectors against the inventory, plus slots.

Targets: inventory names (case, dashes, zero-padding and small typos tolerated when
unambiguous), addresses, ranges (web-01 through web-03, web-01..03), selectors
(environment, location, os, type, tags, service), exclusions and pronouns.
Slots: ports, services, facts, DNS names and record types, paths, e-mail addresses,
channels, quoted text and counts.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from pipeline.nlu.inventory import InventoryIndex, is_address, is_fqdn, signature, within_one
from pipeline.nlu.lexicon import (
    ANY_ASSET_NOUNS,
    EXCLUSION_PHRASES,
    EXCLUSION_WORDS,
    HOST_NOUNS,
    PRONOUNS,
    QUANTIFIERS,
    RANGE_WORDS,
    vocab,
)
from pipeline.nlu.slots import Slots, extract_slots
from pipeline.nlu.text import Token

_DOTTED_RANGE = re.compile(r"^([a-z][a-z0-9_-]*?)(\d+)\.\.(?:[a-z][a-z0-9_-]*?)?(\d+)$")
_DASHED_RANGE = re.compile(r"^([a-z][a-z0-9_]*?-?)(\d+)-([a-z][a-z0-9_]*?-?)(\d+)$")
_STATE_WORDS = frozenset({"ok", "okay", "fine", "good", "alright", "well", "working", "allright", "healthy"})
_SERVICE_LINK = vocab("running run runs with having has have hosting host hosts that which where")


@dataclass
class Selector:
    """Inventory filter collected from words; empty fields match everything."""

    types: list[str] = field(default_factory=list)
    os: list[str] = field(default_factory=list)
    environments: list[str] = field(default_factory=list)
    locations: list[str] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    services: list[str] = field(default_factory=list)
    everything: bool = False  # "all", "every", a bare host noun
    anchored: bool = False  # has a noun, quantifier or key=value: selects on its own, not just qualifies

    def is_set(self) -> bool:
        return bool(
            self.types
            or self.os
            or self.environments
            or self.locations
            or self.tags
            or self.services
            or self.everything
        )


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
    _hosts(main, index, targets)
    _selector(main, index, targets.selector)
    _raw_targets(main, targets)
    if excluded:
        targets.exclude = _exclusions(excluded, index)
    targets.pronoun = _pronoun(main)
    slots = extract_slots(main, index)
    return Clause(tokens, targets, slots)


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
    rest = [t for t in tokens[start:] if t.kind in {"word", "ip"} and t.low not in {"the", "any", "for"}]
    if not rest:
        return False
    first = rest[0].low
    known = index.environments.keys() | index.locations.keys() | index.os.keys() | index.tag_values.keys()
    return (
        bool(re.search(r"\d", first))
        or first in HOST_NOUNS | {"ones"} | known
        or bool(index.type_for_words((first,)))
    )


def _exclusions(tokens: list[Token], index: InventoryIndex) -> list[str]:
    for token in tokens:
        if token.low in EXCLUSION_WORDS or token.low in {w for p in EXCLUSION_PHRASES for w in p}:
            token.used = True
    found = Targets()
    _hosts(tokens, index, found)
    _selector(tokens, index, found.selector)
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
    if token.used or token.kind not in {"word", "ip"}:
        return 0
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


def _after_pronoun(tokens: list[Token], noun: Token) -> bool:
    position = tokens.index(noun)
    before = tokens[position - 1].low if position else ""
    return before in {"same", "those", "these", "that", "this", "said", "above"}


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


# ---------------------------------------------------------------------- selectors


def _selector(tokens: list[Token], index: InventoryIndex, sel: Selector) -> None:
    words = [(i, t) for i, t in enumerate(tokens) if t.kind == "word" and not t.used]
    for position, (i, token) in enumerate(words):
        if token.used:
            continue
        nxt = words[position + 1][1] if position + 1 < len(words) else None
        prev = words[position - 1][1] if position > 0 else None
        _selector_word(token, prev, nxt, tokens[i + 1 :], index, sel)
    _kv_selector(tokens, index, sel)
    _nouns(tokens, index, sel)


def _selector_word(
    token: Token,
    prev: Token | None,
    nxt: Token | None,
    rest: list[Token],
    index: InventoryIndex,
    sel: Selector,
) -> None:
    low = token.low
    noun_next = nxt is not None and nxt.low in HOST_NOUNS
    if _type_phrase(token, nxt, index, sel, noun_next):
        return
    if low in index.environments:
        _add(sel.environments, index.environments[low])
    elif low in index.locations:
        _add(sel.locations, index.locations[low])
    elif nxt is not None and f"{low} {nxt.low}" in index.locations:
        _add(sel.locations, index.locations[f"{low} {nxt.low}"])
        nxt.used = True
    elif low in index.os and (noun_next or low in {"windows", "linux"}) and not _version_word(nxt):
        _add(sel.os, index.os[low])
    elif low in index.tag_values and (noun_next or _tag_key_near(prev, nxt, index)):
        key, value = index.tag_values[low][0]
        sel.tags[key] = value
        sel.anchored = True
    elif low in index.services and (noun_next or _service_after_noun(prev)):
        _add(sel.services, index.services[low])
        sel.anchored = True
    elif _fuzzy_vocab(low, index, sel):
        pass
    else:
        return
    token.used = True


def _version_word(nxt: Token | None) -> bool:
    return nxt is not None and nxt.low in {"version", "versions", "release", "build"}


def _type_phrase(
    token: Token, nxt: Token | None, index: InventoryIndex, sel: Selector, noun_next: bool
) -> bool:
    low = token.low
    if nxt is not None and not noun_next:
        found = index.type_for_words((low, nxt.low))
        if found:
            sel.anchored = True
            _add(sel.types, found)
            token.used = nxt.used = True
            return True
    if noun_next or low.endswith("s") or low in {"dbs", "dcs"} or _determined(token, sel):
        found = index.type_for_words((low,))
        if found and (noun_next or low != found or _determined(token, sel)):
            sel.anchored = True
            _add(sel.types, found)
            token.used = True
            if noun_next and nxt is not None:
                nxt.used = True
            return True
    return False


def _determined(token: Token, sel: Selector) -> bool:
    """'the london db', 'prod database': a singular type word after a determiner or selector."""
    return bool(sel.environments or sel.locations or sel.os) or (token.low in {"database", "db"} and False)


def _tag_key_near(prev: Token | None, nxt: Token | None, index: InventoryIndex) -> bool:
    keys = index.tag_keys | {"team", "role"}
    return (prev is not None and prev.low in keys) or (nxt is not None and nxt.low in keys)


def _service_after_noun(prev: Token | None) -> bool:
    return prev is not None and prev.low in _SERVICE_LINK


def _fuzzy_vocab(low: str, index: InventoryIndex, sel: Selector) -> bool:
    """Typos in environment or location names ('prodution', 'frankfrut')."""
    if len(low) < 5 or not low.isalpha():
        return False
    for known, target in ((index.environments, sel.environments), (index.locations, sel.locations)):
        close = {v for k, v in known.items() if len(k) >= 5 and within_one(low, k)}
        if len(close) == 1:
            _add(target, close.pop())
            return True
    return False


def _kv_selector(tokens: list[Token], index: InventoryIndex, sel: Selector) -> None:
    for token in tokens:
        if token.kind != "kv" or token.used:
            continue
        key, _, value = token.text.partition("=")
        if _apply_kv(key.lower(), value.strip("\"'"), index, sel):
            token.used = sel.anchored = True


def _apply_kv(key: str, value: str, index: InventoryIndex, sel: Selector) -> bool:
    low = value.lower()
    if key in {"env", "environment"}:
        _add(sel.environments, index.environments.get(low, value))
    elif key in {"location", "loc", "site", "dc", "region"}:
        _add(sel.locations, index.locations.get(low, value))
    elif key == "os":
        _add(sel.os, index.os.get(low, value))
    elif key == "type":
        _add(sel.types, index.type_for_words(re.split(r"[\s_]+", low)) or value)
    elif key in {"service", "services"}:
        _add(sel.services, index.services.get(low, value))
    elif key in {"tag", "tags"} and ":" in value:
        tag_key, _, tag_value = value.partition(":")
        sel.tags[tag_key] = tag_value
    elif key in index.tag_keys or key in {"role", "team"}:
        sel.tags[key] = value
    else:
        return False
    return True


def _nouns(tokens: list[Token], index: InventoryIndex, sel: Selector) -> None:
    """Host nouns and quantifiers: 'all servers', 'every host', 'the windows boxes'."""
    quantified = any(t.low in QUANTIFIERS and t.kind == "word" for t in tokens)
    for token in tokens:
        if token.kind != "word" or token.used or token.low not in HOST_NOUNS:
            continue
        if token.low in {"one", "ones", "system", "systems"} and not sel.is_set():
            continue
        if _after_pronoun(tokens, token):
            continue
        plural = token.low.endswith("s") or token.low == "ones"
        if not (plural or quantified or sel.is_set()):
            continue
        token.used = True
        if not sel.types and token.low not in ANY_ASSET_NOUNS and token.low not in {"ones", "one"}:
            sel.types.extend(index.server_types())
        sel.everything = sel.everything or quantified or plural
        sel.anchored = True
    for token, nxt in itertools.pairwise([*tokens, Token("", "punct")]):
        if token.low in {"everything", "everyone", "everywhere"} and nxt.low not in _STATE_WORDS:
            sel.everything = sel.anchored = True
    for token in tokens:
        if token.kind == "word" and token.low in QUANTIFIERS and sel.is_set():
            token.used = True
