"""Whether this bot can carry out a plan with its setup, asked when the plan is made.

A plan someone must approve should not wait for an approver and then fail on something the
bot knew all along (a notification channel nobody configured). Tools declare what they need
(`ready=` on the declaration, `pipeline.registry`); this module asks each step's tool.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipeline.contracts import Plan
from pipeline.errors import InvalidRequest
from pipeline.registry import ToolRegistry


def unready(plan: Plan, registry: ToolRegistry, services: Mapping[type[Any], Any]) -> list[str]:
    """Why steps of `plan` cannot run here ("communication.notify: no email channel is ..."), in
    step order; empty when every step's tool is ready (or declares nothing to check)."""
    problems: list[str] = []
    for step in plan.steps:
        spec = registry.get(step.tool) if step.tool in registry else None
        if spec is None or spec.ready is None or step.check:
            continue
        try:
            problem = spec.ready(services, spec.parse_args(step.args))
        except InvalidRequest:
            continue  # arguments the executor refuses with its own message
        if problem:
            problems.append(f"{step.tool}: {problem}")
    return problems
