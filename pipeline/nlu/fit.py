"""How a tool's slots take what a clause holds: typed values, cued words, a command after the verb,
the hosts. Used by tool choice to score a reading, and by slot filling to read the arguments."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable

from pipeline.nlu.commands import code_span, command_span, quoted_within, shell_like
from pipeline.nlu.dictionary import english
from pipeline.nlu.english import AUXILIARIES, QUESTION_WORDS, stem
from pipeline.nlu.inventory import InventoryIndex
from pipeline.nlu.lexicon import ABBREVIATIONS, COMMON, PRONOUNS
from pipeline.nlu.parse import Parse, Value
from pipeline.nlu.reading import Match
from pipeline.nlu.tokens import Token
from pipeline.nlu.toolwords import GLUE, SlotView, ToolView, ToolWords

GAP_OK = GLUE | PRONOUNS | AUXILIARIES | {"back", "it", "them", "all", "every", "that", "this", "these"}
FILL = {
    "service": 1.0,
    "path": 1.0,
    "dns_name": 1.0,
    "recipient": 1.0,
    "port": 0.8,
    "command": 1.0,
    "code": 1.0,
    "duration": 0.3,
    "size": 0.3,
    "number": 0.5,
    "message": 0.4,
    "text": 0.3,
    "asset": 0.5,
}
STRONG_KINDS = frozenset({"service", "path", "email", "channel", "phone", "url", "dns_name"})
_OBJECT_END = frozenset({"on", "at", "in", "for", "across", "from", "service", "daemon", "unit"})
_SERVICE_WORD = re.compile(r"^[A-Za-z][\w@.:+-]*$")


def object_of_verb(
    tool: ToolView, parse: Parse, chosen: list[Match], uses: tuple[Value, ...], words: ToolWords
) -> tuple[Value, ...]:
    """'restart myapp-worker on api-01': an unknown word right after the tool's verb, before where it
    runs, is what the verb acts on: a service nobody listed (it is shown for approval as written)."""
    if "service" not in tool.kinds() or any(v.has("service") for v in uses):
        return ()
    verbs = [m for m in chosen if m.role in {"verb", "value"}]
    if not verbs:
        return ()
    at = parse.position(verbs[0].tokens[-1]) + 1
    while at < len(parse.tokens) and parse.tokens[at].low in {"the", "a", "an"}:
        at += 1
    if at + 1 >= len(parse.tokens):
        return ()
    token, after = parse.tokens[at], parse.tokens[at + 1]
    taken = token.index in parse.claimed or any(token.index in v.tokens for v in parse.values)
    known = token.low in GAP_OK or stem(token.low) in words.starts or token.low in COMMON
    known = known or (token.low.isalpha() and token.low in english())  # 'restart something': no name
    if token.kind != "word" or taken or known or not _SERVICE_WORD.match(token.text):
        return ()
    if after.low not in _OBJECT_END and after.index not in parse.claimed:
        return ()
    return (Value(frozenset({"service"}), token.text, (token.index,), token.text),)


def cued_weight(tool: ToolView, value: Value, words: ToolWords) -> float:
    """A value its slot's cue points at: text ('matching nginx') belongs to the tool outright; a
    typed value ('copy /etc/hosts') weighs at least what it weighs uncued."""
    slot = next((s for s in tool.slots if s.kind == "text"), None)
    cued = FILL["service"] if slot is not None and not value.has("number") else FILL["number"]
    return max(cued, fill_weight(tool, value, words)) if slot_for(tool, value) is not None else cued


def cued_values(tool: ToolView, parse: Parse, found: list[Match]) -> tuple[set[Value], list[Match]]:
    """Values written next to a slot's cue ('matching redis', 'java processes', '5 times'), and
    the cues that have one (a cue with nothing next to it is no evidence)."""
    values: set[Value] = set()
    cues: list[Match] = []
    for match in found:
        slot = tool.slot(match.slot) if match.role == "cue" else None
        if slot is None:
            continue
        token = cued_token(slot, match, parse)
        if token is None:
            continue
        value = next((v for v in parse.values if token.index in v.tokens), None)
        if value is not None or (slot.kind == "text" and free_word(token, parse)):
            if value is not None:
                values.add(value)
            cues.append(match)
    return values, cues


def cued_token(slot: SlotView, match: Match, parse: Parse) -> Token | None:
    """The token a cue points at: after a lead ('matching X', 'processes for X'), before a word
    that follows its value ('X processes', '5 times'); one glue word may stand between."""
    lead = match.words in slot.leads
    at = parse.position(match.tokens[-1] if lead else match.tokens[0])
    step = 1 if lead else -1
    for near in (at + step, at + 2 * step):
        if not 0 <= near < len(parse.tokens):
            return None
        token = parse.tokens[near]
        if token.low not in GAP_OK or token.kind != "word":
            return token
    return None


def free_word(token: Token, parse: Parse) -> bool:
    return token.kind in {"word", "quote"} and token.index not in parse.claimed and token.low not in GAP_OK


def slot_for(tool: ToolView, value: Value) -> SlotView | None:
    """The argument of `tool` that a typed value can fill, if any."""
    if value.has("kv"):
        return tool.slot(value.key)
    for slot in tool.slots:
        if _fits(slot, value, tool):
            return slot
    return None


def _fits(slot: SlotView, value: Value, tool: ToolView) -> bool:
    kind = slot.kind
    if kind in {"service", "path", "dns_name", "duration", "size", "port"}:
        return value.has(kind) and not (
            kind == "service" and value.weak and value.has("port") and "port" in tool.kinds()
        )
    if kind == "recipient":
        return bool(value.kinds & {"email", "channel", "phone", "url", "named"})
    if kind in {"command", "message"}:
        return (value.has("quote") and value.cue != "fence") or (kind == "command" and value.has("quote"))
    if kind == "code":
        return value.has("quote") and value.cue == "fence"
    return False


def usable(tool: ToolView, value: Value, parse: Parse, chosen: list[Match]) -> bool:
    slot = slot_for(tool, value)
    if slot is None:
        return _code_by_object(tool, value, chosen)
    return True


def _code_by_object(tool: ToolView, value: Value, chosen: list[Match]) -> bool:
    """Quoted text is a script's body when the request names the tool's object ('script')."""
    return value.has("quote") and "code" in tool.kinds() and any(m.role == "object" for m in chosen)


def fill_weight(tool: ToolView, value: Value, words: ToolWords) -> float:
    slot = slot_for(tool, value)
    kind = slot.kind if slot is not None else "code"
    if value.has("kv"):
        return 0.8
    if value.weak and kind == "service":
        return 0.3  # 'ssh', 'dns': a service only where the hosts run it, else the protocol
    if value.has("quote"):
        sharing = len([t for t in words if t.kinds() & {"command", "code", "message", "text"}])
        return FILL.get(kind, 0.3) * (2.0 / max(2, sharing))
    return FILL.get(kind, 0.3)


def code_words(chosen: Iterable[Match]) -> list[int]:
    """Where a script's text may be introduced: its object ('script: ...') or its language ('this
    python: ...')."""
    return [m.tokens[0] for m in chosen if m.role in {"object", "value"}]


