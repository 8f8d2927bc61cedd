"""Runbooks: ordered tool steps over a rollout of the targets (all, serial, batches of N).

A runbook is one catalog tool: planned as one step (its outline, in the approval prompt, lists
every step, the strategy and the batches), approved once at the highest risk of its steps,
and run by `Rollout.run` with all its targets at once. Per batch, each step runs on the
batch's hosts that are still going (a host whose step failed leaves the batch; `on_failure:
continue` keeps it), where its `depends_on` steps succeeded and its `when` condition holds.
A failure with `on_failure: rollback` runs the rollback steps on that host. After each batch
the `check` runs on the batch's hosts. Once more than `max_fail` hosts have failed the rollout
stops: later hosts are not touched, and every host's result says whether it changed.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

from domains.packs.schema import CONDITION, HOLE, CheckDef, RunbookDefinition, RunbookStep
from pipeline.contracts import AssetRef, Progress, Risk, TargetResult, TargetStatus, ToolOutput
from pipeline.errors import InvalidRequest
from pipeline.registry import ToolContext, ToolSpec
from pipeline.stages.execute import GRACE_S, call_tool


def fill(template: Any, values: Mapping[str, Any]) -> Any:
    """`template` with `{param}` holes filled: a hole alone keeps the value's type."""
    if isinstance(template, str):
        whole = HOLE.fullmatch(template.strip())
        if whole is not None:
            return values.get(whole.group(1))
        return HOLE.sub(lambda m: _text(values.get(m.group(1))), template)
    if isinstance(template, list | tuple):
        return [fill(item, values) for item in template]
    if isinstance(template, dict):
        return {key: fill(item, values) for key, item in template.items()}
    return template


def _text(value: Any) -> str:
    return "" if value is None else value if isinstance(value, str) else json.dumps(value)


def holes(template: Any) -> set[str]:
    """Every `{param}` a template names."""
    if isinstance(template, str):
        return set(HOLE.findall(template))
    if isinstance(template, list | tuple):
        return {h for item in template for h in holes(item)}
    if isinstance(template, dict):
        return {h for item in template.values() for h in holes(item)}
    return set()


@dataclass
class Host:
    """One target's way through the rollout."""

    target: AssetRef
    batch: int = 0
    results: dict[str, TargetResult] = field(default_factory=dict)
    failed_at: str = ""
    changed: bool = False
    rolled_back: list[str] = field(default_factory=list)
    started: bool = False

    @property
    def name(self) -> str:
        return self.target.name


