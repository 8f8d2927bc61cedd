"""The executor holds a host's lock until the target confirmed a timed-out command gone.

Real sshd (root login), real SQLite store and `SqlTargetLocks`, the real `automation.run_command`
tool through `Executor.run`. A watcher samples, every 20 ms, whether the command still runs on
the target and whether the host is locked: at no moment may it run unlocked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.ssh import AsyncsshShell
from db.executions import SqlExecutionStore
from db.locks import SqlTargetLocks
from domains.automation.ports import RemoteShell
from domains.catalog import build_registry
from pipeline.contracts import (
    AssetRef,
    ChatIdentity,
    ExecutionResult,
    InboundMessage,
    Plan,
    PlanStep,
    Principal,
    Risk,
    TargetStatus,
)
from pipeline.policy import Policy
from pipeline.stages.answer import result_reply
from pipeline.stages.execute import Executor
from tests.integration.freezing_proxy import FreezingProxy
from tests.integration.sshd_fixtures import SSH_HOSTS, login
from tests.integration.sshd_testbed import SshdTestbed
from tests.integration.target_processes import files_left, kill_groups, running, started

pytestmark = pytest.mark.sshd

HOST = AssetRef(name="web-04", address=SSH_HOSTS[3])
PROXY = ("127.0.0.78", 2222)
VANISHING = AssetRef(name="vanishing", address=PROXY[0])
PRINCIPAL = Principal(subject="alice", roles=frozenset({"operator"}))


@pytest.fixture
def canary(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "canary"
    yield path
    kill_groups(str(path))


async def run_watched(
    executor: Executor,
    locks: SqlTargetLocks,
    command: str,
    token: str,
    target: AssetRef = HOST,
    timeout_s: float = 1.5,
) -> tuple[ExecutionResult, list[tuple[bool, bool]]]:
    args = {"command": command, "timeout_s": timeout_s}
    step = PlanStep(id="s1", tool="automation.run_command", args=args, targets=(target,), risk=Risk.CRITICAL)
    plan = Plan(steps=(step,))
    message = InboundMessage(identity=ChatIdentity(platform="console", user_id="alice"), text=command)
    execution_id = await executor.store.create(plan, message, PRINCIPAL, "approved")
    samples: list[tuple[bool, bool]] = []  # (runs on the target, host locked)

    async def watch() -> None:
        while True:
            alive = bool(running(token))
            locked = bool(await locks.holders([target.name]))
            samples.append((alive, locked))
            await asyncio.sleep(0.02)

    watcher = asyncio.create_task(watch())
    try:
        result = await executor.run(execution_id, plan, PRINCIPAL)
        await asyncio.sleep(0.3)  # a few samples after the step
    finally:
        watcher.cancel()
    return result, samples


async def test_lock_is_held_until_the_target_confirms_the_command_gone(
    sessions: async_sessionmaker[AsyncSession], shell: RemoteShell, canary: Path
) -> None:
    registry = build_registry()
    locks = SqlTargetLocks(sessions)
    services: dict[type[Any], Any] = {RemoteShell: shell}
    executor = Executor(
        registry, Policy.default(registry), SqlExecutionStore(sessions), services=services, locks=locks
    )
    command = f"sleep 4; touch {canary}"
    result, samples = await run_watched(executor, locks, command, str(canary))
    assert (True, True) in samples, "the watcher never saw the command run"
    assert (True, False) not in samples, "the host was unlocked while the command still ran"
    assert samples[-1] == (False, False)  # gone, then unlocked
    outcome = result.steps[0].results[0]
    assert outcome.status is TargetStatus.TIMEOUT and "it was stopped" in outcome.error
    await asyncio.sleep(3)
    assert files_left(canary) == []


async def test_a_host_gone_mid_stop_is_uncertain_and_stays_locked(
    sessions: async_sessionmaker[AsyncSession],
    in_testbed: SshdTestbed,
    testbed_known_hosts: Path,
    canary: Path,
) -> None:
    proxy = FreezingProxy(PROXY, (HOST.address, 22))
    await proxy.start()
    in_testbed.write_known_hosts(testbed_known_hosts, [PROXY[0]], port=PROXY[1])
    config = login(
        in_testbed,
        testbed_known_hosts,
        port=PROXY[1],
        connect_timeout_s=10.0,  # the handshake through the relay, on a loaded machine
        stop_timeout_s=1.5,
    )
    shell = AsyncsshShell(config)
    registry = build_registry()
    locks = SqlTargetLocks(sessions)
    executor = Executor(
        registry,
        Policy.default(registry),
        SqlExecutionStore(sessions),
        services={RemoteShell: shell},
        locks=locks,
    )

    async def vanish() -> None:
        assert await started(str(canary))
        await asyncio.sleep(0.3)
        proxy.freeze()

    vanishing = asyncio.create_task(vanish())
    try:
        result, samples = await run_watched(
            executor, locks, f"sleep 30; touch {canary}", str(canary), target=VANISHING, timeout_s=4
        )  # the relay freezes well before the timeout, even on a loaded machine
    finally:
        vanishing.cancel()
        await asyncio.gather(vanishing, return_exceptions=True)
        await shell.close()
        await proxy.close()
    outcome = result.steps[0].results[0]
    assert outcome.status is TargetStatus.UNCERTAIN and "may still be running" in outcome.error
    assert running(str(canary)), "it was in fact stopped: 'uncertain' would be wrong"
    assert samples[-1] == (True, True)  # still running, still locked after the step ended
    reply = result_reply(Plan(steps=()), result)
    assert any("stays locked" in r and VANISHING.name in r for r in reply.recommendations)