def command_fit(
    tool: ToolView, parse: Parse, chosen: list[Match], words: ToolWords
) -> tuple[float, set[int]]:
    """An unquoted command after the verb: strong when it looks like a command line, none when its
    first word is another tool's verb or an article ('run traceroute to x', 'run a disk check')."""
    if "code" in tool.kinds():
        code = code_span(parse, code_words(chosen))
        return (1.5, {t.index for t in parse.tokens[code[0] : code[1]]}) if code else (0.0, set())
    if "command" not in tool.kinds():
        return 0.0, set()
    declared = {w for p in tool.spec.phrasing.verbs for w in p.lower().split()}
    verbs = [m.tokens[0] for m in chosen if m.role == "verb" and _written(m, parse) in declared]
    span = command_span(tool, verbs, parse) if verbs else None
    if span is None or (parse.of_kind("quote") and not quoted_within(parse, span)):
        return 0.0, set()
    tokens = parse.tokens[span[0] : span[1]]
    written = [t for t in tokens if t.kind == "word"]
    covered = {t.index for t in tokens}
    if shell_like(parse, span):
        return 1.5, covered
    if not written or written[0].low in _ARTICLES:
        return 0.0, set()
    other = [e for e in words.starts.get(stem(written[0].low), []) if e[2] == "verb" and e[1] is not tool]
    return (0.0, set()) if other else (1.0, covered)


def _written(match: Match, parse: Parse) -> str:
    return next((t.low for t in parse.tokens if t.index == match.tokens[0]), "")


