"""Lexicon classifier: which catalog tool one clause asks for, with a confidence score.

Rules run in priority order, most specific and most dangerous first, so that a
request to run something is never read as a harmless one ("run `systemctl
restart nginx`" is `automation.run_command`, never `service_control`).
"""

from __future__ import annotations

from dataclasses import replace

from pipeline.nlu.changes import reboot, reported, service_control
from pipeline.nlu.cues import (
    CREATE_WORDS,
    DELETE_WORDS,
    DNS_WORDS,
    HEALTH_WORDS,
    INVENTORY_WORDS,
    NOTIFY_VERBS,
    PING_WORDS,
    PORT_CHECK_WORDS,
    PROCESS_WORDS,
    QUERY_WORDS,
    READ_ONLY,
    READ_WORDS,
    RUN_NOUNS,
    RUN_VERBS,
    SCAN_WORDS,
    SCRIPT_WORDS,
    STATUS_WORDS,
    STRONG_QUERY_WORDS,
    TEMPLATE_WORDS,
    TOOL_NOUNS,
    TRACE_WORDS,
    UNSUPPORTED,
    UPDATE_WORDS,
    UPTIME_CUES,
)
from pipeline.nlu.decision import Decision
from pipeline.nlu.entities import Clause
from pipeline.nlu.lexicon import vocab
from pipeline.nlu.wording import looks_like_action, unexplained, words_of


def decide(clause: Clause) -> Decision:
    """The first rule that fires, its confidence lowered by words nothing explains."""
    ordered, words = words_of(clause)
    for rule in RULES:
        decision = rule(clause, ordered, words)
        if decision is not None:
            unknown = unexplained(clause)
            confidence = decision.confidence - min(0.3, 0.1 * len(unknown))
            if decision.tool in READ_ONLY and any(looks_like_action(w) for w in unknown):
                confidence = min(confidence, 0.5)  # 'rbuut web-01' must not quietly become a read
            return replace(decision, confidence=round(max(0.0, confidence), 3))
    return Decision(None, 0.0)


def _first_verb(ordered: list[str]) -> str:
    from pipeline.nlu.lexicon import FILLER

    for word in ordered:
        if word in {"on", "at", "across", "for", "from", "in"}:
            continue  # "on web-01 run df -h": the host came first (its name is consumed)
        if word not in FILLER or word in {"help"}:
            return word
    return ""


def _script(clause: Clause, ordered: list[str], words: set[str]) -> Decision | None:
    if words & SCRIPT_WORDS and (words & RUN_VERBS or clause.slots.quotes):
        if not clause.slots.quotes:
            return Decision("automation.run_script", 0.7, "Paste the script in backticks so I can run it.")
        return Decision("automation.run_script", 0.9)
    return None


def _run(clause: Clause, ordered: list[str], words: set[str]) -> Decision | None:
    first = _first_verb(ordered)
    quoted_run = bool(clause.slots.quotes) and bool(words & RUN_VERBS)
    if first not in RUN_VERBS and not quoted_run:
        return None
    position = ordered.index(first) if first in ordered else -1
    following = ordered[position + 1 : position + 3]
    article = bool(following) and following[0] in {"a", "an", "the", "some", "quick"}
    after = [w for w in following if w not in {"a", "an", "the", "some", "quick"}]
    tool_noun = after and (after[0] in TOOL_NOUNS or (article and after[0] in RUN_NOUNS))
    if not clause.slots.quotes and tool_noun and not _shell_syntax(clause):
        return None  # "run a disk check", "run traceroute to x": our tools, not a shell command
    return Decision("automation.run_command", 0.9)


def _shell_syntax(clause: Clause) -> bool:
    """Flags, pipes or redirections: 'run ping -c 100 x on db-01' is a command line."""
    texts = [t.text for t in clause.tokens]
    return any(t in {"|", ">", ";", "$"} for t in texts) or bool(clause.slots.paths) or _has_flag(clause)


