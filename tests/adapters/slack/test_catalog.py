"""Slack in front of the real planner and catalog (deterministic grammar, default policy):
help, and a typed approval prompt for a real tool, rejected without running anything."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CollectorRegistry

from adapters.cache import InProcessCache
from adapters.slack import slack_mount
from bot.server import build_web_app
from domains.assets.directory import InMemoryAssetDirectory
from domains.catalog import build_registry
from pipeline.contracts import AssetRef
from pipeline.kernel import Kernel
from pipeline.planner import HybridPlanner
from pipeline.policy import Policy
from pipeline.stages.execute import Executor
from tests.adapters.slack.conftest import SignedSlack, build_adapter
from tests.adapters.slack.test_requests import texts
from tests.fakes.memory import MemoryAuditLog, MemoryExecutionStore, StaticIdentity
from tests.fakes.slack_api import SlackApiStandIn

ASSETS = [
    AssetRef(name="web-02", address="127.0.0.2", type="server", os="linux", environment="production"),
]


@pytest.fixture
async def slack(api: SlackApiStandIn) -> AsyncIterator[tuple[SignedSlack, MemoryExecutionStore]]:
    registry, store = build_registry(), MemoryExecutionStore()
    policy = Policy.default(registry)
    kernel = Kernel(
        planner=HybridPlanner(registry, InMemoryAssetDirectory(ASSETS)),
        policy=policy,
        identity=StaticIdentity({"U1": {"operator", "viewer"}, "U2": {"approver"}}),
        store=store,
        audit=MemoryAuditLog(),
        executor=Executor(registry, policy, store),  # no services: nothing could reach a host
    )
    adapter = build_adapter(api.base + "/api/", kernel, InProcessCache(), CollectorRegistry())
    async with TestClient(
        TestServer(build_web_app(mounts=[slack_mount(adapter)]), host="127.0.0.1")
    ) as client:
        yield SignedSlack(client, adapter, api), store


async def test_help_from_the_real_planner_is_rendered(
    slack: tuple[SignedSlack, MemoryExecutionStore], api: SlackApiStandIn
) -> None:
    await slack[0].mention("help")
    [post] = api.of("chat.postMessage")
    shown = texts(post.args["blocks"])
    assert shown.startswith("*I run operations") and "ping" in shown


async def test_a_real_write_tool_is_prompted_then_rejected(
    slack: tuple[SignedSlack, MemoryExecutionStore], api: SlackApiStandIn
) -> None:
    signed, store = slack
    await signed.mention("restart nginx on web-02")
    [post] = api.of("chat.postMessage")
    shown = texts(post.args["blocks"])
    assert "Approval needed" in shown and "nginx" in shown and "web-02" in shown
    buttons = next(b for b in post.args["blocks"] if b["type"] == "actions")["elements"]
    execution_id = buttons[1]["value"].partition(":")[0]
    [(_, ts)] = api.messages
    await signed.action(signed.action_payload("opsconductor_reject", execution_id, message_ts=ts))
    [update] = api.of("chat.update")
    assert "Rejected by <@U2>" in texts(update.args["blocks"])
    assert store.executions[execution_id].status == "rejected"
    assert store.claims == 0  # nothing ran
