"""A real kernel behind the real Teams adapter, served by our aiohttp server on loopback,
answering into the Bot Connector stand-in (tests/fakes/bot_connector.py). `TeamsClient`
sends what Teams would: recorded-shape message, mention, invoke and Action.Submit
activities to `/api/messages`, optionally with a Bot Framework JWT."""

from __future__ import annotations

import asyncio
import io
import itertools
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
import requests
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer
from botframework.connector.auth import AppCredentials, ServiceClientCredentialsFactory
from prometheus_client import CollectorRegistry

from adapters.cache import InProcessCache
from adapters.teams import TeamsAdapter, TeamsConfig, TeamsMetrics, teams_mount
from bot.server import build_web_app
from pipeline.contracts import AssetRef, ChatIdentity, Plan, PlanStep, Principal, Risk, ToolOutput, utcnow
from pipeline.kernel import Kernel, KernelConfig
from pipeline.policy import Policy
from pipeline.ports import Cache
from pipeline.registry import ToolContext, ToolRegistry
from pipeline.stages.execute import Executor
from tests.fakes.bot_connector import BotConnectorStandIn
from tests.fakes.memory import MemoryAuditLog, MemoryExecutionStore, StaticIdentity
from tests.fakes.openid_server import OpenIdStandIn
from tests.fakes.probe_tools import Calls, NoArgs, long_command, probe_toolset

TENANT = "8f3c0f6e-1111-4a55-9d41-5b7a2f0e9c01"
OTHER_TENANT = "0a0a0a0a-2222-4b66-8e52-6c8b3a1f0d02"
BOT_ID = "28:7d0c5f0e-bot0-4a1e-b3c7-000000000001"
APP_ID = "7d0c5f0e-b0b0-4a1e-b3c7-000000000001"
CHANNEL = "19:ops0123456789abcdef@thread.tacv2"
TEAM = "19:team0123456789abcdef@thread.tacv2"
PEOPLE = {
    "U1": ("aad-0001-alice", "Alice Operator", "alice@example.com"),
    "U2": ("aad-0002-bob", "Bob Approver", "bob@example.com"),
    "U3": ("aad-0003-carol", "Carol Operator", "carol@example.com"),
    "U9": ("aad-0009-mallory", "Mallory Unknown", "mallory@example.com"),
}
CALLS: Calls = []
probe = probe_toolset(CALLS)
ACTIVITY_IDS = itertools.count(1_700_000_000_001)  # shared, so two replicas' clients never collide


class Gate:
    """Holds `probe.hold` runs until the test opens it."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.open = asyncio.Event()


GATES: list[Gate] = []


@probe.tool("probe.hold", NoArgs, risk=Risk.WRITE, timeout_s=30)
async def hold(ctx: ToolContext, target: AssetRef | None, args: NoArgs) -> ToolOutput:
    """A change that blocks until the test's gate opens (host-000 finishes at once)."""
    assert target is not None
    if target.name != "host-000":
        GATES[-1].started.set()
        await GATES[-1].open.wait()
    CALLS.append(("hold", target.name))
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


class ScriptedPlanner:
    """Stand-in for stages A-C: `read a b`, `write a`, `hold *3`, `output 50000 a`, `help`,
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
        targets = tuple(AssetRef(name=h, address="127.0.0.1") for h in rest)
        return Plan(steps=(PlanStep(id="s1", tool=spec.name, risk=spec.risk, args=args, targets=targets),))


class GatedIdentity(StaticIdentity):
    """StaticIdentity whose lookups of the people in `gates` wait until the test sets their event
    (a slow identity service)."""

    def __init__(self, people: dict[str, set[str]]) -> None:
        super().__init__(people)
        self.gates: dict[str, asyncio.Event] = {}

    async def resolve(self, identity: ChatIdentity, *, fresh: bool = False) -> Principal | None:
        gate = self.gates.get(identity.user_id)
        if gate is not None:
            await gate.wait()
        return await super().resolve(identity, fresh=fresh)


class Clock:
    """The kernel's clock; tests move it forward (approval expiry)."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return utcnow() + self.offset


def build_kernel(
    store: MemoryExecutionStore, audit: MemoryAuditLog, identity: GatedIdentity, clock: Clock
) -> Kernel:
    return Kernel(
        planner=ScriptedPlanner(),
        policy=POLICY,
        identity=identity,
        store=store,
        audit=audit,
        executor=Executor(REGISTRY, POLICY, store),
        config=KernelConfig(approval_ttl_s=600, max_message_chars=5000),
        clock=clock,
    )