@dataclass(frozen=True)
class Rollout:
    """A loaded runbook bound to the tools it calls."""

    definition: RunbookDefinition
    tools: Mapping[str, ToolSpec]

    @property
    def ids(self) -> list[str]:
        return self.definition.ids()

    def calls(self) -> tuple[str, ...]:
        d = self.definition
        named = [s.tool for s in (*d.steps, *d.rollback)] + (
            [d.rollout.check.tool] if d.rollout.check else []
        )
        return tuple(dict.fromkeys(named))

    def risk(self) -> Risk:
        ranks = [self.tools[name].risk for name in self.calls()]
        if self.definition.risk is not None:
            ranks.append(self.definition.risk)
        return max(ranks, key=lambda r: r.rank)

    # ------------------------------------------------------------------ planning

    def batches(self, values: Mapping[str, Any], targets: Sequence[AssetRef]) -> list[list[AssetRef]]:
        rollout = self.definition.rollout
        size = {"all": len(targets), "serial": 1}.get(rollout.strategy) or self._number(
            rollout.batch_size, values
        )
        size = max(size, 1)
        return [list(targets[i : i + size]) for i in range(0, len(targets), size)]

    def max_fail(self, values: Mapping[str, Any]) -> int:
        return self._number(self.definition.rollout.max_fail, values)

    @staticmethod
    def _number(value: int | str, values: Mapping[str, Any]) -> int:
        filled = fill(value, values)
        return int(filled) if isinstance(filled, int | float) and not isinstance(filled, bool) else 1

    def check_args(self, values: Mapping[str, Any]) -> None:
        """Plan time: every step's filled-in arguments must be valid for its tool."""
        d = self.definition
        named = [
            *zip(self.ids, d.steps, strict=True),
            *((f"rollback{n}", s) for n, s in enumerate(d.rollback, 1)),
        ]
        checks: list[tuple[str, RunbookStep | CheckDef]] = [*named]
        if d.rollout.check is not None:
            checks.append(("check", d.rollout.check))
        for sid, step in checks:
            try:
                self.tools[step.tool].parse_args(fill(step.args, values))
            except InvalidRequest as err:
                raise ValueError(f"step {sid}: {err}") from None

    def outline(self, args: dict[str, Any], targets: tuple[AssetRef, ...]) -> tuple[str, ...]:
        """The prompt's lines: strategy and batches, every step with its arguments, check, rollback."""
        d = self.definition
        batches = self.batches(args, targets)
        strategy = {"all": "all targets at once", "serial": "one target at a time"}.get(
            d.rollout.strategy, f"batches of {len(batches[0]) if batches else 0}"
        )
        lines = [
            f"runbook {d.name}: {strategy}; the rollout stops once more than {self.max_fail(args)} "
            f"host(s) failed",
            *(f"batch {n}: {', '.join(t.name for t in batch)}" for n, batch in enumerate(batches, 1)),
        ]
        for n, (sid, step) in enumerate(zip(self.ids, d.steps, strict=True), 1):
            extra = [f"if {step.when}"] if step.when else []
            extra += [f"after {', '.join(step.depends_on)}"] if step.depends_on else []
            extra += [f"on failure: {step.on_failure}"]
            lines.append(
                f"step {n} {sid}: {self._call_text(step.tool, step.args, args)} ({'; '.join(extra)})"
            )
        if d.rollout.check is not None:
            lines.append(
                "after each batch, check: "
                + self._call_text(d.rollout.check.tool, d.rollout.check.args, args)
            )
        for n, step in enumerate(d.rollback, 1):
            lines.append(f"rollback {n}: {self._call_text(step.tool, step.args, args)}")
        return tuple(lines)

    def _call_text(self, tool: str, template: dict[str, Any], values: Mapping[str, Any]) -> str:
        filled = fill(template, values)
        shown = " ".join(f"{k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in filled.items())
        return f"{tool} {shown} [{self.tools[tool].risk.value}]".replace("  ", " ")

    # ------------------------------------------------------------------ running

    async def run(
        self, ctx: ToolContext, targets: tuple[AssetRef, ...], args: BaseModel
    ) -> list[TargetResult]:
        values = args.model_dump()
        hosts = {t.name: Host(t) for t in targets}
        batches = self.batches(values, targets)
        limit, failed, stopped = self.max_fail(values), 0, ""
        for number, batch in enumerate(batches, 1):
            going = [hosts[t.name] for t in batch]
            for host in going:
                host.batch, host.started = number, True
            label = f"batch {number}/{len(batches)}"
            for sid, step in zip(self.ids, self.definition.steps, strict=True):
                going = await self._step(ctx, label, sid, step, going, values)
                failed = sum(1 for h in hosts.values() if h.failed_at)
                if failed > limit:
                    stopped = f"{label}, step {sid}"
                    break
            if not stopped and self.definition.rollout.check is not None:
                await self._check(ctx, label, going, values)
                failed = sum(1 for h in hosts.values() if h.failed_at)
                stopped = f"{label}, check" if failed > limit else ""
            if stopped:
                break
        reason = (
            f"the rollout stopped at {stopped}: {failed} host(s) failed, more than {limit}" if stopped else ""
        )
        return [self._result(hosts[t.name], reason) for t in targets]

    async def _step(
        self,
        ctx: ToolContext,
        label: str,
        sid: str,
        step: RunbookStep,
        going: list[Host],
        values: Mapping[str, Any],
    ) -> list[Host]:
        """Run one step on the hosts still going; returns the hosts that go on."""
        spec = self.tools[step.tool]
        ready = [h for h in going if self._ready(h, step)]
        results = await self._on(ctx, f"{label} {sid}", spec, fill(step.args, values), ready)
        for host in going:
            if host not in ready:
                host.results[sid] = TargetResult(
                    target=host.name, status=TargetStatus.SKIPPED, error="condition not met"
                )
        still = []
        for host in going:
            result = results.get(host.name)
            if result is not None:
                host.results[sid] = result
                host.changed = host.changed or spec.changes
            if result is None or result.status is TargetStatus.OK or step.on_failure == "continue":
                still.append(host)
                continue
            host.failed_at = sid
            if step.on_failure == "rollback":
                await self._rollback(ctx, label, host, values)
        return still

    def _ready(self, host: Host, step: RunbookStep) -> bool:
        if any(
            host.results.get(dep) is None or host.results[dep].status is not TargetStatus.OK
            for dep in step.depends_on
        ):
            return False
        return holds(step.when, host.results) if step.when else True

    async def _rollback(self, ctx: ToolContext, label: str, host: Host, values: Mapping[str, Any]) -> None:
        for n, step in enumerate(self.definition.rollback, 1):
            spec = self.tools[step.tool]
            result = (await self._on(ctx, f"{label} rollback {n}", spec, fill(step.args, values), [host]))[
                host.name
            ]
            host.rolled_back.append(f"{step.tool} {result.status.value}")

    async def _check(
        self, ctx: ToolContext, label: str, going: list[Host], values: Mapping[str, Any]
    ) -> None:
        check = self.definition.rollout.check
        assert check is not None
        results = await self._on(
            ctx, f"{label} check", self.tools[check.tool], fill(check.args, values), going
        )
        for host in going:
            host.results["check"] = results[host.name]
            if results[host.name].status is not TargetStatus.OK:
                host.failed_at = "check"

    async def _on(
        self, ctx: ToolContext, label: str, spec: ToolSpec, raw: dict[str, Any], hosts: Sequence[Host]
    ) -> dict[str, TargetResult]:
        """One tool on some hosts at once, as the executor would call it; progress per step."""
        if not hosts:
            return {}
        args = spec.parse_args(raw)
        inner = ToolContext(ctx.execution_id, f"{ctx.step_id}.{label}", ctx.services, None, ctx.guard)
        timeout = float(getattr(args, "timeout_s", spec.timeout_s)) + GRACE_S
        results = await asyncio.gather(*(call_tool(spec, inner, h.target, args, timeout) for h in hosts))
        if ctx.progress is not None:
            ok = sum(1 for r in results if r.status is TargetStatus.OK)
            event = Progress(
                execution_id=ctx.execution_id,
                step_id=ctx.step_id,
                tool=f"{self.definition.name} {label}: {spec.name}",
                done=ok,
                total=len(results),
                last=results[-1],
            )
            await ctx.progress(event)
        return {r.target: r for r in results}

    def _result(self, host: Host, stopped: str) -> TargetResult:
        steps = {
            sid: {"status": r.status.value, "summary": r.output.summary or r.error}
            for sid, r in host.results.items()
        }
        data: dict[str, Any] = {"batch": host.batch, "changed": host.changed, "steps": steps}
        if host.rolled_back:
            data["rolled_back"] = host.rolled_back
        if not host.started:
            why = f"not touched: {stopped}" if stopped else "not touched"
            return TargetResult(
                target=host.name, status=TargetStatus.SKIPPED, error=why, output=ToolOutput(data=data)
            )
        done = ", ".join(f"{sid} {r.status.value}" for sid, r in host.results.items())
        changed = "changed" if host.changed else "unchanged"
        if host.failed_at:
            failure = host.results[host.failed_at]
            rolled = f"; rolled back: {', '.join(host.rolled_back)}" if host.rolled_back else ""
            why = failure.error or failure.output.summary
            error = f"batch {host.batch}, {host.failed_at} failed: {why}{rolled} ({changed})"
            uncertain = any(r.status is TargetStatus.UNCERTAIN for r in host.results.values())
            return TargetResult(
                target=host.name,  # a stop the host did not confirm keeps its lock (executor)
                status=TargetStatus.UNCERTAIN if uncertain else TargetStatus.FAILED,
                error=error,
                output=ToolOutput(ok=False, data=data),
            )
        summary = f"batch {host.batch}: {done} ({changed})"
        return TargetResult(
            target=host.name, status=TargetStatus.OK, output=ToolOutput(summary=summary, data=data)
        )


def holds(condition: str, results: Mapping[str, TargetResult]) -> bool:
    """`<step>.ok`, `<step>.failed`, `<step>.<fact>` or `<step>.<fact> <op> <value>` on one host."""
    match = CONDITION.match(condition)
    if match is None:
        return False
    result = results.get(match.group("step"))
    if result is None:
        return False
    fact = match.group("fact")
    if fact == "ok":
        return result.status is TargetStatus.OK
    if fact == "failed":
        return result.status not in (TargetStatus.OK, TargetStatus.SKIPPED)
    facts = {"summary": result.output.summary, "exit_code": result.output.exit_code, **result.output.data}
    value = facts.get(fact)
    op = match.group("op")
    return bool(value) if op is None else _compare(value, op, match.group("value").strip().strip("'\""))


def _compare(value: Any, op: str, wanted: str) -> bool:
    if op == "contains":
        return wanted in _text(value)
    try:
        left, right = float(value), float(wanted)
    except (TypeError, ValueError):
        left, right = _text(value).lower(), wanted.lower()  # type: ignore[assignment]
    return {
        "==": left == right,
        "!=": left != right,
        "<": left < right,
        "<=": left <= right,
        ">": left > right,
        ">=": left >= right,
    }[op]


def checked_base(rollout: Rollout) -> type[BaseModel]:
    """The runbook's args model base: its filled-in step arguments are validated at plan time."""

    class RunbookArgs(BaseModel):
        model_config = ConfigDict(extra="forbid")

        @model_validator(mode="after")
        def step_args(self) -> RunbookArgs:
            rollout.check_args(self.model_dump())
            return self

    return RunbookArgs
