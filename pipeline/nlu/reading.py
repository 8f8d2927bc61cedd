"""A reading of a clause: one tool, what of the clause it explains and what it lacks."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.nlu.parse import Value
from pipeline.nlu.toolwords import Phrase, Role, ToolView


@dataclass(frozen=True)
class Match:
    """A declared phrase found in the clause."""

    words: Phrase
    role: Role
    tokens: tuple[int, ...]
    slot: str = ""  # value matches: the argument
    value: str = ""  # value matches: the value the words stand for


@dataclass(frozen=True)
class Reading:
    """One tool as a reading of a clause, with what it explains and what it lacks."""

    tool: ToolView
    score: float
    matches: tuple[Match, ...]
    uses: tuple[Value, ...]  # typed values its slots take
    missing: tuple[str, ...]  # required arguments nothing was written for
    covers: frozenset[int] = frozenset()  # words its free-text arguments take (a command, a match)

    def explained(self) -> frozenset[int]:
        return (
            frozenset(i for m in self.matches for i in m.tokens)
            | frozenset(i for v in self.uses for i in v.tokens)
            | self.covers
        )

    def change_token(self) -> int | None:
        """The token of the word that asks for the change (its verb or its value word), if any."""
        if not self.tool.changes:
            return None
        for match in self.matches:
            if match.role in {"verb", "value", "name"}:
                return match.tokens[0]
        return None
