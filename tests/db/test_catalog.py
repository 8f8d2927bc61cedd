"""SqlToolCatalog: mirrors the registry, intent patterns, timeout policies, telemetry summaries."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.catalog import SqlToolCatalog, specificity
from db.engine import create_engine, session_factory
from domains.catalog import build_registry
from pipeline.contracts import PlanStep, Risk, StepResult, ToolOutput
from pipeline.dispatch import StepJob
from pipeline.errors import InvalidRequest
from pipeline.registry import ToolSet

Sessions = async_sessionmaker[AsyncSession]


class NoArgs(BaseModel):
    pass


async def _noop(ctx: object, target: object, args: object) -> ToolOutput:
    return ToolOutput()


async def test_sync_mirrors_the_registry(sessions: Sessions) -> None:
    catalog = SqlToolCatalog(sessions)
    registry = build_registry()
    extra = ToolSet("demo")
    extra.tool("demo.gone", NoArgs, risk=Risk.READ)(_noop)
    await catalog.sync([*registry, *extra.specs])
    await catalog.set_capabilities("demo.gone", ["x"])
    await catalog.add_intent_pattern("gone", "demo.gone")
    assert await catalog.sync(registry) == len(registry.names())
    tools = await catalog.tools()
    assert [t.name for t in tools] == registry.names()
    ping = next(t for t in tools if t.name == "network.ping")
    assert (ping.domain, ping.risk) == ("network", "read")
    assert ping.args_schema == registry.get("network.ping").json_schema()
    assert await catalog.intent_patterns() == []  # went with the stale tool


async def test_replicas_starting_together_sync_without_conflict(engine: object, migrated_url: str) -> None:
    """Several processes mirror the catalog at the same moment (replicas starting together)."""
    engines = [create_engine(migrated_url) for _ in range(4)]
    try:
        registry = build_registry()
        counts = await asyncio.gather(*(SqlToolCatalog(session_factory(e)).sync(registry) for e in engines))
        assert counts == [len(registry.names())] * 4
        tools = await SqlToolCatalog(session_factory(engines[0])).tools()
        assert [t.name for t in tools] == registry.names()
    finally:
        for e in engines:
            await e.dispose()


async def test_capabilities_and_intent_patterns(sessions: Sessions) -> None:
    catalog = SqlToolCatalog(sessions)
    await catalog.sync(build_registry())
    await catalog.set_capabilities("network.ping", ["icmp", "latency", "icmp"])
    assert await catalog.capabilities("network.ping") == ["icmp", "latency"]
    await catalog.add_intent_pattern(r"\bping\b", "network.ping", priority=5)
    await catalog.add_intent_pattern(r"\breachable\b", "network.ping", priority=1)
    await catalog.add_intent_pattern(r"\breboot\b", "automation.reboot", priority=9)
    assert [p[0] for p in await catalog.intent_patterns()] == [r"\breboot\b", r"\bping\b", r"\breachable\b"]


async def test_most_specific_timeout_policy_wins(sessions: Sessions) -> None:
    catalog = SqlToolCatalog(sessions)
    await catalog.set_timeout_policy("*", 30, 0)
    await catalog.set_timeout_policy("network.*", 10, 2)
    await catalog.set_timeout_policy("network.port_scan", 120, 1)
    await catalog.set_timeout_policy("network.*", 15, 3)  # replaces
    rule = await catalog.timeout_policy("network.ping")
    assert rule is not None and (rule.pattern, rule.timeout_s, rule.retries) == ("network.*", 15, 3)
    rule = await catalog.timeout_policy("network.port_scan")
    assert rule is not None and rule.timeout_s == 120
    rule = await catalog.timeout_policy("automation.reboot")
    assert rule is not None and rule.pattern == "*"
    with pytest.raises(InvalidRequest):
        await catalog.set_timeout_policy("x", 0)
    assert specificity("a.b") > specificity("a.*") > specificity("*")


async def test_telemetry_summary(sessions: Sessions) -> None:
    catalog = SqlToolCatalog(sessions)
    start = datetime.now(UTC) - timedelta(seconds=1)
    for status, ms in [("ok", 10.0), ("timeout", 30.0), ("ok", 20.0)]:
        await catalog.record_telemetry("network.ping", status, ms, execution_id="e" * 32)
    await catalog.record_telemetry("automation.reboot", "skipped", 0.0)
    await catalog.record_telemetry("automation.run_command", "uncertain", 4000.0)
    stats = await catalog.telemetry(start)
    assert [(s.tool, s.runs, s.failures) for s in stats] == [
        ("automation.reboot", 1, 0),
        ("automation.run_command", 1, 1),
        ("network.ping", 3, 1),
    ]
    assert stats[2].avg_ms == pytest.approx(20.0) and stats[2].max_ms == 30.0
    assert await catalog.telemetry(datetime.now(UTC) + timedelta(hours=1)) == []


class RecordedSteps:
    """A StepDispatcher stand-in that answers with the results it is given (the executor's side
    is tested elsewhere); TelemetryDispatcher only sees what comes back."""

    def __init__(self, results: dict[str, StepResult]) -> None:
        self.results = results

    async def dispatch(self, job: StepJob, step: PlanStep, progress: object) -> StepResult:
        return self.results[step.id]


async def test_telemetry_records_every_target_result_of_defined_tools_too(
    sessions: Sessions, tmp_path: Path
) -> None:
    from bot.telemetry import TelemetryDispatcher
    from pipeline.contracts import Principal, TargetResult, TargetStatus
    from tests.domains.packs.test_loader import GOOD

    (tmp_path / "flush.yaml").write_text(GOOD)
    registry = build_registry([tmp_path])
    results = {
        "s1": StepResult(step_id="s1", tool="app.cache_flush", results=(
            TargetResult(target="web-01", status=TargetStatus.OK, duration_ms=120.0),
            TargetResult(target="web-02", status=TargetStatus.FAILED, duration_ms=80.0),
        )),
    }  # fmt: skip
    catalog = SqlToolCatalog(sessions)
    telemetry = TelemetryDispatcher(RecordedSteps(results), catalog, registry)
    job = StepJob(execution_id="e" * 32, step_id="s1", principal=Principal(subject="o"))
    assert await telemetry.dispatch(job, PlanStep(id="s1", tool="app.cache_flush"), None) == results["s1"]
    [stats] = await catalog.telemetry(datetime.now(UTC) - timedelta(minutes=1))
    assert (stats.tool, stats.runs, stats.failures, stats.avg_ms, stats.max_ms) == (
        "app.cache_flush",
        2,
        1,
        100.0,
        120.0,
    )
    tools = {t.name: t for t in await catalog.tools()}
    assert tools["app.cache_flush"].risk == "write" and "network.ping" in tools
