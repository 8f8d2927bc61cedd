"""Arguments of the chosen tool, from its slots' kinds and the clause's typed values.

Each slot reads what its kind says (`pipeline.phrasing.SlotKind`): a choice from the words
declared for its values, a number by the words around it ('5 times'), a duration wherever one is
written, a command from quotes or the words after the verb, and so on. A required argument with
nothing written for it raises `MissingSlot` with the question to ask back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from pipeline.errors import InvalidRequest
from pipeline.nlu.commands import code_span, command_span, command_text, quoted_within, span_text
from pipeline.nlu.english import stem
from pipeline.nlu.fit import addressed, code_words, led_host, name_after, written_choice
from pipeline.nlu.inventory import InventoryIndex
from pipeline.nlu.lexicon import DISTRIBUTIVES, HOST_NOUNS
from pipeline.nlu.parse import Parse, Value
from pipeline.nlu.reading import Reading
from pipeline.nlu.slot_text import free_text, inventory_fields, new_name, query_filters
from pipeline.nlu.toolwords import SlotView, ToolView
from pipeline.nlu.values import port_numbers, service_name


class MissingSlot(Exception):
    """A required argument is missing: which, and the arguments that were read (for the example
    the question shows)."""

    def __init__(self, slot: SlotView, args: dict[str, Any]) -> None:
        super().__init__(slot.name)
        self.slot = slot
        self.read = dict(args)


@dataclass
class Filled:
    """The arguments read for one tool, and the values of a slot written several times."""

    args: dict[str, Any] = field(default_factory=dict)
    each: tuple[str, list[Any]] | None = None  # ('service', ['nginx', 'redis']): one call per value


def fill(reading: Reading, parse: Parse, text: str, index: InventoryIndex, service: str = "") -> Filled:
    """The tool's arguments as written in the clause (`service`: the one an 'it' refers to)."""
    tool = reading.tool
    filled = Filled()
    missing: list[SlotView] = []
    for slot in tool.slots:
        values = _read(slot, reading, parse, text, index, service)
        if values is None:
            if slot.required:
                missing.append(slot)
            continue
        if (
            isinstance(values, list)
            and not slot.many
            and len(values) > 1
            and slot.kind in {"service", "recipient"}
        ):
            filled.each = (slot.name, values)
            filled.args[slot.name] = values[0]
        else:
            filled.args[slot.name] = values[0] if isinstance(values, list) and not slot.many else values
    if missing and not _derivable(tool, filled.args):
        raise MissingSlot(missing[0], filled.args)
    return filled


def _derivable(tool: ToolView, args: dict[str, Any]) -> bool:
    """The tool's own arguments model fills in what is missing (a channel from the recipient)."""
    try:
        tool.spec.parse_args(args)
    except InvalidRequest:
        return False
    return True


def _read(
    slot: SlotView, reading: Reading, parse: Parse, text: str, index: InventoryIndex, service: str
) -> Any:
    keys = {slot.name} | {p[0] for p in slot.leads if len(p) == 1}
    explicit = next((v for v in parse.values if v.has("kv") and (v.key in keys or stem(v.key) in keys)), None)
    if explicit is not None:
        return _typed_kv(slot, explicit)
    kind = slot.kind
    if kind in {"choice", "choices"} or (slot.values and kind not in {"port", "path"}):
        return _choices(slot, reading, parse, index)
    reader = _READERS.get(kind)
    return reader(slot, reading, parse, text, index, service) if reader else None


def _typed_kv(slot: SlotView, value: Value) -> Any:
    raw = str(value.value)
    if slot.many or slot.kind == "choices":
        return [_scalar(v) for v in raw.split(",") if v]
    if slot.kind == "duration":
        from pipeline.nlu.durations import durations

        found = durations([raw.lower()])
        return found[0].seconds if found else _scalar(raw)
    return _scalar(raw)


def _scalar(value: str) -> Any:
    return int(value) if value.isdigit() else value


