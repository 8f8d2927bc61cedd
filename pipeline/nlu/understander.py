"""Deterministic stages A+B: text -> Understanding, with no language model.

    normalise (scan) -> clauses -> negation -> for each clause: entities, tool choice from the
    catalog's declared phrasing, speech act, slots from parameter types, targets
    -> coverage-based confidence -> plan | matching read + suggestion | ask back | no action

Unknown or ambiguous targets and missing required arguments are asked back; nothing is guessed.
The understanding holds no tool names: every tool's words come from its declaration.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pipeline.contracts import AssetRef, Intent, Interpretation, ToolCall, Understanding
from pipeline.conversation import Turn
from pipeline.nlu import crossing, examples, messages, negation
from pipeline.nlu.clauses import holds_data
from pipeline.nlu.dictionary import english
from pipeline.nlu.embedded import embedded_command
from pipeline.nlu.english import (
    ADVICE_WORDS,
    AUXILIARIES,
    DISCOURSE,
    MODALS,
    QUESTION_WORDS,
    STATE_VERBS,
    SUBJECTS,
)
from pipeline.nlu.followups import (
    accepted,
    acknowledges,
    again,
    again_asked,
    asked_again,
    chosen,
    completes,
    declined,
    only_targets,
    ordered,
    repeated,
    repeats,
    selects_only,
    which_offered,
)
from pipeline.nlu.guards import no_smuggled_commands
from pipeline.nlu.interpret import Read, Reader
from pipeline.nlu.inventory import InventoryIndex
from pipeline.nlu.lexicon import (
    CHANGE_VERBS,
    COMMON,
    DISTRIBUTIVES,
    ENVIRONMENT_SYNONYMS,
    FILLER,
    GENERAL_VERBS,
    GREETINGS,
    HELP_WORDS,
    HOST_NOUNS,
    LOOK_VERBS,
    OS_SYNONYMS,
    PORT_NAMES,
    PRONOUNS,
    QUANTIFIERS,
    SERVICE_ALIASES,
    THEN_WORDS,
    TYPE_SYNONYMS,
    WELL_KNOWN_SERVICES,
)
from pipeline.nlu.qualifiers import is_statement
from pipeline.nlu.scan import Message, scan
from pipeline.nlu.targeting import Clarify, Context, problems, targets_for
from pipeline.nlu.tokens import Token
from pipeline.nlu.toolwords import ToolWords
from pipeline.nlu.typos import Corrector
from pipeline.registry import ToolSpec

_SOCIAL = frozenset(
    [
        "there",
        "everyone",
        "everybody",
        "all",
        "how",
        "are",
        "is",
        "it",
        "going",
        "doing",
        "today",
        "good",
        "day",
    ]
)


class DeterministicUnderstander:
    """Understanding by the catalog's declared words over an inventory snapshot."""

    def __init__(self, tools: Iterable[ToolSpec]) -> None:
        self.words = ToolWords(tools)
        self.verbs = self.words.verbs | GENERAL_VERBS
        values = frozenset(w for t in self.words for s in t.slots for p in s.values for w in p)
        self.negation = negation.Words.of(self.words.verbs | CHANGE_VERBS, values)
        self._index: InventoryIndex | None = None
        self._reader: Reader | None = None
        self._corrector: Corrector | None = None
        self._help: tuple[Sequence[AssetRef], str] | None = None

    def reader(self, assets: Sequence[AssetRef]) -> tuple[Reader, Corrector]:
        if self._index is None or self._index.assets is not assets or self._reader is None:
            self._index = InventoryIndex.build(assets)
            known = self._known(self._index)
            self._reader = Reader(self.words, self._index, known, self.verbs)
            self._corrector = Corrector(known, english)
        assert self._corrector is not None
        return self._reader, self._corrector

    def _known(self, index: InventoryIndex) -> frozenset[str]:
        inventory = (
            set(index.environments) | set(index.locations) | set(index.os) | set(index.tag_values)
            | index.tag_keys | set(index.services) | {w for t in index.types for w in t.split("_")}
        )  # fmt: skip
        synonyms = {w for group in (*ENVIRONMENT_SYNONYMS.values(), *OS_SYNONYMS.values()) for w in group}
        lexicon = (
            FILLER | COMMON | HOST_NOUNS | QUANTIFIERS | PRONOUNS | GENERAL_VERBS | LOOK_VERBS | CHANGE_VERBS
            | DISTRIBUTIVES | THEN_WORDS | GREETINGS | HELP_WORDS | WELL_KNOWN_SERVICES
            | frozenset(SERVICE_ALIASES)
            | frozenset(PORT_NAMES) | frozenset(TYPE_SYNONYMS) | DISCOURSE | SUBJECTS | MODALS | AUXILIARIES
            | QUESTION_WORDS | STATE_VERBS | ADVICE_WORDS
        )  # fmt: skip
        return frozenset(lexicon | self.words.vocabulary | inventory | synonyms)

    def understand(
        self, text: str, assets: Sequence[AssetRef], previous: Turn | None = None
    ) -> Understanding:
        """`previous`: the conversation's last request, for follow-ups ('and on web-02?', 'do it')."""
        reader, corrector = self.reader(assets)
        embedded = embedded_command(text)  # 'should I /opsconductor reboot db-02?': about that command
        message = scan(embedded.command if embedded else text, self.verbs, corrector, self.words.data_words)
        words = [t.low for t in message.tokens if t.kind == "word" or t.text.lstrip("#").isdigit()]
        if previous is not None:
            again = accepted(words, previous) or chosen(words, previous)
            if again is not None:
                return self.understand(again, assets)  # what was offered, exactly as offered
            answered = declined(words, previous) or which_offered(words, previous)
            if answered is not None:
                return answered
        entities = any(t.kind not in {"word", "punct"} for t in message.tokens)
        repeat = previous is not None and bool(previous.calls) and again_asked(words)  # 'do it again'
        if not message.clauses or (_small_talk(words) and not entities and not repeat):
            helped = messages.injection() if message.injection else self.help(assets)
            return _no_action(helped, 1.0)
        context = Context.after(previous)
        context.frame = embedded.act if embedded else None
        understood = self._understood(message, reader, context)
        if previous is not None and completes(previous) and not understood.calls:
            return self.understand(f"{previous.text} {text}", assets)  # "which one?" - "the london one"
        return understood

    def help(self, assets: Sequence[AssetRef]) -> str:
        """The help for this inventory snapshot, its examples drawn from it (built once per snapshot)."""
        if self._help is None or self._help[0] is not assets:
            self._help = (assets, self._help_for(assets))
        return self._help[1]

    def _help_for(self, assets: Sequence[AssetRef]) -> str:
        reader, _ = self.reader(assets)
        hosts = examples.Hosts.of(assets)

        def plans(text: str) -> bool:  # and a selector it uses matches some asset
            understood = self.understand(text, assets)
            selectors = [c.selector for c in understood.calls if c.selector and not c.selector.is_empty()]
            matched = all(reader.index.selection.select(s) for s in selectors)
            return understood.outcome == "plan" and bool(understood.calls) and matched

        rows = [(r, what) for r, what in examples.requests(hosts) if hosts.empty or plans(r)]
        defined = []
        for tool in self.words:
            declared = tool.spec.phrasing.examples if tool.spec.source else ()
            retargeted = [examples.retargeted(e, reader.index, hosts) for e in declared]
            if not hosts.empty and declared:
                retargeted.append(examples.structured(tool, hosts) or "")
            shown = examples.planning(retargeted, plans) if not hosts.empty else next(iter(retargeted), None)
            if shown is not None:
                defined.append((tool.name, shown))
        return messages.help_text(
            rows, defined, span=hosts.span, selectors=hosts.selectors, empty=hosts.empty
        )

    def _understood(self, message: Message, reader: Reader, context: Context) -> Understanding:
        try:
            return self._clauses(message.clauses, message.text, reader, context, message.injection)
        except Clarify as problem:
            interpretation = Interpretation(intent=Intent.CHAT, category="clarify", source="lexicon")
            return Understanding(
                interpretation=interpretation,
                outcome="clarify",
                message=str(problem),
                suggestions=problem.suggestions,
            )

    def _clauses(
        self, clauses: Sequence[Sequence[Token]], text: str, reader: Reader, context: Context, injection: bool
    ) -> Understanding:
        kept, cancelled = negation.cancel([list(c) for c in clauses])
        refused: list[str] = ["do that"] if cancelled else []
        if cancelled:
            context.remember(reader.parse(tuple(cancelled)).targets)
        parts = self._parts(kept, reader, context, refused)
        reads: list[Read] = []
        calls: list[ToolCall] = []
        leftovers: list[Read] = []
        for position, tokens in enumerate(parts):
            statement = is_statement(tuple(tokens), self.verbs)
            later = any(not is_statement(tuple(p), self.verbs) for p in parts[position + 1 :])
            if statement and (later or calls):  # a message of statements alone is a report
                seen = reader.parse(tuple(tokens))  # "nginx on web-02 is dead, restart it"
                services = seen.of_kind("service")
                context.remember(seen.targets, str(services[0].value) if services and not calls else "")
                continue
            if not calls and context.calls and repeats(seen := reader.parse(tuple(tokens))):
                calls.extend(repeated(c, seen, reader) for c in context.calls)  # "check it again"
                continue
            read = reader.read(tuple(tokens), text, context)
            joined = _joined(read, reads, reader, text, context)
            if joined is not None:  # "ping db-01, send it 6 packets": one request
                del calls[len(calls) - len(reads[-1].calls) :]
                reads[-1] = joined
                calls.extend(joined.calls)
                continue
            if read.reading is None and calls and only_targets(read):
                calls.append(_repeat(calls[-1], read, reader, context))  # "..., then on web-02"
                continue
            if not calls and context.calls and selects_only(read) and only_targets(read, follow_up=True):
                again_calls = [again(c, read.parse, reader) for c in context.calls]  # "and on web-02"
                asked = asked_again(again_calls, read, reader)  # "what about web-02?" after a change
                reads += [asked] if asked is not None else []
                calls.extend(asked.calls if asked is not None else again_calls)
                continue
            if read.reading is None:
                leftovers.append(read)
                context.remember(read.parse.targets)
                continue
            reads.append(read)
            calls.extend(read.calls)
            context.summaries.extend(messages.describe_call(c) for c in read.calls)
        reads, calls = _without_asides(reads, calls)
        return _decide(reads, calls, leftovers, refused, text, injection, self.words)

    def _parts(
        self, clauses: list[list[Token]], reader: Reader, context: Context, refused: list[str]
    ) -> list[list[Token]]:
        """The clauses to read, in order: negations dropped, crossed clauses cut apart."""
        parts: list[list[Token]] = []
        for written in clauses:
            if len(clauses) > 1 and acknowledges([t.low for t in written if t.kind == "word"]):
                continue  # 'ok, go ahead and restart it': the agreement asks for nothing itself
            tokens = self._wanted(written, reader, context, refused)
            if tokens is not None and holds_data(tokens, self.words.data_words):
                parts.append(tokens)  # "run this script on X: a; b" is one request
            elif tokens is not None:
                parts.extend(crossing.uncross(tokens, reader.index, self.words))
        return parts

    def _wanted(
        self, tokens: list[Token], reader: Reader, context: Context, refused: list[str]
    ) -> list[Token] | None:
        """The clause without what it negates ('don't reboot web-02, just ping it' -> 'just ping it')."""
        split = negation.split(tokens, self.negation)
        if not split.found:
            return tokens
        refused.extend(split.verbs)
        about = reader.parse(tuple(split.negated)) if split.negated else None
        if about is not None:
            context.remember(about.targets, next((str(v.value) for v in about.of_kind("service")), ""))
        if negation.only_glue(split.positive):
            return None
        own = reader.parse(tuple(split.positive)).targets if split.positive else None
        lacks_hosts = own is None or (own.empty() and not own.pronoun)
        if lacks_hosts and not context.targets and negation.has_task(split.positive, self.negation):
            return split.positive + negation.objects(split.negated, self.negation)
        return split.positive


