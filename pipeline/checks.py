"""Check mode: a plan's change steps as their tools' read-only checks.

    as_check(plan, registry) -> the same steps, each change as a check step (risk read, no
                                approval): the tool's declared `check` probes say per target what
                                the change would do, and change nothing

Used for `ask --check`, the prompt's "Check first" button and (through the understanding layer)
hypotheticals such as "what would happen if I restart nginx on web-01?".
"""

from __future__ import annotations

from pipeline import messages
from pipeline.contracts import Plan, PlanStep, Risk
from pipeline.registry import ToolRegistry


def as_check(plan: Plan, registry: ToolRegistry) -> Plan:
    """`plan` with every change step turned into its check; no_action naming the tools that
    declare no check (then nothing runs: a partial check would read as a clean one)."""
    if plan.outcome != "plan":
        return plan
    steps: list[PlanStep] = []
    missing: list[str] = []
    for step in plan.steps:
        if step.risk is Risk.READ or step.check:  # reads (and checks) run whatever failed before
            steps.append(step.model_copy(update={"depends_on": ()}))
        elif step.tool in registry and registry.get(step.tool).checks:
            steps.append(step.model_copy(update={"check": True, "risk": Risk.READ, "depends_on": ()}))
        else:
            missing.append(step.tool)
    if missing:
        names = ", ".join(sorted(set(missing)))
        return plan.model_copy(
            update={"outcome": "no_action", "message": messages.NO_CHECK.format(tools=names), "steps": ()}
        )
    return plan.model_copy(update={"steps": tuple(steps), "requires_approval": False, "four_eyes": False})


def is_check(plan: Plan) -> bool:
    return any(step.check for step in plan.steps)