def _choices(slot: SlotView, reading: Reading, parse: Parse, index: InventoryIndex) -> Any:
    written = [m for m in reading.matches if m.slot == slot.name]
    chosen = [m.value for m in sorted(written, key=lambda m: m.tokens[0])]
    chosen += [c for t in parse.tokens if (c := written_choice(t, slot, parse)) is not None]
    chosen = list(dict.fromkeys(chosen))
    if chosen:
        return chosen if slot.many or slot.kind == "choices" else chosen[:1]
    if slot.by_os:
        return [_by_os(slot, parse, index)]
    return None


def _by_os(slot: SlotView, parse: Parse, index: InventoryIndex) -> str:
    targets = parse.targets
    assets = index.select(names=targets.names) if targets.names else []
    if not assets and targets.selector.os:
        systems = {o.lower() for o in targets.selector.os}
    else:
        systems = {a.os.lower() for a in assets}
    if len(systems) == 1 and next(iter(systems)) in slot.by_os:
        return slot.by_os[next(iter(systems))]
    return slot.by_os.get("", next(iter(slot.by_os.values())))


def _services(
    slot: SlotView, reading: Reading, parse: Parse, text: str, index: InventoryIndex, service: str
) -> Any:
    found = [str(v.value) for v in reading.uses if v.has("service")]
    if not found and service and (parse.targets.pronoun or parse.targets.empty()):
        found = [service]  # 'check nginx ... then restart it'; after it, 'no, just check status'
    return list(dict.fromkeys(found)) or None


def _ports(
    slot: SlotView, reading: Reading, parse: Parse, text: str, index: InventoryIndex, service: str
) -> Any:
    named = [m.value for m in reading.matches if m.slot == slot.name]
    ports: list[int | str] = [p for v in _free_values(parse, reading, "port") for p in port_numbers(v)]
    if not ports and not named:
        services = [v for v in parse.values if v.has("service") and v.key]
        ports = [p for v in services for p in port_numbers(v)]
    ports += named
    return list(dict.fromkeys(ports)) or None


def _free_values(parse: Parse, reading: Reading, kind: str) -> list[Value]:
    """Values of `kind` that no number slot of the tool took by its cue words."""
    cued = {v for v in parse.values if v.has("number") and _number_slot(reading.tool, v, parse)}
    return [v for v in parse.values if v.has(kind) and v not in cued]


def _number_slot(tool: ToolView, value: Value, parse: Parse) -> SlotView | None:
    for slot in tool.slots:
        if slot.kind == "number" and cued(slot, value, parse):
            return slot
    return None


def cued(slot: SlotView, value: Value, parse: Parse) -> bool:
    """The words around a value are the slot's cues: '5 times', '-c 5', 'max 15 hops', 'x5'."""
    if value.cue and (stem(value.cue),) in slot.leads + slot.follows:
        return True
    position = parse.position(value.tokens[0])
    end = parse.position(value.tokens[-1])
    before = [stem(t.low) for t in parse.tokens[max(0, position - 3) : position] if t.kind != "punct"][-2:]
    after = [stem(t.low) for t in parse.tokens[end + 1 : end + 4] if t.kind != "punct"][:2]
    leads = {p[-1] for p in slot.leads}
    follows = {p[0] for p in slot.follows}
    return (
        bool(before and before[-1] in leads)
        or bool(after and after[0] in follows)
        or bool(len(before) == 2 and before[0] in leads and before[1] in {"of", "to", "max", "last", "="})
    )


def _numbers(
    slot: SlotView, reading: Reading, parse: Parse, text: str, index: InventoryIndex, service: str
) -> Any:
    for value in parse.values:
        if value.has("number") and cued(slot, value, parse):
            return value.value
    numbers = [s.name for s in reading.tool.slots if s.kind == "number"]
    if reading.tool.takes_targets and numbers == [slot.name]:
        return next((v.value for v in parse.values if v.has("number") and _per_target(slot, v, parse)), None)
    return None