def _service_of(read: Read) -> str:
    services = read.parse.of_kind("service")
    return str(services[0].value) if services else ""


def _without_asides(reads: list[Read], calls: list[ToolCall]) -> tuple[list[Read], list[ToolCall]]:
    """'before I reboot db-02 - how much memory is it using?': a change the person talks about
    next to what they ask for sets the scene (its hosts are what 'it' means); only the request plans."""
    if not any(r.calls and not r.aside for r in reads):
        return reads, calls
    aside = {id(c) for r in reads if r.aside for c in r.calls}
    return [r for r in reads if not r.aside], [c for c in calls if id(c) not in aside]


def _joined(read: Read, reads: list[Read], reader: Reader, text: str, context: Context) -> Read | None:
    """'traceroute to web-03, cap it at 25 hops': a clause that only gives the previous request's
    tool another argument (a value with its unit or cue, no verb, no hosts of its own) is read
    with that request, as one clause."""
    last = reads[-1] if reads else None
    if (
        read.reading is None
        or last is None
        or last.reading is None
        or read.reading.tool is not last.reading.tool
    ):
        return None
    targets = read.parse.targets
    verbs = any(m.role == "verb" for m in read.reading.matches)
    if not read.reading.uses or verbs or targets.names or targets.raw or last.suggestions:
        return None
    joined = reader.read(last.parse.tokens + read.parse.tokens, text, context)
    return joined if joined.reading is not None and joined.reading.tool is read.reading.tool else None


