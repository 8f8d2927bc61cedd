"""`SqlHistory`: what was measured and done, read back from the results, executions and audit tables.

Implements `pipeline.history.HistoryStore`; shared by everything that answers questions about
the past (trends, anomalies, "when was nginx last restarted", "what did I run yesterday").

Series (`measurements`), one sample per stored result:
    latency     connectivity_tests.rtt_avg_ms (replies only), ms
    loss        connectivity_tests.loss_pct, %
    open_ports  number of open ports per port scan (port_scans), ports
    disk        fullest filesystem's use_percent in a stored step result (execution_steps), %
    service     1 when a stored step result says the service is active, else 0
    bandwidth   bandwidth_tests.mbps, by the asset measured from (to whichever asset), Mbit/s;
                per (source, target) pair for "bandwidth between A and B" (`throughput`)
Traceroutes (`traceroutes`): the newest stored one per target (network_scans' summary), for the
path graph (pipeline.topology).
Step results are read by the shape of their data (a `disk` list, an `active` state), never by
tool name, so a catalog tool reporting the same fields joins the same series.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import InstrumentedAttribute

from db.engine import store_errors
from db.models import (
    Approval,
    BandwidthTest,
    ConnectivityTest,
    Execution,
    ExecutionStep,
    NetworkScan,
    PortScanResult,
)
from pipeline.history import ActionRecord, Kind, PortChange, RunRecord, Sample
from pipeline.topology import Trace, TracedHop

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
STEP_ROWS_LIMIT = 20_000  # newest step rows read for one question (results are JSON, filtered here)
TRACE_ROWS_LIMIT = 5_000  # newest traceroute scans read for one question (targets are JSON)


class SqlHistory:
    """Read-only queries over the stored results; one short session per call."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def measurements(
        self, kind: Kind, targets: Sequence[str], since: datetime, until: datetime
    ) -> dict[str, list[Sample]]:
        """Each target's samples of `kind` in [since, until), oldest first."""
        if kind in ("latency", "loss"):
            return await self._pings(kind, targets, since, until)
        if kind == "open_ports":
            return await self._open_port_counts(targets, since, until)
        if kind == "bandwidth":
            tests = BandwidthTest
            return await self._column(tests.source, tests.at, tests.mbps, targets, since, until)
        return await self._step_series(kind, targets, since, until)

    async def throughput(
        self, hosts: Sequence[str], since: datetime, until: datetime
    ) -> dict[tuple[str, str], list[Sample]]:
        """Each (source, target) pair's bandwidth_tests.mbps in [since, until) where either end is
        one of `hosts`, oldest first."""
        tests = BandwidthTest
        either = or_(tests.source.in_(hosts), tests.target.in_(hosts))
        query = (
            select(tests.source, tests.target, tests.at, tests.mbps)
            .where(either, tests.at >= since, tests.at < until)
            .order_by(tests.at)
        )
        series: dict[tuple[str, str], list[Sample]] = defaultdict(list)
        async with store_errors(), self._sessions() as session:
            for source, target, when, mbps in await session.execute(query):
                series[(source, target)].append(Sample(when, float(mbps)))
        return dict(series)

    async def _pings(
        self, kind: Kind, targets: Sequence[str], since: datetime, until: datetime
    ) -> dict[str, list[Sample]]:
        column = ConnectivityTest.rtt_avg_ms if kind == "latency" else ConnectivityTest.loss_pct
        return await self._column(ConnectivityTest.target, ConnectivityTest.at, column, targets, since, until)

    async def _column(
        self,
        target: InstrumentedAttribute[str],
        at: InstrumentedAttribute[datetime],
        value: InstrumentedAttribute[Any],
        targets: Sequence[str],
        since: datetime,
        until: datetime,
    ) -> dict[str, list[Sample]]:
        """One column of a results table as a series per target, NULLs left out."""
        query = select(target, at, value).where(target.in_(targets), at >= since, at < until).order_by(at)
        series: dict[str, list[Sample]] = defaultdict(list)
        async with store_errors(), self._sessions() as session:
            for name, when, number in await session.execute(query):
                if number is not None:
                    series[name].append(Sample(when, float(number)))
        return dict(series)

    async def _open_port_counts(
        self, targets: Sequence[str], since: datetime, until: datetime
    ) -> dict[str, list[Sample]]:
        scans = await self._port_scans(targets, since, until)
        return {
            target: [Sample(at, float(len(ports))) for at, ports in by_scan]
            for target, by_scan in scans.items()
        }

    async def _port_scans(
        self, targets: Sequence[str], since: datetime | None, until: datetime
    ) -> dict[str, list[tuple[datetime, frozenset[int]]]]:
        """Per target, each scan's time and open ports, oldest first."""
        query = select(
            PortScanResult.scan_id,
            PortScanResult.target,
            PortScanResult.at,
            PortScanResult.port,
            PortScanResult.state,
        ).where(PortScanResult.target.in_(targets), PortScanResult.at < until)
        if since is not None:
            query = query.where(PortScanResult.at >= since)
        scans: dict[tuple[str, str], tuple[datetime, set[int]]] = {}
        async with store_errors(), self._sessions() as session:
            for scan_id, target, at, port, state in await session.execute(query):
                first, ports = scans.setdefault((target, scan_id), (at, set()))
                scans[(target, scan_id)] = (min(first, at), ports)
                if state == "open":
                    ports.add(port)
        out: dict[str, list[tuple[datetime, frozenset[int]]]] = defaultdict(list)
        for (target, _scan), (at, ports) in scans.items():
            out[target].append((at, frozenset(ports)))
        return {target: sorted(rows) for target, rows in out.items()}

    async def _step_series(
        self, kind: Kind, targets: Sequence[str], since: datetime, until: datetime
    ) -> dict[str, list[Sample]]:
        series: dict[str, list[Sample]] = defaultdict(list)
        for row in await self._steps(since, until):
            for result in (row.result or {}).get("results", []):
                target = result.get("target", "")
                if target not in targets or result.get("status") != "ok":
                    continue
                value = _value(kind, result.get("output", {}).get("data", {}), row.args)
                if value is not None and row.finished_at is not None:
                    series[target].append(Sample(row.finished_at, value))
        return {t: sorted(s, key=lambda sample: sample.at) for t, s in series.items()}

    async def _steps(self, since: datetime, until: datetime) -> list[ExecutionStep]:
        query = (
            select(ExecutionStep)
            .where(ExecutionStep.finished_at >= since, ExecutionStep.finished_at < until)
            .order_by(ExecutionStep.finished_at.desc())
            .limit(STEP_ROWS_LIMIT)
        )
        async with store_errors(), self._sessions() as session:
            return list((await session.scalars(query)).all())

    async def port_changes(
        self, targets: Sequence[str], since: datetime, until: datetime
    ) -> list[PortChange]:
        """Per target: open ports of the last scan before `since` (or the first in the window)
        against the last scan in the window."""
        changes: list[PortChange] = []
        scans = await self._port_scans(targets, None, until)
        for target in targets:
            rows = scans.get(target, [])
            before = [r for r in rows if r[0] < since]
            within = [r for r in rows if r[0] >= since]
            if not within:
                continue
            base = before[-1] if before else within[0]
            last = within[-1]
            changes.append(
                PortChange(
                    target,
                    base[0],
                    last[0],
                    tuple(sorted(last[1] - base[1])),
                    tuple(sorted(base[1] - last[1])),
                )
            )
        return changes

    async def last_action(
        self, args: Mapping[str, str], target: str | None, since: datetime, until: datetime
    ) -> ActionRecord | None:
        """The newest succeeded step whose arguments hold `args` (case-insensitive), on `target`."""
        wanted = {k: v.lower() for k, v in args.items()}
        for row in await self._steps(since, until):
            if row.status != "succeeded" or not _holds(row.args, wanted):
                continue
            names = _target_names(row.targets)
            if target is not None and target not in names:
                continue
            return await self._action(row, target or ", ".join(names))
        return None

    async def _action(self, row: ExecutionStep, target: str) -> ActionRecord:
        async with store_errors(), self._sessions() as session:
            execution = await session.get(Execution, row.execution_id)
            approval = await session.get(Approval, row.execution_id)
        return ActionRecord(
            tool=row.tool,
            target=target,
            args=dict(row.args),
            by=execution.principal if execution else "",
            approved_by=approval.decided_by if approval and approval.state == "approved" else None,
            at=row.finished_at or row.started_at or row.claimed_at or _EPOCH,
            execution_id=row.execution_id,
            request=execution.request if execution else "",
        )

    async def runs_by(self, principal: str, since: datetime, until: datetime) -> list[RunRecord]:
        """Requests `principal` made in the window that planned something to run, oldest first."""
        query = (
            select(Execution.created_at, Execution.request, Execution.status, Execution.id, Execution.risk)
            .where(
                Execution.principal == principal,
                Execution.outcome.in_(("plan", "refused")),
                Execution.created_at >= since,
                Execution.created_at < until,
            )
            .order_by(Execution.created_at)
        )
        async with store_errors(), self._sessions() as session:
            return [RunRecord(*row) for row in await session.execute(query)]

    async def traceroutes(self, targets: Sequence[str], since: datetime, until: datetime) -> list[Trace]:
        """The newest completed traceroute of each target in [since, until)."""
        query = (
            select(NetworkScan.targets, NetworkScan.summary, NetworkScan.finished_at)
            .where(
                NetworkScan.kind == "traceroute",
                NetworkScan.status == "completed",
                NetworkScan.finished_at >= since,
                NetworkScan.finished_at < until,
            )
            .order_by(NetworkScan.finished_at.desc())
            .limit(TRACE_ROWS_LIMIT)
        )
        wanted, newest = set(targets), {}
        async with store_errors(), self._sessions() as session:
            for names, summary, at in await session.execute(query):
                name = names[0] if names else ""
                if name in wanted and name not in newest and at is not None:
                    newest[name] = _trace(name, summary, at)
        return [newest[t] for t in targets if t in newest]


def _trace(target: str, summary: Mapping[str, Any], at: datetime) -> Trace:
    hops = tuple(
        TracedHop(int(h.get("ttl", 0)), h.get("address"), h.get("rtt_ms"), str(h.get("note", "")))
        for h in summary.get("hops", [])
        if isinstance(h, dict)
    )
    return Trace(target, str(summary.get("address", "")), at, hops)


def _value(kind: Kind, data: Mapping[str, Any], args: Mapping[str, Any]) -> float | None:
    if kind == "disk":
        disks = data.get("disk")
        if isinstance(disks, list) and disks:
            return float(max(float(d.get("use_percent", 0)) for d in disks if isinstance(d, dict)))
        return None
    if kind == "service" and isinstance(data.get("active"), str) and "action" not in args:
        return 1.0 if data["active"] == "active" else 0.0
    return None


def _holds(args: Mapping[str, Any], wanted: Mapping[str, str]) -> bool:
    return all(str(args.get(k, "")).lower() == v for k, v in wanted.items())


def _target_names(targets: Iterable[Any]) -> list[str]:
    return [t.get("name", "") if isinstance(t, dict) else str(t) for t in targets]
