"""Clauses: a message cut where a new request starts.

Split at ';', sentence ends, 'then', and 'and' / ',' followed by a verb ('ping web-01 and
restart nginx on it'); 'but first ...' runs first; a leading condition ('if it is up, ...')
is dropped (steps run in order anyway); a bare verb borrows the next clause's object
('stop and start nginx on web-04').
"""

from __future__ import annotations

from pipeline.nlu.durations import durations
from pipeline.nlu.english import AUXILIARIES, COPULAS, DISCOURSE
from pipeline.nlu.lexicon import GENERAL_VERBS, THEN_WORDS
from pipeline.nlu.tokens import Token
from pipeline.nlu.turns import between, turns

_CONNECTIVES = frozenset({"so", "but", "now", "ok", "okay"})
_SUBORDINATORS = frozenset({"while", "because", "since", "although", "though", "cause", "coz", "as"})


def _sentence_break(tokens: list[Token], index: int, following: Token, verbs: frozenset[str]) -> bool:
    """';', '!', '.', '?' before more words; ':' before a verb; ',' before a statement or 'so ...'."""
    text = tokens[index].text
    if text in ";!.?":
        return True
    if text == ":":
        return following.low in verbs  # "as viewer I am allowed: restart nginx on web-02"
    if text != ",":
        return False
    if _listed_numbers(tokens, index):
        return False  # 'whether 22, 80 and 443 are open': one list, not a statement after a comma
    if _statement_follows(tokens, index):
        return True  # "reboot web-03 pls, docker is totally hosed"
    # "the approval covers this, so just restart redis"
    return following.low in _CONNECTIVES and _verb_after(tokens, index, verbs)


def _listed_numbers(tokens: list[Token], index: int) -> bool:
    before = tokens[index - 1] if index else None
    after = tokens[index + 1] if index + 1 < len(tokens) else None
    return before is not None and after is not None and before.low.isdigit() and after.low.isdigit()


def _subject_follows(tokens: list[Token], index: int) -> bool:
    """'while i swap', 'because the disk is full', 'as we speak': a clause of its own follows."""
    words = [t for t in tokens[index + 1 : index + 5] if t.kind == "word"]
    return bool(words) and (words[0].low in _SUBJECTS or any(w.low in COPULAS for w in words[1:4]))


def _statement_follows(tokens: list[Token], index: int) -> bool:
    """After a comma, a few words then 'is', 'are', 'keeps'...: a statement of its own."""
    words: list[Token] = []
    for token in tokens[index + 1 :]:
        if token.kind == "punct":
            break
        words.append(token)
    return 1 <= next((i for i, w in enumerate(words) if w.low in COPULAS), 9) <= 3


_SUBJECTS = frozenset(
    [
        "it",
        "it's",
        "its",
        "they",
        "they're",
        "we",
        "we're",
        "i",
        "i'm",
        "he",
        "he's",
        "she",
        "she's",
        "that's",
        "there's",
        "customers",
        "users",
        "clients",
    ]
)


def split_clauses(
    tokens: list[Token], catalog_verbs: frozenset[str], data_words: frozenset[str] = frozenset()
) -> list[list[Token]]:
    """The clauses of a message, in the order they should run.

    `data_words`: objects of tools that take text to run ('script', 'command'); after one of them
    and a colon, the rest of the message is that text, whatever verbs and ';' it holds.
    """
    verbs = catalog_verbs | GENERAL_VERBS
    clauses: list[list[Token]] = [[]]
    earlier: set[int] = set()  # clauses the user wants run before the one written ahead of them
    for index, token in enumerate(tokens):
        if is_data_colon(token, clauses[-1], data_words) or _timed_data(token, clauses, data_words):
            if not is_data_colon(token, clauses[-1], data_words):
                clauses[-2].extend(clauses.pop())  # '..., give it 10 minutes: ```...```'
            clauses[-1].extend(tokens[index:])
            break
        if _first_of_all(tokens, index):
            earlier.add(len(clauses))
            clauses.append([])
            continue
        if (_is_break(tokens, index, verbs) and not between(clauses[-1], token)) or turns(
            tokens, index, clauses[-1], verbs
        ):
            if clauses[-1]:
                clauses.append([])
            if token.kind == "punct" or token.low in THEN_WORDS or token.low in {"and", "or", "also"}:
                continue
        clauses[-1].append(token)
    ordered = _reorder(clauses, earlier)
    trimmed = [c for c in (_drop_condition(_trim(c), verbs) for c in ordered) if _has_content(c)]
    return _share_objects(_attach_bare_values(trimmed), verbs)


