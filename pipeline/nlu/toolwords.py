"""The catalog as the understanding layer reads it: each tool's words and typed slots.

Built from the declarations (`ToolSpec.phrasing`, the args model), never from names of our own:
a tool declared in Python or in a catalog file is understood the same way. Words are kept as
stemmed phrases, so 'restart' also matches 'restarting' and 'restarted'.
"""

from __future__ import annotations

import re
import typing
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import annotated_types
from pydantic.fields import FieldInfo

from pipeline.nlu.english import AUXILIARIES, MODALS, QUESTION_WORDS, stem
from pipeline.nlu.lexicon import (
    ABBREVIATIONS,
    CATALOG_NOUNS,
    CHANGE_VERBS,
    COMMON,
    FILLER,
    GENERAL_VERBS,
    HOST_NOUNS,
    LOOK_VERBS,
    PRONOUNS,
    QUANTIFIERS,
)
from pipeline.phrasing import Call, Phrasing, Slot
from pipeline.registry import ToolSpec

Phrase = tuple[str, ...]
Role = Literal["verb", "object", "state", "question", "value", "cue", "topic", "name"]
GLUE = frozenset({"the", "a", "an", "of", "on", "in", "at", "for", "to", "from", "with", "and", "or", "my"})
_ENGLISH = COMMON | FILLER | GLUE
# words too general to say which tool a request is about, whatever a description says
_GENERAL = (
    _ENGLISH | GENERAL_VERBS | LOOK_VERBS | CHANGE_VERBS | HOST_NOUNS | QUANTIFIERS | PRONOUNS
    | QUESTION_WORDS | MODALS | AUXILIARIES
)  # fmt: skip
_HOLE = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


def phrase(text: str) -> Phrase:
    """'Shut down' -> ('shut', 'down'): the stems of a declared word or phrase."""
    return tuple(stem(w) for w in re.findall(r"[\w'+-]+", text.lower()))


@dataclass(frozen=True)
class SlotView:
    """One argument as it is written: kind, whether required, the words for its values."""

    name: str
    kind: str  # see pipeline.phrasing.SlotKind; from the type: choice, choices, number, text, flag, map
    required: bool
    values: Mapping[Phrase, str] = field(default_factory=dict)
    exact: frozenset[str] = frozenset()  # choices that count only as written ('A', not 'a')
    leads: tuple[Phrase, ...] = ()
    follows: tuple[Phrase, ...] = ()
    by_os: Mapping[str, str] = field(default_factory=dict)
    many: bool = False  # a list: several values make one argument
    narrows: bool = False  # something the hosts run: a selection narrows to where it runs
    at_most: float | None = None  # the declared bounds of a number (its args model's le / ge)
    at_least: float | None = None


@dataclass(frozen=True)
class ToolView:
    """A catalog tool as the understanding layer sees it."""

    spec: ToolSpec
    phrases: Mapping[Phrase, Role]
    slots: tuple[SlotView, ...]

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def changes(self) -> bool:
        return self.spec.changes

    @property
    def takes_targets(self) -> bool:
        return self.spec.takes_targets

    @property
    def read(self) -> Call | None:
        return self.spec.counterparts.read

    @property
    def untargeted(self) -> str:
        return self.spec.phrasing.untargeted

    def slot(self, name: str) -> SlotView | None:
        return next((s for s in self.slots if s.name == name), None)

    def kinds(self) -> set[str]:
        return {s.kind for s in self.slots}


