"""A real kernel behind the real Slack adapter, served by our aiohttp server on loopback,
talking to the Slack stand-in (tests/fakes/slack_api.py). `SignedSlack` sends what Slack
would: signed events, slash commands and interactivity payloads."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import io
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CollectorRegistry

from adapters.cache import InProcessCache
from adapters.slack import SlackAdapter, SlackConfig, SlackMetrics, slack_mount
from bot.server import build_web_app
from pipeline.contracts import AssetRef, ChatIdentity, Plan, PlanStep, Principal, Risk, ToolOutput
from pipeline.kernel import Kernel, KernelConfig
from pipeline.policy import Policy
from pipeline.ports import Cache
from pipeline.registry import ToolContext, ToolRegistry
from pipeline.stages.execute import Executor
from tests.fakes.memory import MemoryAuditLog, MemoryExecutionStore, StaticIdentity
from tests.fakes.probe_tools import Calls, NoArgs, long_command, probe_toolset
from tests.fakes.slack_api import TEAM, SlackApiStandIn

SECRET = "test-signing-secret"
CALLS: Calls = []
probe = probe_toolset(CALLS)


@probe.tool("probe.slow", NoArgs, risk=Risk.READ, timeout_s=10)
async def slow(ctx: ToolContext, target: AssetRef | None, args: NoArgs) -> ToolOutput:
    """Finish late: host-N after N * 3 ms, so a run's targets complete over a while."""
    assert target is not None
    await asyncio.sleep(int(target.name.rsplit("-", 1)[1]) * 0.003)
    CALLS.append(("slow", target.name))
    return ToolOutput(summary="done")


class Gate:
    """Holds `probe.wait` runs until the test opens it."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.open = asyncio.Event()


GATES: list[Gate] = []


@probe.tool("probe.wait", NoArgs, risk=Risk.READ, timeout_s=30)
async def wait(ctx: ToolContext, target: AssetRef | None, args: NoArgs) -> ToolOutput:
    """Block until the test's gate opens."""
    assert target is not None
    GATES[-1].started.set()
    await GATES[-1].open.wait()
    CALLS.append(("wait", target.name))
    return ToolOutput(summary="released")


REGISTRY = ToolRegistry([probe])
POLICY = Policy.from_mapping(
    {
        "roles": {
            "operator": {"grants": [{"tools": ["*"], "max_risk": "critical"}]},
            "approver": {"grants": [{"tools": ["*"], "max_risk": "read"}], "approves": ["write", "critical"]},
        }
    },
    REGISTRY,
)


def host(name: str) -> AssetRef:
    return AssetRef(name=name, address="127.0.0.1")


class ScriptedPlanner:
    """Stand-in for stages A-C: `read a b`, `write a`, `read *200`, `output 50000 a`, `help`,
    `choose read a | write a` (asks back, offering those requests as suggestions)."""

    async def plan(self, text: str, principal: Principal, conversation: str = "") -> Plan:
        if text == "help":
            return Plan(outcome="no_action", message="help text")
        if text.startswith("choose "):
            offered = tuple(s.strip() for s in text.removeprefix("choose ").split("|"))
            return Plan(outcome="clarify", message="Which one did you mean?", suggestions=offered)
        tool, *rest = text.split()
        args: dict[str, Any] = {}
        if tool == "output" and rest and rest[0].isdigit():
            args["size"] = int(rest.pop(0))
        if tool == "toggle" and rest and rest[0] in {"on", "off"}:  # `toggle on web-01`
            args["state"] = rest.pop(0)
        if tool == "exec" and rest and rest[0].isdigit():  # `exec 5000 web-01`: a 5,000-character command
            args["command"] = long_command(int(rest.pop(0)))
        if rest and rest[0].startswith("*"):
            rest = [f"host-{i:03d}" for i in range(int(rest[0][1:]))]
        spec = REGISTRY.get(f"probe.{tool}")
        step = PlanStep(
            id="s1", tool=spec.name, risk=spec.risk, args=args, targets=tuple(host(h) for h in rest)
        )
        return Plan(steps=(step,))


@dataclass
class World:
    api: SlackApiStandIn
    adapter: SlackAdapter
    store: MemoryExecutionStore
    audit: MemoryAuditLog
    slack: SignedSlack
    registry: CollectorRegistry
    gate: Gate
    kernel: Kernel

    @property
    def identities(self) -> list[ChatIdentity]:
        assert isinstance(self.kernel.identity, RecordingIdentity)
        return self.kernel.identity.seen


class RecordingIdentity(StaticIdentity):
    """StaticIdentity that keeps every chat identity it was asked to resolve."""

    def __init__(self, people: dict[str, set[str]]) -> None:
        super().__init__(people)
        self.seen: list[ChatIdentity] = []

    async def resolve(self, identity: ChatIdentity, *, fresh: bool = False) -> Principal | None:
        self.seen.append(identity)
        return await super().resolve(identity, fresh=fresh)


def build_kernel(store: MemoryExecutionStore, audit: MemoryAuditLog) -> Kernel:
    identity = RecordingIdentity({"U1": {"operator"}, "U2": {"approver"}, "U3": {"operator"}})
    return Kernel(
        planner=ScriptedPlanner(),
        policy=POLICY,
        identity=identity,
        store=store,
        audit=audit,
        executor=Executor(REGISTRY, POLICY, store),
        config=KernelConfig(approval_ttl_s=600, max_message_chars=5000),
    )


