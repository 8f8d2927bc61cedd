"""Tool choice: which catalog tools a clause's words and values point at, ranked.

Every tool's declared words are matched against the clause (stems, phrases in order with small
gaps: 'take web-01 down', 'bring nginx back up'). A tool's score adds what it explains:

    its words       verbs, objects, states, questions, value words (a word many tools share
                    counts for each of them in proportion: 'restart' is half reboot, half
                    service control)
    typed values    a value one of its slots can hold (a service, a path, a quoted command)
    targets         hosts, when it takes targets
and subtracts what it cannot explain: required arguments with nothing written for them, and
values it has no slot for. The best reading first. Equal scores are ordered by what the readings
risk and rest on, never by the order tools were declared (`order`); readings still equal after
that are a real tie (`tied`), which the clause reports as low confidence (the choices are asked).
"""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.nlu.agents import consumer_asked
from pipeline.nlu.coverage import coverage
from pipeline.nlu.english import AUXILIARIES, HEDGE_LINKS, LINKING_VERBS, stem
from pipeline.nlu.fit import (
    FILL,
    GAP_OK,
    STRONG_KINDS,
    asset_fit,
    command_fit,
    cued_values,
    cued_weight,
    cued_words,
    dns_fit,
    exact_matches,
    fill_weight,
    has_value,
    named_text,
    object_of_verb,
    target_fit,
    usable,
)
from pipeline.nlu.lexicon import COMMON, HOST_NOUNS
from pipeline.nlu.parse import Parse, Value
from pipeline.nlu.reading import Match, Reading
from pipeline.nlu.selectors import Selector
from pipeline.nlu.tokens import Token
from pipeline.nlu.toolwords import Phrase, ToolView, ToolWords

_WEIGHT: dict[str, float] = {
    "verb": 1.0,
    "object": 0.8,
    "state": 0.5,
    "question": 0.4,
    "value": 0.9,
    "cue": 0.3,
    "topic": 0.3,
    "name": 1.5,  # a tool's own name written out ('the windows service restart pack')
}
_MISSING = 0.9


def matches(parse: Parse, words: ToolWords) -> list[tuple[ToolView, Match]]:
    """Every declared phrase written in the clause, with the tool declaring it."""
    tokens = [
        t
        for t in parse.tokens
        if t.kind == "word" and (t.index not in parse.claimed or t.index in parse.phrases)
    ]
    found: list[tuple[ToolView, Match]] = []
    for position, token in enumerate(tokens):
        if _links(tokens, position, words, parse):
            continue
        for phrase, tool, role, slot, value in words.starts.get(stem(token.low), []):
            if (
                token.low in words.plurals
                and token.low + "s" in words.vocabulary
                and token.low not in words.vocabulary
            ):
                continue  # 'team' is not 'teams': a declared plural does not match its singular
            span = _span(tokens, position, phrase, parse, words)
            if span is not None:
                found.append((tool, Match(phrase, role, span, slot.name if slot else "", value)))
    return consumer_asked(parse, found + exact_matches(parse, words), words)


def _links(tokens: list[Token], position: int, words: ToolWords, parse: Parse) -> bool:
    """'looks unreachable', 'seems like it is down': a linking verb before what it links is no state
    of its own ('how is web-01 looking?' still is)."""
    if tokens[position].low not in LINKING_VERBS or position + 1 >= len(tokens):
        return False
    after = tokens[position + 1].low
    phrasal = any(p[1:2] == (stem(after),) for p, *_ in words.starts.get(stem(tokens[position].low), []))
    rest = parse.tokens[parse.position(tokens[position + 1].index) + 1 :]
    if phrasal and rest and rest[0].low not in COMMON | {"me", "us", "fine", "good"}:
        return False  # 'look up example.org': a declared phrasal verb ('looks up to me' links; in
        # 'look up who owns X' the question after it says what is wanted)
    return after in HEDGE_LINKS or bool(words.starts.get(stem(after)))


