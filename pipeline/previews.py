"""Previews for the approval prompt: a change tool's own check, run before anyone approves.

    previews(plan, principal, executor) -> (Preview per target of each change step whose tool
                                           declares `preview=True`)

A tool that can say exactly what it would change (write_file: the unified diff against the
current file) declares `preview=True`; its read-only check then runs for the requester, under
the same policy as a check step (path rules, address rules), bounded in time and targets, and
the prompt shows the result beside the impact. A preview that fails says so; it never blocks
the prompt (the approver may still press Check first, or decide without it).
"""

from __future__ import annotations

import asyncio

from pipeline.contracts import Plan, PlanStep, Preview, Principal, Risk, TargetStatus
from pipeline.errors import NotPermitted, OpsError
from pipeline.registry import ToolContext, ToolSpec
from pipeline.stages.execute import Executor, call_tool

MAX_TARGETS = 5  # targets previewed per step; the rest are named as not previewed
MAX_TEXT = 1500  # characters of one preview's text (a prompt has little room)
TIMEOUT_S = 15.0


async def previews(plan: Plan, principal: Principal, executor: Executor) -> tuple[Preview, ...]:
    """What each previewing change step would do, per target (at most MAX_TARGETS a step)."""
    found: list[Preview] = []
    for step in plan.steps:
        spec = executor.registry.get(step.tool) if step.tool in executor.registry else None
        if spec is None or not spec.preview or step.risk is Risk.READ or step.check:
            continue
        found += await _step(step, spec, principal, executor)
    return tuple(found)


async def _step(step: PlanStep, spec: ToolSpec, principal: Principal, executor: Executor) -> list[Preview]:
    check = step.model_copy(update={"check": True, "risk": Risk.READ})
    try:
        executor.policy.check_step(check, principal)
        args = spec.parse_args(step.args)
    except (NotPermitted, OpsError) as err:
        return [Preview(step=step.id, tool=step.tool, target="", summary=f"no preview: {err}")]
    guard = executor.policy.guard(check, principal)
    ctx = ToolContext(f"preview-{step.id}", step.id, dict(executor.services), guard=guard, check=True)
    targets = step.targets[:MAX_TARGETS]
    results = await asyncio.gather(*(call_tool(spec, ctx, t, args, TIMEOUT_S) for t in targets))
    out = [
        Preview(
            step=step.id,
            tool=step.tool,
            target=r.target,
            summary=r.output.summary if r.status is TargetStatus.OK else f"no preview: {r.error or r.status}",
            text=_cut(r.output.stdout) if r.status is TargetStatus.OK else "",
        )
        for r in results
    ]
    if len(step.targets) > MAX_TARGETS:
        rest = len(step.targets) - MAX_TARGETS
        out.append(
            Preview(step=step.id, tool=step.tool, target="", summary=f"{rest} more target(s) not previewed")
        )
    return out


def _cut(text: str) -> str:
    if len(text) <= MAX_TEXT:
        return text
    kept = text[:MAX_TEXT].rsplit("\n", 1)[0]
    more = text.count("\n") - kept.count("\n")
    return f"{kept}\n[preview cut: {more} more lines; Check first shows all]\n"
