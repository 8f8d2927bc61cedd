"""A plan requested in a Teams conversation and decided through another door (the command line,
the web console or the API): the sweeper tells the conversation as a click would, through the Bot
Connector stand-in: the approval card is updated in place (PUT .../activities/{card}) with who
decided, when and where as soon as the run starts, then with the outcome. Told once each."""

from __future__ import annotations

import asyncio
from typing import Literal

from bot.sweeper import sweep_once
from pipeline.contracts import ChatIdentity, Decision, Reply
from pipeline.elsewhere import Teller
from tests.adapters.teams.cards import actions, card_of
from tests.adapters.teams.conftest import CALLS, PEOPLE, World
from tests.adapters.teams.test_approvals import ask, shown_card


class Held(asyncio.Event):
    """A gate that tells when the kernel reached it (looking the requester up, after deciding)."""

    def __init__(self) -> None:
        super().__init__()
        self.reached = asyncio.Event()

    async def wait(self) -> Literal[True]:
        self.reached.set()
        return await super().wait()


def from_console(execution_id: str, approve: bool = True) -> Decision:
    """What `opsconductor approve ID` hands the kernel (bot.console.decide_once), as Bob."""
    identity = ChatIdentity(platform="console", user_id=PEOPLE["U2"][0], display_name="bob")
    return Decision(
        execution_id=execution_id, approve=approve, identity=identity, channel="console", any_workspace=True
    )


async def sweep(world: World) -> int:
    return await sweep_once(Teller(world.kernel.store, ["teams"]).due, {"teams": world.adapter.deliver})


async def test_the_card_shows_the_decision_then_the_outcome(world: World) -> None:
    execution_id, (conversation, card_id) = await ask(world)
    requester = world.identity.gates[PEOPLE["U1"][0]] = Held()  # holds the run once decided
    run = asyncio.create_task(world.kernel.decide(from_console(execution_id)))
    await requester.reached.wait()
    assert world.store.approvals[execution_id].state == "approved"

    assert await sweep(world) == 1  # approved, running: the decision first
    [decided] = world.connector.of("update")
    assert (decided.conversation, decided.activity_id) == (conversation, card_id)
    shown = shown_card(world, card_id)
    assert f"✅ Approved by {PEOPLE['U2'][0]} on the command line at " in shown and "Running now" in shown
    assert actions(card_of(world.connector.messages[card_id])) == []  # buttons gone
    assert await sweep(world) == 0

    requester.set()
    done = await run
    assert isinstance(done, Reply) and done.outcome == "answer" and CALLS == [("write", "web-01")]
    assert await sweep(world) == 1 and await sweep(world) == 0
    _, outcome = world.connector.of("update")
    assert (outcome.conversation, outcome.activity_id) == (conversation, card_id)
    shown = shown_card(world, card_id)
    assert "✅ Approved by" in shown and "on the command line" in shown and "probe.write" in shown
    assert world.connector.posted()[1:] == []  # nothing else posted in the conversation


async def test_a_rejection_from_the_command_line_replaces_the_card(world: World) -> None:
    execution_id, (conversation, card_id) = await ask(world)
    await world.kernel.decide(from_console(execution_id, approve=False))
    assert await sweep(world) == 1 and await sweep(world) == 0
    [update] = world.connector.of("update")
    assert (update.conversation, update.activity_id) == (conversation, card_id)
    shown = shown_card(world, card_id)
    assert "🚫 Rejected by" in shown and "nothing was run" in shown and CALLS == []