def _has_flag(clause: Clause) -> bool:
    return any(t.kind == "flag" for t in clause.tokens)


def _notify(clause: Clause, ordered: list[str], words: set[str]) -> Decision | None:
    slots = clause.slots
    recipients = slots.emails or slots.channels or slots.phones or slots.urls or slots.kv.get("to")
    channel_word = words & {"slack", "teams", "sms", "webhook", "email", "e-mail"}
    first = _first_verb(ordered)
    leading = first in {"slack", "teams", "sms", "webhook", "email", "e-mail", "mail"}
    if first in {"page", "notify", "alert", "inform"} and not (recipients or channel_word):
        return Decision("communication.notify", 0.7, "Who should I notify? Give an address or #channel.")
    webhook = bool(slots.urls) and "webhook" in words  # "call the webhook https://...": any verb
    if not (words & NOTIFY_VERBS or leading or webhook) or not (recipients or channel_word):
        return None
    if not recipients and not slots.kv.get("to"):
        if words & TEMPLATE_WORDS and not (words & {"send", "post"}):
            return None
        return Decision("communication.notify", 0.7, "Who should I notify? Give an address or #channel.")
    return Decision("communication.notify", 0.9)


LEADING_VERBS = {
    "ping": "network.ping",
    "traceroute": "network.traceroute",
    "tracert": "network.traceroute",
    "nslookup": "network.dns_lookup",
    "dig": "network.dns_lookup",
    "nmap": "network.port_scan",
    "reboot": "automation.reboot",
}


def _leading_verb(clause: Clause, ordered: list[str], words: set[str]) -> Decision | None:
    """An unambiguous command verb first ('ping pg main') beats cues later in the clause."""
    first = _first_verb(ordered)
    tool = LEADING_VERBS.get(first)
    if tool == "automation.reboot" and reported(ordered, first):
        return None  # "the reboot of web-03 failed": a report (see _reboot)
    if tool == "network.port_scan" or (tool and not clause.slots.services):
        return Decision(tool, 0.9)
    if tool in {"network.ping", "network.traceroute"}:
        return Decision(tool, 0.85)
    return None


def _templates(clause: Clause, ordered: list[str], words: set[str]) -> Decision | None:
    return Decision("communication.list_templates", 0.9) if words & TEMPLATE_WORDS else None


def _dns(clause: Clause, ordered: list[str], words: set[str]) -> Decision | None:
    names = clause.slots.dns_names or clause.targets.raw
    lookup = "lookup" in words or ("look" in words and "up" in words)
    if words & {"service", "daemon", "server"} and clause.slots.weak_services and not names:
        return None  # "is the DNS service running": a service, not a lookup
    if "dns" in {s.lower() for s in clause.slots.services} and not (names or lookup or words & _RESOLVING):
        return None  # "check DNS on the domain controller" (which runs DNS): its service
    addresses = any(t.kind == "ip" for t in clause.tokens)
    if words & DNS_WORDS or clause.slots.record_type or (lookup and (names or addresses)):
        return Decision("network.dns_lookup", 0.9)
    if "reverse" in words and addresses:
        return Decision("network.dns_lookup", 0.85)
    return None


_RESOLVING = frozenset(
    {"resolve", "resolves", "resolving", "resolution", "nslookup", "dig", "record", "records"}
)


def _trace(clause: Clause, ordered: list[str], words: set[str]) -> Decision | None:
    if words & TRACE_WORDS:
        return Decision("network.traceroute", 0.9)
    asks_path = words & {"path", "packets", "network"} and words & {"path", "route", "take", "go", "travel"}
    if asks_path and not clause.slots.paths and not words & {"file", "log", "logs"}:
        return Decision("network.traceroute", 0.75)
    return None