class ToolWords:
    """Every tool's words; which tools declare a phrase; the words the catalog knows."""

    def __init__(self, specs: Iterable[ToolSpec]) -> None:
        self.tools = tuple(_view(spec) for spec in specs)
        self._by_name = {t.name: t for t in self.tools}
        self.spread: Counter[Phrase] = Counter()  # phrase -> number of tools using it
        self.topic_spread: Counter[Phrase] = Counter()  # the same for names' and descriptions' words
        self.starts: dict[str, list[tuple[Phrase, ToolView, Role, SlotView | None, str]]] = {}
        for tool in self.tools:
            for words in {*tool.phrases, *(p for s in tool.slots for p in s.values)}:
                self.spread[words] += 1
            for words, role in tool.phrases.items():
                self.starts.setdefault(words[0], []).append((words, tool, role, None, ""))
                compound = _compound(words)
                if compound is not None and compound not in tool.phrases:  # 'clean up' -> 'cleanup'
                    self.spread[compound] += 1
                    self.starts.setdefault(compound[0], []).append((compound, tool, role, None, ""))
            for slot in tool.slots:
                for words, value in slot.values.items():
                    self.starts.setdefault(words[0], []).append((words, tool, "value", slot, value))
                for words in {*slot.leads, *slot.follows}:
                    if words and not set(words) <= GLUE:  # 'at a time', never 'to' alone
                        self.starts.setdefault(words[0], []).append((words, tool, "cue", slot, ""))
        self._add_topics()
        self._add_names()
        self.vocabulary = frozenset(
            w.lower() for t in self.tools for w in _declared_words(t.spec.phrasing)
        ) | frozenset(w for t in self.tools for s in t.slots for p in s.values for w in p if w.isalpha())
        # names written as plurals ('teams', a channel): their singular ('team') is another word;
        # a plural noun ('diagnostics') still matches its singular
        named = frozenset(w for t in self.tools for s in t.slots for p in s.values for w in p if w.isalpha())
        self.plurals = frozenset(w[:-1] for w in named if w.endswith("s") and len(w) > 3)
        self.function_words = frozenset(
            w.lower() for t in self.tools for w in _declared_words(t.spec.phrasing, values=False)
        )  # verbs, objects, states, questions and cues: no value words ('postgres log')
        self.verbs = frozenset(
            w.lower()
            for t in self.tools
            for w in (*t.spec.phrasing.verbs, *(_choice_words(t.spec.phrasing) if t.changes else ()))
            if " " not in w
        )
        self.change_verbs = frozenset(
            stem(w)
            for t in self.tools
            if t.changes
            for w in (*t.spec.phrasing.verbs, *_choice_words(t.spec.phrasing))
            if " " not in w
        )  # stems: 'rebooting', 'restarted' ask about a change whichever tool reads the clause
        # words after a count that make it a number argument, not hosts ('one at a time', 'two
        # hosts at once'): the multi-word follow cues of the catalog's number slots
        self.paces = frozenset(
            p for t in self.tools for s in t.slots if s.kind == "number" for p in s.follows if len(p) > 1
        )
        # ... and the multi-word lead cues ('in batches of 3'): such a number says how a request
        # runs, never what one part of it is about
        self.pace_leads = frozenset(
            p for t in self.tools for s in t.slots if s.kind == "number" for p in s.leads if len(p) > 1
        )
        # objects of tools that take text to run ('script', 'command'): after one and a colon,
        # the rest of the message is that text
        self.data_words = frozenset(
            o.lower()
            for t in self.tools
            if t.kinds() & {"code", "command"}
            for o in t.spec.phrasing.objects
            if " " not in o
        ) | frozenset(  # ... or one of their value words: 'run this python on web-01: print(42)'
            w.lower()
            for t in self.with_kind("code")
            for s in t.spec.phrasing.slots.values()
            for ws in s.values.values()
            for w in ws
            if " " not in w
        )

    def _add_topics(self) -> None:
        """A catalog file's tool also answers to its own name and description ('disk_cleanup' ->
        'disk cleanup', 'diagnostics', 'report'), weighted like a cue (and shared only among
        topics): words no tool declares (those point where they are declared) and not too common
        to point anywhere."""
        phrases = {p for t in self.tools for p in t.phrases}
        phrases |= {p for t in self.tools for s in t.slots for p in (*s.values, *s.leads, *s.follows)}
        declared = {p[0] for p in phrases if len(p) == 1}  # a word declared on its own
        for tool in self.tools:
            if not tool.spec.source:
                continue  # a tool written in Python declares its words in full
            for words in _topics(tool.spec):
                if any(w in declared for w in words):
                    continue
                self.topic_spread[words] += 1
                self.starts.setdefault(words[0], []).append((words, tool, "topic", None, ""))

    def _add_names(self) -> None:
        """A tool is also asked for by its name in words: the whole dotted name ('windows service
        restart', 'linux disk cleanup'), or the name without its namespace before a catalog noun
        ('the disk cleanup pack', 'the rolling restart runbook')."""
        nouns = {stem(n) for n in CATALOG_NOUNS}
        for tool in self.tools:
            space, _, own = tool.name.partition(".")
            named = [phrase(f"{space} {own}".replace("_", " ")), phrase(own.replace("_", " "))]
            found = {named[0]} if len(named[0]) > 1 else set()
            found |= {(*n, noun) for n in named if n for noun in nouns}
            for words in found:
                self.starts.setdefault(words[0], []).append((words, tool, "name", None, ""))

    def get(self, name: str) -> ToolView | None:
        return self._by_name.get(name)

    def __iter__(self) -> typing.Iterator[ToolView]:
        return iter(self.tools)

    def with_kind(self, kind: str) -> list[ToolView]:
        return [t for t in self.tools if kind in t.kinds()]


