"""Undo: the inverse of a finished change, planned from what it ran and what each target answered.

    undo_steps(plan, result, registry) -> (inverse steps, last change first; changes without one)
    offer(plan, result, registry, until) -> UndoOffer for the result message (its Undo button)

Each change tool declares its inverse (`ToolSpec.undo`): stop <-> start, assets.update restores
the previous fields, assets.delete restores the asset, write_file and copy_file copy their backup
back (on the host that was written, `Call.target`); a restart or a reboot has none and says so.
Only targets where the change succeeded are undone. The inverse is an ordinary plan: the
kernel applies policy, freezes and impact to it, asks for approval and audits it, and it names
the execution it undoes (`Plan.undo_of`).

    changed_since(steps, principal, executor) -> why the inverse would overwrite a later change

An inverse may carry what it expects to find (copy_file's `if_sha256`: the bytes the change
wrote); its read-only check raises `TargetChanged` when the target holds something else, and the
kernel refuses the undo as a conflict before anyone is asked to approve it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from datetime import datetime

from pipeline import messages
from pipeline.contracts import (
    AssetRef,
    ExecutionResult,
    Plan,
    PlanStep,
    Principal,
    Risk,
    StepResult,
    TargetStatus,
    UndoOffer,
)
from pipeline.errors import OpsError, TargetChanged
from pipeline.registry import Call, ToolContext, ToolRegistry
from pipeline.stages.execute import Executor

log = logging.getLogger(__name__)
CHECK_TIMEOUT_S = 15.0


def undo_steps(
    plan: Plan, result: ExecutionResult, registry: ToolRegistry
) -> tuple[list[PlanStep], list[str]]:
    """The inverse steps (the last change undone first) and, in words, the changes that have none."""
    done = {s.step_id: s for s in result.steps}
    steps: list[PlanStep] = []
    none: list[str] = []
    for step in reversed(plan.steps):
        if step.risk is Risk.READ or step.check or step.id not in done:
            continue
        if step.tool not in registry or registry.get(step.tool).undo is None:
            none.append(messages.UNDO_UNDECLARED.format(tool=step.tool))
            continue
        for call, targets in _inverses(step, done[step.id], registry, none):
            steps.append(_step(len(steps) + 1, call, targets, registry, step.affected))
    return steps, none


def _inverses(
    step: PlanStep, result: StepResult, registry: ToolRegistry, none: list[str]
) -> list[tuple[Call, list[AssetRef]]]:
    rule = registry.get(step.tool).undo
    assert rule is not None
    by_name = {t.name: t for t in step.targets}
    grouped: dict[str, tuple[Call, list[AssetRef]]] = {}
    if not any(answer.status is TargetStatus.OK for answer in result.results):
        none.append(messages.UNDO_NO_CHANGE.format(tool=step.tool))
    for answer in result.results:
        if answer.status is not TargetStatus.OK:
            continue
        inverse = rule(step.args, answer.output)
        if isinstance(inverse, str):
            none.append(f"{step.tool} on {answer.target or '-'}: {inverse}")
            continue
        key = json.dumps([inverse.tool, dict(inverse.args)], sort_keys=True, default=str)
        _call, targets = grouped.setdefault(key, (inverse, []))
        where = (
            AssetRef.model_validate(dict(inverse.target)) if inverse.target else by_name.get(answer.target)
        )
        if where is not None and where not in targets:
            targets.append(where)
    return list(grouped.values())


def _step(
    number: int, call: Call, targets: list[AssetRef], registry: ToolRegistry, known: Sequence[AssetRef]
) -> PlanStep:
    """The inverse `call` as a plan step; its destinations are assets the change touched (`known`)."""
    spec = registry.get(call.tool)
    try:
        args = spec.parse_args(dict(call.args)).model_dump(mode="json", exclude_none=True)
    except OpsError as err:  # a declaration bug: say so rather than run something else
        raise ValueError(f"undo of {call.tool}: {err}") from err
    by_name = {a.name: a for a in [*known, *targets]}
    written = {str(args.get(name)) for name in spec.destinations}
    destinations = [asset for name, asset in by_name.items() if name in written]
    return PlanStep(
        id=f"u{number}",
        tool=spec.name,
        args=args,
        targets=tuple(targets) if spec.takes_targets else (),
        depends_on=(f"u{number - 1}",) if number > 1 else (),
        timeout_s=spec.timeout_s,
        risk=spec.risk,
        definition=spec.digest,  # a catalog tool runs only as the definition planned
        outline=spec.outline(args, tuple(targets)) if spec.outline is not None else (),
        destinations=tuple(destinations),
    )


def offer(plan: Plan, result: ExecutionResult, registry: ToolRegistry, until: datetime) -> UndoOffer | None:
    """What the result message offers to undo; None for a plan that changed nothing."""
    if not any(s.risk is not Risk.READ and not s.check for s in plan.steps) or plan.undo_of:
        return None
    steps, none = undo_steps(plan, result, registry)
    return UndoOffer(until=until if steps else None, steps=tuple(map(describe, steps)), none=tuple(none))


def describe(step: PlanStep) -> str:
    args = " ".join(f"{k}={json.dumps(v) if not isinstance(v, str) else v}" for k, v in step.args.items())
    where = f" on {', '.join(step.target_names)}" if step.targets else ""
    return f"{step.tool} {args}{where}".strip()


async def changed_since(steps: Sequence[PlanStep], principal: Principal, executor: Executor) -> list[str]:
    """Why running `steps` (an undo) would overwrite a later change: '<target>: <why>' for each
    target whose tool's check raises TargetChanged; [] when no check says so. Other failures of a
    check are not conflicts (the preview and the run report them)."""
    found: list[str] = []
    for step in steps:
        spec = executor.registry.get(step.tool) if step.tool in executor.registry else None
        if spec is None or spec.check is None:
            continue
        check = step.model_copy(update={"check": True, "risk": Risk.READ})
        guard = executor.policy.guard(check, principal)
        ctx = ToolContext(f"undo-check-{step.id}", step.id, dict(executor.services), guard=guard, check=True)
        args = spec.parse_args(step.args)
        for target in step.targets:
            try:
                async with asyncio.timeout(CHECK_TIMEOUT_S):
                    await spec.check(ctx, target, args)
            except TargetChanged as err:
                found.append(f"{target.name}: {err}")
            except Exception as err:  # not a conflict; what else is wrong shows later
                log.info("undo check of %s on %s: %s", step.tool, target.name, err)
    return found
