"""Follow-ups: a message that only makes sense after the conversation's last request.

"do it", "yes go ahead"       the one change the bot suggested last
"2", "the second one"         the second of the readings or suggestions it offered
"the london one"              completes the request it asked back about ("which one?")
"and on web-02?", "same for staging", "now the windows ones", "also from db-03"
                              the last request's steps on these hosts only (the earlier ones ran)
"what about web-02?"          after a change: a question, so the change's read, the change offered
"check it again", "once more on db-02"
                              the last request's steps again
"restart it", "ping all of them", "no, just check the status"
                              read with the last request's hosts, service and steps as context
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from pipeline.contracts import AssetFilter, Intent, Interpretation, ToolCall, Understanding
from pipeline.conversation import Turn
from pipeline.nlu import messages
from pipeline.nlu.acts import Act
from pipeline.nlu.english import CARDINALS
from pipeline.nlu.interpret import Read, Reader, read_of
from pipeline.nlu.lexicon import FILLER, LOOK_VERBS, PRONOUNS, vocab
from pipeline.nlu.parse import Parse, Targets
from pipeline.nlu.targeting import Context, targets_for

_ACCEPT = vocab("do go yes yep yup yeah sure proceed please confirm confirmed approve approved absolutely")
_ACCEPT_GLUE = vocab(
    "ok okay it ahead that then pls please sounds good fine right alright just now thanks thx that's do go "
    "yes yep yup yeah sure proceed confirm confirmed approve approved absolutely with for me so "
    "let's lets"
)
_AGREEING = vocab("cool great perfect understood got thing k kk alright yes yeah go ahead and then right")
_ORDINALS = {
    "first": 1,
    "1st": 1,
    "second": 2,
    "2nd": 2,
    "third": 3,
    "3rd": 3,
    "fourth": 4,
    "4th": 4,
    "fifth": 5,
    "5th": 5,
    "last": -1,
}
_CHOICE_GLUE = vocab(
    "the one option number choice no # please pls ok okay let's take go with i mean meant that"
)


def accepted(words: Sequence[str], previous: Turn) -> str | None:
    """'do it', 'yes, go ahead': the one suggestion of the last turn, when there was exactly one."""
    if len(previous.suggestions) != 1 or not agrees(words):
        return None
    return previous.suggestions[0]


def agrees(words: Sequence[str]) -> bool:
    """'do it', 'yes, go ahead', "let's do it" (but 'let' alone, as in 'let X know', is no yes)."""
    return bool(words) and set(words) <= _ACCEPT_GLUE | {"let"} and bool(set(words) & _ACCEPT)


_DECLINE = vocab("no nope nah don't dont skip leave")
_DECLINE_GLUE = _DECLINE | vocab(
    "it that alone as is thanks thx thank you fine ok okay i'm we're good not now for later wait let's let "
    "never mind rather"
)


def declined(words: Sequence[str], previous: Turn) -> Understanding | None:
    """'no', 'nah, leave it', 'no thanks': the person turns down what the last turn offered."""
    if not previous.suggestions or not set(words) & _DECLINE or not set(words) <= _DECLINE_GLUE:
        return None
    interpretation = Interpretation(intent=Intent.CHAT, category="help", confidence=1.0, source="lexicon")
    return Understanding(interpretation=interpretation, outcome="no_action", message=messages.declined())


def which_offered(words: Sequence[str], previous: Turn) -> Understanding | None:
    """'do it' after two or more readings were offered: which one, asked back with the same choices."""
    if len(previous.suggestions) < 2 or not agrees(words):
        return None
    interpretation = Interpretation(intent=Intent.CHAT, category="clarify", source="lexicon")
    offered = previous.suggestions
    message = messages.which_reading(list(offered))
    return Understanding(
        interpretation=interpretation, outcome="clarify", message=message, suggestions=offered
    )


def acknowledges(words: Sequence[str]) -> bool:
    """'ok', 'fine, go ahead', 'sure thing': a clause that only agrees; the request is elsewhere."""
    return bool(words) and set(words) <= _ACCEPT_GLUE | _AGREEING


def chosen(words: Sequence[str], previous: Turn) -> str | None:
    """'2', 'option 2', 'the second one', '#2', 'number two', 'option b': one of the last turn's
    numbered choices."""
    offered = previous.suggestions
    if not offered or not words:
        return None
    numbers = [_number(w, words[n - 1] if n else "", len(words)) for n, w in enumerate(words)]
    picked = [n for n in numbers if n is not None]
    rest = [w for w, n in zip(words, numbers, strict=True) if n is None]
    if len(picked) != 1 or not set(rest) <= _CHOICE_GLUE:
        return None
    number = picked[0]
    if number == -1:
        return offered[-1]
    return offered[number - 1] if 1 <= number <= len(offered) else None


def _number(word: str, before: str, words: int) -> int | None:
    """The choice a word picks: a digit, an ordinal, a number word, or a letter after 'option'
    (or alone: 'b')."""
    if re.fullmatch(r"#?\d{1,2}", word):
        return int(word.lstrip("#"))
    if len(word) == 1 and word in _LETTERS and (before in _NAMING or words == 1):
        return _LETTERS.index(word) + 1
    return _ORDINALS.get(word) or (
        CARDINALS.get(word) if word != "one" or before in _NAMING or words == 1 else None
    )


_LETTERS = "abcdef"
_NAMING = vocab("option choice number no #")


def completes(previous: Turn) -> bool:
    """The last turn asked back about its request (which host, which one): a fragment completes it."""
    return previous.outcome == "clarify" and bool(previous.text) and not previous.calls


FOLLOW_UP_GLUE = (
    vocab(
        "same what how about now too instead actually make that those other others rest remaining "
        "from also only plus include including"
    )
    | _AGREEING
)  # 'great, now do the same on db-02', 'and from db-03 too'


def selects_only(read: Read) -> bool:
    """A clause whose only reading rests on its selection ('now the windows ones', 'what about the
    london servers'): no word or value of a tool's own but a question word ('and redis on api-01?'
    asks about redis). After a request it means that request on this selection, not a listing of it."""
    reading = read.reading
    return reading is None or (not reading.uses and all(m.role == "question" for m in reading.matches))


_REPEAT = vocab("again repeat rerun retry redo more once")
_REDOING = LOOK_VERBS | vocab("do run try")


def again_asked(words: Sequence[str]) -> bool:
    """'do it again', 'once more': asks for something again (of a request before it)."""
    return bool(set(words) & _REPEAT)


def ordered(parse: Parse) -> bool:
    """'check it again', 'look at them': a verb first, asking for something done to what it names."""
    first = next((t.low for t in parse.words if t.low not in FILLER), "")
    return first in _REDOING or first in _REPEAT


def repeats(parse: Parse) -> bool:
    """'check it again', 'once more', 'run that again on db-02': a repeat word, and no word
    but hosts, pronouns and general verbs ('restart it again' is read as written)."""
    words = {t.low for t in parse.free_words()}
    glue = _REPEAT | _REDOING | PRONOUNS | _GLUE_REPEAT | FOLLOW_UP_GLUE | {"time"}
    return bool(words & _REPEAT) and words <= glue and not parse.values


def repeated(last: ToolCall, parse: Parse, reader: Reader) -> ToolCall:
    """The last request's step, on the hosts this fragment names, if any."""
    return last if parse.targets.empty() else again(last, parse, reader)


def asked_again(calls: Sequence[ToolCall], read: Read, reader: Reader) -> Read | None:
    """'what about web-02?', 'and on db-03?' after a change: a question about repeating it. Like
    any question about a change: its matching read runs, the change itself is offered."""
    written = {t.low for t in read.parse.tokens}
    if not written & {"?", "what"}:
        return None
    changes = [c for c in calls if (tool := reader.words.get(c.tool)) is not None and tool.changes]
    if not changes:
        return None
    reads = [c for c in calls if c not in changes]
    for change in changes:
        tool = reader.words.get(change.tool)
        matching = read_of(tool, change) if tool is not None else None
        reads += [matching] if matching is not None else []
    return replace(read, act=Act.QUESTION, calls=reads, suggestions=changes)


def again(last: ToolCall, parse: Parse, reader: Reader) -> ToolCall:
    """The last request's step on the hosts this fragment names ('and on web-02?', 'same for
    staging', 'the london ones': its qualifiers replace the earlier selection's and keep the rest;
    'the other two ...' leaves out the hosts it had)."""
    tool = reader.words.get(last.tool)
    assert tool is not None
    found = parse.targets
    words = {t.low for t in parse.tokens}
    if words & {"other", "others", "rest", "remaining"}:
        found.exclude = list(dict.fromkeys([*found.exclude, *last.targets]))
    selector = last.selector
    if not found.names and not found.raw and selector is not None:
        refined = _refined(selector, found)
        if not reader.index.selection.select(refined):  # 'live db servers' -> 'the oslo ones': none
            noun = selector.model_copy(update={"environments": (), "locations": (), "os": ()})
            refined = _refined(noun, found)  # 'ones' stands for the earlier noun, not its qualifiers
        return last.model_copy(update={"targets": (), "selector": refined})
    names, new = targets_for(tool, parse, Context(), str(last.args.get("service", "")), reader.index)
    return last.model_copy(update={"targets": names, "selector": new})


def _refined(selector: AssetFilter, found: Targets) -> AssetFilter:
    sel = found.selector
    update = {
        key: tuple(values)
        for key, values in (
            ("environments", sel.environments),
            ("locations", sel.locations),
            ("os", sel.os),
            ("types", sel.types),
            ("names", sel.names),
            ("services", sel.services),
        )
        if values
    }
    tags = {**selector.tags, **sel.tags}
    return selector.model_copy(update={**update, "tags": tags, "exclude": tuple(found.exclude)})


_GLUE_REPEAT = FILLER | vocab("on at in for and also then too as well same there now")


def only_targets(read: Read, *, follow_up: bool = False) -> bool:
    """'then on web-02', 'and also db-01', 'same for staging' (after an earlier request): hosts and
    glue words only."""
    targets = read.parse.targets
    selected = targets.selector.anchored or (follow_up and targets.selector.is_set())
    glue = _GLUE_REPEAT | (FOLLOW_UP_GLUE if follow_up else frozenset())
    return bool(targets.names or selected) and all(t.low in glue for t in read.parse.free_words())