def build_adapter(
    api_url: str, kernel: Kernel, cache: Cache, registry: CollectorRegistry, **config: Any
) -> SlackAdapter:
    settings = {"progress_interval_s": 1.5, "workers": 2, "rate_limit_retries": 2, **config}
    return SlackAdapter(
        SlackConfig(bot_token="xoxb-test", signing_secret=SECRET, api_base_url=api_url, **settings),
        submit=kernel.submit,
        decide=kernel.decide,
        cache=cache,
        metrics=SlackMetrics(registry),
    )


@pytest.fixture
async def api() -> AsyncIterator[SlackApiStandIn]:
    stand_in = SlackApiStandIn()
    await stand_in.start()
    stand_in.add_user("U1", "alice@example.com", "alice")
    stand_in.add_user("U2", "bob@example.com", "bob")
    yield stand_in
    await stand_in.close()
    assert not stand_in.unexpected, stand_in.unexpected


@pytest.fixture
def adapter_config() -> dict[str, Any]:
    """Overridden by tests that need another queue size or mode."""
    return {}


@pytest.fixture
async def world(api: SlackApiStandIn, adapter_config: dict[str, Any]) -> AsyncIterator[World]:
    CALLS.clear()
    GATES[:] = [Gate()]
    store, audit, registry = MemoryExecutionStore(), MemoryAuditLog(), CollectorRegistry()
    kernel = build_kernel(store, audit)
    adapter = build_adapter(api.base + "/api/", kernel, InProcessCache(), registry, **adapter_config)
    app = build_web_app(checks={"db": _ok}, registry=registry, mounts=[slack_mount(adapter)])
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield World(
            api, adapter, store, audit, SignedSlack(client, adapter, api), registry, GATES[-1], kernel
        )
        GATES[-1].open.set()
        await adapter.drain()


async def _ok() -> bool:
    return True


class SignedSlack:
    """Sends requests as Slack does (signed with the app's signing secret) and waits for the
    adapter to finish the work they started."""

    def __init__(self, client: TestClient[Any, Any], adapter: SlackAdapter, api: SlackApiStandIn) -> None:
        self.client = client
        self.adapter = adapter
        self.api = api
        self._ids = iter(range(1, 1_000_000))

    async def post(
        self,
        body: str,
        content_type: str,
        *,
        secret: str = SECRET,
        timestamp: int | None = None,
        headers: dict[str, str] | None = None,
        drain: bool = True,
    ) -> ClientResponse:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        signature = "v0=" + hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
        response = await self.client.post(
            "/slack/events",
            data=io.BytesIO(body.encode()),
            headers={
                "Content-Type": content_type,
                "X-Slack-Request-Timestamp": ts,
                "X-Slack-Signature": signature,
                **(headers or {}),
            },
        )
        await response.read()
        if drain:
            await self.adapter.drain()
        return response

    async def event(
        self, event: dict[str, Any], *, event_id: str | None = None, retry: int | None = None, **kw: Any
    ) -> ClientResponse:
        body = {
            "type": "event_callback",
            "team_id": kw.pop("team", TEAM),
            "api_app_id": "A1",
            "event": event,
            "event_id": event_id or f"Ev{next(self._ids):06d}",
            "event_time": int(time.time()),
        }
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else None
        return await self.post(json.dumps(body), "application/json", headers=headers, **kw)

    async def mention(self, text: str, user: str = "U1", **kw: Any) -> ClientResponse:
        ts = f"1699999999.{next(self._ids):06d}"
        event = {"type": "app_mention", "user": user, "text": f"<@UBOT> {text}", "ts": ts, "channel": "C1"}
        return await self.event(event, **kw)

    async def dm(self, text: str, user: str = "U1", **extra: Any) -> ClientResponse:
        ts = f"1699999999.{next(self._ids):06d}"
        event = {
            "type": "message",
            "channel_type": "im",
            "user": user,
            "text": text,
            "ts": ts,
            "channel": "D1",
        }
        return await self.event({**event, **extra})

    async def command(self, text: str, user: str = "U1", channel: str = "C1", **kw: Any) -> ClientResponse:
        form = {
            "token": "legacy",
            "team_id": TEAM,
            "channel_id": channel,
            "user_id": user,
            "user_name": user.lower(),
            "command": "/opsconductor",
            "text": text,
            "response_url": self.api.response_url(f"cmd{next(self._ids)}"),
            "trigger_id": f"trig.{next(self._ids)}",
        }
        return await self.post(urlencode(form), "application/x-www-form-urlencoded", **kw)

    def action_payload(
        self,
        action_id: str,
        value: str,
        *,
        user: str = "U2",
        team: str = TEAM,
        channel: str = "C1",
        message_ts: str = "1700000000.000001",
        action_ts: str | None = None,
    ) -> dict[str, Any]:
        return {
            "type": "block_actions",
            "team": {"id": team, "domain": "test"},
            "user": {"id": user, "name": user.lower(), "team_id": team},
            "api_app_id": "A1",
            "container": {"type": "message", "message_ts": message_ts, "channel_id": channel},
            "channel": {"id": channel, "name": "ops"},
            "message": {"type": "message", "ts": message_ts, "text": "Approval needed"},
            "response_url": self.api.response_url(f"act{next(self._ids)}"),
            "trigger_id": f"trig.{next(self._ids)}",
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "block_id": "opsconductor_approval",
                    "value": value,
                    "action_ts": action_ts or f"1700000100.{next(self._ids):06d}",
                }
            ],
        }

    async def action(self, payload: dict[str, Any], **kw: Any) -> ClientResponse:
        body = urlencode({"payload": json.dumps(payload)})
        return await self.post(body, "application/x-www-form-urlencoded", **kw)
