"""Arguments for the tool a clause was classified as, taken from its slots.

Each builder returns the raw args dict (validated later by the tool's args model in
stage C) or raises `MissingSlot` with the question to ask back.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pipeline.nlu.entities import Clause
from pipeline.nlu.lexicon import KNOWN_LOGS, NOTIFY_CHANNEL_WORDS, PORT_NAMES, vocab
from pipeline.nlu.text import Token

COMMON_PORTS = (21, 22, 23, 25, 53, 80, 110, 143, 443, 445, 3306, 3389, 5432, 6379, 8080, 8443)
_TARGET_INTRO = vocab("on at against across in for from to @")
_LANGUAGES = {
    "bash": "bash",
    "sh": "bash",
    "shell": "bash",
    "python": "python",
    "python3": "python",
    "py": "python",
    "powershell": "powershell",
    "pwsh": "powershell",
    "ps1": "powershell",
}
_MATCH_INTRO = vocab(
    "matching match named called like containing contains for with filter filtered filtering grep grepping"
)


class MissingSlot(Exception):
    """A required argument is missing; the message is the question to ask."""


Builder = Callable[[Clause, str, str], dict[str, Any]]


def build_args(tool: str, clause: Clause, text: str, action: str) -> dict[str, Any]:
    builder = BUILDERS.get(tool)
    return builder(clause, text, action) if builder else {}


def _ping(clause: Clause, text: str, action: str) -> dict[str, Any]:
    count = clause.slots.numbers.get("count")
    return {"count": count} if count else {}


def _ports(clause: Clause, text: str, action: str) -> dict[str, Any]:
    slots = clause.slots
    ports: list[int | str] = list(slots.ports) + list(slots.bare_numbers)
    for name in slots.port_names:
        ports.extend(PORT_NAMES[name])
    for service in slots.services + slots.weak_services:
        if not ports and service.lower() in PORT_NAMES:
            ports.extend(PORT_NAMES[service.lower()])
    return {"ports": list(dict.fromkeys(ports)) or list(COMMON_PORTS)}


def _trace(clause: Clause, text: str, action: str) -> dict[str, Any]:
    hops = clause.slots.numbers.get("max_hops")
    return {"max_hops": hops} if hops else {}


def _dns(clause: Clause, text: str, action: str) -> dict[str, Any]:
    slots, targets = clause.slots, clause.targets
    written = [t.text for t in clause.tokens if t.kind == "ip"]
    names = slots.dns_names + written + targets.raw + targets.names
    if not names:
        raise MissingSlot("Which name should I look up? e.g. `dns MX example.org`")
    name = names[0]
    record = slots.record_type or ("PTR" if re.fullmatch(r"[\d.]+|[0-9a-f:]+", name) else "A")
    return {"name": name, "record_type": record}


def _facts(clause: Clause, text: str, action: str) -> dict[str, Any]:
    facts = list(clause.slots.facts)
    words = {t.low for t in clause.tokens}
    if not facts and "long" in words and words & {"up", "running"}:
        facts = ["uptime"]
    if not facts and words & {"boot", "booted", "rebooted", "reboot", "rebooting", "reboots"}:
        facts = ["uptime"]
    return {"facts": facts} if facts else {}


def _service(clause: Clause, text: str, action: str) -> dict[str, Any]:
    services = clause.slots.services or clause.slots.weak_services
    if not services:
        raise MissingSlot("Which service? e.g. `status nginx on web-01`")
    return {"service": services[0]}


def _service_control(clause: Clause, text: str, action: str) -> dict[str, Any]:
    return {**_service(clause, text, action), "action": action}


def _processes(clause: Clause, text: str, action: str) -> dict[str, Any]:
    """match only from 'matching X', 'named X', 'filtered by X', 'X processes' (X a real name)."""
    tokens = clause.tokens
    for i, token in enumerate(tokens[:-1]):
        if token.low not in _MATCH_INTRO:
            continue
        following = [t for t in tokens[i + 1 : i + 3] if t.low not in _MATCH_GLUE]
        if following and _match_word(following[0]):
            return {"match": following[0].text}  # "matching gunicorn", "named 'java -jar'"
    for i, token in enumerate(tokens[1:], 1):
        if token.low in {"process", "processes", "procs"} and _match_word(tokens[i - 1]):
            return {"match": tokens[i - 1].text}  # "gunicorn processes"
    if clause.slots.quotes:
        return {"match": clause.slots.quotes[0]}
    services = clause.slots.services
    return {"match": services[0]} if services else {}


_MATCH_GLUE = vocab("by to on after the a an")


def _match_word(token: Token) -> bool:
    """A process name: quoted text or a word that is not a verb, pronoun, filler or glue word."""
    from pipeline.nlu.cues import PROCESS_WORDS, VOCABULARY
    from pipeline.nlu.lexicon import CLAUSE_VERBS, COMMON, FILLER, HOST_NOUNS, PRONOUNS, QUANTIFIERS

    if token.kind == "quote":
        return True
    if token.kind != "word" or token.used or token.low.isdigit():
        return False
    ignored = CLAUSE_VERBS | FILLER | COMMON | PRONOUNS | QUANTIFIERS | HOST_NOUNS | PROCESS_WORDS
    return token.low not in ignored and token.low not in VOCABULARY - _SERVICE_LIKE


_SERVICE_LIKE = vocab("java python node ruby perl php docker")


def _read_file(clause: Clause, text: str, action: str) -> dict[str, Any]:
    args: dict[str, Any] = {}
    if clause.slots.paths:
        args["path"] = clause.slots.paths[0]
    else:
        args["path"] = _known_log(clause)
    lines = clause.slots.numbers.get("tail_lines")
    if lines:
        args["tail_lines"] = lines
    return args


def _known_log(clause: Clause) -> str:
    words = {t.low for t in clause.tokens} | {s.lower() for s in clause.slots.services}
    for keys, path in KNOWN_LOGS.items():
        if all(k in words for k in keys):
            return path
    raise MissingSlot("Which file? Give its full path, e.g. `tail /var/log/syslog on web-01`")


def _run_command(clause: Clause, text: str, action: str) -> dict[str, Any]:
    args: dict[str, Any] = {}
    command = clause.slots.quotes[0] if clause.slots.quotes else _unquoted_command(clause, text)
    if not command or command.lower() in _PLACEHOLDERS:
        raise MissingSlot('Which command? e.g. `run "df -h" on web-01`')
    args["command"] = command
    _timeout(clause, args)
    return args


_PLACEHOLDERS = frozenset({"the following", "following", "this", "these", "this command", "the command"})


def _timeout(clause: Clause, args: dict[str, Any]) -> None:
    numbers = clause.slots.numbers
    if "timeout_s" in numbers:
        args["timeout_s"] = numbers["timeout_s"]
    elif "timeout_min" in numbers:
        args["timeout_s"] = numbers["timeout_min"] * 60
    written = clause.slots.kv.get("timeout", clause.slots.kv.get("timeout_s", ""))
    if written.isdigit():
        args["timeout_s"] = int(written)  # 'with timeout=20'


def command_span(clause: Clause) -> tuple[int, int] | None:
    """Token positions [start, stop) of an unquoted command, or None.

    'run df -h on web-01' -> 'df -h'; 'on web-01 run df -h' -> 'df -h';
    'run the following on web-01: uptime' and 'execute on db-01: df -h' -> after the colon.
    """
    from pipeline.nlu.cues import RUN_VERBS

    tokens = clause.tokens
    verb = next((i for i, t in enumerate(tokens) if t.low in RUN_VERBS), None)
    if verb is None or verb + 1 >= len(tokens):
        return None
    colon = next((i for i, t in enumerate(tokens) if i > verb and t.text == ":" and t.kind == "punct"), None)
    if colon is not None and colon + 1 < len(tokens) and _only_targets(tokens[verb + 1 : colon]):
        return colon + 1, len(tokens)
    stop = len(tokens)
    while stop - 1 > verb + 1 and tokens[stop - 1].low in _TRAILING_WORDS:
        stop -= 1  # "run uptime there", "run df -h on it too"
    for i in range(stop - 1, verb, -1):
        if tokens[i].low in _TARGET_INTRO and (i + 1 == len(tokens) or _is_target_tail(tokens[i + 1 :])):
            stop = i
            break
    return (verb + 1, stop) if stop > verb + 1 else None


def _only_targets(tokens: list[Token]) -> bool:
    """Before the colon: nothing but targets and words like 'the following'."""
    filler = _FILLER_TAIL | _TARGET_INTRO | {"following", "this", "these", "command", "commands"}
    return all(t.used or t.kind == "punct" or t.low in filler for t in tokens)


def _unquoted_command(clause: Clause, text: str) -> str:
    """The command as written, from the scanned text (flags, paths and pipes kept)."""
    span = command_span(clause)
    if span is None:
        return ""
    tokens = clause.tokens
    start, stop = span
    if tokens[start].low == "the" and stop > start + 2 and tokens[start + 1].low == "command":
        start += 2
    end = tokens[stop].start if stop < len(tokens) else tokens[-1].end
    return text[tokens[start].start : end].strip()


def _is_target_tail(tokens: list[Token]) -> bool:
    content = [t for t in tokens if t.kind != "punct"]
    return bool(content) and all(t.used or t.low in _FILLER_TAIL for t in content)


_TRAILING_WORDS = vocab("there here too please pls as well also again")
_FILLER_TAIL = vocab("the all and every each please of servers hosts boxes machines ones it them")


def _run_script(clause: Clause, text: str, action: str) -> dict[str, Any]:
    words = {t.low for t in clause.tokens}
    language = next((_LANGUAGES[w] for w in _LANGUAGES if w in words), None)
    if language is None:
        windows = any(a.lower() == "windows" for a in clause.targets.selector.os)
        language = "powershell" if windows else "bash"
    if not clause.slots.quotes:
        raise MissingSlot("Paste the script in backticks, e.g. run bash script `uptime` on web-01")
    args: dict[str, Any] = {"language": language, "script": clause.slots.quotes[0]}
    _timeout(clause, args)
    return args


def _notify(clause: Clause, text: str, action: str) -> dict[str, Any]:
    slots = clause.slots
    words = [t.low for t in clause.tokens if t.kind == "word"]
    channel = next((NOTIFY_CHANNEL_WORDS[w] for w in words if w in NOTIFY_CHANNEL_WORDS), None)
    to = slots.kv.get("to") or (slots.emails or slots.channels or slots.phones or slots.urls or [""])[0]
    if channel is None or (slots.urls and to in slots.urls and channel != "webhook"):
        channel = "email" if slots.emails else "sms" if slots.phones and not slots.channels else "slack"
        channel = "webhook" if to in slots.urls else channel
    if channel == "email" and not slots.emails and slots.channels:
        channel = "slack"
    if not to:
        raise MissingSlot("Who should I notify? Give an e-mail address or a #channel.")
    args: dict[str, Any] = {"channel": channel, "to": to}
    message = slots.quotes[-1] if slots.quotes else slots.kv.get("message", "")
    if message:
        args["message"] = message
    template = slots.kv.get("template") or _template_name(clause)
    if template:
        args["template"] = template
    return args


def _template_name(clause: Clause) -> str | None:
    tokens = clause.tokens
    for i, token in enumerate(tokens):
        if token.low == "template" and i > 0 and tokens[i - 1].kind == "word":
            before = tokens[i - 1].low
            if before not in {"the", "a", "notification", "using", "with"}:
                return before
    return None


def _query(clause: Clause, text: str, action: str) -> dict[str, Any]:
    sel = clause.targets.selector
    args: dict[str, Any] = {}
    single = {"type": sel.types, "os": sel.os, "environment": sel.environments, "location": sel.locations}
    for key, values in single.items():
        if len(values) == 1:
            args[key] = values[0]
    if sel.tags:
        args["tags"] = dict(sel.tags)
    if len(sel.services) == 1:
        args["service"] = sel.services[0]
    if len(clause.targets.names) == 1 and not sel.is_set():
        args["name"] = clause.targets.names[0]
    return args


def _asset_fields(clause: Clause, text: str, action: str) -> dict[str, Any]:
    sel, kv = clause.targets.selector, clause.slots.kv
    fields: dict[str, Any] = {}
    for key in ("address", "type", "os", "environment", "location"):
        if key in kv:
            fields[key] = kv[key]
    aliases = {"env": "environment", "loc": "location", "ip": "address"}
    for short, key in aliases.items():
        if short in kv:
            fields[key] = kv[short]
    for key, values in (("environment", sel.environments), ("location", sel.locations), ("os", sel.os)):
        if values and key not in fields:
            fields[key] = values[0]
    if len(sel.types) == 1 and "type" not in fields:
        fields["type"] = sel.types[0]
    if sel.tags:
        fields["tags"] = dict(sel.tags)
    return fields


def _create(clause: Clause, text: str, action: str) -> dict[str, Any]:
    fields = _asset_fields(clause, text, action)
    names = clause.targets.unknown or [k for k in (clause.slots.kv.get("name"),) if k]
    if not names:
        raise MissingSlot("What is the new asset called? e.g. `add asset name=web-05 address=192.0.2.15`")
    fields["name"] = names[0]
    if "address" not in fields and clause.targets.raw:
        fields["address"] = clause.targets.raw[0]
    if "address" not in fields:
        raise MissingSlot("What is the new asset's address? e.g. `address=192.0.2.15`")
    return fields


BUILDERS: dict[str, Builder] = {
    "network.ping": _ping,
    "network.port_scan": _ports,
    "network.traceroute": _trace,
    "network.dns_lookup": _dns,
    "automation.system_info": _facts,
    "automation.service_status": _service,
    "automation.service_control": _service_control,
    "automation.process_list": _processes,
    "automation.read_file": _read_file,
    "automation.run_command": _run_command,
    "automation.run_script": _run_script,
    "communication.notify": _notify,
    "assets.query": _query,
    "assets.update": _asset_fields,
    "assets.create": _create,
}
