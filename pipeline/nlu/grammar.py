"""The structured form: `/opsconductor <tool> [targets] [key=value ...]`.

Tool names may be written in full (`network.ping`) or short (`ping`, `port_scan`,
`system_info`). Keys that are fields of the tool's args model become args (lists
split on commas); the others (env, location, os, type, role, team...) select targets.
"""

from __future__ import annotations

from collections.abc import Mapping

from pipeline.nlu.lexicon import vocab
from pipeline.nlu.text import Token

GRAMMAR_VERBS = vocab(
    """
    ping scan traceroute tracert dns resolve restart start stop status reboot run exec execute tail
    ps processes assets asset inventory notify templates uptime disk memory cpu facts info help
    service services script
    """
)


LIST_FIELDS = frozenset({"facts", "ports", "services"})


def explicit_tool(tokens: list[Token], tools: Mapping[str, frozenset[str]]) -> str | None:
    """The catalog tool named by the first token, if it names one exactly."""
    if not tokens or tokens[0].kind != "word":
        return None
    first = tokens[0].low
    if first in tools:
        return first
    if "_" not in first:
        return None  # plain verbs ("ping") go through the lexicon, which reads their slots
    matches = [name for name in tools if name.split(".", 1)[1] == first]
    return matches[0] if len(matches) == 1 else None


def split_kv(tokens: list[Token], fields: frozenset[str]) -> dict[str, object]:
    """Take `key=value` tokens whose key is an args field; mark them used."""
    args: dict[str, object] = {}
    for token in tokens:
        if token.kind != "kv":
            continue
        key, _, value = token.text.partition("=")
        key = key.lower()
        if key not in fields:
            continue
        value = value.strip("\"'")
        typed = _typed(value)
        args[key] = [typed] if key in LIST_FIELDS and not isinstance(typed, list) else typed
        token.used = True
    return args


def _typed(value: str) -> object:
    if "," in value:
        return [_scalar(v) for v in value.split(",") if v]
    return _scalar(value)


def _scalar(value: str) -> object:
    if value.isdigit():
        return int(value)
    return value


def is_grammar(tokens: list[Token], vocabulary: frozenset[str]) -> bool:
    """True when a clause is a terse command: a command verb and nothing unexplained."""
    words = [t for t in tokens if t.kind == "word"]
    if not words or words[0].low not in GRAMMAR_VERBS:
        return False
    return all(t.used or t.low in vocabulary or t.low in GRAMMAR_VERBS for t in words[1:])
