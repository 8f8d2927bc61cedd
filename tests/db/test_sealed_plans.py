"""The execution store masks every row it writes and keeps a plan's secrets only sealed."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.executions import SqlExecutionStore
from db.models import Execution
from db.sealing import PlanSeal
from domains.assets.credentials import CredentialCipher
from pipeline.contracts import (
    AssetRef,
    ChatIdentity,
    InboundMessage,
    Plan,
    PlanStep,
    Principal,
    Risk,
    StepResult,
    TargetResult,
    TargetStatus,
    ToolOutput,
)
from pipeline.errors import StoreUnavailable
from pipeline.redaction import Redactor

Sessions = async_sessionmaker[AsyncSession]
SECRET = "S3cretV4lue"
COMMAND = f"mysql -uroot -p{SECRET} -e 'select 1' && curl -u ops:{SECRET} http://db-01/"
ALICE = Principal(subject="alice", roles=frozenset({"operator"}))


def plan(command: str = COMMAND) -> Plan:
    step = PlanStep(
        id="s1",
        tool="automation.run_command",
        args={"command": command, "timeout_s": 30},
        targets=(AssetRef(name="db-01", address="10.0.0.5"),),
        risk=Risk.CRITICAL,
    )
    return Plan(steps=(step,))


def message(text: str = f"run `{COMMAND}` on db-01") -> InboundMessage:
    return InboundMessage(identity=ChatIdentity(platform="console", user_id="alice"), text=text)


@pytest.fixture
def cipher() -> CredentialCipher:
    return CredentialCipher.generate()


@pytest.fixture
def store(sessions: Sessions, cipher: CredentialCipher) -> SqlExecutionStore:
    return SqlExecutionStore(sessions, seal=PlanSeal(Redactor(), cipher))


async def dump(sessions: Sessions) -> str:
    async with sessions() as session:
        rows = [
            *(await session.execute(text("SELECT * FROM executions"))),
            *(await session.execute(text("SELECT * FROM execution_steps"))),
        ]
    return "\n".join(map(str, rows))


async def test_rows_hold_the_masked_plan_and_load_gives_the_raw_one(
    store: SqlExecutionStore, sessions: Sessions
) -> None:
    planned = plan()
    execution_id = await store.create(planned, message(), ALICE, "awaiting_approval")
    result = StepResult(
        step_id="s1",
        tool="automation.run_command",
        results=(
            TargetResult(
                target="db-01",
                status=TargetStatus.OK,
                output=ToolOutput(stdout=f"ran {COMMAND}\n", data={"argv": COMMAND}),
            ),
        ),
    )
    await store.record_step(execution_id, result)
    rows = await dump(sessions)
    assert SECRET not in rows
    assert "-p[REDACTED]" in rows and "ops:[REDACTED]" in rows
    loaded = await store.load(execution_id)
    assert loaded is not None
    assert loaded[0] == planned and loaded[0].digest() == planned.digest()
    assert (
        loaded[1].text
        == "run `mysql -uroot -p[REDACTED] -e 'select 1' && curl -u ops:[REDACTED] http://db-01/` on db-01"
    )


async def test_a_plan_without_secrets_is_not_sealed(store: SqlExecutionStore, sessions: Sessions) -> None:
    planned, asked = plan("uptime"), message("run uptime on db-01")
    execution_id = await store.create(planned, asked, ALICE, "running")
    async with sessions() as session:
        sealed = await session.scalar(select(Execution.sealed_plan).where(Execution.id == execution_id))
    assert sealed is None
    assert (await store.load(execution_id)) == (planned, asked, "running")


async def test_a_sealed_plan_opens_only_with_its_key_and_execution(
    store: SqlExecutionStore, sessions: Sessions
) -> None:
    execution_id = await store.create(plan(), message(), ALICE, "awaiting_approval")
    other_key = SqlExecutionStore(sessions, seal=PlanSeal(Redactor(), CredentialCipher.generate()))
    with pytest.raises(StoreUnavailable, match="cannot be opened"):
        await other_key.load(execution_id)
    with pytest.raises(StoreUnavailable, match="no credential key to open it"):
        await SqlExecutionStore(sessions).load(execution_id)
    second = await store.create(plan("uptime"), message(), ALICE, "awaiting_approval")
    async with sessions.begin() as session:  # a sealed plan moved to another execution
        sealed = await session.scalar(select(Execution.sealed_plan).where(Execution.id == execution_id))
        row = await session.get(Execution, second)
        assert row is not None
        row.sealed_plan = sealed
    with pytest.raises(StoreUnavailable, match="cannot be opened"):
        await store.load(second)
