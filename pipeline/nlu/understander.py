"""Deterministic stages A+B: text -> Understanding, with no language model.

The grammar carries terse commands; the lexicon classifier carries common phrasings
and reports a confidence. Unknown or ambiguous targets make it ask back; it never guesses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pipeline.contracts import AssetFilter, AssetRef, Intent, Interpretation, ToolCall, Understanding
from pipeline.nlu import crossing, messages, negation
from pipeline.nlu.calls import MissingSlot, build_args, command_span
from pipeline.nlu.classifier import decide
from pipeline.nlu.cues import SERVICE_VERBS, VOCABULARY
from pipeline.nlu.decision import Decision
from pipeline.nlu.entities import Clause, Targets, extract
from pipeline.nlu.grammar import explicit_tool, is_grammar, split_kv
from pipeline.nlu.guards import ACTION_TOOLS, Clarify, diagnose_why, no_smuggled_commands
from pipeline.nlu.inventory import InventoryIndex
from pipeline.nlu.lexicon import FACT_WORDS, FILLER, GREETINGS, HELP_WORDS
from pipeline.nlu.qualifiers import is_statement, unknown_qualifiers
from pipeline.nlu.selection import exactly, one_asset, running
from pipeline.nlu.text import Token, scan

TARGETLESS = frozenset(
    {"network.dns_lookup", "communication.notify", "communication.list_templates", "assets.create"}
)
RAW_OK = frozenset({"network.ping", "network.traceroute", "network.port_scan"})


@dataclass
class Context:
    """What earlier clauses of the same message resolved to (for 'it', 'them', 'then ...')."""

    targets: tuple[str, ...] = ()
    selector: AssetFilter | None = None
    service: str = ""
    summaries: list[str] = field(default_factory=list)


class DeterministicUnderstander:
    """Grammar + lexicon understanding over an inventory snapshot.

    `tools` maps each catalog tool name to its args field names (for `key=value` args).
    """

    def __init__(self, tools: Mapping[str, frozenset[str]]) -> None:
        self._tools = dict(tools)
        self._index_key: tuple[int, int] | None = None
        self._index: InventoryIndex | None = None

    def index(self, assets: Sequence[AssetRef]) -> InventoryIndex:
        key = (id(assets), len(assets))
        if self._index is None or key != self._index_key or self._index.assets is not assets:
            self._index, self._index_key = InventoryIndex.build(assets), key
        return self._index

    def understand(self, text: str, assets: Sequence[AssetRef]) -> Understanding:
        index = self.index(assets)
        scanned = scan(text)
        words = [t.low for t in scanned.tokens if t.kind == "word"]
        entities = any(t.kind not in {"word", "punct"} for t in scanned.tokens)  # '#ops', a quoted message
        if not scanned.clauses or (_small_talk(words) and not entities):
            return _no_action(messages.injection() if scanned.injection else messages.help_text(), 1.0)
        try:
            return self._clauses(scanned.clauses, scanned.text, index, scanned.injection)
        except Clarify as problem:
            interpretation = Interpretation(intent=Intent.CHAT, category="clarify", source="lexicon")
            return Understanding(interpretation=interpretation, outcome="clarify", message=str(problem))

    def _clauses(
        self, clauses: list[list[Any]], text: str, index: InventoryIndex, injection: bool
    ) -> Understanding:
        context = Context()
        calls: list[ToolCall] = []
        confidence, grammar = 1.0, True
        leftovers: list[Clause] = []
        clauses, cancelled = negation.cancel(clauses)
        refused: list[str] = ["do that"] if cancelled else []  # what the user said not to do
        _remember(extract(cancelled, index), context)
        parts = self._parts(clauses, index, context, refused)
        for position, tokens in enumerate(parts):
            clause, tool, decision = self._classify(tokens, index, context)
            if tool is not None and position + 1 < len(parts) and is_statement(clause):
                _remember(clause, context)  # "nginx on web-02 is dead, restart it"
                continue
            if tool is None and calls and _only_targets(clause):
                calls.append(self._repeat(calls[-1], clause, context, index))  # "..., then on web-02"
                continue
            if tool is None:
                leftovers.append(clause)
                if clause.targets.names and not clause.targets.unknown:
                    context.targets = tuple(clause.targets.names)  # "db-01 is slow, check cpu"
                continue
            confidence = min(confidence, 1.0 if decision is None else decision.confidence)
            grammar = grammar and (decision is None or decision.explicit or is_grammar(tokens, VOCABULARY))
            calls.extend(self._calls(tool, clause, decision, text, index, context))
        if not calls and refused:
            return _no_action(messages.not_doing(refused), 0.9)
        if not calls:
            return self._nothing(leftovers, injection)
        calls = _merge_repeats(calls)
        _check_leftovers(leftovers)
        no_smuggled_commands(calls, text)
        if grammar:
            confidence = 1.0
        return _understanding(calls, confidence, "grammar" if grammar else "lexicon", context)

    def _parts(
        self, clauses: list[list[Any]], index: InventoryIndex, context: Context, refused: list[str]
    ) -> list[list[Any]]:
        """The clauses to classify, in order: negations dropped, crossed clauses cut apart."""
        parts: list[list[Any]] = []
        for written in clauses:
            tokens = self._wanted(written, index, context, refused)
            if tokens is not None:
                parts.extend(crossing.uncross(tokens, index))
        return parts

    def _wanted(
        self, tokens: list[Any], index: InventoryIndex, context: Context, refused: list[str]
    ) -> list[Any] | None:
        """The clause without what it negates ('don't reboot web-02, just ping it' -> 'just ping it').

        The negated part is never planned, but its hosts and service stay in context for 'it'.
        Returns None when nothing wanted is left.
        """
        split = negation.split(tokens)
        if not split.found:
            return tokens
        refused.extend(split.verbs)
        about = extract([Token(t.text, t.kind, start=t.start, end=t.end) for t in split.negated], index)
        _remember(about, context)
        if negation.only_glue(split.positive):
            return None
        own = extract([Token(t.text, t.kind, start=t.start, end=t.end) for t in split.positive], index)
        if (
            own.targets.empty()
            and not own.targets.pronoun
            and not context.targets
            and negation.has_task(own.tokens)
        ):
            return split.positive + negation.objects(split.negated)  # 'check it instead of restarting x'
        return split.positive

    def _classify(
        self, tokens: list[Any], index: InventoryIndex, context: Context
    ) -> tuple[Clause, str | None, Decision | None]:
        tool = explicit_tool(tokens, self._tools)
        if tool is not None:
            tokens[0].used = True
            explicit = split_kv(tokens, self._tools[tool])
            clause = extract(tokens, index)
            clause.slots.explicit = explicit
            action = str(clause.slots.kv.get("action", ""))
            return clause, tool, Decision(tool, 1.0, action=action, explicit=True)
        clause = extract(tokens, index)
        slots = clause.slots
        asks = {t.low for t in clause.tokens} & SERVICE_VERBS
        if (
            context.service
            and clause.targets.pronoun
            and asks
            and not (slots.services or slots.weak_services)
        ):
            slots.services.append(context.service)  # "check nginx ... then restart it"
        decision = diagnose_why(clause, decide(clause))
        if decision.tool == "automation.run_command" and not slots.quotes:
            _targets_after_command(clause, index)
        unknown = unknown_qualifiers(clause.tokens, index) if decision.tool != "assets.create" else []
        if unknown:
            raise Clarify(messages.unknown_targets(unknown))
        if decision.problem and decision.tool is None:
            raise Clarify(decision.problem)
        if decision.tool is not None and decision.tool not in self._tools:
            raise Clarify(messages.unsupported(decision.tool))
        return clause, decision.tool, decision

    def _calls(
        self,
        tool: str,
        clause: Clause,
        decision: Decision | None,
        text: str,
        index: InventoryIndex,
        context: Context,
    ) -> list[ToolCall]:
        if decision is not None and decision.problem:
            raise Clarify(decision.problem)
        explicit = dict(clause.slots.explicit)
        try:
            args = {**build_args(tool, clause, text, decision.action if decision else ""), **explicit}
        except MissingSlot as missing:
            if not explicit:
                raise Clarify(str(missing)) from None
            args = explicit
        targets, selector = self._targets(tool, clause, context, str(args.get("service", "")), index)
        calls = [ToolCall(tool=tool, args=args, targets=targets, selector=selector)]
        if tool in {"automation.service_control", "automation.service_status"}:
            calls = _per_service(calls[0], clause)
        if tool == "communication.notify" and not explicit:
            calls = _per_recipient(calls[0], clause)
        context.summaries.extend(messages.describe_call(c) for c in calls)
        context.service = str(args.get("service", context.service))
        return calls

    def _targets(
        self, tool: str, clause: Clause, context: Context, service: str, index: InventoryIndex
    ) -> tuple[tuple[str, ...], AssetFilter | None]:
        found = clause.targets
        if tool in TARGETLESS:
            return (), None
        if tool == "assets.update" and found.names:
            return tuple(found.names), None  # the selector words are the new values
        _problems(found, tool)
        names = [n for n in found.names if n not in found.exclude] + found.raw
        selector = _selector(found, service)
        if names and found.selector.single and _asks_about(clause):
            selector = None  # "is db-02 a production server?": a question about db-02 only
        if selector is not None and found.selector.single:
            one_asset(selector, index)  # "web-01 and the london one": which one, if several
        if selector is not None and not names and "both" in {t.low for t in clause.tokens}:
            selector = exactly(2, selector, service, index)
        if selector is not None and not names and service and tool == "automation.service_control":
            names, selector = running(selector, service, index)
        if not names and selector is None:
            if context.targets or context.selector is not None:
                return context.targets, context.selector
            if tool == "assets.query":
                return (), AssetFilter()
            raise Clarify(messages.which_targets(tool, _unexplained(clause)))
        context.targets, context.selector = tuple(names), selector
        return tuple(names), selector

    def _repeat(self, last: ToolCall, clause: Clause, context: Context, index: InventoryIndex) -> ToolCall:
        targets, selector = self._targets(
            last.tool, clause, context, str(last.args.get("service", "")), index
        )
        return last.model_copy(update={"targets": targets, "selector": selector})

    def _nothing(self, leftovers: list[Clause], injection: bool) -> Understanding:
        _check_leftovers(leftovers)
        mentioned = [n for c in leftovers for n in c.targets.names]
        if mentioned:  # hosts but no recognisable task: worth asking the LLM, if there is one
            interpretation = Interpretation(
                intent=Intent.CHAT, category="unsure", confidence=0.2, source="lexicon"
            )
            message = messages.what_to_do(mentioned)
            return Understanding(interpretation=interpretation, outcome="clarify", message=message)
        message = messages.injection() if injection else messages.out_of_scope()
        return _no_action(message, 0.3)


def _asks_about(clause: Clause) -> bool:
    first = next((t.low for t in clause.tokens if t.kind == "word" and t.low not in FILLER), "")
    return first in {"is", "are", "was", "isn't", "aren't"}


def _only_targets(clause: Clause) -> bool:
    """'then on web-02', 'and also db-01': hosts and glue words only."""
    glue = FILLER | {"on", "at", "in", "for", "and", "also", "then", "too", "as", "well", "same", "there"}
    words = [t for t in clause.tokens if t.kind == "word"]
    has_targets = bool(clause.targets.names or clause.targets.selector.anchored)
    return has_targets and all(t.used or t.low in glue for t in words)


def _check_leftovers(leftovers: list[Clause]) -> None:
    """Clauses without a task may still name unknown hosts: those are asked back too."""
    for clause in leftovers:
        _problems(clause.targets, "")


def _targets_after_command(clause: Clause, index: InventoryIndex) -> None:
    """'run ping -c 3 8.8.8.8 on db-01': words inside the command never name targets."""
    span = command_span(clause)
    if span is None:
        return
    outside = clause.tokens[: span[0]] + clause.tokens[span[1] :]
    fresh = [Token(t.text, t.kind, start=t.start, end=t.end) for t in outside]
    clause.targets = extract(fresh, index).targets


def _merge_repeats(calls: list[ToolCall]) -> list[ToolCall]:
    """'show uptime of x and tell me which rebooted last': one step, not the same step twice."""
    merged: list[ToolCall] = []
    for call in calls:
        last = merged[-1] if merged else None
        same_place = last is not None and (last.tool, last.targets, last.selector) == (
            call.tool,
            call.targets,
            call.selector,
        )
        if last is not None and same_place and last.args == call.args:
            continue
        merged.append(call)
    return merged


def _remember(clause: Clause, context: Context) -> None:
    if clause.targets.names and not clause.targets.unknown:
        context.targets = tuple(clause.targets.names)
    services = clause.slots.services or clause.slots.weak_services
    if services:
        context.service = services[0]


def _problems(found: Targets, tool: str) -> None:
    if found.unknown:
        raise Clarify(messages.unknown_targets(found.unknown))
    if found.ambiguous:
        raise Clarify(messages.ambiguous(found.ambiguous))
    if found.raw and tool and tool not in RAW_OK:
        raise Clarify(messages.unknown_targets(found.raw))


def _selector(found: Targets, service: str) -> AssetFilter | None:
    """The clause's selector; bare adjectives next to named hosts ('web-01 in production') only qualify."""
    sel = found.selector
    if not sel.is_set() or (found.names and not sel.anchored):
        return None
    attributes = sel.types or sel.os or sel.environments or sel.locations or sel.tags or sel.services
    if service and sel.everything and (not attributes or sel.where_running):
        sel.services = [service]  # "restart nginx everywhere", "on every server that runs it"
    return AssetFilter(
        types=tuple(sel.types),
        os=tuple(sel.os),
        environments=tuple(sel.environments),
        locations=tuple(sel.locations),
        tags=dict(sel.tags),
        services=tuple(sel.services),
        exclude=tuple(found.exclude),
    )


def _per_recipient(call: ToolCall, clause: Clause) -> list[ToolCall]:
    """'tell #ops-alerts and oncall@example.com ...': one notification per recipient, in order."""
    chat = str(call.args.get("channel")) if call.args.get("channel") in {"slack", "teams"} else "slack"
    kinds = {"email": "email", "phone": "sms", "channel": chat}
    recipients = [(kinds[t.kind], t.text) for t in clause.tokens if t.kind in kinds]
    if len(recipients) <= 1:
        return [call]
    return [call.model_copy(update={"args": {**call.args, "channel": c, "to": r}}) for c, r in recipients]


def _per_service(call: ToolCall, clause: Clause) -> list[ToolCall]:
    services = clause.slots.services or clause.slots.weak_services
    if len(services) <= 1:
        return [call]
    return [call.model_copy(update={"args": {**call.args, "service": s}}) for s in services]


def _unexplained(clause: Clause) -> list[str]:
    explained = VOCABULARY | FILLER | frozenset(FACT_WORDS) | {"on", "in", "at", "of", "from", "with", "to"}
    services = {s.lower() for s in clause.slots.services + clause.slots.weak_services}
    return [
        t.text
        for t in clause.tokens
        if t.kind == "word" and not t.used and t.low not in explained and t.low not in services
    ]


_SOCIAL = frozenset(
    {
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
    }
)


def _small_talk(words: list[str]) -> bool:
    """Greetings, thanks and 'how are you' ('hi there' is no request about 'there')."""
    meaningful = [w for w in words if w not in FILLER and w not in GREETINGS and w not in _SOCIAL]
    return not meaningful or all(
        w in HELP_WORDS | {"what", "can", "do", "how", "work", "use"} for w in meaningful
    )


def _no_action(message: str, confidence: float) -> Understanding:
    interpretation = Interpretation(
        intent=Intent.CHAT, category="help", confidence=confidence, source="lexicon"
    )
    return Understanding(interpretation=interpretation, outcome="no_action", message=message)


def _understanding(calls: list[ToolCall], confidence: float, source: str, context: Context) -> Understanding:
    intent = Intent.ACTION if any(c.tool in ACTION_TOOLS for c in calls) else Intent.QUERY
    interpretation = Interpretation(
        intent=intent,
        category=calls[0].tool.split(".", 1)[0],
        confidence=round(confidence, 3),
        entities={"understood": context.summaries},
        source="grammar" if source == "grammar" else "lexicon",
    )
    return Understanding(interpretation=interpretation, calls=tuple(calls))
