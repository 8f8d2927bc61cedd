"""A long command in a Slack thread: its output streams into the message within Slack's pace for
editing a message, and its Cancel button stops it on the host (requester or approver only).

The real Slack adapter and kernel, the Slack stand-in (tests/fakes/slack_api.py) refusing a
message edited again within a second, `automation.run_command` over the testbed's real sshd.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CollectorRegistry

from adapters.cache import InProcessCache
from adapters.slack import SlackAdapter, slack_mount
from adapters.ssh import AsyncsshShell
from bot.server import build_web_app
from tests.adapters.live_runs import INTERVAL_S, LINES, STREAMING, canary, endless, shell, sshd_kernel
from tests.adapters.slack.conftest import SignedSlack, build_adapter
from tests.fakes.chat import FakeChat
from tests.fakes.slack_api import SlackApiStandIn
from tests.integration.sshd_fixtures import in_testbed, sshd_testbed, testbed_known_hosts
from tests.integration.target_processes import files_left, running, started

__all__ = ["canary", "in_testbed", "shell", "sshd_testbed", "testbed_known_hosts"]
pytestmark = [pytest.mark.sshd, pytest.mark.timeout(120)]

PEOPLE = {"U1": {"operator"}, "U2": {"approver"}, "U3": {"operator"}}  # alice, bob, carol


@dataclass
class Live:
    api: SlackApiStandIn
    adapter: SlackAdapter
    slack: SignedSlack
    chat: FakeChat


@pytest.fixture
async def live(shell: AsyncsshShell) -> AsyncIterator[Live]:
    """Started after `shell`, so the stand-in and the server listen in the testbed's namespace."""
    api = SlackApiStandIn()
    await api.start()
    for user, name in (("U1", "alice"), ("U2", "bob"), ("U3", "carol")):
        api.add_user(user, f"{name}@example.com", name)
    api.update_interval_s = 1.0  # Slack: about one edit per second on a message
    chat = sshd_kernel(shell, PEOPLE)
    registry = CollectorRegistry()
    adapter = build_adapter(
        api.base + "/api/", chat.kernel, InProcessCache(), registry, progress_interval_s=INTERVAL_S
    )
    app = build_web_app(checks={}, registry=registry, mounts=[slack_mount(adapter)])
    try:
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            yield Live(api, adapter, SignedSlack(client, adapter, api), chat)
            await adapter.drain()
    finally:
        await api.close()
    assert not api.unexpected, api.unexpected


async def ask(live: Live, text: str) -> tuple[str, str]:
    """alice asks (a critical command: bob approves); the prompt's button value and ts."""
    await live.slack.mention(text, user="U1")
    [post] = live.api.of("chat.postMessage")
    actions = next(b for b in post.args["blocks"] if b["type"] == "actions")
    [(_channel, ts)] = live.api.messages
    return str(actions["elements"][0]["value"]), ts


def shown(args: dict[str, Any]) -> str:
    return json.dumps(args.get("blocks"))


async def test_a_long_command_streams_into_its_message_at_slacks_pace(live: Live) -> None:
    value, ts = await ask(live, STREAMING)
    began = time.monotonic()
    click = live.slack.action_payload("opsconductor_approve", value, user="U2", message_ts=ts)
    assert (await live.slack.action(click)).status == 200  # waits for the whole run
    ended = time.monotonic()

    edits = [c for c in live.api.of("chat.update") if c.args["ts"] == ts]
    progress = [c for c in edits if "opsconductor_cancel" in shown(c.args)]
    assert live.api.too_fast == []  # never edited again within a second, the final answer included
    assert 3 <= len(progress) <= (ended - began) / INTERVAL_S + 1
    gaps = [b.at - a.at for a, b in itertools.pairwise(edits)]
    assert all(gap >= 1.0 for gap in gaps), gaps
    streamed = [c for c in progress if "line 1" in shown(c.args)]
    assert streamed and f"line {LINES}" not in shown(streamed[0].args)  # the first came early
    final = live.api.messages[("C1", ts)]
    assert "opsconductor_cancel" not in shown(final)
    assert "\\n".join(f"line {n}" for n in range(1, LINES + 1)) in shown(final)  # the whole tail


async def test_cancel_from_someone_else_is_refused_the_requester_stops_it(live: Live, canary: Path) -> None:
    value, ts = await ask(live, endless(canary))
    click = live.slack.action_payload("opsconductor_approve", value, user="U2", message_ts=ts)
    running_click = asyncio.create_task(live.slack.action(click))
    assert await started(str(canary)), "the approved command never started"
    await until(lambda: any("opsconductor_cancel" in shown(c.args) for c in live.api.of("chat.update")))
    [cancel] = [  # the Cancel button on the progress, as Slack shows it
        e
        for b in json.loads(shown(live.api.messages[("C1", ts)]))
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "opsconductor_cancel"
    ]
    execution_id = cancel["value"]

    carol = live.slack.action_payload("opsconductor_cancel", execution_id, user="U3", message_ts=ts)
    await live.slack.action(carol, drain=False)
    await until(lambda: bool(live.api.responses))
    [refused] = live.api.responses
    assert refused["response_type"] == "ephemeral"
    assert refused["text"] == "Not permitted: only the requester or an approver may cancel a run."
    assert running(str(canary)), "a refused cancel stopped the command"

    alice = live.slack.action_payload("opsconductor_cancel", execution_id, user="U1", message_ts=ts)
    await live.slack.action(alice, drain=False)
    await asyncio.wait_for(running_click, 30)
    assert running(str(canary)) == []
    final = live.api.messages[("C1", ts)]
    assert "Cancelled by U1" in shown(final) and "opsconductor_cancel" not in shown(final)
    told = [m for m in live.api.messages.values() if m.get("thread_ts") and "Cancelling execution" in str(m)]
    assert told, "the thread was not told of the cancel"
    await asyncio.sleep(1.0)
    assert files_left(canary) == []


async def until(check: Any, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "not within the time allowed"
        await asyncio.sleep(0.05)