def _span(
    tokens: list[Token], position: int, phrase: Phrase, parse: Parse, words: ToolWords
) -> tuple[int, ...] | None:
    """Token indexes of `phrase` written from `position` on, in order. Between its words may stand
    glue words and values ('bring nginx back up') and one other word ('let the team know'), never
    another tool word ('what OS version is it running' is no 'what is running')."""
    taken = [tokens[position].index]
    at = position
    for word in phrase[1:]:
        other = 0
        at += 1
        while at < len(tokens) and stem(tokens[at].low) != word:
            token = tokens[at]
            owned = any(token.index in v.tokens for v in parse.values)
            if not owned and token.low not in GAP_OK:
                other += 1
                if other > 1 or stem(token.low) in words.starts:
                    return None
            at += 1
        if at >= len(tokens):
            return None
        taken.append(tokens[at].index)
    return tuple(taken)


def rank(
    parse: Parse, words: ToolWords, found: Sequence[tuple[ToolView, Match]], referred: str = ""
) -> list[Reading]:
    """Every tool with something to say for the clause, best first.

    `referred`: the service an 'it' in the clause may stand for (from earlier clauses).
    """
    referred = referred if parse.targets.pronoun and not parse.of_kind("service") else ""
    readings = [_reading(tool, parse, words, [m for t, m in found if t is tool], referred) for tool in words]
    useful = [
        r
        for r in readings
        if (
            r.matches
            or _strong(r.uses)
            or _lists_hosts(r, parse)
            or (referred and "service" in r.tool.kinds())
        )
        and (_grounded(r, parse) or referred)
        and _asked_for(r)
    ]
    return sorted(useful, key=order)


def order(reading: Reading) -> tuple[float, bool, int]:
    """How readings rank: by score; on equal scores a read before a change (a change must win
    outright), then the reading resting on more of its own declared words over typed values alone."""
    own = {i for m in reading.matches if m.role != "cue" for i in m.tokens}
    return (-reading.score, reading.tool.changes, -len(own))


def tied(readings: Sequence[Reading]) -> bool:
    """The best two readings are equal on everything `order` weighs (and both plausible): nothing
    in the clause decides between them."""
    return len(readings) > 1 and readings[0].score > 0 and order(readings[0]) == order(readings[1])


def _asked_for(reading: Reading) -> bool:
    """A tool declaring `words_required` is chosen only when one of its own words is written (a
    transfer is asked for by 'download', never by a path alone)."""
    if not reading.tool.spec.phrasing.words_required:
        return True
    return any(m.role in {"verb", "object", "question", "name"} for m in reading.matches)


def _reading(tool: ToolView, parse: Parse, words: ToolWords, found: list[Match], referred: str) -> Reading:
    cued, cues = cued_values(tool, parse, found)
    text_cues = [m for m in found if m.role == "cue" and cued_words(tool, parse, [m])]  # 'the X template'
    chosen = _best_matches([m for m in found if m.role != "cue" or m in cues or m in text_cues])
    score = sum(_WEIGHT[m.role] * len(m.words) / _spread(m, words) for m in chosen)
    uses = tuple(v for v in parse.values if v in cued or usable(tool, v, parse, chosen))
    uses += object_of_verb(tool, parse, chosen, uses, words)
    score += sum(cued_weight(tool, v, words) if v in cued else fill_weight(tool, v, words) for v in uses)
    command, covers = command_fit(tool, parse, chosen, words)
    text = cued_words(tool, parse, chosen)
    covers |= text
    score += named_text(text, parse)
    named, bare = dns_fit(tool, parse, chosen)
    covers |= bare
    score += target_fit(tool, parse) + command + named + asset_fit(tool, parse)
    if referred and "service" in tool.kinds():
        score += FILL["service"] if chosen else 0.5  # 'check nginx on web-02, then restart it'
    missing = tuple(
        s.name
        for s in tool.slots
        if s.required and not has_value(s, chosen, uses, parse) and not (referred and s.kind == "service")
    )
    missing += _unfilled_paths(tool, uses, missing)
    score -= _MISSING * len(missing)
    own = covers | {i for m in chosen for i in m.tokens}  # 'postgresql activity': its own word
    unused = [
        v
        for v in parse.values
        if v not in uses and v.kinds & STRONG_KINDS and not v.weak and not set(v.tokens) <= own
    ]
    score -= 0.3 * len(unused)
    score -= 0.3 * len(_ignored_words(parse, chosen, uses, covers, words))
    return Reading(
        tool, round(score, 3), (*chosen, *_riders(found, chosen)), uses, missing, frozenset(covers)
    )