def _repeat(last: ToolCall, read: Read, reader: Reader, context: Context) -> ToolCall:
    tool = reader.words.get(last.tool)
    assert tool is not None
    names, selector = targets_for(tool, read.parse, context, str(last.args.get("service", "")), reader.index)
    return last.model_copy(update={"targets": names, "selector": selector})


def _decide(
    reads: list[Read],
    calls: list[ToolCall],
    leftovers: list[Read],
    refused: list[str],
    text: str,
    injection: bool,
    words: ToolWords,
) -> Understanding:
    suggestions = [c for r in reads for c in r.suggestions]
    general = next((r.general for r in leftovers if r.general), "")
    if not calls and not suggestions and general:  # 'would rebooting a kafka broker lose data?'
        return _no_action(general, 0.9)
    if not calls and not suggestions and refused:
        return _no_action(messages.not_doing(refused), 0.9)
    if not calls and not suggestions:
        return _nothing(leftovers, injection)
    for leftover in leftovers:
        problems(leftover.parse.targets)
    structured = (
        bool(reads) and all(r.explicit for r in reads) and len(calls) == sum(len(r.calls) for r in reads)
    )
    calls = _merge_repeats(calls)
    no_smuggled_commands(calls, text, words)
    offered = tuple(messages.structured(c) for c in suggestions)
    acts = [r.act for r in reads if r.suggestions or (r.reading is not None and r.reading.tool.changes)]
    message = messages.offered(" then ".join(offered), acts[0].value) if offered and calls else ""
    if offered and not calls:
        return _no_action(messages.suggest_only(" then ".join(offered)), 0.9, offered)
    confidence = min((r.confidence for r in reads), default=1.0)
    explicit = all(r.explicit or r.confidence >= 1.0 for r in reads)
    others = [" then ".join(messages.structured(c) for c in o) for r in reads for o in r.others][:2]
    changes = any((tool := words.get(c.tool)) is not None and tool.changes for c in calls)
    understood = _understanding(calls, 1.0 if explicit else confidence, explicit, message, offered, changes)
    # "structured": every call written in the exact command form (`tool.name targets key=value`)
    entities = {**understood.interpretation.entities, "alternatives": others, "structured": structured}
    return understood.model_copy(
        update={"interpretation": understood.interpretation.model_copy(update={"entities": entities})}
    )


