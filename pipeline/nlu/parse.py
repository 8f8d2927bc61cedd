"""The parse result of one clause: its tokens, targets and typed values, as immutable spans.

Recognisers take the tokens they explain through a `Claims` object local to one recognition
pass, so tokens never carry state and a clause can be read again from scratch at any time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from pipeline.nlu.selectors import Selector
from pipeline.nlu.tokens import Token


class Claims:
    """Which tokens of one clause a recogniser has taken (by token index)."""

    def __init__(self, taken: Iterable[int] = ()) -> None:
        self._taken: set[int] = set(taken)

    def __contains__(self, token: object) -> bool:
        return isinstance(token, Token) and token.index in self._taken

    def take(self, *tokens: Token) -> None:
        self._taken.update(t.index for t in tokens)

    def indexes(self) -> frozenset[int]:
        return frozenset(self._taken)

    def copy(self) -> Claims:
        return Claims(self._taken)


@dataclass(frozen=True, eq=False)
class Value:
    """A typed value written in the clause; `kinds` lists what it could fill.

    Kinds: service, port, number, duration, size, path, dns_name, quote, email, channel, phone, url,
    named (a chat recipient written by name), kv. Which one it is decides the tool reading it.
    """

    kinds: frozenset[str]
    value: Any
    tokens: tuple[int, ...]
    text: str = ""
    key: str = ""  # kv values: the key written
    weak: bool = False  # services that are also protocols or common words ('dns', 'ssh')
    cue: str = ""  # a marker written inside the value's token ('x5': 'x')

    def has(self, kind: str) -> bool:
        return kind in self.kinds


@dataclass
class Targets:
    """Hosts a clause names or selects (built by one recognition pass, then only read)."""

    names: list[str] = field(default_factory=list)
    raw: list[str] = field(default_factory=list)  # addresses / DNS names not in the inventory
    unknown: list[str] = field(default_factory=list)
    ambiguous: dict[str, tuple[str, ...]] = field(default_factory=dict)
    selector: Selector = field(default_factory=Selector)
    exclude: list[str] = field(default_factory=list)
    pronoun: bool = False
    name_tokens: tuple[int, ...] = ()  # tokens that named hosts (never read as other words)
    # 'from web-01 to web-03' read as a range: its two ends and every host it added; a tool taking
    # another asset by 'to' (a copy, a bandwidth test) reads the ends as source and destination
    from_to: tuple[str, str, tuple[str, ...]] | None = None

    def ends_only(self) -> Targets:
        """These targets with 'from A to B' read as two hosts, not the range between them."""
        if self.from_to is None:
            return self
        first, last, added = self.from_to
        names = [n for n in self.names if n not in added or n in (first, last)]
        unknown = [n for n in self.unknown if n not in added]
        return replace(self, names=names, unknown=unknown, from_to=None)

    def empty(self) -> bool:
        return not (self.names or self.raw or self.selector.is_set())


@dataclass(frozen=True)
class Parse:
    """One clause read: tokens, targets, typed values and the tokens entities took."""

    tokens: tuple[Token, ...]
    targets: Targets
    values: tuple[Value, ...]
    claimed: frozenset[int]  # taken by targets and selectors
    phrases: frozenset[int] = frozenset()  # taken as a tool's phrase holding a host noun ('name servers')

    @property
    def words(self) -> list[Token]:
        return [t for t in self.tokens if t.kind == "word"]

    def free_words(self) -> list[Token]:
        """Word tokens no target, selector or value took."""
        taken = self.claimed | {i for v in self.values for i in v.tokens}
        return [t for t in self.tokens if t.kind == "word" and t.index not in taken]

    def of_kind(self, kind: str) -> list[Value]:
        return [v for v in self.values if v.has(kind)]

    def position(self, index: int) -> int:
        """Where token `index` sits in this clause (its position among the clause's tokens)."""
        return next((p for p, t in enumerate(self.tokens) if t.index == index), -1)


def lows(tokens: Sequence[Token]) -> list[str]:
    return [t.low for t in tokens if t.kind == "word"]
