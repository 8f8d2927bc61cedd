"""The structured form: `/opsconductor <tool> [targets] [key=value ...]`.

Tool names may be written in full (`app.cache_flush`) or short when unique (`cache_flush`,
`flush_all`). Keys that are the tool's arguments become arguments (lists split on commas);
the others (env, location, os, type, role, team...) select targets. Every suggestion the bot
makes is written in this form, so sending it back plans exactly what was suggested.
"""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.nlu.tokens import Token
from pipeline.nlu.toolwords import ToolView, ToolWords


def explicit_tool(tokens: Sequence[Token], words: ToolWords) -> ToolView | None:
    """The catalog tool named by the first token, if it names one exactly."""
    if not tokens or tokens[0].kind != "word":
        return None
    first = tokens[0].low
    named = words.get(first)
    if named is not None:
        return named
    if "_" not in first:
        return None  # plain verbs ("ping") are read with their words
    found = [t for t in words if t.name.split(".", 1)[-1] == first]
    return found[0] if len(found) == 1 else None