def _riders(found: list[Match], chosen: list[Match]) -> list[Match]:
    """Values written by a word chosen in another role ('send an email to ...': 'email' is the
    verb and also the channel): they fill their argument without counting twice."""
    taken = {i for m in chosen for i in m.tokens}
    return [m for m in found if m.role == "value" and m not in chosen and set(m.tokens) <= taken]


def _spread(match: Match, words: ToolWords) -> int:
    """How many tools share the matched words (topics only among topics)."""
    return max(1, (words.topic_spread if match.role == "topic" else words.spread)[match.words])


def _unfilled_paths(tool: ToolView, uses: tuple[Value, ...], missing: tuple[str, ...]) -> tuple[str, ...]:
    """One written path fills one path argument: 'look at /etc/hosts on web-01' is no copy (from
    where to where)."""
    paths = [s.name for s in tool.slots if s.required and s.kind == "path" and s.name not in missing]
    written = sum(1 for v in uses if v.has("path"))
    return tuple(paths[written:])


def _ignored_words(
    parse: Parse, chosen: list[Match], uses: tuple[Value, ...], covers: set[int], words: ToolWords
) -> list[Token]:
    """Words the catalog knows that this reading leaves unexplained: evidence for another reading
    ('restart all services on web-01' is about services, so no reboot)."""
    explained = {i for m in chosen for i in m.tokens} | {i for v in uses for i in v.tokens} | covers
    return [
        t
        for t in parse.free_words()
        if t.index not in explained
        and t.low not in GAP_OK
        and t.low not in COMMON
        and any(e[2] in {"object", "value"} for e in words.starts.get(stem(t.low), []))
    ]


def _strong(uses: tuple[Value, ...]) -> bool:
    """Values that say what is wanted on their own: a service, a path, a quoted command, a
    recipient. A number or a duration alone ('throwing 502s') points at no tool."""
    return any(
        not v.kinds <= {"number", "duration", "size", "port"} or v.key for v in uses
    )  # 'https' names a port


def _lists_hosts(reading: Reading, parse: Parse) -> bool:
    """'prod windows boxes': a selection alone asks for the hosts (the tool answering with hosts)."""
    targets = parse.targets
    # 'list assets', 'show servers' ask for hosts; 'great work everyone' (a quantifier alone) does not
    nouns = targets.selector.everything and any(t.low in HOST_NOUNS for t in parse.words)
    return reading.tool.untargeted == "all" and (_qualified(targets.selector) or nouns) and not targets.names


def _qualified(sel: Selector) -> bool:
    """A selection by some attribute ('prod windows boxes'), not by a quantifier alone."""
    return sel.anchored and sel.attributes()


def _grounded(reading: Reading, parse: Parse) -> bool:
    """A reading resting on question or state words alone needs hosts it can answer about ('what's
    the weather in london' names no hosts: 'london' alone is no selection; 'anyone up for lunch?',
    'thanks all, incident closed' talk about no host at all)."""
    if reading.uses or any(m.role not in {"question", "cue", "state"} for m in reading.matches):
        return True
    if _lists_hosts(reading, parse):
        return True
    targets = parse.targets
    if not any(m.role == "state" for m in reading.matches):
        return bool(targets.names or targets.raw or targets.selector.anchored)
    about = targets.pronoun or any(t.low in HOST_NOUNS | _ANY_HOST for t in parse.words)
    # 'is it up?', 'are the boxes reachable?', 'is anything down?' (but 'great work everyone')
    if about or targets.names or targets.raw or targets.unknown or _qualified(targets.selector):
        return True
    # 'is reachable?' is the state question alone, which then asks for its hosts; a state word outside
    # such a question ('happy friday everyone') or talk with words the reading leaves over ('anyone up
    # for lunch?', 'thanks all, incident closed') is about no host
    asks = any(t.low in AUXILIARIES for t in parse.words)
    return asks and coverage(parse, reading) == 1.0


_ANY_HOST = frozenset({"anything", "everything", "something", "nothing"})


def _best_matches(found: list[Match]) -> list[Match]:
    """Non-overlapping matches, longest first (a token counts once per tool)."""
    chosen: list[Match] = []
    taken: set[int] = set()
    for match in sorted(found, key=lambda m: (-len(m.words), _WEIGHT.get(m.role, 0) * -1)):
        if taken.isdisjoint(match.tokens):
            chosen.append(match)
            taken.update(match.tokens)
    return chosen