def _nothing(leftovers: list[Read], injection: bool) -> Understanding:
    for leftover in leftovers:
        problems(leftover.parse.targets)
    mentioned = [n for r in leftovers for n in r.parse.targets.names]
    referring = next((r for r in leftovers if r.parse.targets.pronoun and ordered(r.parse)), None)
    if referring is not None and not mentioned:  # 'check it again' with nothing earlier to refer to
        interpretation = Interpretation(intent=Intent.CHAT, category="clarify", source="lexicon")
        return Understanding(
            interpretation=interpretation, outcome="clarify", message=messages.refers_to_nothing()
        )
    if mentioned:  # hosts but no recognisable task: worth asking the LLM, if there is one
        interpretation = Interpretation(
            intent=Intent.CHAT, category="unsure", confidence=0.2, source="lexicon"
        )
        return Understanding(
            interpretation=interpretation, outcome="clarify", message=messages.what_to_do(mentioned)
        )
    return _no_action(messages.injection() if injection else messages.out_of_scope(), 0.3)


def _merge_repeats(calls: list[ToolCall]) -> list[ToolCall]:
    """'show uptime of x and tell me which rebooted last': one step, not the same step twice."""
    merged: list[ToolCall] = []
    for call in calls:
        if merged and merged[-1] == call:
            continue
        merged.append(call)
    return merged


def _small_talk(words: list[str]) -> bool:
    """Greetings, thanks and 'how are you' ('hi there' is no request about 'there')."""
    meaningful = [w for w in words if w not in FILLER and w not in GREETINGS and w not in _SOCIAL]
    return not meaningful or all(
        w in HELP_WORDS | {"what", "can", "do", "how", "work", "use"} for w in meaningful
    )


def _no_action(message: str, confidence: float, suggestions: tuple[str, ...] = ()) -> Understanding:
    interpretation = Interpretation(
        intent=Intent.CHAT, category="help", confidence=confidence, source="lexicon"
    )
    return Understanding(
        interpretation=interpretation, outcome="no_action", message=message, suggestions=suggestions
    )


def _understanding(
    calls: list[ToolCall],
    confidence: float,
    grammar: bool,
    message: str,
    suggestions: tuple[str, ...],
    changes: bool,
) -> Understanding:
    interpretation = Interpretation(
        intent=Intent.ACTION if changes else Intent.QUERY,
        category=calls[0].tool.split(".", 1)[0],
        confidence=round(confidence, 3),
        entities={"understood": [messages.describe_call(c) for c in calls]},
        source="grammar" if grammar else "lexicon",
    )
    return Understanding(
        interpretation=interpretation, calls=tuple(calls), message=message, suggestions=suggestions
    )
