"""Stage D: turn plans and results into a neutral Reply: summary first, details, recommendations.

Templated and deterministic. An LLM may add a summary and recommendations over the templated
reply (`summarised`, when configured); the reply says which one the person reads first
(`Reply.answer_by`), and the templated reply is what they get whenever the LLM cannot answer.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import Protocol

from pipeline.contracts import (
    ExecutionResult,
    Plan,
    PlanStep,
    Reply,
    ReplySection,
    StepResult,
    TargetResult,
    TargetStatus,
)
from pipeline.errors import LLMUnavailable
from pipeline.messages import counted
from pipeline.ports import LLMUsage
from pipeline.stages.details import facts_and_tables

log = logging.getLogger(__name__)


class ResultSummarizer(Protocol):
    """An LLM summary and recommendations over a templated reply (marked `answer_by="llm"`).
    Raises LLMUnavailable (and its subclasses) when it cannot answer."""

    async def summarize(self, text: str, reply: Reply) -> tuple[Reply, LLMUsage]: ...


async def summarised(reply: Reply, text: str, summarizer: ResultSummarizer, timeout_s: float) -> Reply:
    """The LLM's summary over `reply`, or `reply` itself (the templated answer) when the LLM is
    down, overruns `timeout_s`, or answers with something that does not fit."""
    try:
        async with asyncio.timeout(timeout_s):
            enriched, _ = await summarizer.summarize(text, reply)
    except (LLMUnavailable, TimeoutError) as err:
        log.info("LLM summary unavailable, the templated answer stands: %r", err)
        return reply
    return enriched


_RECOMMEND: dict[TargetStatus, str] = {
    TargetStatus.UNREACHABLE: (
        "{targets}: unreachable from the bot. Check that the host is up, and the route and "
        "firewall between the bot and it."
    ),
    TargetStatus.TIMEOUT: (
        "{targets}: no answer in time. The host may be overloaded or dropping traffic; "
        "retry, or check it from its console."
    ),
    TargetStatus.UNCERTAIN: (
        "{targets}: the command may still be running there: stopping it was not confirmed. "
        "The host stays locked against other changes until its lock expires; check it from "
        "its console before changing it again."
    ),
    TargetStatus.FAILED: "{targets}: the step failed; see the error above.",
}


FIX_NAMED = "{targets}: the error names the command that fixes it; run it, then ask again."


def _names_its_fix(error: str) -> bool:
    """An error that ends in the command fixing it (an unknown host key, a refused login)."""
    return "`opsconductor " in error


def describe_step(step: PlanStep) -> str:
    """One line of a typed plan: tool, arguments, targets, risk."""
    args = ", ".join(f"{k}={_short(v)}" for k, v in step.args.items() if v is not None)
    where = f" on {', '.join(step.target_names)}" if step.targets else ""
    return f"{step.tool}({args}){where} [{step.risk.value}]"


def describe_plan(plan: Plan) -> str:
    return "\n".join(f"{i}. {describe_step(s)}" for i, s in enumerate(plan.steps, 1))


def understood_by(plan: Plan) -> dict[str, str]:
    """For the audit: what understood the request (grammar, lexicon, llm, cache) and, for a change
    read from free text, the LLM's check of it (confirmed, disputed, unconfirmed)."""
    found = plan.interpretation
    if found is None:
        return {}
    checked = {"confirmation": found.confirmation} if found.confirmation else {}
    return {"understood_by": found.source, **checked}


def plan_reply(plan: Plan) -> Reply:
    """A reply for a plan that did not run: help, clarify or refused."""
    outcome = {"no_action": "no_action", "clarify": "clarify", "refused": "refused"}.get(
        plan.outcome, "no_action"
    )
    return Reply(
        outcome=outcome, summary=plan.message or "Nothing to run.", suggestions=plan.suggestions, plan=plan
    )


def result_reply(plan: Plan, result: ExecutionResult) -> Reply:
    """Summary line, one section per target (or per targetless step), recommendations last."""
    counts = Counter(r.status for s in result.steps for r in s.results)
    alone = len(plan.steps) == 1 and counts.total() == 1  # the summary line is that target's result
    sections = tuple(_section(step, r, alone) for step in result.steps for r in step.results)
    return Reply(
        outcome="answer",
        summary=_summary(plan, result, counts),
        sections=sections,
        recommendations=_recommendations(result) + ((plan.message,) if plan.message else ()),
        suggestions=tuple(dict.fromkeys(plan.suggestions + _remedies(result))),
        execution_id=result.execution_id,
        plan=plan,
        result=result,
        files=tuple(dict.fromkeys(f for s in result.steps for r in s.results for f in r.output.files)),
    )