def _scan(clause: Clause, ordered: list[str], words: set[str]) -> Decision | None:
    slots = clause.slots
    port_only = [p for p in slots.port_names if p not in {s.lower() for s in slots.services}]
    if port_only and not slots.services and words & PORT_CHECK_WORDS:
        return Decision("network.port_scan", 0.8)  # "check rdp on win-app-01", "is https up"
    if not words & SCAN_WORDS:
        return None
    if words & {"scan", "scanning", "nmap", "port", "ports"} or slots.port_names or slots.ports:
        return Decision("network.port_scan", 0.9)
    if words & {"open", "listening", "closed"} and slots.bare_numbers:
        return Decision("network.port_scan", 0.85)  # "is 443 open on web-03"
    return None


def _read_file(clause: Clause, ordered: list[str], words: set[str]) -> Decision | None:
    if "disk" in clause.slots.facts and words & {"space", "left", "free", "usage", "full", "used"}:
        return None  # "how much space is left on /var": a disk question about a mount point
    if clause.slots.paths:
        return Decision("automation.read_file", 0.9 if words & READ_WORDS else 0.7)
    if words & {"log", "logs", "syslog"} and words & (READ_WORDS | {"check", "tail"}):
        return Decision("automation.read_file", 0.75)
    return None


def _processes(clause: Clause, ordered: list[str], words: set[str]) -> Decision | None:
    if words & PROCESS_WORDS:
        return Decision("automation.process_list", 0.9)
    consuming = words & {"uses", "using", "consumes", "consuming", "eating", "hogging", "hog"}
    if consuming and words & {"who", "what", "which", "most", "top"}:
        return Decision("automation.process_list", 0.8)  # "who uses the most memory on cache-01"
    what = words & {"what", "what's", "whats", "which"}
    quiet = not clause.slots.services and not clause.slots.facts
    if what and "running" in words and quiet and (clause.targets.names or clause.targets.pronoun):
        return Decision("automation.process_list", 0.7)
    return None


def _system_info(clause: Clause, ordered: list[str], words: set[str]) -> Decision | None:
    from pipeline.nlu.lexicon import ALL_FACT_WORDS

    if clause.slots.facts:
        return Decision("automation.system_info", 0.9)
    if words & ALL_FACT_WORDS and not clause.slots.services:
        return Decision("automation.system_info", 0.8)
    if "system" in words and words & {"info", "information", "details", "overview"}:
        return Decision("automation.system_info", 0.8)
    if "how" in words and "long" in words and words & {"up", "running"}:
        return Decision("automation.system_info", 0.85)
    if words & UPTIME_CUES and words & {"boot", "booted", "rebooted", "reboot"}:
        return Decision("automation.system_info", 0.8)
    return None


def _service_status(clause: Clause, ordered: list[str], words: set[str]) -> Decision | None:
    services = clause.slots.services or (clause.slots.weak_services if words & STATUS_WORDS else [])
    if not services:
        return None
    if words & {"version", "versions"} and not words & STATUS_WORDS:
        return Decision(
            None, 0.6, f'I cannot read versions directly; try `run "{services[0]} -v" on <host>`.'
        )
    return Decision("automation.service_status", 0.9 if words & STATUS_WORDS else 0.7)


_ASKING = frozenset(
    {"is", "are", "what", "which", "how", "do", "does", "who", "where", "any", "list", "show"}
)


def _mentions_inventory(clause: Clause) -> bool:
    return bool({t.low for t in clause.tokens} & INVENTORY_WORDS) or bool(clause.slots.kv.get("address"))