def _per_target(slot: SlotView, value: Value, parse: Parse) -> bool:
    """'ping A and B 10 each', '5 pings apiece', '4 packets per host': a number counted per target
    is the tool's one number argument (the slot's own follow word may stand between)."""
    end = parse.position(value.tokens[-1])
    after = [t.low for t in parse.tokens[end + 1 : end + 5] if t.kind != "punct"]
    if after and (stem(after[0]),) in slot.follows:
        after = after[1:]
    if not after or after[0] not in DISTRIBUTIVES:
        return False
    return after[0] != "per" or (len(after) > 1 and after[1] in HOST_NOUNS | {"target", "targets"})


def _durations(
    slot: SlotView, reading: Reading, parse: Parse, text: str, index: InventoryIndex, service: str
) -> Any:
    slots = [s for s in reading.tool.slots if s.kind == "duration"]
    for value in parse.values:
        if value.has("duration") and (len(slots) == 1 or cued(slot, value, parse)):
            return value.value
        if value.has("number") and cued(_by_name(slot), value, parse):
            return float(value.value)  # 'timeout 30', '(timeout: 90)': seconds
    return None


def _by_name(slot: SlotView) -> SlotView:
    """The slot cued only by its own name's words ('timeout' for timeout_s, 'duration' for
    duration_s): a bare number without a unit ('for 20', 'allow 30') is no duration otherwise."""
    named = {stem(w) for w in slot.name.split("_")}
    own = tuple(p for p in slot.leads if p and p[-1] in named)
    return replace(slot, leads=own, follows=())


def _sizes(
    slot: SlotView, reading: Reading, parse: Parse, text: str, index: InventoryIndex, service: str
) -> Any:
    """A size written with its unit ('first 4096 bytes', 'only 2 KB'); a bare number only right
    after the slot's own cue ('max_bytes 4096', 'at most 4096'): bytes."""
    for value in parse.values:
        if value.has("size"):
            return value.value
        if value.has("number") and cued(slot, value, parse):
            return int(value.value)
    return None


def _paths(
    slot: SlotView, reading: Reading, parse: Parse, text: str, index: InventoryIndex, service: str
) -> Any:
    """The path written for this slot. With several path arguments ('copy A ... to B'), a path led
    by one of a slot's cue words is that slot's; the others fill the rest in the order written."""
    written = sorted(parse.of_kind("path"), key=lambda v: v.tokens[0])
    slots = [s for s in reading.tool.slots if s.kind == "path"]
    if written and len(slots) > 1:
        return _path_for(slot, slots, written, parse)
    if written:
        return written[0].value
    named = [m.value for m in reading.matches if m.slot == slot.name]
    return named[0] if named else None


def _path_for(slot: SlotView, slots: list[SlotView], written: list[Value], parse: Parse) -> Any:
    cued_for = {v.tokens[0]: s.name for v in written for s in slots if s.leads and cued(s, v, parse)}
    own = [v for v in written if cued_for.get(v.tokens[0]) == slot.name]
    if own:
        return own[0].value
    free = [v for v in written if v.tokens[0] not in cued_for]
    unclaimed = [s for s in slots if not any(name == s.name for name in cued_for.values())]
    at = unclaimed.index(slot) if slot in unclaimed else len(free)
    return free[at].value if at < len(free) else None


def _command(
    slot: SlotView, reading: Reading, parse: Parse, text: str, index: InventoryIndex, service: str
) -> Any:
    verbs = [m.tokens[0] for m in reading.matches if m.role == "verb"]
    quotes = [v for v in parse.values if v.has("quote")]
    span = command_span(reading.tool, verbs, parse) if quotes else None
    if quotes and not (span and quoted_within(parse, span)):
        return str(quotes[0].value)
    return command_text(reading.tool, verbs, parse, text) or None


def _code(
    slot: SlotView, reading: Reading, parse: Parse, text: str, index: InventoryIndex, service: str
) -> Any:
    span = code_span(parse, code_words(reading.matches))
    quotes = sorted(parse.of_kind("quote"), key=lambda v: v.cue != "fence")
    at = parse.position(quotes[0].tokens[0]) if quotes else -1
    if quotes and (span is None or at <= span[0]):  # ': ```...```' is the block (a timeout may follow)
        return str(quotes[0].value)
    return span_text(parse, span, text, to_end=True) if span else None


