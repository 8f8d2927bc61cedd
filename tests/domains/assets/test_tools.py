"""assets.* tools through the executor against the real SQL inventory (SQLite file)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from db.assets import SqlAssetRepository
from db.engine import create_engine, session_factory
from db.migrate import upgrade_engine
from domains.assets.directory import AssetStore
from domains.catalog import build_registry
from pipeline.contracts import AssetRef, Plan, PlanStep, Principal, Risk, TargetStatus
from pipeline.policy import Policy
from pipeline.stages.execute import Executor
from tests.fakes.memory import MemoryExecutionStore

REGISTRY = build_registry()
ADMIN = Principal(subject="root", roles=frozenset({"admin"}))
WEB = AssetRef(name="web-01", address="127.0.0.11", type="web_server", environment="lab", services=("nginx",))


@pytest.fixture
async def repo(tmp_path: Path) -> AsyncIterator[SqlAssetRepository]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'assets.db'}")
    await upgrade_engine(engine)
    repo = SqlAssetRepository(session_factory(engine))
    await repo.create(WEB)
    yield repo
    await engine.dispose()


async def run(repo: SqlAssetRepository | None, tool: str, args: dict, *targets: AssetRef):
    spec = REGISTRY.get(tool)
    store = MemoryExecutionStore()
    plan = Plan(steps=(PlanStep(id="s1", tool=tool, args=args, targets=targets, risk=spec.risk),))
    services = {AssetStore: repo} if repo is not None else {}
    executor = Executor(REGISTRY, Policy.default(REGISTRY), store, services=services)
    execution_id = await store.create(plan, None, ADMIN, "running")  # type: ignore[arg-type]
    result = await executor.run(execution_id, plan, ADMIN)
    return result.steps[0].results


async def test_create_update_delete_round_trip(repo: SqlAssetRepository) -> None:
    [created] = await run(
        repo, "assets.create", {"name": "DB-09", "address": "127.0.0.9", "type": "db_server"}
    )
    assert created.status is TargetStatus.OK and "added db-09" in created.output.summary
    assert (await repo.get("db-09")) is not None
    [updated] = await run(repo, "assets.update", {"environment": "staging", "tags": {"team": "data"}}, WEB)
    assert updated.status is TargetStatus.OK
    stored = await repo.get("web-01")
    assert stored is not None and stored.environment == "staging" and stored.tags == {"team": "data"}
    [deleted] = await run(repo, "assets.delete", {}, WEB)
    assert deleted.status is TargetStatus.OK and await repo.get("web-01") is None


async def test_invalid_changes_fail_cleanly(repo: SqlAssetRepository) -> None:
    [duplicate] = await run(repo, "assets.create", {"name": "web-01", "address": "127.0.0.12"})
    assert duplicate.status is TargetStatus.FAILED and "not added" in duplicate.error
    [empty] = await run(repo, "assets.update", {}, WEB)
    assert empty.status is TargetStatus.FAILED and "nothing to change" in empty.error
    gone = AssetRef(name="ghost", address="127.0.0.99")
    [missing] = await run(repo, "assets.delete", {}, gone)
    assert missing.status is TargetStatus.FAILED


async def test_without_a_store_the_inventory_is_read_only() -> None:
    [result] = await run(None, "assets.delete", {}, WEB)
    assert result.status is TargetStatus.FAILED and "read-only" in result.error


def test_asset_tools_risks_follow_the_catalog() -> None:
    risks = {n: REGISTRY.get(n).risk for n in ("assets.create", "assets.update", "assets.delete")}
    assert risks == {"assets.create": Risk.WRITE, "assets.update": Risk.WRITE, "assets.delete": Risk.CRITICAL}
