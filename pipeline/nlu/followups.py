"""Follow-ups: a message that only makes sense after the conversation's last request.

"do it", "yes go ahead"       the one change the bot suggested last
"2", "the second one"         the second of the readings or suggestions it offered
"the london one"              completes the request it asked back about ("which one?")
"and on web-02?", "same for staging", "restart it", "ping all of them"
                              read with the last request's hosts, service and steps as context
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pipeline.contracts import AssetFilter, ToolCall
from pipeline.conversation import Turn
from pipeline.nlu.lexicon import vocab
from pipeline.nlu.parse import Targets
from pipeline.nlu.targeting import Context, targets_for

if TYPE_CHECKING:
    from pipeline.nlu.interpret import Read, Reader

_ACCEPT = vocab("do go yes yep yeah sure proceed please confirm confirmed approve")
_ACCEPT_GLUE = vocab(
    "ok okay it ahead that then pls please sounds good fine right alright just now thanks thx that's do go "
    "yes yep yeah sure proceed confirm confirmed with for me so"
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
    "last": -1,
}
_CHOICE_GLUE = vocab(
    "the one option number choice no # please pls ok okay let's take go with i mean meant that"
)


def accepted(words: Sequence[str], previous: Turn) -> str | None:
    """'do it', 'yes, go ahead': the one suggestion of the last turn, when there was exactly one."""
    if len(previous.suggestions) != 1 or not words:
        return None
    if set(words) <= _ACCEPT_GLUE and set(words) & _ACCEPT:
        return previous.suggestions[0]
    return None


def acknowledges(words: Sequence[str]) -> bool:
    """'ok', 'fine, go ahead', 'sure thing': a clause that only agrees; the request is elsewhere."""
    return bool(words) and set(words) <= _ACCEPT_GLUE | _AGREEING


def chosen(words: Sequence[str], previous: Turn) -> str | None:
    """'2', 'option 2', 'the second one', '#2': one of the last turn's numbered choices."""
    offered = previous.suggestions
    if not offered or not words:
        return None
    numbers = [_number(w) for w in words if _number(w) is not None]
    rest = [w for w in words if _number(w) is None]
    if len(numbers) != 1 or not set(rest) <= _CHOICE_GLUE:
        return None
    number = numbers[0]
    assert number is not None
    if number == -1:
        return offered[-1]
    return offered[number - 1] if 1 <= number <= len(offered) else None


def _number(word: str) -> int | None:
    if re.fullmatch(r"#?\d{1,2}", word):
        return int(word.lstrip("#"))
    return _ORDINALS.get(word)


def completes(previous: Turn) -> bool:
    """The last turn asked back about its request (which host, which one): a fragment completes it."""
    return previous.outcome == "clarify" and bool(previous.text) and not previous.calls


FOLLOW_UP_GLUE = (
    vocab("same what how about now too instead actually make that those other others rest remaining")
    | _AGREEING
)  # 'great, now do the same on db-02'


def again(last: ToolCall, read: Read, reader: Reader, context: Context) -> ToolCall:
    """The last request's step on the hosts this fragment names ('and on web-02?', 'same for
    staging': its qualifiers replace the earlier selection's; 'the other two ...' leaves out the
    hosts it had)."""
    tool = reader.words.get(last.tool)
    assert tool is not None
    found = read.parse.targets
    words = {t.low for t in read.parse.tokens}
    if words & {"other", "others", "rest", "remaining"}:
        found.exclude = list(dict.fromkeys([*found.exclude, *last.targets]))
    selector = last.selector
    if not found.names and not found.selector.anchored and selector is not None:
        return last.model_copy(update={"targets": (), "selector": _refined(selector, found)})
    names, new = targets_for(tool, read.parse, Context(), str(last.args.get("service", "")), reader.index)
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
        )
        if values
    }
    tags = {**selector.tags, **sel.tags}
    return selector.model_copy(update={**update, "tags": tags, "exclude": tuple(found.exclude)})
