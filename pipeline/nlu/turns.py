"""Where a message turns from what is said to what is asked, at a comma or a dash.

before I reboot db-02 - how much memory is it using?     a direct question follows
/var is full on web-01, run the disk cleanup               an order follows a statement
restart nginx on web-01, is that ok?                       a tag: one request
what's the difference between restart and reload          'and' ends a pair
"""

from __future__ import annotations

from pipeline.nlu.english import AUXILIARIES, COPULAS, DISCOURSE, MODALS, QUESTION_WORDS, is_past
from pipeline.nlu.lexicon import CHANGE_VERBS, HOST_NOUNS, vocab
from pipeline.nlu.tokens import Token

_ASKED = vocab(
    "it its they them that this there the he she you anyone someone anything all any my our your we i"
)
_ADDRESSED = vocab("you u someone somebody anyone anybody")
_TAGS = vocab("you that this it ok okay alright fine possible right correct yeah yes please pls so")


def turns(tokens: list[Token], index: int, current: list[Token], verbs: frozenset[str]) -> bool:
    """A comma or dash where the message turns from what is said to what is asked: a direct question
    ('before I reboot db-02 - how much memory is it using?', 'nginx is down, is the box up?'), or
    after a statement an order ('/var is full on web-01, run the disk cleanup'). A tag ('..., is
    that ok?', '..., would you?') asks nothing of its own."""
    if tokens[index].kind != "punct" or tokens[index].text not in {",", "-"}:
        return False
    said = [t.low for t in current if t.kind == "word" and t.low not in DISCOURSE]
    if not said:
        return False
    following = _words_to_end(tokens, index)
    if _direct_question(following) and not any(is_past(w) for w in said):
        return True  # (after a narrated change, 'is it back?' asks about that change: one clause)
    lead = next((w for w in following if w not in DISCOURSE | MODALS | _ADDRESSED), "")
    return lead in verbs | CHANGE_VERBS and _states(said)  # '..., (can you) restart it'


def between(current: list[Token], token: Token) -> bool:
    """'the difference between restart and reload': 'and' ends a pair, not a request."""
    words = [t.low for t in current if t.kind == "word"]
    return token.low == "and" and "between" in words and "and" not in words[words.index("between") :]


def _direct_question(words: list[str]) -> bool:
    """'what's its memory at', 'how long has it been up', 'is the box reachable', 'are they up'."""
    if len(words) < 2 or all(w in _TAGS | AUXILIARIES | MODALS for w in words):
        return False
    first, second = words[0], words[1]
    if first in QUESTION_WORDS - {"whether"}:
        return second in AUXILIARIES | MODALS or second in {"much", "many", "long", "often", "about"}
    if second in {"that", "this"} and not set(words[2:3]) & HOST_NOUNS:
        return False  # 'is that alright with everyone?': about the request itself
    if first in MODALS:  # 'can you take a look', 'could someone restart it': a request, not a question
        return second in _ASKED - _ADDRESSED
    return first in AUXILIARIES and second in _ASKED


def _states(words: list[str]) -> bool:
    """'/var is full on web-01', 'db-02 is swapping like crazy': a statement of how things are."""
    return bool(set(words) & COPULAS) and words[0] not in QUESTION_WORDS | AUXILIARIES | MODALS


def _words_to_end(tokens: list[Token], index: int) -> list[str]:
    """The words after `index` up to the next sentence end ("what's", "how's" read as '... is')."""
    words: list[str] = []
    for token in tokens[index + 1 :]:
        if token.text in {";", ".", "!", "?"} and token.kind == "punct":
            break
        contracted = token.low in QUESTION_WORDS and token.text.lower().endswith(("'s", "\u2019s", "s"))
        if token.kind != "punct":
            words.extend([token.low, "is"] if contracted and token.text.lower() != token.low else [token.low])
    return words