def _summary(plan: Plan, result: ExecutionResult, counts: Counter[TargetStatus]) -> str:
    tools = ", ".join(dict.fromkeys(s.tool for s in plan.steps))
    total = sum(counts.values())
    parts = [f"{n} {status.value}" for status, n in sorted(counts.items(), key=lambda kv: kv[0].value)]
    if len(plan.steps) == 1 and total == 1:
        only = result.steps[0].results[0]
        detail = only.output.summary if only.status is TargetStatus.OK else only.error
        who = f"{only.target}: " if only.target else ""
        return f"{_icon(only.status)} {tools} — {who}{detail or only.status.value}"
    icon = _icon(TargetStatus.OK if counts.get(TargetStatus.OK, 0) == total else TargetStatus.FAILED)
    return f"{icon} {tools} on {counted(total, 'target')}: {', '.join(parts)}"


def _section(step: StepResult, r: TargetResult, alone: bool = False) -> ReplySection:
    """One target: its time, result (unless the summary line is it), error, the data's facts and
    tables (without what the result already says), and the raw output."""
    title = f"{r.target or step.tool}"
    facts = [("time", f"{r.duration_ms:.0f} ms")]
    if r.status is TargetStatus.OK and r.output.summary and not alone:
        facts.append(("result", r.output.summary))
    if r.error:
        facts.append(("error", r.error))
    said = r.output.summary if r.status is TargetStatus.OK else f"{r.output.summary} {r.error}"
    data_facts, tables = facts_and_tables(r.output.data, said)
    text = r.output.stdout
    if r.output.stderr:
        text = f"{text}\n[stderr]\n{r.output.stderr}" if text else f"[stderr]\n{r.output.stderr}"
    return ReplySection(
        title=title, status=r.status, facts=(*facts, *data_facts), text=text.strip(), tables=tables
    )


def _recommendations(result: ExecutionResult) -> tuple[str, ...]:
    by_status: dict[TargetStatus, list[str]] = {}
    fixable: list[str] = []
    for step in result.steps:
        for r in step.results:
            if r.status is TargetStatus.UNREACHABLE and _names_its_fix(r.error):
                fixable.append(r.target or step.tool)  # "Check that the host is up" would mislead
                continue
            by_status.setdefault(r.status, []).append(r.target or step.tool)
    recs = [FIX_NAMED.format(targets=", ".join(dict.fromkeys(fixable)))] if fixable else []
    recs += [
        template.format(targets=", ".join(dict.fromkeys(by_status[status])))
        for status, template in _RECOMMEND.items()
        if status in by_status
    ]
    recs += [hint for step in result.steps for r in step.results for hint in _hints(r)]
    return tuple(dict.fromkeys(recs))


def _hints(r: TargetResult) -> list[str]:
    """Domain hints from structured data: full disks, stopped services."""
    hints: list[str] = []
    for mount in r.output.data.get("disk", []) if isinstance(r.output.data.get("disk"), list) else []:
        use = mount.get("use_percent") if isinstance(mount, dict) else None
        if isinstance(use, int | float) and use >= 90:
            hints.append(f"{r.target}: {mount.get('mount', '?')} is {use:g}% full; free space soon.")
    service = _stopped_service(r)
    if service:
        state = r.output.data["active"]
        hints.append(f"{r.target}: {service} is {state}; `restart {service} on {r.target}` would start it.")
    return hints


def _remedies(result: ExecutionResult) -> tuple[str, ...]:
    """Requests that would fix what the results show, offered as buttons: a click is the clicker's
    own request, planned, checked and approved like any other (stopped services: a restart)."""
    found = [
        f"restart {service} on {r.target}"
        for step in result.steps
        for r in step.results
        if r.target and (service := _stopped_service(r))
    ]
    return tuple(dict.fromkeys(found))


def _stopped_service(r: TargetResult) -> str:
    """The service a result shows inactive or failed ('' when none): its `service`, else its unit."""
    data = r.output.data
    if data.get("active") not in {"inactive", "failed"}:
        return ""
    return str(data.get("service") or str(data.get("unit") or "").removesuffix(".service"))


def _icon(status: TargetStatus) -> str:
    return "✅" if status is TargetStatus.OK else "⚠️"


def _short(value: object, limit: int = 80) -> str:
    text = (
        value if isinstance(value, str) else repr(value) if not isinstance(value, int | float) else str(value)
    )
    return text if len(text) <= limit else text[: limit - 1] + "…"