class LoopbackCredentials(AppCredentials):  # type: ignore[misc]
    """The bot's outbound token from the OpenID stand-in's token endpoint (client credentials),
    instead of login.microsoftonline.com through MSAL; cached like MSAL caches it."""

    def __init__(self, app_id: str, password: str, token_url: str, scope: str) -> None:
        super().__init__(app_id=app_id, oauth_scope=scope)
        self.password = password
        self.token_url = token_url
        self.token: str | None = None

    def get_access_token(self, force_refresh: bool = False) -> str:
        if self.token is None or force_refresh:
            form = {
                "grant_type": "client_credentials",
                "client_id": self.microsoft_app_id,
                "client_secret": self.password,
                "scope": f"{self.oauth_scope}/.default",
            }
            answer = requests.post(self.token_url, data=form, timeout=5)
            answer.raise_for_status()
            self.token = str(answer.json()["access_token"])
        return self.token


class LoopbackCredentialsFactory(ServiceClientCredentialsFactory):  # type: ignore[misc]
    def __init__(self, app_id: str, password: str, token_url: str) -> None:
        self.app_id, self.password, self.token_url = app_id, password, token_url
        self.made = 0

    async def is_valid_app_id(self, app_id: str) -> bool:
        return app_id == self.app_id

    async def is_authentication_disabled(self) -> bool:
        return not self.app_id

    async def create_credentials(
        self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool
    ) -> AppCredentials:
        if not self.app_id:
            return LoopbackCredentials("", "", self.token_url, oauth_scope)
        assert app_id == self.app_id, app_id
        self.made += 1
        return LoopbackCredentials(app_id, self.password, self.token_url, oauth_scope)


@dataclass
class World:
    connector: BotConnectorStandIn
    adapter: TeamsAdapter
    store: MemoryExecutionStore
    audit: MemoryAuditLog
    teams: TeamsClient
    gate: Gate
    identity: GatedIdentity
    kernel: Kernel
    clock: Clock


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    """Overridden by tests that need another queue size, wait or authentication."""
    return {}


@pytest.fixture
def openid() -> Iterator[OpenIdStandIn]:
    stand_in = OpenIdStandIn(client_id=APP_ID, client_secret="test-app-password")
    stand_in.start()
    yield stand_in
    stand_in.close()
    assert not stand_in.unexpected, stand_in.unexpected


@pytest.fixture
async def connector() -> AsyncIterator[BotConnectorStandIn]:
    stand_in = BotConnectorStandIn()
    await stand_in.start()
    for user, (aad, name, email) in PEOPLE.items():
        stand_in.add_member(f"29:1{user}", aad, name, email)
    yield stand_in
    await stand_in.close()
    assert not stand_in.unexpected, stand_in.unexpected


async def make_world(
    connector: BotConnectorStandIn,
    config: TeamsConfig,
    credentials: ServiceClientCredentialsFactory | None = None,
    *,
    cache: Cache | None = None,
    store: MemoryExecutionStore | None = None,
    kernel: Kernel | None = None,
) -> AsyncIterator[World]:
    """One replica: kernel, adapter and server; `cache` and `store` may be shared with another.
    `kernel`: a test's own (memory stores, a GatedIdentity) instead of the probe tools' one."""
    CALLS.clear()
    GATES[:] = [Gate()]
    clock = Clock()
    if kernel is None:
        store, audit = store or MemoryExecutionStore(), MemoryAuditLog()
        roles = {PEOPLE["U1"][0]: {"operator"}, PEOPLE["U2"][0]: {"approver"}, PEOPLE["U3"][0]: {"operator"}}
        identity = GatedIdentity(roles)
        kernel = build_kernel(store, audit, identity, clock)
    else:
        assert isinstance(kernel.store, MemoryExecutionStore) and isinstance(kernel.audit, MemoryAuditLog)
        assert isinstance(kernel.identity, GatedIdentity)
        store, audit, identity = kernel.store, kernel.audit, kernel.identity
    adapter = TeamsAdapter(
        config,
        submit=kernel.submit,
        decide=kernel.decide,
        cache=cache or InProcessCache(),
        credentials=credentials,
        metrics=TeamsMetrics(registry := CollectorRegistry()),
    )
    app = build_web_app(registry=registry, mounts=[teams_mount(adapter)])
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        teams = TeamsClient(client, adapter, connector)
        yield World(connector, adapter, store, audit, teams, GATES[-1], identity, kernel, clock)
        GATES[-1].open.set()
        for gate in identity.gates.values():
            gate.set()
        await adapter.drain()


@pytest.fixture
async def world(connector: BotConnectorStandIn, config_overrides: dict[str, Any]) -> AsyncIterator[World]:
    config = TeamsConfig(
        **{"progress_interval_s": 0.5, "workers": 2, "invoke_wait_s": 2.0, **config_overrides}
    )
    async for built in make_world(connector, config):
        yield built


