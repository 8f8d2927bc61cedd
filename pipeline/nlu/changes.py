"""Rules for changes to services and hosts: start/stop/restart and reboot.

An order ('restart nginx on web-01', 'can u reboot web-01, it's hung') is a change;
a report or question about one ('nginx keeps stopping', 'did web-04 reboot?',
'the nginx restart on web-02 failed') only reads the state.
"""

from __future__ import annotations

import re

from pipeline.nlu.cues import (
    REBOOT_WORDS,
    RESTART_WORDS,
    SERVICE_VERBS,
    START_WORDS,
    STOP_WORDS,
    UPTIME_CUES,
    VOCABULARY,
)
from pipeline.nlu.decision import Decision
from pipeline.nlu.entities import Clause
from pipeline.nlu.lexicon import vocab
from pipeline.nlu.wording import correct

_STATE_BEFORE = vocab("keeps keep kept is are was were been isn't won't wont doesn't didn't not still")
_FAILED_AFTER = vocab("failed fails failing broke broken hung stuck crashed timed errored")


def reported(ordered: list[str], action_word: str) -> bool:
    """'nginx keeps stopping on web-03', 'the nginx restart on web-02 failed': a report, not an order."""
    from pipeline.nlu.lexicon import FILLER

    position = ordered.index(action_word)
    failed = bool(set(ordered[position + 1 :]) & _FAILED_AFTER)
    if position and ordered[position - 1] in {"the", "a", "an", "that", "this", "last"} and failed:
        return True  # "the reboot of web-03 failed": the noun, in a report
    if all(w in FILLER | _ASKING_VERB for w in ordered[:position]):
        return False  # "can u restart gunicorn on api-02, it's stuck", "why not restart it": orders
    before = ordered[position - 1] if position else ""
    return before in _STATE_BEFORE or failed


_PAST_QUESTION = vocab("did does has have was were is are")
_ASKING_VERB = vocab("can could would will you u please pls why not don't dont how about")


def service_control(clause: Clause, ordered: list[str], words: set[str]) -> Decision | None:
    action = _action(ordered, words)
    if not action:
        return None
    word = next((w for w in ordered if w in RESTART_WORDS | START_WORDS | STOP_WORDS), "")
    if word and reported(ordered, word):
        services = clause.slots.services or clause.slots.weak_services
        return Decision("automation.service_status", 0.7) if services else None
    services = clause.slots.services or clause.slots.weak_services or _object_service(clause)
    if not services:
        if words & {"service", "services", "daemon", "daemons"}:
            return Decision(None, 0.7, "Which service? Name one, e.g. `restart nginx on web-01`.")
        if action == "restart" and "reload" not in words:
            return Decision("automation.reboot", 0.85)
        return Decision(
            None, 0.7, f"{action.capitalize()} what? Name a service, e.g. `{action} nginx on web-01`."
        )
    if "reload" in words and "restart" not in words:
        return Decision(None, 0.7, "I can start, stop or restart a service; reload is not supported.")
    return Decision("automation.service_control", 0.9, action=action)


_OBJECT_END = vocab("on at in for across from service daemon unit")


def _object_service(clause: Clause) -> list[str]:
    """'restart myapp on web-01': an unknown word between the verb and the hosts names a service."""
    from pipeline.nlu.lexicon import FILLER, HOST_NOUNS, PRONOUNS, QUANTIFIERS

    tokens = [t for t in clause.tokens if t.kind == "word"]
    verb = next((i for i, t in enumerate(tokens) if correct(t.low) in SERVICE_VERBS), None)
    if verb is None:
        return []
    rest = [t for t in tokens[verb + 1 :] if t.low not in {"the", "a", "an"}]
    if len(rest) < 2 or not (rest[1].low in _OBJECT_END or rest[1].used):
        return []
    candidate = rest[0]
    known = VOCABULARY | FILLER | HOST_NOUNS | PRONOUNS | QUANTIFIERS
    if candidate.used or candidate.low in known or not re.fullmatch(r"[a-z][\w@.:+-]*", candidate.low):
        return []
    clause.slots.services.append(candidate.text)
    return clause.slots.services


def _action(ordered: list[str], words: set[str]) -> str:
    for word in ordered:
        if word in RESTART_WORDS:
            return "restart"
        if (
            word in STOP_WORDS
            or word == "shutdown"
            or (word in {"shut", "bring", "take", "turn"} and words & _DOWN)
        ):
            return "stop"
        if word in START_WORDS or (word in {"bring", "put"} and words & _UP):
            return "start"
    return ""


_DOWN = frozenset({"down", "offline", "off"})
_UP = frozenset({"up", "online", "back"})


def reboot(clause: Clause, ordered: list[str], words: set[str]) -> Decision | None:
    if words & REBOOT_WORDS and not (words & UPTIME_CUES - {"reboot"}):
        word = next(w for w in ordered if w in REBOOT_WORDS)
        if reported(ordered, word) or (ordered[:1] and ordered[0] in _PAST_QUESTION):
            return Decision("automation.system_info", 0.8)  # "db-01 keeps rebooting", "did web-04 reboot?"
        return Decision("automation.reboot", 0.9)
    if "power" in words and "cycle" in words:
        return Decision("automation.reboot", 0.85)
    if words & {"shutdown", "poweroff"} or ({"shut", "power", "turn"} & words and words & {"down", "off"}):
        return Decision(None, 0.8, "I cannot power hosts off; I can reboot them or run a command.")
    return None