def _compound(words: Phrase) -> Phrase | None:
    """A phrasal verb's one-word noun: 'clean up' -> 'cleanup', 'roll out' -> 'rollout'."""
    if len(words) == 2 and words[1] in _PARTICLES and words[0].isalpha():
        return (stem(words[0] + words[1]),)
    return None


_PARTICLES = frozenset({"up", "down", "out", "off", "over", "back", "in"})


def _topics(spec: ToolSpec) -> set[Phrase]:
    """The name's words as one phrase ('linux.disk_cleanup' -> 'disk cleanup') and, for a read,
    the description's content words, stemmed (a change is asked for by its own words: a
    description's 'free disk space' says what it does, not that someone wants it done)."""
    named = phrase(spec.name.split(".", 1)[-1].replace("_", " "))
    written = re.findall(r"[a-z][a-z-]{3,}", spec.description.lower()) if not spec.changes else []
    found = {(stem(w),) for w in written if w not in _GENERAL and stem(w) not in _GENERAL}
    parts = {(w,) for w in named if w not in _GENERAL}
    return found | parts | ({named} if len(named) > 1 else set())


def _declared_words(phrasing: Phrasing, *, values: bool = True) -> Iterable[str]:
    for text in (*phrasing.verbs, *phrasing.objects, *phrasing.states, *phrasing.questions):
        yield from text.split()
    for pattern in phrasing.patterns:
        yield from (w for w in pattern.split() if not w.startswith("{"))
    for slot in phrasing.slots.values():
        written = (w for ws in slot.values.values() for w in ws) if values else ()
        for text in (*slot.leads, *slot.follows, *written):
            yield from text.split()


def _choice_words(phrasing: Phrasing) -> Iterable[str]:
    for slot in phrasing.slots.values():
        if slot.values and not slot.kind:
            for words in slot.values.values():
                yield from words


def _view(spec: ToolSpec) -> ToolView:
    phrasing = _with_patterns(spec.phrasing)
    phrases: dict[Phrase, Role] = {}
    for role, texts in (
        ("question", phrasing.questions),
        ("state", phrasing.states),
        ("object", phrasing.objects),
        ("verb", phrasing.verbs),
    ):
        for text in _expanded(texts, phrasing.synonyms):
            if phrase(text):
                phrases[phrase(text)] = role  # type: ignore[assignment]
    fields = spec.args_model.model_fields
    slots = tuple(_slot(name, info, phrasing.slots.get(name, Slot())) for name, info in fields.items())
    return ToolView(spec, phrases, slots)


def _expanded(texts: Sequence[str], synonyms: Mapping[str, tuple[str, ...]]) -> list[str]:
    found = list(texts)
    for text in texts:
        for word, others in synonyms.items():
            if word in text.split():
                found += [text.replace(word, other) for other in others]
    return found