class TeamsClient:
    """Builds activities the way Teams sends them and posts them to `/api/messages`, then waits
    for the adapter to finish the work they started."""

    def __init__(
        self, client: TestClient[Any, Any], adapter: TeamsAdapter, connector: BotConnectorStandIn
    ) -> None:
        self.client = client
        self.adapter = adapter
        self.connector = connector
        self.token: str | None = None  # Authorization: Bearer <token> on every request when set
        self._ids = ACTIVITY_IDS

    def base(self, user: str = "U1", tenant: str = TENANT) -> dict[str, Any]:
        aad, name, _ = PEOPLE.get(user, (f"aad-{user}", user, ""))
        return {
            "id": str(next(self._ids)),
            "timestamp": "2027-01-15T08:00:00.000Z",
            "localTimestamp": "2027-01-15T09:00:00.000+01:00",
            "serviceUrl": self.connector.base,
            "channelId": "msteams",
            "from": {"id": f"29:1{user}", "name": name, "aadObjectId": aad},
            "recipient": {"id": BOT_ID, "name": "OpsConductor"},
            "locale": "en-US",
            "entities": [
                {
                    "locale": "en-US",
                    "country": "GB",
                    "platform": "Web",
                    "timezone": "Europe/London",
                    "type": "clientInfo",
                }
            ],
        }

    def channel_message(self, text: str, user: str = "U1", tenant: str = TENANT) -> dict[str, Any]:
        """`@OpsConductor <text>` posted as a new message in a team channel."""
        activity = self.base(user, tenant)
        activity.update(
            {
                "type": "message",
                "textFormat": "plain",
                "text": f"<at>OpsConductor</at> {text}\n",
                "conversation": {
                    "isGroup": True,
                    "conversationType": "channel",
                    "tenantId": tenant,
                    "id": f"{CHANNEL};messageid={activity['id']}",
                },
                "channelData": {
                    "teamsChannelId": CHANNEL,
                    "teamsTeamId": TEAM,
                    "channel": {"id": CHANNEL},
                    "team": {"id": TEAM},
                    "tenant": {"id": tenant},
                },
            }
        )
        activity["entities"].insert(
            0,
            {
                "type": "mention",
                "text": "<at>OpsConductor</at>",
                "mentioned": {"id": BOT_ID, "name": "OpsConductor"},
            },
        )
        return activity

    def personal_message(self, text: str, user: str = "U1", tenant: str = TENANT) -> dict[str, Any]:
        activity = self.base(user, tenant)
        activity.update(
            {
                "type": "message",
                "textFormat": "plain",
                "text": text,
                "conversation": {
                    "conversationType": "personal",
                    "tenantId": tenant,
                    "id": f"a:1personal-{user}",
                },
                "channelData": {"tenant": {"id": tenant}},
            }
        )
        return activity

    def invoke(
        self,
        verb: str,
        execution_id: str,
        card: tuple[str, str],
        user: str = "U2",
        tenant: str = TENANT,
        digest: str = "",
    ) -> dict[str, Any]:
        """Action.Execute on the card `card` = (conversation id, card activity id); `digest` as
        the card's button data carries it (older cards carry none)."""
        activity = self.base(user, tenant)
        conversation, card_id = card
        activity.update(
            {
                "id": f"f:{next(self._ids)}",
                "type": "invoke",
                "name": "adaptiveCard/action",
                "replyToId": card_id,
                "conversation": _conversation(conversation, tenant),
                "channelData": _channel_data(conversation, tenant),
                "value": {
                    "action": {
                        "type": "Action.Execute",
                        "title": verb.title(),
                        "verb": verb,
                        "data": {"execution_id": execution_id, **({"digest": digest} if digest else {})},
                    },
                    "trigger": "manual",
                },
            }
        )
        return activity

    def submit(
        self, verb: str, execution_id: str, card: tuple[str, str], user: str = "U2", tenant: str = TENANT
    ) -> dict[str, Any]:
        """Action.Submit (older clients): a message whose value is the button's data."""
        activity = self.base(user, tenant)
        conversation, card_id = card
        activity.update(
            {
                "type": "message",
                "replyToId": card_id,
                "conversation": _conversation(conversation, tenant),
                "channelData": _channel_data(conversation, tenant),
                "value": {"verb": verb, "execution_id": execution_id},
            }
        )
        return activity

    async def post(
        self, activity: Any, *, drain: bool = True, token: str | None = None, raw: bytes | None = None
    ) -> ClientResponse:
        headers = {"Content-Type": "application/json"}
        bearer = token if token is not None else self.token
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        data = raw if raw is not None else json.dumps(activity).encode()
        response = await self.client.post("/api/messages", data=io.BytesIO(data), headers=headers)
        await response.read()
        if drain:
            await self.adapter.drain()
        return response


def _conversation(conversation: str, tenant: str) -> dict[str, Any]:
    if conversation.startswith("a:"):
        return {"conversationType": "personal", "tenantId": tenant, "id": conversation}
    return {"isGroup": True, "conversationType": "channel", "tenantId": tenant, "id": conversation}


def _channel_data(conversation: str, tenant: str) -> dict[str, Any]:
    if conversation.startswith("a:"):
        return {"tenant": {"id": tenant}}
    return {
        "channel": {"id": CHANNEL},
        "team": {"id": TEAM},
        "tenant": {"id": tenant},
        "source": {"name": "message"},
    }
