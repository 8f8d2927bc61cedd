"""A long command in a Teams channel: its output streams onto the approval card (updateActivity)
within Teams' per-thread limits, and the card's Cancel button stops it on the host (requester or
approver only; anyone else is told why, privately).

The real Teams adapter and kernel, the Bot Connector stand-in (tests/fakes/bot_connector.py)
enforcing Teams' thread limits, `automation.run_command` over the testbed's real sshd.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from adapters.ssh import AsyncsshShell
from adapters.teams import TeamsConfig
from adapters.teams.app import MESSAGE_RESPONSE
from tests.adapters.live_runs import INTERVAL_S, LINES, STREAMING, canary, endless, shell, sshd_kernel
from tests.adapters.teams.cards import actions, card_of, texts
from tests.adapters.teams.conftest import PEOPLE, GatedIdentity, World, make_world
from tests.fakes.bot_connector import BotConnectorStandIn
from tests.integration.sshd_fixtures import in_testbed, sshd_testbed, testbed_known_hosts
from tests.integration.target_processes import files_left, running, started

__all__ = ["canary", "in_testbed", "shell", "sshd_testbed", "testbed_known_hosts"]
pytestmark = [pytest.mark.sshd, pytest.mark.timeout(120)]

ALICE, BOB, CAROL = (PEOPLE[u][0] for u in ("U1", "U2", "U3"))


@pytest.fixture
async def live(shell: AsyncsshShell) -> AsyncIterator[World]:
    """Started after `shell`, so the stand-in and the server listen in the testbed's namespace."""
    connector = BotConnectorStandIn()
    await connector.start()
    for user, (aad, name, email) in PEOPLE.items():
        connector.add_member(f"29:1{user}", aad, name, email)
    connector.thread_limits = True
    chat = sshd_kernel(shell, {})
    chat.kernel.identity = GatedIdentity({ALICE: {"operator"}, BOB: {"approver"}, CAROL: {"operator"}})
    config = TeamsConfig(progress_interval_s=INTERVAL_S, workers=2, invoke_wait_s=2.0)
    try:
        async for world in make_world(connector, config, kernel=chat.kernel):
            yield world
    finally:
        await connector.close()
    assert not connector.unexpected and not connector.throttled, (connector.unexpected, connector.throttled)


async def ask(world: World, text: str) -> tuple[str, tuple[str, str]]:
    """alice asks (a critical command: bob approves); the execution and its card."""
    await world.teams.post(world.teams.channel_message(text, user="U1"))
    [post] = world.connector.posted()
    approve = actions(card_of(post.body))[0]
    card_id = next(i for i, body in world.connector.messages.items() if body is post.body)
    return approve["data"]["execution_id"], (post.conversation, card_id)


async def click(world: World, activity: dict[str, Any], **kw: Any) -> dict[str, Any]:
    response = await world.teams.post(activity, **kw)
    assert response.status == 200
    body: dict[str, Any] = await response.json()
    return body


def card_text(world: World, card_id: str) -> str:
    return texts(card_of(world.connector.messages[card_id]))


def has_cancel(body: dict[str, Any]) -> bool:
    return any(a.get("verb") == "cancel" for a in actions(card_of(body)))


async def test_a_long_command_streams_onto_its_card_within_teams_limits(live: World) -> None:
    execution_id, card = await ask(live, STREAMING)
    began = time.monotonic()
    await click(live, live.teams.invoke("approve", execution_id, card))  # drained: the whole run
    ended = time.monotonic()

    updates = [c for c in live.connector.of("update") if c.activity_id == card[1]]
    progress = [c for c in updates if has_cancel(c.body)]
    assert 3 <= len(progress) <= (ended - began) / INTERVAL_S + 1
    gaps = [b.at - a.at for a, b in itertools.pairwise(progress)]
    assert all(gap >= INTERVAL_S * 0.9 for gap in gaps), gaps
    streamed = [c for c in progress if "line 1" in texts(card_of(c.body))]
    assert streamed and f"line {LINES}" not in texts(card_of(streamed[0].body))  # the first came early
    final = card_text(live, card[1])
    assert not has_cancel(live.connector.messages[card[1]])
    assert "\n".join(f"line {n}" for n in range(1, LINES + 1)) in final  # the whole tail


async def test_cancel_from_someone_else_is_refused_the_requester_stops_it(live: World, canary: Path) -> None:
    execution_id, card = await ask(live, endless(canary))
    approving = asyncio.create_task(click(live, live.teams.invoke("approve", execution_id, card)))
    assert await started(str(canary)), "the approved command never started"
    await live.connector.until(lambda: has_cancel(live.connector.messages[card[1]]))

    refused = await click(live, live.teams.invoke("cancel", execution_id, card, user="U3"), drain=False)
    assert refused["type"] == MESSAGE_RESPONSE
    assert refused["value"] == "Not permitted: only the requester or an approver may cancel a run."
    assert running(str(canary)), "a refused cancel stopped the command"

    asked = await click(live, live.teams.invoke("cancel", execution_id, card, user="U1"), drain=False)
    assert asked["type"] == MESSAGE_RESPONSE and "asked to cancel it" in asked["value"]
    await asyncio.wait_for(approving, 30)
    assert running(str(canary)) == []
    final = card_text(live, card[1])
    assert f"Cancelled by {ALICE}" in final and not has_cancel(live.connector.messages[card[1]])
    told = [c for c in live.connector.posted() if "Cancelling execution" in texts(c.body)]
    assert told, "the thread was not told of the cancel"
    await asyncio.sleep(1.0)
    assert files_left(canary) == []
