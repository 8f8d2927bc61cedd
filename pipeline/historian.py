"""Answers questions about the past from the record: a short summary, and a chart where a
picture says more (trends). The kernel asks it before planning; None means "not a question
about the past", and the request is planned as usual."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from statistics import median

from pipeline import anomalies, topology
from pipeline.contracts import InboundMessage, Principal, Reply, ReplySection, utcnow
from pipeline.history import (
    LABELS,
    UNITS,
    ChartRenderer,
    HistoryQuestion,
    HistoryStore,
    Kind,
    Sample,
    read_question,
    without_window,
)
from pipeline.messages import counted
from pipeline.ports import Planner

STAMP = "%Y-%m-%d %H:%M UTC"
GROUP_NOUNS = re.compile(r"\b(?:tier|layer|fleet|farm|pool|estate)\b", re.IGNORECASE)
MAX_JUDGED = 500  # samples per series checked for anomalies on a chart (the newest ones)


@dataclass(frozen=True)
class Named:
    """What a question names: its hosts (the plan's targets), and the plan's other words that may
    name one (the asset at the other end of a bandwidth measurement)."""

    hosts: list[str]
    values: frozenset[str] = frozenset()


class Historian:
    """Reads a question about the past, resolves its targets with the planner, answers from the store."""

    def __init__(
        self,
        store: HistoryStore,
        planner: Planner,
        charts: ChartRenderer | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.planner = planner
        self.charts = charts
        self.clock = clock

    async def answer(self, message: InboundMessage, principal: Principal) -> Reply | None:
        question = read_question(message.text, self.clock())
        if question is None:
            return None
        if question.kind == "runs":
            return await self._runs(question, principal)
        named = await self._named(message.text, principal)
        targets = named.hosts
        if question.kind == "last":
            return await self._last(question, targets)
        if not targets:
            return Reply(
                outcome="clarify",
                summary=(
                    "Which hosts do you mean? Name them, or a group: a type, environment or place "
                    "(`the web servers`, `env=<env>`)."
                ),
            )
        if question.kind == "ports":
            return await self._ports(question, targets)
        if question.kind == "paths":
            return await self._paths(question, targets)
        return await self._trend(question, named)

    async def _named(self, text: str, principal: Principal) -> Named:
        """The hosts the sentence names, read by the planner (the one place targets are resolved)
        from the sentence without its time span; 'the web tier' is read as 'the web servers'."""
        text = without_window(text)
        named = await self._planned(text, principal)
        grouped = GROUP_NOUNS.sub("servers", text)
        if not named.hosts and grouped != text:
            named = await self._planned(grouped, principal)
        return named

    async def _planned(self, text: str, principal: Principal) -> Named:
        plan = await self.planner.plan(text, principal)
        names: list[str] = []
        values: set[str] = set()
        for step in plan.steps:
            names += [n for n in step.target_names if n not in names]
            values.update(v for v in step.args.values() if isinstance(v, str))
        return Named(names, frozenset(values))

    # ------------------------------------------------------------------ trends

    async def _trend(self, question: HistoryQuestion, named: Named) -> Reply:
        kind = question.measure or "latency"
        span = question.window
        if kind == "bandwidth":
            series = await self._pairs(named, span.since, span.until)
        else:
            series = await self.store.measurements(kind, named.hosts, span.since, span.until)
        if not series:
            return Reply(outcome="answer", summary=no_data(kind, named.hosts, span.label))
        sections, flagged = [], {}
        notes: list[str] = []
        for target, samples in series.items():
            sections.append(trend_section(kind, target, samples))
            found = anomalies.scan(kind, target, samples[-MAX_JUDGED:])
            if found:
                flagged[target] = [a.sample for a in found]
            newest = anomalies.latest(kind, target, samples)
            if newest is not None:
                notes.append(newest.describe())
        files: tuple[str, ...] = ()
        if self.charts is not None:
            title = f"{LABELS[kind]} — {span.label}"
            files = (await self.charts.line(title, UNITS[kind], series, flagged),)
        summary = trend_summary(kind, series, span.label)
        if notes:
            summary += " Anomaly: " + "; ".join(notes) + "."
        return Reply(outcome="answer", summary=summary, sections=tuple(sections), files=files)

    async def _pairs(self, named: Named, since: datetime, until: datetime) -> dict[str, list[Sample]]:
        """Throughput per direction: between the hosts named when a measurement joins two of them
        ("between web-01 and db-01", "from web-01 to db-01"), else every pair touching one."""
        pairs = await self.store.throughput(named.hosts, since, until)
        ends = set(named.hosts) | named.values
        between = {pair: samples for pair, samples in pairs.items() if set(pair) <= ends}
        return {f"{a} → {b}": samples for (a, b), samples in sorted((between or pairs).items())}

    # ------------------------------------------------------------------ network paths

    async def _paths(self, question: HistoryQuestion, targets: list[str]) -> Reply | None:
        """The stored traceroutes merged into one diagram; None (plan it: a traceroute runs and is
        stored) when none of the hosts has one in the window."""
        span = question.window
        traces = await self.store.traceroutes(targets, span.since, span.until)
        if not traces:
            return None
        graph = topology.merge(traces)
        summary = topology.describe(graph)
        missing = [t for t in targets if t not in {trace.target for trace in traces}]
        if missing:
            summary += (
                f" No traceroute stored {span.label} for {', '.join(missing)} (`traceroute {missing[0]}`)."
            )
        sections = tuple(ReplySection(title=name, facts=facts) for name, facts in topology.per_host(graph))
        files: tuple[str, ...] = ()
        if self.charts is not None:
            files = (await self.charts.paths(f"Network paths — {span.label}", graph),)
        return Reply(outcome="answer", summary=summary, sections=sections, files=files)

    # ------------------------------------------------------------------ ports, actions, runs

    async def _ports(self, question: HistoryQuestion, targets: list[str]) -> Reply:
        span = question.window
        changes = await self.store.port_changes(targets, span.since, span.until)
        if not changes:
            return Reply(outcome="answer", summary=no_data("open_ports", targets, span.label))
        sections = tuple(
            ReplySection(
                title=c.target,
                facts=(
                    ("opened", _ports(c.opened)),
                    ("closed", _ports(c.closed)),
                    ("compared", f"{c.before_at:{STAMP}} -> {c.after_at:{STAMP}}"),
                ),
            )
            for c in changes
        )
        opened = [f"{c.target}: {_ports(c.opened)}" for c in changes if c.opened]
        head = f"Ports opened {span.label}: " + ("; ".join(opened) if opened else "none")
        closed = [f"{c.target}: {_ports(c.closed)}" for c in changes if c.closed]
        if closed:
            head += ". Closed: " + "; ".join(closed)
        return Reply(
            outcome="answer",
            summary=head + f" ({counted(len(changes), 'host')} with scans).",
            sections=sections,
        )

    async def _last(self, question: HistoryQuestion, targets: list[str]) -> Reply:
        args = dict(question.args)
        span = question.window
        target = targets[0] if len(targets) == 1 else None
        found = await self.store.last_action(args, target, span.since, span.until)
        what = f"{args.get('service', '')} {_past(args.get('action', ''))}".strip()
        where = f" on {target}" if target else ""
        if found is None:
            return Reply(outcome="answer", summary=f"I have no record of {what}{where} in {span.label}.")
        approved = f", approved by {found.approved_by}" if found.approved_by else ""
        summary = (
            f"{what.capitalize()}{where or ' on ' + found.target} last at {found.at:{STAMP}} "
            f"by {found.by}{approved} (execution {found.execution_id})."
        )
        section = ReplySection(title=found.target, facts=(("request", found.request), ("tool", found.tool)))
        return Reply(outcome="answer", summary=summary, sections=(section,), execution_id=None)

    async def _runs(self, question: HistoryQuestion, principal: Principal) -> Reply:
        span = question.window
        runs = await self.store.runs_by(principal.subject, span.since, span.until)
        if not runs:
            return Reply(outcome="answer", summary=f"You ran nothing {span.label}.")
        lines = [f"{r.at:%m-%d %H:%M} {r.request} — {r.status} ({r.execution_id})" for r in runs]
        summary = f"You made {counted(len(runs), 'request')} {span.label}:\n" + "\n".join(lines)
        return Reply(outcome="answer", summary=summary)


# ---------------------------------------------------------------------- summaries


def trend_summary(kind: Kind, series: dict[str, list[Sample]], label: str) -> str:
    parts = []
    for target, samples in series.items():
        first, last = _edges(samples)
        change = f"{first:.3g} -> {last:.3g} {UNITS[kind]}"
        if first > 0:
            change += f" ({(last - first) / first:+.0%})"
        parts.append(f"{target} {change}")
    return f"{LABELS[kind].capitalize()} over {label}: " + "; ".join(parts) + "."


def trend_section(kind: Kind, target: str, samples: Sequence[Sample]) -> ReplySection:
    values = [s.value for s in samples]
    unit = UNITS[kind]
    return ReplySection(
        title=target,
        facts=(
            ("samples", str(len(values))),
            ("median", f"{median(values):.3g} {unit}"),
            ("min / max", f"{min(values):.3g} / {max(values):.3g} {unit}"),
            ("from", f"{samples[0].at:{STAMP}}"),
            ("to", f"{samples[-1].at:{STAMP}}"),
        ),
    )


def _edges(samples: Sequence[Sample]) -> tuple[float, float]:
    """Median of the first and of the last tenth of a series (at least one sample each)."""
    size = max(1, len(samples) // 10)
    return median(s.value for s in samples[:size]), median(s.value for s in samples[-size:])


def no_data(kind: Kind, targets: Sequence[str], label: str) -> str:
    hosts = ", ".join(targets) or "those hosts"
    return (
        f"I have no stored {LABELS[kind]} for {hosts} in {label}. "
        f"A schedule builds the history, e.g. `every 5 minutes ping {targets[0] if targets else '<host>'}`."
    )


def _ports(ports: Sequence[int]) -> str:
    return ", ".join(str(p) for p in ports) or "none"


def _past(action: str) -> str:
    return {"stop": "stopped"}.get(action, action + "ed") if action else ""
