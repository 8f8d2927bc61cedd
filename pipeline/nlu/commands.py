"""Unquoted command lines: 'run df -h on web-01', 'on web-01 run df -h', 'run the following on
web-01: uptime', 'execute on db-01: df -h'. The command is taken from the text as written (flags,
paths and pipes kept); the words around it that name hosts are not part of it.
"""

from __future__ import annotations

from collections.abc import Iterable

from pipeline.nlu.english import DISCOURSE, stem
from pipeline.nlu.lexicon import vocab
from pipeline.nlu.parse import Parse
from pipeline.nlu.tokens import Token
from pipeline.nlu.toolwords import ToolView

_TARGET_INTRO = vocab("on at against across in for from to @")
_TRAILING = vocab("there here too please pls as well also again")
_BENEFICIARIES = vocab("me us")  # "run free -m on api-01 for me"
_FILLER_TAIL = vocab("the all and every each please of servers hosts boxes machines ones it them")
_PLACEHOLDERS = vocab("the a an following this these that some command commands cmd one something")
_ARTICLES = vocab("a an the some this these that my our your")


def command_text(tool: ToolView, verbs: Iterable[int], parse: Parse, text: str) -> str:
    """The command written after the tool's verb, or '' (placeholders like 'a command' are none).

    `verbs`: token indexes of the tool's verbs in the clause.
    """
    span = command_span(tool, verbs, parse)
    if span is None:
        return ""
    tokens = parse.tokens
    start, stop = span
    words = [t.low for t in tokens[start:stop] if t.kind != "punct"]
    if not words or all(w in _PLACEHOLDERS for w in words) or words[0] in _ARTICLES:
        return ""
    return span_text(parse, span, text)


def command_span(tool: ToolView, verbs: Iterable[int], parse: Parse) -> tuple[int, int] | None:
    """Clause positions [start, stop) of an unquoted command after the tool's verb, or None."""
    tokens = parse.tokens
    verb = next((parse.position(i) for i in sorted(verbs)), None)
    if verb is None or verb + 1 >= len(tokens):
        return None
    colon = next((i for i, t in enumerate(tokens) if i > verb and t.text == ":" and t.kind == "punct"), None)
    if colon is not None and colon + 1 < len(tokens) and _only_targets(tokens[verb + 1 : colon], parse):
        return colon + 1, len(tokens)
    stop = len(tokens)
    while stop - 1 > verb + 1:  # "run uptime there", "run df -h on it too", "..., for me, thanks"
        last = tokens[stop - 1]
        if last.low in _TRAILING or (last.kind == "punct" and last.text in ",.!") or last.low in DISCOURSE:
            stop -= 1
        elif stop - 2 > verb + 1 and last.low in _BENEFICIARIES and tokens[stop - 2].low == "for":
            stop -= 2
        else:
            break
    tail = _tail_words(tool, parse)
    for i in range(stop - 1, verb, -1):
        if tokens[i].low in _TARGET_INTRO and (i + 1 >= stop or _is_tail(tokens[i + 1 : stop], tail)):
            stop = i
            break
    timing = _timing_words(tool, parse)
    while stop - 1 > verb + 1 and (tokens[stop - 1].index in timing or tokens[stop - 1].kind == "punct"):
        stop -= 1  # "run df -h, 30s timeout"
    while stop - 1 > verb + 1 and tokens[stop - 1].kind == "punct" and tokens[stop - 1].text in ",;.":
        stop -= 1
    return (verb + 1, stop) if stop > verb + 1 else None


def quoted_within(parse: Parse, span: tuple[int, int]) -> bool:
    """'run echo "hello world" on web-01': the command's own words come first and quoted text is
    part of the line (kept as written, quotes and all, the way a shell reads it). False when the
    command is the quote itself ('run "df -h"') or words about one precede it ('run the command "x"')."""
    tokens = parse.tokens[span[0] : span[1]]
    first = next((i for i, t in enumerate(tokens) if t.kind == "quote"), 0)
    words = _PLACEHOLDERS | _ARTICLES | _TARGET_INTRO
    return first > 0 and all(
        t.kind != "punct" and t.index not in parse.claimed and t.low not in words for t in tokens[:first]
    )


def code_span(parse: Parse, objects: Iterable[int]) -> tuple[int, int] | None:
    """'run a bash script on web-04 with a 90s timeout: find /tmp -delete': after the script's object
    and a colon, the rest of the clause is the script as written."""
    tokens = parse.tokens
    first = min((parse.position(i) for i in objects), default=None)
    if first is None:
        return None
    colon = next((i for i, t in enumerate(tokens) if i > first and t.text == ":" and t.kind == "punct"), None)
    return (colon + 1, len(tokens)) if colon is not None and colon + 1 < len(tokens) else None


def span_text(parse: Parse, span: tuple[int, int], text: str, *, to_end: bool = False) -> str:
    """The text of clause positions [start, stop) as written; `to_end`: up to the message's end
    (a script's closing brackets are no tokens)."""
    tokens = parse.tokens
    start, stop = span
    end = tokens[stop].start if stop < len(tokens) else (len(text) if to_end else tokens[-1].end)
    return text[tokens[start].start : end].strip()


def _only_targets(tokens: tuple[Token, ...], parse: Parse) -> bool:
    """Before the colon: nothing but targets and words like 'the following'."""
    filler = _FILLER_TAIL | _TARGET_INTRO | _PLACEHOLDERS
    return all(t.index in parse.claimed or t.kind == "punct" or t.low in filler for t in tokens)


def _tail_words(tool: ToolView, parse: Parse) -> set[int]:
    """Tokens that may follow a command: hosts, durations and the words leading to them."""
    leads = {w for s in tool.slots if s.kind == "duration" for p in s.leads for w in p}
    durations = {i for v in parse.values if v.has("duration") for i in v.tokens}
    linking = {"with", "a", "an", "and", "timeout", "it", "max", "of"} if durations else set()
    return (
        set(parse.claimed)
        | durations
        | {t.index for t in parse.tokens if t.low in _FILLER_TAIL or t.low in linking or stem(t.low) in leads}
    )


def _timing_words(tool: ToolView, parse: Parse) -> set[int]:
    """A duration after a command and the words leading to it ('..., with a 30s timeout')."""
    durations = {i for v in parse.values if v.has("duration") for i in v.tokens}
    if not durations:
        return set()
    leads = {w for s in tool.slots if s.kind == "duration" for p in s.leads for w in p}
    linking = {"with", "a", "an", "and", "timeout", "max", "of"}
    return durations | {t.index for t in parse.tokens if t.low in linking or stem(t.low) in leads}


def _is_tail(tokens: tuple[Token, ...], tail: set[int]) -> bool:
    content = [t for t in tokens if t.kind != "punct"]
    return bool(content) and all(t.index in tail for t in content)


def shell_like(parse: Parse, span: tuple[int, int]) -> bool:
    """Flags, paths, pipes or assignments in the span: a command line, not words about one."""
    tokens = parse.tokens[span[0] : span[1]]
    return any(t.kind in {"flag", "path", "kv"} or t.text in {"|", ">", ";", "&"} for t in tokens)
