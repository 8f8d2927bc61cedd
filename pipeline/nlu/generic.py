"""General questions: advice or concepts about a kind of thing, not about the inventory's hosts.

    is it generally a good idea to reboot a domain controller?   a kind of host ('a', bare plural)
    would stopping redis lose data?                              a service, on no host
    how does a rolling restart work? | what's the difference ... a concept

The bot plans tasks on hosts; a general question plans nothing (it is answered with a concrete read
the person can send). A question about hosts stays one: 'should I restart redis on cache-01?',
'is the dc up?', 'would rebooting the london web servers hurt?', or a host an earlier message named.
"""

from __future__ import annotations

from pipeline.nlu.acts import Act, asks
from pipeline.nlu.lexicon import vocab
from pipeline.nlu.parse import Parse
from pipeline.nlu.targeting import Context

GENERALLY = vocab("generally general usually typically normally ever difference differences explain")
_INDEFINITE = vocab("a an any")
_DEFINITE = vocab("the this that these those our my your their all every each both its")
_CONCEPTS = vocab("work works")  # 'how does a rolling restart work?'
_POSSIBILITY = vocab("would could might can")  # 'can restarting postgres corrupt data?'


def general(parse: Parse, act: Act, changes: bool, context: Context) -> bool:
    """True when the clause asks about a kind of thing in general, not about hosts."""
    if not _kinds_only(parse, context):
        return False
    words = [t.low for t in parse.words]
    conceptual = asks(words) and (bool(set(words) & GENERALLY) or _concept(words))
    possible = asks(words) and act in {Act.QUESTION, Act.REPORT} and bool(set(words) & _POSSIBILITY)
    return conceptual or (changes and (act in {Act.ADVICE, Act.HYPOTHETICAL} or possible))


def _concept(words: list[str]) -> bool:
    """'how does a rolling restart work?', 'what does a reboot do to a linux box?'."""
    if words[:1] not in (["how"], ["what"]) or not set(words[1:3]) & {"does", "do"}:
        return False
    return bool(set(words) & _CONCEPTS) if words[0] == "how" else bool(set(words[3:]) & {"do", "mean"})


def _kinds_only(parse: Parse, context: Context) -> bool:
    """No host named, meant or referred to: a kind of host ('a domain controller', 'database
    servers'), a service alone ('redis'), or nothing at all."""
    targets = parse.targets
    if targets.names or targets.raw or targets.unknown or targets.ambiguous:
        return False
    if context.targets or context.selector is not None:
        return False  # 'would stopping redis lose data?' after 'check web-01': about web-01
    selector = targets.selector
    if not (selector.types or selector.os or selector.environments or selector.locations or selector.tags):
        return not selector.everything  # ('every connection' quantifies no hosts)
    determiner = _determiner(parse)
    if determiner in _INDEFINITE:
        return True  # 'a production web server': any one, none in particular
    attributes = selector.environments or selector.locations or selector.tags
    return not determiner and not attributes and not selector.everything


def _determiner(parse: Parse) -> str:
    """The word before the first selector phrase ('a', 'the', 'our', or '' when bare)."""
    taken = parse.claimed - set(parse.targets.name_tokens)
    words = parse.words
    for position, token in enumerate(words):
        if token.index not in taken:
            continue
        before = [w.low for w in words[:position] if w.index not in taken]
        word = before[-1] if before else ""
        return word if word in _INDEFINITE | _DEFINITE else ""
    return ""
