"""One clause, read: its entities, the tool it asks for, its speech act, its calls.

    recognise -> rank readings -> speech act (for a change) -> arguments -> targets -> calls

A change is planned only when ordered. Talk about a change (a question, a report, advice, a
hypothetical, the past) plans the change's declared matching read instead, and offers the
change itself as a suggestion in the structured form (one click sends it). A hypothetical also
plans the change as a check when the tool declares one: its read-only probes say what it would do.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field, replace
from typing import Any

from pipeline.contracts import ToolCall
from pipeline.errors import InvalidRequest
from pipeline.nlu import messages
from pipeline.nlu.acts import Act, asks, speech_act, third_person
from pipeline.nlu.bounds import check_bounds
from pipeline.nlu.choice import matches, rank, tied
from pipeline.nlu.coverage import coverage
from pipeline.nlu.english import stem
from pipeline.nlu.generic import general
from pipeline.nlu.grammar import explicit_tool
from pipeline.nlu.inventory import InventoryIndex
from pipeline.nlu.lexicon import CHANGE_VERBS, FILLER, vocab
from pipeline.nlu.parse import Claims, Parse, Value
from pipeline.nlu.qualifiers import commentary, is_statement, unknown_qualifiers
from pipeline.nlu.reading import Reading
from pipeline.nlu.recognise import recognise
from pipeline.nlu.slots import MissingSlot, each_value, fill, other_assets, run_by_hosts
from pipeline.nlu.targeting import Clarify, Context, NoTargets, targets_for
from pipeline.nlu.tokens import Token
from pipeline.nlu.toolwords import ToolView, ToolWords

_CLEARLY = 0.3  # a score this far ahead of the next reading is what the clause asks for
TIED = 0.5  # two readings nothing decides between: below the planner's threshold, so it is asked
_SAME_AGAIN = vocab("too instead also either well")  # 'as well'
_INTENT = vocab("need needs want wants going gonna have has got plan planning trying about i'm we're")


@dataclass
class Read:
    """What one clause asks for."""

    parse: Parse
    reading: Reading | None = None
    act: Act = Act.ORDER
    calls: list[ToolCall] = field(default_factory=list)
    suggestions: list[ToolCall] = field(default_factory=list)
    confidence: float = 1.0
    explicit: bool = False
    alternatives: list[Reading] = field(default_factory=list)
    others: list[list[ToolCall]] = field(default_factory=list)  # the next readings' calls, if whole
    aside: bool = False  # a change talked about, not asked about ('before I reboot db-02, ...')
    general: str = ""  # a general question ('would rebooting a dc hurt?'): what to answer


@dataclass(frozen=True)
class Reader:
    """Reads clauses against one catalog and one inventory snapshot."""

    words: ToolWords
    index: InventoryIndex
    known: frozenset[str]  # every word the understanding knows (for unknown qualifiers)
    verbs: frozenset[str]

    def parse(self, tokens: tuple[Token, ...]) -> Parse:
        """Only the entities of a clause (what a negated or cancelled part was about)."""
        return recognise(list(tokens), self.index, self.words)

    def read(self, tokens: tuple[Token, ...], text: str, context: Context) -> Read:
        explicit = explicit_tool(tokens, self.words)
        if explicit is not None:
            return self._explicit(explicit, tokens, text, context)
        parse = self._same_service(recognise(list(tokens), self.index, self.words), context)
        if is_statement(tokens, self.verbs):
            parse = _amounts_seen(parse)
        if context.summaries and self._own_plans(parse):
            return Read(parse)  # 'stop prometheus on mon-01, need to resize its volume'
        ranked = rank(parse, self.words, matches(parse, self.words), context.service)
        readings = [r for r in ranked if self._runs_on(r.tool, parse, context)]
        _elsewhere(ranked, readings)
        read = Read(parse, alternatives=readings[1:4])
        self._unsupported(parse, readings)
        if not readings:
            return read
        best = self._ordered(parse, readings)
        self._qualifiers(parse, best)
        read.act = context.frame or self._act(parse, best)
        if general(parse, *self._talked_about(parse, best, read.act), context):
            read.general = messages.general_question(self._concrete(best, parse, text))
            return read
        if best.tool.changes and best.tool.read is None and read.act is not Act.ORDER:
            best = next((r for r in readings if not r.tool.changes and r.score >= 0), best)
            read.act = Act.QUESTION if not best.tool.changes else read.act  # 'what services run on x'
        read.reading = best
        read.aside = best.tool.changes and read.act is not Act.ORDER and not asks(_words(parse))
        said = best.explained() | parse.claimed
        covered = coverage(parse, best, commentary(parse.tokens, said, self.verbs))
        read.confidence = min(covered, TIED) if tied(readings) else covered
        if read.confidence < 1.0:
            read.others = self._others(parse, [r for r in readings if r is not best][:3], text, context)
        self._calls(read, best, text, context)
        return read

    def _talked_about(self, parse: Parse, best: Reading, act: Act) -> tuple[Act, bool]:
        """The clause's act and whether it is about a change: the reading's change word, or else
        the first change verb written ('would rebooting a kafka broker lose data?' read as a status)."""
        if best.tool.changes:
            return act, True
        at = next((t.index for t in parse.words if stem(t.low) in self.words.change_verbs), None)
        return (act, False) if at is None else (_act_at(parse, at), True)

    def _concrete(self, reading: Reading, parse: Parse, text: str) -> str:
        """The read a general question could become on one host (`<host>` in place of it)."""
        try:
            args = next(iter(each_value(fill(reading, parse, text, self.index, ""))), {})
        except MissingSlot:
            return ""
        call = ToolCall(tool=reading.tool.name, args=args, targets=("<host>",))
        read = read_of(reading.tool, call) if reading.tool.changes else call
        return messages.structured(read) if read is not None else ""

    def _same_service(self, parse: Parse, context: Context) -> Parse:
        """'restart web-03 too', 'stop it on web-04 instead' after a request about nginx: the same
        service on other hosts, when it runs on every one of them (else the clause is read as it is)."""
        targets = parse.targets
        marked = {t.low for t in parse.words} & _SAME_AGAIN
        if (
            not context.service
            or targets.pronoun
            or not targets.names
            or not marked
            or parse.of_kind("service")
        ):
            return parse
        running = self.index.select(names=targets.names, services=[context.service])
        if len(running) != len(targets.names):
            return parse
        return replace(parse, targets=replace(targets, pronoun=True))

    def _runs_on(self, tool: ToolView, parse: Parse, context: Context) -> bool:
        """A tool declared for some systems only is no reading for hosts of another system
        (a Windows service restart is never offered for a Linux host, named or referred to)."""
        targets = parse.targets
        names = targets.names or (list(context.targets) if targets.pronoun else [])
        named = self.index.select(names=names) if names else ()
        systems = {a.os for a in named} or set(targets.selector.os)
        return all(tool.spec.runs_on(system) for system in systems)

    def _ordered(self, parse: Parse, readings: list[Reading]) -> Reading:
        """An explicit order beats a state word ('restart gunicorn on api-02, it's stuck')."""
        best = readings[0]
        mine = {i for m in best.matches for i in m.tokens}
        for other in readings[1:4]:  # 'restart all services on web-01': which service, not a reboot
            theirs = {i for m in other.matches for i in m.tokens}
            both_change = best.tool.changes and other.tool.changes
            if both_change and other.missing and mine < theirs and other.score >= best.score - 0.6:
                return other
        if best.tool.changes:
            return best
        for other in readings[1:4]:
            close = other.tool.changes and other.score >= best.score - 0.6
            if close and other.change_token() is not None and self._act(parse, other) is Act.ORDER:
                return other
        return best

    def _others(
        self, parse: Parse, readings: list[Reading], text: str, context: Context
    ) -> list[list[ToolCall]]:
        """Calls of the next readings that have everything they need (the choices offered when
        the best reading explains too little)."""
        found: list[list[ToolCall]] = []
        for reading in readings:
            if reading.missing or reading.score <= 0 or _unasked_change(reading):
                continue
            other = Read(parse, reading, act=self._act(parse, reading))
            try:
                self._calls(other, reading, text, replace(context, summaries=[]))
            except Clarify:
                continue
            if other.calls and not other.suggestions:
                found.append(other.calls)
        return found

    def _outside_command(self, parse: Parse, reading: Reading) -> Parse:
        """'run ping -c 3 8.8.8.8 on db-01': words inside a command never name targets."""
        inside = _command_words(reading)
        if not inside:
            return parse
        return recognise([t for t in parse.tokens if t.index not in inside], self.index, self.words)

    def _explicit(self, tool: ToolView, tokens: tuple[Token, ...], text: str, context: Context) -> Read:
        """`tool.name targets key=value ...`: keys naming the tool's arguments are arguments; the
        others (env=, role=, service= for a tool without a service argument) select targets."""
        names = {s.name for s in tool.slots}
        tokens = _targets_written_as_kv(tokens, names)
        own = [t for t in tokens[1:] if t.kind == "kv" and t.text.partition("=")[0].lower() in names]
        parse = recognise([t for t in tokens[1:] if t not in own], self.index, self.words)
        arguments = tuple(_kv(t) for t in own)
        parse = Parse(parse.tokens, parse.targets, parse.values + arguments, parse.claimed, parse.phrases)
        reading = Reading(tool, 1.0, (), parse.values, ())
        asked = context.frame not in (None, Act.ORDER)  # 'should I /opsconductor reboot db-02?'
        read = Read(parse, reading, act=context.frame or Act.ORDER, explicit=not asked)
        self._calls(read, reading, text, context)
        return read

    def _own_plans(self, parse: Parse) -> bool:
        """After a request, the speaker's own plans ('need to resize its volume', 'I'm going to
        patch it after') explain it: a change no tool offers, framed as intent, asks for nothing."""
        words = parse.words
        at = next((n for n, t in enumerate(words) if t.low in CHANGE_VERBS), None)
        if not at or words[at].low in self.words.verbs:
            return False
        frame = {t.low for t in words[:at]}
        return (
            "to" in frame
            and bool(frame & _INTENT)
            and frame <= _INTENT | {"to", "i", "we", "then", "so", "and"}
        )

    def _unsupported(self, parse: Parse, readings: list[Reading]) -> None:
        """'disable nginx on web-01', 'kill java on api-01': a change no tool offers is asked back."""
        first = next((t for t in parse.words if t.low not in FILLER), None)
        if first is None or first.low not in CHANGE_VERBS:
            return
        if readings and any(
            first.index in m.tokens and m.role in {"verb", "value"} for m in readings[0].matches
        ):
            return
        if readings and _act_at(parse, first.index) is not Act.ORDER:
            return  # 'do we need to clean up disk on X?': asked about, answered by the read
        raise Clarify(messages.no_tool_for(first.text.lower()))

    def _qualifiers(self, parse: Parse, best: Reading) -> None:
        if "new_name" in best.tool.kinds():
            return
        counted = {i for v in parse.of_kind("number") if len(v.tokens) > 1 for i in v.tokens}
        claims = Claims(parse.claimed | counted)  # 'a single node at a time' counts, never qualifies
        unknown = unknown_qualifiers(parse.tokens, self.index, claims, self.known, self.verbs)
        if unknown:
            raise Clarify(messages.unknown_targets(unknown))

    def _act(self, parse: Parse, best: Reading) -> Act:
        at = best.change_token()
        if at is None:
            return Act.QUESTION if not best.tool.changes else Act.ORDER
        return _act_at(parse, at)

    def _asked(self, tool: ToolView, missing: MissingSlot, parse: Parse, context: Context) -> str:
        """The question for a missing argument, with the request it completes as the example:
        the hosts as named (`<host>` if none), what was read, and example values for the rest;
        no example when none would pass the tool's own arguments model."""
        choices = tuple(dict.fromkeys(missing.slot.values.values())) if missing.slot.kind == "choice" else ()
        args = _example_args(tool, missing.read, every=False) or _example_args(tool, missing.read, every=True)
        if args is None:
            return messages.missing_argument(missing.slot.name, missing.slot.kind, choices=choices)
        service = str(args.get("service") or context.service)
        try:
            names, selector = targets_for(tool, parse, context, service, self.index)
        except (NoTargets, Clarify):
            names, selector = ("<host>",) if tool.takes_targets else (), None
        call = ToolCall(tool=tool.name, args=args, targets=tuple(names), selector=selector)
        example = messages.structured(call)
        return messages.missing_argument(missing.slot.name, missing.slot.kind, example, choices)

    def _calls(self, read: Read, reading: Reading, text: str, context: Context) -> None:
        tool = reading.tool
        if "asset" in tool.kinds():  # 'copy X from web-01 to web-03': two hosts, not a range
            read.parse = replace(read.parse, targets=read.parse.targets.ends_only())
        try:
            filled = fill(reading, read.parse, text, self.index, context.service)
        except MissingSlot as missing:
            if tool.changes and read.act is not Act.ORDER and not read.explicit:
                read.suggestions = []
                return  # 'should I restart something?': nothing to read, nothing to offer
            if read.confidence < 0.6 and not read.explicit:
                read.reading = None  # a verb alone, nothing it acts on: no request understood
                return
            raise Clarify(self._asked(tool, missing, read.parse, context)) from None
        service = str(filled.args.get("service") or context.service)
        runs = run_by_hosts(tool, filled.args, self.index)
        parse = self._outside_command(read.parse, reading)
        try:
            names, selector = targets_for(tool, parse, context, service, self.index, runs)
            others = other_assets(tool, filled.args)
            if others:  # 'from web-01 to db-01': db-01 is the tool's argument, not a target
                names = tuple(n for n in names if n not in others)
                if not names and selector is None:
                    raise NoTargets(tool.name)
        except NoTargets:
            asked = ToolCall(tool=tool.name, args=next(iter(each_value(filled)), {}), targets=("<host>",))
            raise Clarify(messages.which_targets(messages.structured(asked))) from None
        calls = [
            ToolCall(tool=tool.name, args=args, targets=names, selector=selector)
            for args in each_value(filled)
        ]
        for call in calls:
            check_bounds(tool, call)  # 'bandwidth for 90s' past a 60 s bound: asked, with the limit
        if tool.changes and read.act is not Act.ORDER and not read.explicit:
            read.suggestions = calls if read.act is not Act.PAST else []
            read.calls = [c for c in (read_of(tool, call) for call in calls) if c is not None]
            if read.act is Act.HYPOTHETICAL and tool.spec.checks:  # 'what would happen if...'
                read.calls += [call.model_copy(update={"check": True}) for call in calls]
        else:
            read.calls = calls
        context.service = str(filled.args.get("service", context.service) or "")


def _elsewhere(ranked: list[Reading], runnable: list[Reading]) -> None:
    """'is curl up to date on the windows servers': the read that explains the clause clearly best
    runs on other systems than the hosts'; asked back, never answered by a weaker reading (a ping
    for 'up')."""
    if not ranked or (runnable and runnable[0] is ranked[0]):
        return
    best = ranked[0]
    if best.tool.changes or best.missing or best.score < (runnable[0].score if runnable else 0.0) + _CLEARLY:
        return  # a change for other systems is no reading at all ('nginx on web-01, 90s')
    raise Clarify(messages.runs_elsewhere(best.tool.name, sorted(best.tool.spec.platforms)))


def _words(parse: Parse) -> list[str]:
    return [t.low for t in parse.tokens if t.kind == "word"]


def _unasked_change(reading: Reading) -> bool:
    """A change reading resting on values alone ('nginx on web-01 acting weird'): none of its
    words was written, so it is never offered as a choice."""
    return reading.tool.changes and not any(
        m.role in {"verb", "value", "object", "name"} for m in reading.matches
    )


def _amounts_seen(parse: Parse) -> Parse:
    """A report's bare amounts say what was seen ('customers are getting 502s', 'load sits at 40'):
    accounted for, but no argument of any tool (a wait of 502 s is nobody's request)."""
    seen = [v for v in parse.values if v.kinds <= {"number", "duration"}]
    if not seen:
        return parse
    values = tuple(v for v in parse.values if v not in seen)
    return replace(parse, values=values, claimed=parse.claimed | {i for v in seen for i in v.tokens})


def _kv(token: Token) -> Value:
    key, _, value = token.text.partition("=")
    return Value(frozenset({"kv"}), value.strip("\"'"), (token.index,), token.text, key=key.lower())


def _command_words(reading: Reading) -> frozenset[int]:
    return reading.covers if "command" in reading.tool.kinds() else frozenset()


def read_of(tool: ToolView, call: ToolCall) -> ToolCall | None:
    """The declared matching read of a change call, on the same targets."""
    if tool.read is None:
        return None
    args: dict[str, Any] = {k: v for k, v in tool.read.render(call.args).items() if v is not None}
    return ToolCall(tool=tool.read.tool, args=args, targets=call.targets, selector=call.selector)


def first_stem(parse: Parse) -> str:
    first = next((t for t in parse.words if t.low not in FILLER), None)
    return stem(first.low) if first else ""


TARGET_KEYS = frozenset({"targets", "target", "hosts", "host"})


def _targets_written_as_kv(tokens: tuple[Token, ...], names: set[str]) -> tuple[Token, ...]:
    """`targets=web-01,web-02` in the structured form: the hosts, as if written one by one
    (unless the tool has an argument of that name). Later tokens move up to keep indexes distinct."""
    out: list[Token] = []
    for token in tokens:
        key, _, value = token.text.partition("=")
        if token.kind == "kv" and key.lower() in TARGET_KEYS and key.lower() not in names and value:
            for part in (p for p in value.split(",") if p.strip()):
                kind = "ip" if _is_address(part.strip()) else "word"
                out.append(replace(token, text=part.strip(), low=part.strip().lower(), kind=kind))
        else:
            out.append(token)
    return tuple(replace(t, index=n) for n, t in enumerate(out))


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _act_at(parse: Parse, token: int) -> Act:
    """The speech act of the clause around the change word at token index `token`."""
    written = [t for t in parse.tokens if t.kind == "word"]
    position = next((n for n, t in enumerate(written) if t.index == token), 0)
    taken = parse.claimed | {i for v in parse.values for i in v.tokens}
    entities = frozenset(n for n, t in enumerate(written) if t.index in taken)
    if third_person(written[position].low) and _subject_before(parse, token):
        return Act.REPORT  # 'db-02 drops connections': an imperative never agrees with a subject
    return speech_act([t.low for t in written], position, entities)


_SUBJECT_PRONOUNS = frozenset({"it", "this", "that", "he", "she", "everything", "something"})


def _subject_before(parse: Parse, token: int) -> bool:
    """A host or a pronoun right before the word at `token`: the clause's subject ('db-02 drops')."""
    before = [t for t in parse.tokens if t.index < token and t.kind != "punct"]
    if not before:
        return False
    last = before[-1]
    return last.index in parse.claimed or last.low in _SUBJECT_PRONOUNS


def _example_args(tool: ToolView, read: dict[str, Any], *, every: bool) -> dict[str, Any] | None:
    """What was read plus example values for the required arguments (a notice's message too;
    `every`: each argument that has one), or None when the tool's arguments model refuses them."""
    args = dict(read)
    for slot in tool.slots:
        if args.get(slot.name) not in (None, ""):
            continue
        declared = list(dict.fromkeys(slot.values.values()))
        value = declared[0] if slot.kind == "choice" and declared else messages.EXAMPLE_VALUES.get(slot.kind)
        if value is not None and (every or slot.required or slot.kind == "message"):
            args[slot.name] = value
    try:
        tool.spec.parse_args(args)
    except InvalidRequest:
        return None
    return args