def _message(
    slot: SlotView, reading: Reading, parse: Parse, text: str, index: InventoryIndex, service: str
) -> Any:
    quotes = parse.of_kind("quote")
    return str(quotes[-1].value) if quotes else None


def _recipients(
    slot: SlotView, reading: Reading, parse: Parse, text: str, index: InventoryIndex, service: str
) -> Any:
    kinds = {"email", "channel", "phone", "url", "named"}
    found = [str(v.value) for v in sorted(parse.values, key=lambda v: v.tokens[0]) if v.kinds & kinds]
    return list(dict.fromkeys(found)) or None


def _dns_names(
    slot: SlotView, reading: Reading, parse: Parse, text: str, index: InventoryIndex, service: str
) -> Any:
    written = [str(v.value) for v in parse.of_kind("dns_name")]
    addresses = [t.text for t in parse.tokens if t.kind == "ip"]
    asked = addressed(reading.tool, parse, index) if reading.tool.spec.phrasing.targets_after else []
    names = written + addresses + parse.targets.raw + [n for n in parse.targets.names if n not in asked]
    bare = name_after(parse, reading.matches)
    return names[0] if names else (bare.text if bare is not None else None)


def _text(
    slot: SlotView, reading: Reading, parse: Parse, text: str, index: InventoryIndex, service: str
) -> Any:
    return free_text(slot, reading, parse)


def _filters(
    slot: SlotView, reading: Reading, parse: Parse, text: str, index: InventoryIndex, service: str
) -> Any:
    return query_filters(parse).get(slot.name)


def _fields(
    slot: SlotView, reading: Reading, parse: Parse, text: str, index: InventoryIndex, service: str
) -> Any:
    return inventory_fields(parse).get(slot.name)


def _new_name(
    slot: SlotView, reading: Reading, parse: Parse, text: str, index: InventoryIndex, service: str
) -> Any:
    return new_name(parse)


def _asset(
    slot: SlotView, reading: Reading, parse: Parse, text: str, index: InventoryIndex, service: str
) -> Any:
    """'... to db-01': the host in the slot's role (`led_host`), which is then not a target."""
    token = led_host(slot, parse)
    found = index.lookup(token.text).names if token is not None else ()
    return found[0] if len(found) == 1 and found[0] in parse.targets.names else None


def run_by_hosts(tool: ToolView, args: dict[str, Any], index: InventoryIndex) -> str:
    """The service a `narrows` argument names when the inventory lists it ('postgres' ->
    postgresql), written back in the inventory's spelling; "" otherwise."""
    for slot in tool.slots:
        value = args.get(slot.name)
        if not slot.narrows or not isinstance(value, str):
            continue
        known = service_name(value, index)
        if known is not None and known.lower() in index.services:
            args[slot.name] = known
            return known
    return ""


def other_assets(tool: ToolView, args: dict[str, Any]) -> set[str]:
    """The hosts a call names as arguments (slots of kind "asset"): they are not its targets."""
    return {str(args[s.name]) for s in tool.slots if s.kind == "asset" and args.get(s.name)}


_READERS = {
    "service": _services,
    "port": _ports,
    "number": _numbers,
    "duration": _durations,
    "size": _sizes,
    "path": _paths,
    "command": _command,
    "code": _code,
    "message": _message,
    "recipient": _recipients,
    "dns_name": _dns_names,
    "text": _text,
    "filter": _filters,
    "field": _fields,
    "new_name": _new_name,
    "asset": _asset,
}


def each_value(filled: Filled) -> Sequence[dict[str, Any]]:
    """One argument set per value of a slot written several times, in the order written."""
    if filled.each is None:
        return [filled.args]
    name, values = filled.each
    return [{**filled.args, name: value} for value in values]