def is_data_colon(token: Token, before: list[Token], data_words: frozenset[str]) -> bool:
    """A colon after 'script' / 'command': what follows is text to run, not more requests."""
    return token.text == ":" and token.kind == "punct" and any(t.low in data_words for t in before)


def _timed_data(token: Token, clauses: list[list[Token]], data_words: frozenset[str]) -> bool:
    """'run a script on db-01, give it 10 minutes: `df -h`': a clause holding only a duration, then
    the colon: the text after it belongs to the request for a script before."""
    return len(clauses) > 1 and _only_duration(clauses[-1]) and is_data_colon(token, clauses[-2], data_words)


def holds_data(tokens: list[Token], data_words: frozenset[str]) -> bool:
    return any(is_data_colon(t, tokens[:i], data_words) for i, t in enumerate(tokens))


def _attach_bare_values(clauses: list[list[Token]]) -> list[list[Token]]:
    """A clause holding only a value joins the request before it: a bare path ('... on web-01?
    /etc/nginx/nginx.conf'), or a duration ('..., give it 90s', 'so timeout 1h')."""
    joined: list[list[Token]] = []
    for clause in clauses:
        bare = all(t.kind in {"path", "quote", "punct"} for t in clause) or _only_duration(clause)
        if bare and joined:
            joined[-1] = joined[-1] + clause
        else:
            joined.append(clause)
    return joined


_DURATION_GLUE = frozenset(
    [
        "give",
        "it",
        "allow",
        "up",
        "to",
        "max",
        "maximum",
        "timeout",
        "time",
        "limit",
        "with",
        "a",
        "an",
        "of",
        "should",
        "be",
        "plenty",
        "enough",
        "at",
        "most",
        "so",
        "and",
        "wait",
        "for",
        "about",
        "around",
        "can",
        "could",
        "may",
        "might",
        "will",
        "take",
        "takes",
        "need",
        "needs",
        "probably",
        "long",
        "after",  # 'time out after 2 min', 'kill it after half a minute'
        "out",
        "kill",
        "cap",
    ]
)


def _only_duration(clause: list[Token]) -> bool:
    words = [t for t in clause if t.kind == "word"]
    found = durations([t.low for t in words])
    if len(found) != 1 or any(t.kind not in {"word", "punct", "kv"} for t in clause):
        return False
    inside = set(range(found[0].start, found[0].end))
    return all(i in inside or w.low in _DURATION_GLUE for i, w in enumerate(words))


def _first_of_all(tokens: list[Token], index: int) -> bool:
    """'reboot db-01 but first notify #ops': the part after 'but first' runs first."""
    token = tokens[index]
    before = tokens[index - 1].low if index else ""
    return index > 1 and token.low == "first" and before in {"but", "and", ","}


def _reorder(clauses: list[list[Token]], earlier: set[int]) -> list[list[Token]]:
    result: list[list[Token]] = []
    for position, clause in enumerate(clauses):
        if position in earlier and result:
            result.insert(len(result) - 1, clause)
        else:
            result.append(clause)
    return [_strip_but(c) for c in result]


def _strip_but(clause: list[Token]) -> list[Token]:
    while clause and clause[-1].low in {"but", "and", ","}:
        clause = clause[:-1]
    return clause


def _share_objects(clauses: list[list[Token]], verbs: frozenset[str]) -> list[list[Token]]:
    """'stop and start nginx on web-04': a bare verb borrows what the next clause's verb acts on."""
    shared: list[list[Token]] = []
    for position, clause in enumerate(clauses):
        words = [t for t in clause if t.kind == "word"]
        following = clauses[position + 1] if position + 1 < len(clauses) else []
        lead = next((i for i, t in enumerate(following) if t.kind == "word"), None)
        bare = len(words) == 1 and words[0].low in verbs
        if bare and lead is not None and following[lead].low in verbs:
            clause = clause + following[lead + 1 :]
        shared.append(clause)
    return shared


_CONDITIONS = frozenset({"if", "when", "once", "unless", "whenever"})