def cued_words(tool: ToolView, parse: Parse, chosen: list[Match]) -> set[int]:
    """Free words a text slot's cue takes ('named w3wp')."""
    covered: set[int] = set()
    for match in chosen:
        slot = tool.slot(match.slot) if match.role == "cue" else None
        if slot is None or slot.kind != "text":
            continue
        at = parse.position(match.tokens[0])
        leads, follows = match.words in slot.leads, match.words in slot.follows
        # a lead takes the word after it, a follower the word before: 'a server called web-04'
        # names no process 'server'
        sides = (
            (at + 1,) if leads and not follows else (at - 1,) if follows and not leads else (at + 1, at - 1)
        )
        for near in sides:
            if 0 <= near < len(parse.tokens) and free_word(parse.tokens[near], parse):
                covered.add(parse.tokens[near].index)
                break
    return covered


def named_text(covered: set[int], parse: Parse) -> float:
    """A name a text slot's cue points at ('curl version', 'version of openssl', 'java processes')
    weighs what a cued value weighs ('matching nginx'): it belongs to the tool outright. A question
    or common word beside the cue ('which version') names nothing."""
    named = [t for t in parse.tokens if t.index in covered and t.low not in COMMON | QUESTION_WORDS]
    return FILL["service"] * len(named)


_ARTICLES = frozenset({"a", "an", "the", "some", "this", "these", "that", "my", "our"})


def exact_choice(token: Token, parse: Parse) -> bool:
    """'dns A localhost', 'an A record': a choice that is also an English word, written as declared
    (not lower-cased like the article) or named as a record."""
    return token.text != token.text.lower() or any(
        t.index == token.index + 1 and stem(t.low) in {"record", "rr"} for t in parse.tokens
    )


def written_choice(token: Token, slot: SlotView, parse: Parse) -> str | None:
    """The choice of `slot` a token writes when the choice is also an English word or a chat
    abbreviation ('A' records, 'srv' records: SRV, not 'server'), as `exact_choice` reads it."""
    if token.kind != "word" or not exact_choice(token, parse):
        return None
    if token.text in slot.exact:
        return token.text
    upper = token.text.upper()
    return upper if upper in slot.exact and token.text.lower() in ABBREVIATIONS else None


def exact_matches(parse: Parse, words: ToolWords) -> list[tuple[ToolView, Match]]:
    """Choices that are also English words ('A' records), written so they count as the choice:
    they point at the tool declaring them like any other value word."""
    found: list[tuple[ToolView, Match]] = []
    for tool in words:
        for slot in tool.slots:
            for token in parse.tokens:
                choice = written_choice(token, slot, parse)
                if choice is not None:
                    found.append((tool, Match((token.low,), "value", (token.index,), slot.name, choice)))
    return found


def dns_fit(tool: ToolView, parse: Parse, chosen: list[Match]) -> tuple[float, set[int]]:
    """A name or address to look up, written as a DNS name or an address (not an inventory name),
    or a bare host name right after the tool's own word ('resolve localhost', 'dig mailhost')."""
    if "dns_name" not in tool.kinds() or parse.of_kind("dns_name"):
        return 0.0, set()
    if parse.targets.raw or any(t.kind == "ip" for t in parse.tokens):
        return FILL["dns_name"], set()
    bare = name_after(parse, chosen)
    return (FILL["dns_name"], {bare.index}) if bare is not None else (0.0, set())


_HOST_LABEL = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def name_after(parse: Parse, chosen: Iterable[Match]) -> Token | None:
    """A single-label host name written right after the tool's verb or object (record types and
    'the', 'of', 'for' may stand between): 'dns localhost', 'nslookup mailhost'."""
    own = {i for m in chosen if m.role in {"verb", "object", "value"} for i in m.tokens}
    if not own:
        return None
    taken = parse.claimed | {i for v in parse.values for i in v.tokens if not v.weak}
    for token in parse.tokens[parse.position(min(own)) :]:
        if token.index in own or token.low in {"the", "of", "for", "record", "records"}:
            continue
        free = token.kind == "word" and token.index not in taken and _HOST_LABEL.match(token.low)
        plain = token.low in COMMON or token.low in GAP_OK or (token.low.isalpha() and token.low in english())
        return token if free and not plain else None
    return None


def target_fit(tool: ToolView, parse: Parse) -> float:
    targets = parse.targets
    named = bool(targets.names or targets.selector.is_set() or targets.pronoun)
    if tool.takes_targets and tool.untargeted == "all" and targets.selector.anchored and not targets.names:
        return 0.3  # 'prod windows boxes', 'which hosts run redis': the hosts themselves are asked for
    if tool.takes_targets:
        return 0.2 if named or targets.raw else 0.0
    uses_raw = "dns_name" in tool.kinds()
    return -0.4 if targets.names and not uses_raw else 0.0