def _assets_admin(clause: Clause, ordered: list[str], words: set[str]) -> Decision | None:
    in_inventory = _mentions_inventory(clause)
    first = _first_verb(ordered)
    if first in _ASKING:
        return None  # "are there hosts without a team tag": a question, never a change
    if words & CREATE_WORDS and (in_inventory or clause.targets.raw):
        return Decision("assets.create", 0.85)
    if (words & DELETE_WORDS and in_inventory) or first in {"decommission", "deregister", "unregister"}:
        return Decision("assets.delete", 0.85)
    if words & UPDATE_WORDS and (in_inventory or clause.slots.kv) and not words & RUN_VERBS:
        return Decision("assets.update", 0.75)
    changes = clause.targets.selector.is_set() or clause.slots.kv
    if first in UPDATE_WORDS and clause.targets.names and changes:
        return Decision("assets.update", 0.7)  # "move web-04 to london", "tag web-01 with team=ops"
    return None


_RUN_HINT = 'To run a command instead, write it as `run "<command>" on <host>` (it needs approval).'


def _unsupported(clause: Clause, ordered: list[str], words: set[str]) -> Decision | None:
    """Actions with no catalog tool are asked back, never turned into something else."""
    first = _first_verb(ordered)
    inventory = _mentions_inventory(clause)
    if first in UNSUPPORTED or (first in {"delete", "remove", "rm", "erase"} and not inventory):
        return Decision(
            None,
            0.8,
            f"I have no tool to {first} things. To run a command instead, write it as "
            f'`run "<command>" on <host>` (it needs approval).',
        )
    return None


CHANGE_VERBS = vocab(
    "update upgrade enable disable mask unmask reset clear configure apply set change modify"
)


def _changes(clause: Clause, ordered: list[str], words: set[str]) -> Decision | None:
    """Changes with no catalog tool ('disable nginx', 'update openssl') are asked back, never read."""
    first = _first_verb(ordered)
    if first in CHANGE_VERBS:
        return Decision(None, 0.8, f"I have no tool to {first} that. " + _RUN_HINT)
    return None


def _health(clause: Clause, ordered: list[str], words: set[str]) -> Decision | None:
    targets = clause.targets
    about = targets.names or targets.pronoun or targets.selector.is_set()
    if words & HEALTH_WORDS and not clause.slots.services and about:
        return Decision("automation.system_info", 0.7)
    return None


def _ping(clause: Clause, ordered: list[str], words: set[str]) -> Decision | None:
    if words & PING_WORDS:
        return Decision("network.ping", 0.9 if "ping" in words else 0.8)
    return None


def _query(clause: Clause, ordered: list[str], words: set[str]) -> Decision | None:
    targets = clause.targets
    has_targets = bool(targets.names or targets.selector.is_set() or targets.pronoun)
    loose = not targets.names and not targets.selector.anchored and bool(unexplained(clause))
    if loose:
        return (
            None  # "a joke about production": a bare adjective and unknown words, not an inventory question
        )
    if words & INVENTORY_WORDS or (words & STRONG_QUERY_WORDS and has_targets):
        return Decision("assets.query", 0.85)
    if words & QUERY_WORDS and targets.selector.is_set():
        return Decision("assets.query", 0.75)
    if ordered[:1] in (["is"], ["are"]) and targets.names and targets.selector.is_set():
        return Decision("assets.query", 0.75)  # "is db-02 a production server?"
    if words & QUERY_WORDS and has_targets:
        return Decision("assets.query", 0.55 if unexplained(clause) else 0.7)  # "what is db-stg-01"
    if targets.selector.is_set() and not targets.names:
        return Decision("assets.query", 0.65)
    return None


def _check(clause: Clause, ordered: list[str], words: set[str]) -> Decision | None:
    if "services" in words:
        return None  # "status of all services on web-01": the inventory lists them
    if words & {"check", "status", "test", "verify", "probe"} and not clause.targets.empty():
        return Decision("network.ping", 0.7 if "status" in words else 0.6)
    return None


RULES = (
    _script,
    _run,
    _unsupported,
    _notify,
    _leading_verb,
    _templates,
    service_control,
    reboot,
    _assets_admin,
    _changes,
    _dns,
    _trace,
    _scan,
    _read_file,
    _processes,
    _system_info,
    _service_status,
    _ping,
    _health,
    _check,
    _query,
)