def _drop_condition(clause: list[Token], verbs: frozenset[str]) -> list[Token]:
    """'if it's up restart nginx on it' -> 'restart nginx on it' (steps run in order anyway)."""
    if not clause or clause[0].low not in _CONDITIONS:
        return clause
    second = clause[1].low if len(clause) > 1 else ""
    if clause[0].low == "when" and second in {"was", "is", "did", "does", "do", "were", "will", "has", "are"}:
        return clause  # "when was web-01 last rebooted": a question, not a condition
    for i, token in enumerate(clause[1:], 1):
        if token.text == "," or token.low == "then":
            return clause[i + 1 :]
        if token.low in verbs and i > 1:
            return clause[i:]
    return []  # the whole clause is a condition ("if they respond"): steps run in order anyway


def _is_break(tokens: list[Token], index: int, verbs: frozenset[str]) -> bool:
    token = tokens[index]
    following = _next_word(tokens, index)
    if token.low in _SUBORDINATORS and index > 0 and _subject_follows(tokens, index):
        return True  # "stop nginx on web-04 while i swap the certs": the rest is context
    if token.kind == "punct" and following is not None and _sentence_break(tokens, index, following, verbs):
        return True
    if token.low in THEN_WORDS and _then_context(tokens, index, verbs):
        return True
    if (
        token.kind == "punct"
        and token.text == "&"
        and index + 1 < len(tokens)
        and tokens[index + 1].text == "&"
    ):
        return following is not None  # "a && b": a shell-style chain always makes two steps
    if token.kind == "punct" and token.text == "," and following is not None and following.low in _SUBJECTS:
        return True  # "restart postgres on db-02, it's hanging": a statement of its own
    if token.low in {"and", "also"} or (token.kind == "punct" and token.text in {",", "&"}):
        if following is not None and following.low in _CONDITIONS:
            return True
        if (
            following is not None
            and following.low in {"run", "runs"}
            and token.low == "and"
            and _asking(tokens)
        ):
            return False  # "which hosts are in frankfurt and run redis": what they run, not a command
        return following is not None and following.low in verbs and _verb_follows(tokens, index)
    return False


def _asking(tokens: list[Token]) -> bool:
    first = next((t.low for t in tokens if t.kind == "word"), "")
    return first in {"which", "what", "who", "where", "list", "show", "how", "are", "is", "any", "do", "does"}


def _then_context(tokens: list[Token], index: int, verbs: frozenset[str]) -> bool:
    token = tokens[index]
    if token.low == "then":
        return index > 0
    if token.low in {"after", "next"}:
        following = _next_word(tokens, index)
        if _asks_yes_no(tokens[:index]):
            return False  # "did win-dc-01 reboot after patch tuesday?": when, not a next step
        return following is not None and following.low in {"that", "this"} | verbs
    return token.low in {"afterwards", "subsequently"} or (token.low == "finally" and index > 0)


def _asks_yes_no(tokens: list[Token]) -> bool:
    """'did ...', 'was ...', 'has ...': a question, which holds no sequence of orders."""
    first = next((t.low for t in tokens if t.kind == "word" and t.low not in DISCOURSE), "")
    return first in AUXILIARIES


def _verb_after(tokens: list[Token], index: int, verbs: frozenset[str]) -> bool:
    """A verb within the next three words ('..., so just restart it')."""
    words = [t.low for t in tokens[index + 1 : index + 5] if t.kind == "word"]
    return any(w in verbs for w in words[:3])


def _verb_follows(tokens: list[Token], index: int) -> bool:
    """True when the word after 'and' is a verb, not e.g. 'check memory and cpu'."""
    following = _next_word(tokens, index)
    if following is None:
        return False
    # "start and stop", "show uptime and disk": a verb followed by nothing of its own still counts.
    return following.kind == "word"


def _next_word(tokens: list[Token], index: int) -> Token | None:
    for token in tokens[index + 1 :]:
        if token.kind != "punct":
            if token.low in {"then", "also", "please", "pls", "and"}:
                continue
            return token
    return None


def _has_content(clause: list[Token]) -> bool:
    return any(t.kind != "punct" for t in clause)


def _trim(clause: list[Token]) -> list[Token]:
    while clause and (clause[0].kind == "punct" or clause[0].low in {"and", "then", "also"}):
        clause = clause[1:]
    return clause