def addressed(tool: ToolView, parse: Parse, index: InventoryIndex) -> list[str]:
    """The hosts written right after one of the tool's `targets_after` words ('ask ns1',
    'against ns1'): the ones it runs on; other hosts named are its arguments."""
    cues = {stem(w) for w in tool.spec.phrasing.targets_after}
    words = [t for t in parse.tokens if t.kind != "punct"]
    found: list[str] = []
    for before, token in itertools.pairwise(words):
        if token.index in parse.targets.name_tokens and stem(before.low) in cues:
            found += [n for n in index.lookup(token.text).names[:1] if n in parse.targets.names]
    asked = causee(tool, parse)
    if asked is not None and asked.index in parse.targets.name_tokens:
        found += [n for n in index.lookup(asked.text).names[:1] if n in parse.targets.names]
    return found


_CAUSATIVES = frozenset({"have", "has", "had", "get", "got", "make", "made", "let", "tell", "told"})


def causee(tool: ToolView, parse: Parse) -> Token | None:
    """The host made to do the tool's verb: 'have web-01 resolve X', 'get the dc to look up X' (the
    one who looks up is the one asked, as after `targets_after` words)."""
    words = [t for t in parse.tokens if t.kind == "word"]
    verbs = {phrase_[0] for phrase_, role in tool.phrases.items() if role == "verb"}
    for at, token in enumerate(words[:-2]):
        if token.low not in _CAUSATIVES:
            continue
        rest = [t for t in words[at + 1 :] if t.low not in _ARTICLES]
        if not rest or rest[0].index not in parse.claimed:
            continue
        after = [t for t in rest[1:] if t.low != "to" and t.index not in parse.claimed][:1]
        if after and stem(after[0].low) in verbs:
            return rest[0]
    return None


def led_host(slot: SlotView, parse: Parse) -> Token | None:
    """The host an asset slot takes: the one written right after one of its cue words ('... to
    db-02'); else, when the clause marks the other host as the source ('copy X from web-01 to
    /srv/x on web-03'), the one host besides it."""
    leads = {p[-1] for p in slot.leads}
    hosts = [t for t in parse.tokens if t.index in parse.targets.name_tokens and t.kind != "punct"]
    words = [t for t in parse.tokens if t.kind != "punct"]
    for before, token in itertools.pairwise(words):
        if token in hosts and stem(before.low) in leads:
            return token
    sources = [t for b, t in itertools.pairwise(words) if t in hosts and b.low == "from"]
    others = [t for t in hosts if t not in sources and t.low not in leads | {"from"}]
    return others[0] if len(sources) == 1 and len(others) == 1 else None


def asset_fit(tool: ToolView, parse: Parse) -> float:
    """Another host in the role the tool's asset argument takes ('to web-02'): evidence for it."""
    slots = [s for s in tool.slots if s.kind == "asset"]
    return FILL["asset"] if any(led_host(s, parse) is not None for s in slots) else 0.0


def has_value(slot: SlotView, chosen: Iterable[Match], uses: Iterable[Value], parse: Parse) -> bool:
    if any(m.slot == slot.name for m in chosen):
        return True
    if slot.by_os:
        return True
    if any(slot is not None and v.has("kv") and v.key == slot.name for v in uses):
        return True
    kind = slot.kind
    if kind == "code" and code_span(parse, code_words(chosen)):
        return True
    if kind in {"service", "path", "recipient", "code"}:
        return any(_kind_of(v, kind) for v in uses)
    if kind == "dns_name":
        written = parse.of_kind("dns_name") or parse.targets.raw or any(t.kind == "ip" for t in parse.tokens)
        written = written or name_after(parse, chosen) is not None
        # an inventory name after the tool's own words: 'dns lookup web-01', 'dns A localhost'
        named = parse.targets.names and any(m.role in ("verb", "object") for m in chosen)
        return bool(written or named)
    if kind == "command":
        return True  # an unquoted command is read after the verb; its absence is asked when filling
    if kind == "asset":
        return len(parse.targets.names) >= 2  # one host to act on, another as the argument
    if kind == "new_name":
        return bool(parse.targets.unknown) or any(v.has("kv") and v.key == "name" for v in parse.values)
    if kind in {"filter", "field", "text", "message", "choice", "choices", "number"}:
        return kind != "choice"
    return False


def _kind_of(value: Value, kind: str) -> bool:
    if kind == "recipient":
        return bool(value.kinds & {"email", "channel", "phone", "url", "named"})
    if kind == "code":
        return value.has("quote")
    return value.has(kind)
