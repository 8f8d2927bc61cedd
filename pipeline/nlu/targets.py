"""Targets of one clause: host names, addresses, ranges, globs, exclusions and pronouns.

Names are looked up in the inventory with case, dashes, zero-padding and small typos tolerated
when unambiguous; ranges are written web-01 through web-03, web-01..03, db-01 to 03,
ams-k8s-w01 through w03, web-[01-03]; 'except ...' excludes hosts or whole selections.
"""

from __future__ import annotations

import itertools
import re

from pipeline.nlu.english import DISCOURSE
from pipeline.nlu.inventory import InventoryIndex, is_address, is_fqdn, signature
from pipeline.nlu.lexicon import EXCLUSION_PHRASES, EXCLUSION_WORDS, HOST_NOUNS, PRONOUNS, RANGE_WORDS, vocab
from pipeline.nlu.parse import Claims, Targets
from pipeline.nlu.selectors import read_selector
from pipeline.nlu.tokens import Token

_DOTTED_RANGE = re.compile(r"^([a-z][a-z0-9_-]*?)(\d+)\.\.(?:[a-z][a-z0-9_-]*?)?(\d+)$")
_DASHED_RANGE = re.compile(r"^([a-z][a-z0-9_]*?-?)(\d+)-((?:[a-z][a-z0-9_]*?-?)?)(\d+)$")
_TAIL = re.compile(r"^(.*?)([a-z]*)(\d+)$")


# ---------------------------------------------------------------------- exclusions


def exclusion_start(tokens: list[Token], index: InventoryIndex) -> int:
    """Where an exclusion ('except web-03', 'but not the dbs') starts; len(tokens) when none."""
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


