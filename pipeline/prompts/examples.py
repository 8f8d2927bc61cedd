"""Few-shot examples for the understanding prompt, taken from the offered tools' declarations.

Each tool declares example requests (`ToolSpec.phrasing.examples`); the deterministic
understanding reads them over a stand-in inventory of the hosts they name, and its answer is
the example's answer. So the examples always use offered tools, as declared, and no module
names a tool to teach the model: a team's own tool teaches by its own examples.

Kept small (the prompt's size matters more than its examples): by tool name, the first read
and the first change whose first declared example calls the tool with arguments on named
hosts; byte-stable for a given set of offered tools.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pipeline.contracts import AssetRef, ToolCall
from pipeline.nlu import DeterministicUnderstander
from pipeline.registry import ToolSpec

_HOST = re.compile(r"\b[a-z][a-z0-9]*(?:-[a-z0-9]+)*-\d+\b")


def declared(tools: Sequence[ToolSpec]) -> list[tuple[str, dict[str, Any]]]:
    """(request, answer) pairs for the prompt: one read and one change, from `tools`' declarations."""
    ordered = sorted(tools, key=lambda t: t.name)
    grammar = DeterministicUnderstander(ordered)
    found: dict[bool, tuple[str, dict[str, Any]]] = {}
    for tool in ordered:
        if tool.changes in found or not tool.takes_targets or not tool.phrasing.examples:
            continue
        answer = _answer(grammar, tool, tool.phrasing.examples[0])
        if answer is not None:
            found[tool.changes] = (tool.phrasing.examples[0], answer)
    return [found[k] for k in (False, True) if k in found]


def _answer(grammar: DeterministicUnderstander, tool: ToolSpec, request: str) -> dict[str, Any] | None:
    """The grammar's answer to a declared example over stand-ins for the hosts it names, when it
    calls `tool` with arguments on named hosts (the shape worth showing)."""
    named = sorted(set(_HOST.findall(request)))
    hosts = tuple(AssetRef(name=h, address=f"192.0.2.{n}", type="server") for n, h in enumerate(named, 1))
    understood = grammar.understand(request, hosts)
    calls = understood.calls
    if understood.outcome != "plan" or len(calls) != 1 or calls[0].tool != tool.name:
        return None
    if not calls[0].args or not calls[0].targets:
        return None
    return {
        "intent": "action" if tool.changes else "query",
        "category": tool.domain,
        "confidence": 0.9,
        "outcome": "plan",
        "message": "",
        "calls": [_call(calls[0])],
    }


def _call(call: ToolCall) -> dict[str, Any]:
    shown: dict[str, Any] = {"tool": call.tool, "args": call.args, "targets": list(call.targets)}
    if call.selector is not None and not call.selector.is_empty():
        shown["selector"] = call.selector.model_dump(exclude_defaults=True)
    return shown
