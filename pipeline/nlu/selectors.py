"""Selectors: inventory filters written as words ('the prod web servers in london', 'role=api').

Vocabularies (environments, locations, os, types, tag values, services) come from the
inventory index; a selector only *anchors* (selects on its own) when it has a host noun,
a quantifier or a key=value; bare adjectives next to named hosts merely qualify them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pipeline.nlu.english import AUXILIARIES, DISCOURSE, QUESTION_WORDS, SUBJECTS
from pipeline.nlu.inventory import InventoryIndex, within_one
from pipeline.nlu.lexicon import (
    ANY_ASSET_NOUNS,
    COMMON,
    FILLER,
    GROUP_NOUNS,
    HOST_NOUNS,
    PRONOUNS,
    QUANTIFIERS,
    vocab,
)
from pipeline.nlu.tokens import Token

if TYPE_CHECKING:
    from pipeline.nlu.parse import Claims

MACHINE_NOUNS = frozenset({"machine", "machines", "box", "boxes", "vm", "vms", "instance", "instances"})
_STATE_WORDS = frozenset({"ok", "okay", "fine", "good", "alright", "well", "working", "allright", "healthy"})
_SERVICE_LINK = vocab("running run runs with having has have hosting")
_ASKING_AUXILIARIES = vocab("has have had")
_LINKS = vocab("are is were was")
_ANY = vocab("everything anything which")
_HAVING = vocab("tagged flagged labelled labeled marked scoped classified")


def _opens_clause(tokens: list[Token], word: Token) -> bool:
    """The word starts the message or follows punctuation (where a question puts its auxiliary)."""
    at = tokens.index(word)
    return at == 0 or tokens[at - 1].kind == "punct"


@dataclass
class Selector:
    """Inventory filter collected from words; empty fields match everything."""

    types: list[str] = field(default_factory=list)
    os: list[str] = field(default_factory=list)
    environments: list[str] = field(default_factory=list)
    locations: list[str] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    services: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)  # 'the erp app servers': the hosts named *-erp-*
    everything: bool = False  # "all", "every", a bare host noun
    anchored: bool = False  # has a noun, quantifier or key=value: selects on its own, not just qualifies
    single: bool = False  # "the london db server", "the frankfurt one": one asset is meant
    quantified: bool = False  # "all", "every", "each"
    where_running: bool = False  # 'on every server that runs it', 'wherever it runs': where the service runs
    named: bool = False  # the clause names hosts: tag-value words then only select as 'the web servers'
    hosts_said: bool = False  # while reading: a host noun stands before the word ('which hosts are pci')

    def is_set(self) -> bool:
        return self.attributes() or self.everything

    def attributes(self) -> bool:
        """Selects by some attribute of the hosts ('prod windows boxes'), not by a quantifier alone."""
        return bool(
            self.types
            or self.os
            or self.environments
            or self.locations
            or self.tags
            or self.services
            or self.names
        )


def read_selector(tokens: list[Token], index: InventoryIndex, sel: Selector, claims: Claims) -> None:
    sel.quantified = any(t.low in QUANTIFIERS and t.kind == "word" for t in tokens)
    _where_it_runs(tokens, sel, claims)
    words = [t for t in tokens if t.kind == "word" and t not in claims]
    for position, token in enumerate(words):
        if token in claims:
            continue
        nxt = words[position + 1] if position + 1 < len(words) else None
        prev = words[position - 1] if position > 0 else None
        if prev is not None and prev.low in _ASKING_AUXILIARIES and _opens_clause(tokens, prev):
            # 'has nginx on web-02 been restarted?': an inverted auxiliary, not 'hosts having nginx'
            prev = None
        sel.hosts_said = any(w.low in HOST_NOUNS | _ANY for w in words[:position])
        _selector_word(token, prev, nxt, index, sel, claims)
    _kv_selector(tokens, index, sel, claims)
    _nouns(tokens, index, sel, claims)
    _place_alone(tokens, sel, claims)


_PLACE_FRAME = (
    QUESTION_WORDS | AUXILIARIES | SUBJECTS | FILLER | DISCOURSE
    | vocab("what's whats there's anything something stuff got have has run in at on inside")
    | vocab("located sitting live lives deployed hosted installed placed")
)  # fmt: skip


def _place_alone(tokens: list[Token], sel: Selector, claims: Claims) -> None:
    """'what do we have in dc-east?', "what's in staging": a place and nothing else asked selects it."""
    if sel.anchored or sel.named or not (sel.locations or sel.environments):
        return
    if sel.types or sel.tags or sel.services:
        return
    rest = [t for t in tokens if t not in claims and t.kind != "punct"]
    if rest and all(t.kind == "word" and t.low in _PLACE_FRAME for t in rest):
        sel.everything = sel.anchored = True


def _selector_word(
    token: Token,
    prev: Token | None,
    nxt: Token | None,
    index: InventoryIndex,
    sel: Selector,
    claims: Claims,
) -> None:
    low = token.low
    noun_next = nxt is not None and nxt.low in HOST_NOUNS
    if _type_phrase(token, nxt, index, sel, noun_next, claims):
        return
    if _tag_word(low, nxt, noun_next or _predicate(prev, sel), index, sel):
        _participle(nxt, sel, claims)
    elif low in index.environments:
        _add(sel.environments, index.environments[low])
    elif low in index.locations:
        _add(sel.locations, index.locations[low])
    elif nxt is not None and f"{low} {nxt.low}" in index.locations:
        _add(sel.locations, index.locations[f"{low} {nxt.low}"])
        claims.take(nxt)
    elif low in index.os and (noun_next or low in {"windows", "linux"}) and not _version_word(nxt):
        _add(sel.os, index.os[low])
        if prev is not None and _service_after_noun(prev):
            claims.take(prev)  # 'which servers run windows': the link word belongs to the selector
    elif (
        low in index.tag_values
        and (
            _tag_key_near(prev, nxt, index)
            or noun_next
            or _type_next(nxt, index)  # 'the core switches': a tag value before a type names them
            or (_determined(token, sel) and low not in index.services and not sel.named)
            or (_predicate(prev, sel) and low not in index.services)
        )
        and (low not in PRONOUNS or _tag_key_near(prev, nxt, index))
    ):
        key, value = index.tag_values[low][0]
        sel.tags[key] = value
        _participle(nxt, sel, claims)
        by_context = not (
            noun_next or _type_next(nxt, index) or _tag_key_near(prev, nxt, index) or _predicate(prev, sel)
        )
        sel.single = sel.single or (by_context and not sel.quantified)  # "the prod cache": one asset
        sel.anchored = True
    elif low in index.services and (noun_next or _service_after_noun(prev)):
        _add(sel.services, index.services[low])
        sel.anchored = True
        if prev is not None and _service_after_noun(prev):
            claims.take(prev)  # 'hosts running redis': the link word belongs to the selector
    elif not (
        _fuzzy_vocab(low, index, sel)
        or _location_prefix(low, index, sel)
        or _tag_key(low, index)
        or _name_segment(low, nxt, noun_next, index, sel)
    ):
        return
    claims.take(token)


def _name_segment(low: str, nxt: Token | None, noun_next: bool, index: InventoryIndex, sel: Selector) -> bool:
    """'the erp app servers', 'the pay dbs': a word the inventory's names are built from, before a host
    noun or a type, selects the hosts whose names carry it (a naming scheme's role or team code)."""
    if not (noun_next or _type_next(nxt, index)) or low in COMMON or low in FILLER:
        return False
    named = index.name_segments.get(low, [])
    if not named:
        return False
    for name in named:
        _add(sel.names, name)
    sel.anchored = True
    return True


def _predicate(prev: Token | None, sel: Selector) -> bool:
    """'which hosts are tier1', 'everything that is pci': a tag said of hosts named before."""
    return prev is not None and prev.low in _LINKS and sel.hosts_said


def _participle(nxt: Token | None, sel: Selector, claims: Claims) -> None:
    """'pci scoped', 'tier1 tagged': the word saying the tag is had belongs to the selection."""
    if nxt is None or not nxt.low.endswith("ed"):
        return
    keys = {k.lower() for k in sel.tags}
    if nxt.low in _HAVING or nxt.low[:-1] in keys or nxt.low[:-2] in keys:
        claims.take(nxt)


def _type_next(nxt: Token | None, index: InventoryIndex) -> bool:
    """The next word names an inventory type, or starts one ('domain' controllers)."""
    if nxt is None:
        return False
    starts = any(t.startswith(f"{nxt.low}_") for t in index.types)
    return starts or index.type_for_words((nxt.low,)) is not None


def _tag_key(low: str, index: InventoryIndex) -> bool:
    """A tag key alone ('which squad owns bat-01') names a field of the hosts: understood."""
    return low in index.tag_keys and low not in HOST_NOUNS


def _tag_word(low: str, nxt: Token | None, noun_next: bool, index: InventoryIndex, sel: Selector) -> bool:
    """'platform-team', 'the pci hosts', 'PCI-scoped': a tag written as one word selects by it."""
    before_hosts = noun_next or (nxt is not None and index.type_for_words((nxt.low,)) is not None)
    tag = index.tag_compound(low) or (index.flag_tag(low) if before_hosts or "-" in low else None)
    if tag is not None:
        sel.tags[tag[0]] = tag[1]
        sel.anchored = True
    return tag is not None


def _version_word(nxt: Token | None) -> bool:
    return nxt is not None and nxt.low in {"version", "versions", "release", "build"}


def _type_phrase(
    token: Token, nxt: Token | None, index: InventoryIndex, sel: Selector, noun_next: bool, claims: Claims
) -> bool:
    low = token.low
    if nxt is not None and not noun_next:
        found = index.type_for_words((low, nxt.low))
        if found:
            sel.anchored = True
            sel.single = sel.single or (not _several(nxt.low) and not sel.quantified)
            _add(sel.types, found)
            claims.take(token, nxt)
            return True
    if noun_next or low.endswith("s") or low in {"dbs", "dcs"} or _determined(token, sel) or sel.tags:
        found = index.type_for_words((low,), nxt.low if noun_next and nxt is not None else "")
        if found and (noun_next or low != found or _determined(token, sel) or sel.tags):  # 'the core switch'
            sel.anchored = True
            singular = not low.endswith("s") and (not noun_next or nxt is None or not _several(nxt.low))
            sel.single = sel.single or (singular and not sel.quantified)
            _add(sel.types, found)
            claims.take(token)
            if noun_next and nxt is not None:
                claims.take(nxt)
            return True
    return False


def _determined(token: Token, sel: Selector) -> bool:
    """'the london db', 'prod database', 'the fw': a singular type word after a selector or 'the'."""
    return bool(sel.environments or sel.locations or sel.os or sel.types) or token.after_article


def _tag_key_near(prev: Token | None, nxt: Token | None, index: InventoryIndex) -> bool:
    keys = index.tag_keys | {"team", "role"}
    owned_by = prev is not None and prev.low in {"by", "owner", "owners"}  # "owned by storefront"
    owns = nxt is not None and nxt.low in {"own", "owns"}  # "which hosts does storefront own"
    return (
        owned_by or owns or (prev is not None and prev.low in keys) or (nxt is not None and nxt.low in keys)
    )


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


_NOT_PREFIXES = vocab("new old the all any big main top low high lon-")


def _location_prefix(low: str, index: InventoryIndex, sel: Selector) -> bool:
    """'lon' for london, 'fra' for frankfurt: a unique prefix of an inventory location."""
    if len(low) < 3 or not low.isalpha() or low in COMMON or low in FILLER or low in _NOT_PREFIXES:
        return False
    found = {v for k, v in index.locations.items() if k.startswith(low) and len(k) > len(low)}
    if len(found) != 1:
        return False
    _add(sel.locations, found.pop())
    return True


def _kv_selector(tokens: list[Token], index: InventoryIndex, sel: Selector, claims: Claims) -> None:
    for token in tokens:
        if token.kind != "kv" or token in claims:
            continue
        key, _, value = token.text.partition("=")
        if _apply_kv(key.lower(), value.strip("\"'"), index, sel):
            claims.take(token)
            sel.anchored = True


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
    elif key == "names":  # a selection by names sent back ('type=db_server names=pay-db1,pay-db2')
        for name in filter(None, value.split(",")):
            _add(sel.names, name)
    elif key in {"tag", "tags"} and ":" in value:
        tag_key, _, tag_value = value.partition(":")
        sel.tags[tag_key] = tag_value
    elif key in index.tag_keys or key in {"role", "team"}:
        sel.tags[key] = value
    else:
        return False
    return True


def _nouns(tokens: list[Token], index: InventoryIndex, sel: Selector, claims: Claims) -> None:
    """Host nouns and quantifiers: 'all servers', 'every host', 'the windows boxes'."""
    for token in tokens:
        if token.kind != "word" or token in claims or token.low not in HOST_NOUNS:
            continue
        if token.low in {"one", "ones", "system", "systems"} and not sel.is_set():
            continue
        if _after_pronoun(tokens, token):
            continue
        if token.low == "one":
            claims.take(token)
            sel.single = True  # "the frankfurt one": one asset, never several
            sel.anchored = sel.anchored or bool(sel.environments or sel.locations or sel.tags)
            continue
        _noun(token, index, sel, claims)
    _bare_all(tokens, sel, claims)
    _everything(tokens, index, sel, claims)
    for token in tokens:
        if token.kind == "word" and token.low in QUANTIFIERS and sel.is_set():
            claims.take(token)


def _several(noun: str) -> bool:
    """'servers', 'ones', and a group noun ('the api tier', 'the web farm')."""
    return noun.endswith("s") or noun in GROUP_NOUNS


def _noun(token: Token, index: InventoryIndex, sel: Selector, claims: Claims) -> None:
    plural = _several(token.low)
    if not (plural or sel.quantified or sel.is_set()):
        return
    claims.take(token)
    qualified = bool(sel.environments or sel.locations or sel.os or sel.tags or sel.services or sel.types)
    if not sel.types and token.low not in ANY_ASSET_NOUNS and token.low != "ones":
        kinds = index.machine_types() if token.low in MACHINE_NOUNS else index.server_types()
        sel.types.extend(kinds)
    sel.everything = sel.everything or sel.quantified or plural
    sel.single = not (plural or sel.quantified)  # "the payments team's servers": several
    # "ping pg-* hosts": a bare noun after names only repeats them; "all servers" selects
    sel.anchored = sel.anchored or sel.quantified or qualified


def _everything(tokens: list[Token], index: InventoryIndex, sel: Selector, claims: Claims) -> None:
    padded: list[Token | None] = [*tokens, None, None]
    for token, nxt, after in zip(padded, padded[1:], padded[2:], strict=False):
        if token is None or token.low not in {"everything", "everyone", "everywhere"}:
            continue
        if nxt is not None and nxt.low in _STATE_WORDS:
            continue
        near = nxt is not None and nxt.low in {"on", "at", "about", "for", "of", "regarding"}
        place = after is not None and after.low in index.locations | index.environments
        if near and after is not None and after in claims and not place:
            continue  # "everything on web-01": things on that host, not every host ("everything at oslo" is)
        sel.everything = sel.anchored = True
        claims.take(token)


def _bare_all(tokens: list[Token], sel: Selector, claims: Claims) -> None:
    """'restart nginx on all', 'ping all': a quantifier with nothing after it means every asset."""
    words = [t for t in tokens if t.kind == "word"]
    for position, token in enumerate(words):
        if token.low != "all" or token in claims:
            continue
        before = words[position - 1].low if position else ""
        if position + 1 == len(words) and before in {"on", "across", "to", "for", "ping"}:
            sel.everything = sel.anchored = True
            claims.take(token)


_RUNS = vocab("runs run running has have having hosts host hosting")
_WHERE = vocab("where wherever everywhere anywhere")
_PRESENT = vocab("runs run running installed deployed present exists lives is are")


def _where_it_runs(tokens: list[Token], sel: Selector, claims: Claims) -> None:
    """'every server that runs it', 'all hosts running it', 'wherever it runs': the hosts that run
    the service the request is about (the caller adds the service to the filter)."""
    words = [t for t in tokens if t.kind == "word"]
    for position, token in enumerate(words):
        if token.low not in {"it", "them"}:
            continue
        before = words[position - 1] if position else None
        after = words[position + 1] if position + 1 < len(words) else None
        if before is not None and before.low in _RUNS and _linked(words, position - 1):
            phrase = [before, token]
        elif before is not None and before.low in _WHERE and after is not None and after.low in _PRESENT:
            phrase = [before, token, after]
        else:
            continue
        claims.take(*phrase)
        sel.where_running = sel.everything = sel.anchored = True


def _linked(words: list[Token], position: int) -> bool:
    """'... that runs it' only after a host word: 'which hosts have it'."""
    return position > 0 and words[position - 1].low in {"that", "which", "who"} | HOST_NOUNS


def _after_pronoun(tokens: list[Token], noun: Token) -> bool:
    position = tokens.index(noun)
    before = tokens[position - 1].low if position else ""
    return before in {"same", "those", "these", "that", "this", "said", "above"}


def _add(items: list[str], value: str) -> None:
    if value not in items:
        items.append(value)