def exclusions(tokens: list[Token], index: InventoryIndex, claims: Claims) -> list[str]:
    """The hosts an exclusion names or selects."""
    for token in tokens:
        if token.low in EXCLUSION_WORDS or token.low in {w for p in EXCLUSION_PHRASES for w in p}:
            claims.take(token)
    found = Targets()
    hosts(tokens, index, found, claims)
    read_selector(tokens, index, found.selector, claims)
    names = list(found.names)
    sel = found.selector
    if sel.attributes():
        names += [
            a.name
            for a in index.select(
                names=sel.names,
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


def hosts(tokens: list[Token], index: InventoryIndex, out: Targets, claims: Claims) -> None:
    """Host names, addresses, ranges and globs, taken from `tokens` into `out`."""
    i = 0
    while i < len(tokens):
        consumed = _range_at(tokens, i, index, out, claims) or _name_at(tokens, i, index, out, claims)
        i += consumed or 1


def _name_at(tokens: list[Token], i: int, index: InventoryIndex, out: Targets, claims: Claims) -> int:
    token = tokens[i]
    if token.kind == "glob" and token not in claims:
        return _glob(token, index, out, claims)
    if token in claims or token.kind not in {"word", "ip"}:
        return 0
    if token.low.isdigit() and _continues_list(tokens, i, out, claims):
        return _sibling(token, index, out, claims)
    if token.kind == "ip" or is_address(token.low):
        return _address(token, index, out, claims)
    for width in (3, 2):  # "db 01", "win app 01"
        joined = _joined(tokens, i, width, claims)
        same = index.by_signature.get(signature(joined), []) if joined else []
        found = index.by_normalised.get(joined or "") or (same[0] if len(same) == 1 else None)
        if joined and found:
            _add(out.names, found)
            claims.take(*tokens[i : i + width])
            return width
    return _single_name(token, index, out, claims)


def _glob(token: Token, index: InventoryIndex, out: Targets, claims: Claims) -> int:
    """'web-*', 'pg-*': every inventory name matching the pattern (none: unknown)."""
    found = index.glob(token.low)
    for name in found:
        _add(out.names, name)
    if not found:
        _add(out.unknown, token.text)
    claims.take(token)
    return 1


def _continues_list(tokens: list[Token], i: int, out: Targets, claims: Claims) -> bool:
    """'db-01 and 02', 'web-01, 02, 03': a bare number right after a listed host."""
    before = tokens[i - 1] if i else None
    if not out.names or before is None or before.low not in {"and", ",", "&"}:
        return False
    earlier = tokens[i - 2] if i >= 2 else None
    return earlier is not None and earlier in claims and not _counts_something(tokens, i)


# Words that may follow a host number in a list ('web-01 and 02 on prod', '..., 03 please').
_LIST_FOLLOWERS = DISCOURSE | vocab("or on in at for from to with via if as too either both")


def _counts_something(tokens: list[Token], i: int) -> bool:
    """'web-01 and web-02, 4 pings each': a number followed by a noun counts that noun."""
    after = tokens[i + 1] if i + 1 < len(tokens) else None
    return after is not None and after.kind == "word" and after.low not in _LIST_FOLLOWERS


def _sibling(token: Token, index: InventoryIndex, out: Targets, claims: Claims) -> int:
    head = re.match(r"^(.*?)(\d+)$", out.names[-1])
    if head is None:
        return 0
    written = f"{head.group(1)}{int(token.low):0{len(head.group(2))}d}"
    match = index.lookup(written)
    if len(match.names) == 1:
        _add(out.names, match.names[0])
    else:
        _add(out.unknown, written)
    claims.take(token)
    return 1


def _joined(tokens: list[Token], i: int, width: int, claims: Claims) -> str | None:
    part = tokens[i : i + width]
    if len(part) < width or any(t.kind != "word" or t in claims for t in part):
        return None
    if not part[-1].low.isdigit() and width != 2:
        return None
    return re.sub(r"[^a-z0-9]", "", "".join(t.low for t in part))


def _single_name(token: Token, index: InventoryIndex, out: Targets, claims: Claims) -> int:
    low = token.low
    exact = index.by_name.get(low)
    if exact is not None:
        _add(out.names, exact.name)
        claims.take(token)
        return 1
    if index.tag_compound(low) is not None or index.flag_tag(low) is not None:
        return 0  # 'the platform-team hosts': a selector, read with the others
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
    claims.take(token)
    return 1


def _fuzzy_candidate(low: str, index: InventoryIndex) -> bool:
    """Digit-less words may name a digit-less asset ('bastion'), typos included."""
    if re.search(r"\d", low) or len(low) < 5 or "." in low:
        return False
    return bool(index.digitless)


def _address(token: Token, index: InventoryIndex, out: Targets, claims: Claims) -> int:
    name = index.by_address.get(token.low)
    if name:
        _add(out.names, name)
    else:
        _add(out.raw, token.text)
    claims.take(token)
    return 1


def _range_at(tokens: list[Token], i: int, index: InventoryIndex, out: Targets, claims: Claims) -> int:
    token = tokens[i]
    if token in claims or token.kind != "word":
        return 0
    single = _DOTTED_RANGE.match(token.low) or _DASHED_RANGE.match(token.low)
    if single and index.lookup(token.low).names == ():
        groups = single.groups()
        first, last = groups[0] + groups[1], groups[0] + groups[-1]
        return _expand(first, last, [token], index, out, claims)
    if i + 2 >= len(tokens) or not index.looks_like_host(token.low):
        return 0
    link, end = tokens[i + 1], tokens[i + 2]
    if not (link.low in RANGE_WORDS or link.text == "-") or link.hint == "arrow":
        return 0
    last = _range_end(token.low, end.low)
    if not last:
        return 0
    before = (list(out.names), list(out.unknown))
    used = _expand(token.low, last, tokens[i : i + 3], index, out, claims)
    ends = index.lookup(token.low).names, index.lookup(end.low).names
    if used and i and tokens[i - 1].low == "from" and link.low == "to" and all(len(e) == 1 for e in ends):
        added = tuple(n for n in (*out.names, *out.unknown) if n not in before[0] and n not in before[1])
        out.from_to = (ends[0][0], ends[1][0], added)
    return used


def _range_end(first: str, written: str) -> str:
    """The last name of a range from how its end is written: '03', 'web-03', 'w03' (ams-k8s-w01 to w03)."""
    if written.isdigit():
        return re.sub(r"\d+$", "", first) + written
    if signature(written)[0] == signature(first)[0] and signature(written)[1]:
        return written
    head, end = _TAIL.match(first), _TAIL.match(written)
    if head and end and end.group(2) and end.group(1) == "" and head.group(2) == end.group(2):
        return head.group(1) + end.group(2) + end.group(3)
    return ""


def _expand(
    first: str, last: str, used: list[Token], index: InventoryIndex, out: Targets, claims: Claims
) -> int:
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
    claims.take(*used)
    return len(used)


def raw_targets(tokens: list[Token], out: Targets, claims: Claims) -> None:
    """DNS names that are not inventory entries stay as written (network tools may use them)."""
    for token in tokens:
        if token.kind == "word" and token not in claims and is_fqdn(token.low):
            out.raw.append(token.text)
            claims.take(token)


def pronoun(tokens: list[Token]) -> bool:
    """'it', 'them', 'those ones', 'the same hosts': the clause refers back to earlier hosts."""
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