def _with_patterns(phrasing: Phrasing) -> Phrasing:
    """Patterns add their words (the first as a verb, the rest as objects) and each hole's cues."""
    if not phrasing.patterns:
        return phrasing
    verbs, objects = list(phrasing.verbs), list(phrasing.objects)
    slots = dict(phrasing.slots)
    for pattern in phrasing.patterns:
        parts = [p for p in re.split(r"\s+", pattern.strip()) if p]
        literal = [p for p in parts if not _HOLE.fullmatch(p) and p.lower() not in GLUE]
        if literal:
            verbs.append(literal[0])
            objects.extend(literal[1:])
        for i, part in enumerate(parts):
            hole = _HOLE.fullmatch(part)
            if hole is None or hole.group(1) == "targets":
                continue
            slots[hole.group(1)] = _cued(slots.get(hole.group(1), Slot()), parts, i)
    return Phrasing(
        verbs=tuple(dict.fromkeys(verbs)),
        objects=tuple(dict.fromkeys(objects)),
        states=phrasing.states,
        questions=phrasing.questions,
        slots=slots,
        synonyms=phrasing.synonyms,
        examples=phrasing.examples,
        untargeted=phrasing.untargeted,
        targets_after=phrasing.targets_after,
        words_required=phrasing.words_required,
    )


def _cued(slot: Slot, parts: list[str], i: int) -> Slot:
    before = next((p for p in reversed(parts[:i]) if p.lower() not in GLUE and not _HOLE.fullmatch(p)), None)
    after = next((p for p in parts[i + 1 :] if p.lower() not in GLUE and not _HOLE.fullmatch(p)), None)
    leads = slot.leads + ((before,) if before and parts.index(before) == i - 1 else ())
    follows = slot.follows + ((after,) if after and parts.index(after) == i + 1 else ())
    return Slot(slot.kind, leads, follows, slot.values, slot.by_os, slot.narrows)


def _slot(name: str, info: FieldInfo, declared: Slot) -> SlotView:
    kind, choices, many = _kind(info.annotation)
    values: dict[Phrase, str] = {}
    exact: set[str] = set()
    for choice in choices:
        if choice.lower() in _ENGLISH or choice.lower() in ABBREVIATIONS:
            exact.add(choice)  # 'A' records, not the article; 'SRV' records, not 'server'

        else:
            values[phrase(choice)] = choice
    for value, words in declared.values.items():
        for text in words:
            values[phrase(text)] = value
    return SlotView(
        name=name,
        kind=declared.kind or kind,
        required=info.is_required(),
        values=values,
        exact=frozenset(exact),
        leads=tuple(phrase(w) for w in declared.leads),
        follows=tuple(phrase(w) for w in declared.follows),
        by_os=dict(declared.by_os),
        many=many or declared.kind == "port",
        narrows=declared.narrows,
        at_most=_bound(info, annotated_types.Le),
        at_least=_bound(info, annotated_types.Ge),
    )


def _bound(info: FieldInfo, kind: type[annotated_types.Le] | type[annotated_types.Ge]) -> float | None:
    """A number's declared bound (`Field(le=...)` / `ge=...`), or None."""
    for found in info.metadata:
        if isinstance(found, kind):
            value = found.le if isinstance(found, annotated_types.Le) else found.ge
            return float(value) if isinstance(value, int | float) else None
    return None


def _kind(annotation: Any) -> tuple[str, tuple[str, ...], bool]:
    """(kind, choices, many) from a field's type: Literal -> choice, list[Literal] -> choices ..."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Union or str(origin) == "<class 'types.UnionType'>":
        inner = [a for a in args if a is not type(None)]
        return _kind(inner[0]) if len(inner) == 1 else ("text", (), False)
    if origin is typing.Annotated:
        return _kind(args[0])
    if origin is Literal:
        return "choice", tuple(str(a) for a in args), False
    if origin in (list, tuple, set):
        kind, choices, _ = _kind(args[0]) if args else ("text", (), False)
        return ("choices" if kind == "choice" else kind), choices, True
    if origin is dict:
        return "map", (), False
    if annotation is bool:
        return "flag", (), False
    if annotation in (int, float):
        return "number", (), False
    return "text", (), False
